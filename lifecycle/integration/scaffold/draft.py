"""A draft sources entry from an extract's profile, with what the steward must review marked.

Guesses, each marked ``# REVIEW`` in the YAML where it is a guess: the entity (by
the columns an individual or a corporate has, else by the file's name), the
system, the canonical name of every column (by identifier shape — resident ID,
mobile, e-mail, USCC, card number — or by name: a customer's name, birth date,
gender, address, open date, update time; otherwise the column's own name in
snake case), personal data (by shape and by name: ID numbers, mobiles, names,
e-mails, addresses, birth dates, card numbers), the unit of amounts, the key, and
which columns are required (those no sampled row left empty). Owners of a fact
are never guessed: the steward names them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from lifecycle.integration.scaffold.profile import AMOUNT_HINT, FEN_HINT, NAME_HINT, ColumnProfile, ExtractProfile
from lifecycle.integration.sources import ColumnType
from lifecycle.integration.targets import canonical_targets

ENTITIES = ("individual", "corporate", "relationship_manager", "account", "balance", "transaction",
            "card_transaction", "loan", "digital_event", "feedback", "interaction")
PARTIES = ("individual", "corporate")
ENTITY_KEYS = {"relationship_manager": "rm_id", "account": "account_no", "transaction": "txn_id",
               "card_transaction": "txn_id", "loan": "loan_no", "digital_event": "event_id",
               "feedback": "feedback_id", "interaction": "interaction_id"}  # the canonical name of a single-column key
REVIEW = "REVIEW"
_SHAPE_TARGETS = {"ric": "id_no", "mobile": "mobile", "email": "email", "uscc": "uscc", "card_no": "card_no"}
_SHAPE_PII = {"ric": "resident ID numbers", "mobile": "mobile numbers", "email": "e-mail addresses",
              "card_no": "card numbers (Luhn-valid)"}
_NAME = NAME_HINT
_OWN_NAME = {"", "cust", "customer", "client", "corp", "company", "party", "full", "客户", "企业", "公司"}
_BIRTH = re.compile(r"birth|dob|bday|出生", re.IGNORECASE)
_GENDER = re.compile(r"gender|^sex$|_sex$|性别", re.IGNORECASE)
_ADDRESS = re.compile(r"addr|address|地址", re.IGNORECASE)
_OPEN = re.compile(r"open|开户", re.IGNORECASE)
_UPDATED = re.compile(r"upd|update|modif|changed", re.IGNORECASE)
_STEMS = (("card", "t(?:xn|ransaction)", "card_transaction"), ("", "balance", "balance"),
          ("", "account|acct", "account"), ("", "t(?:xn|ransaction)", "transaction"), ("", "loan", "loan"),
          ("", "digital|event|login", "digital_event"), ("", "interaction|contact", "interaction"),
          ("", "feedback|complaint|survey", "feedback"),
          ("", "(?:^|_)rm(?:_|$)|manager", "relationship_manager"), ("", "corp|company|compan", "corporate"))


def snake(name: str) -> str:
    """A column name as a canonical one: CustomerId -> customer_id, CARD_PRODUCT -> card_product."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"\W+", "_", spaced).strip("_").lower() or "column"


@dataclass(frozen=True)
class DraftColumn:
    source: str
    spec: dict[str, Any]
    review: tuple[str, ...]
    disabled: bool = False  # no canonical place: drafted commented out, for the steward to map


@dataclass(frozen=True)
class DraftSource:
    """A source entry (``spec`` as the YAML holds it) and its review notes."""

    name: str
    spec: dict[str, Any]
    columns: tuple[DraftColumn, ...]
    review: tuple[str, ...]

    @property
    def review_count(self) -> int:
        return len(self.review) + sum(len(c.review) for c in self.columns)


def _target(column: ColumnProfile, key: tuple[str, ...], person_names: set[str]) -> tuple[str, str | None]:
    """(canonical name, why it is personal data or None)."""
    name = column.name
    if column.shape in _SHAPE_TARGETS:
        return _SHAPE_TARGETS[column.shape], _SHAPE_PII.get(column.shape)
    if key == (name,):
        return "source_key", None
    if name in person_names:
        own = _NAME.sub("", snake(name)).strip("_")
        return ("name" if own in _OWN_NAME else snake(name)), "a person's name"
    if _NAME.search(name) and _NAME.sub("", snake(name)).strip("_") in _OWN_NAME:
        return "name", None
    if column.type in (ColumnType.DATE, ColumnType.DATETIME):
        if _BIRTH.search(name):
            return "birth_date", "birth dates"
        if _OPEN.search(name):
            return "open_date", None
        if _UPDATED.search(name) and column.type is ColumnType.DATETIME:
            return "updated_at", None
    if _GENDER.search(name):
        return "gender", None
    if _ADDRESS.search(name):
        return "address", "addresses"
    return snake(name), None


def _column_spec(column: ColumnProfile, required: bool) -> tuple[dict[str, Any], list[str]]:
    spec: dict[str, Any] = {"type": column.type.value}
    review = list(column.notes)
    if column.formats:
        spec["format"] = list(column.formats)
    if column.type is ColumnType.CODE:
        spec["codes"] = {code: code for code in column.codes}
        review.append(f"REVIEW codes: the {len(column.codes)} value(s) seen, each mapped to itself; map them "
                      "to the canonical codes and add those the sample lacks (and if they are personal data, "
                      "make the column a string with pii: true)")
    if column.type is ColumnType.DECIMAL and AMOUNT_HINT.search(column.name):
        spec["unit"] = "fen" if FEN_HINT.search(column.name) else "yuan"
        if spec["unit"] == "yuan" and column.decimal_separator is None:
            review.append("REVIEW unit: whole numbers only — is the amount in fen?")
    if required:
        spec["required"] = True
    return spec, review


def _entity(profile: ExtractProfile, targets: dict[str, str]) -> str:
    found = set(targets.values())
    if "uscc" in found:
        return "corporate"
    if found & {"id_no", "birth_date", "gender"} or ("name" in found and "mobile" in found):
        return "individual"
    for first, second, entity in _STEMS:
        if (not first or re.search(first, profile.name)) and re.search(second, profile.name):
            return entity
    return "individual"


def draft_source(profile: ExtractProfile) -> DraftSource:
    """The draft entry of one profiled extract."""
    key = profile.keys[0] if profile.keys else ()
    person_names = {c.name for c in profile.columns if c.shape == "person_name"}
    targets = {c.name: _target(c, key, person_names) for c in profile.columns}
    entity = _entity(profile, {n: t for n, (t, _) in targets.items()})
    party = entity in PARTIES
    columns: list[DraftColumn] = []
    taken: set[str] = set()
    places = canonical_targets(entity)
    for column in profile.columns:
        to, pii = targets[column.name]
        if not party and to == "source_key":
            to = ENTITY_KEYS.get(entity, snake(column.name))
        to = _untaken(to, snake(column.name), taken)
        spec, review = _column_spec(column, column.name in key or column.complete)
        spec = {"to": to, **spec}
        if pii and (party or to in ("card_no", "id_no", "mobile", "email")):
            spec["pii"] = True
            review.append(f"REVIEW pii: looks like {pii}")
        if to != snake(column.name) or column.name in key:
            review.append(f"REVIEW to: canonical name guessed as {to!r}")
        disabled = False
        if places is not None and to not in places:
            if party:
                spec["extra"] = True
                review.append(f"REVIEW extra: {entity} has no canonical {to!r}; kept as a typed extra attribute "
                              "of the customer (map it to a canonical column, or drop the line)")
            else:  # nowhere to keep it: drafted commented out, never loaded without the steward's decision
                disabled = True
                review.append(f"REVIEW to: {entity} has no canonical {to!r}; the line is commented out — map it "
                              "to a canonical column and uncomment it, or declare the extract an extra_fact")
        columns.append(DraftColumn(column.name, spec, tuple(review), disabled))
    return DraftSource(profile.name, _source_spec(profile, entity, key), tuple(columns),
                       _source_review(profile, entity, key, party))


def _untaken(guess: str, own: str, taken: set[str]) -> str:
    """``guess``, or the column's own name, or that with a number: two columns never map to one."""
    for candidate in (guess, own, *(f"{own}_{n}" for n in range(2, 1000))):
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise ValueError(f"no free canonical name for {own!r}")


def _source_spec(profile: ExtractProfile, entity: str, key: tuple[str, ...]) -> dict[str, Any]:
    spec: dict[str, Any] = {"system": profile.name.split("_")[0].upper(), "entity": entity,
                            "path": f"{{as_of}}/{profile.path.name}",
                            "encoding": {"gb18030": "gbk"}.get(profile.encoding, profile.encoding)}
    if profile.encoding not in ("utf-8", "utf-8-sig", "gb18030"):
        spec["encoding"] = "auto"
    if profile.delimiter != ",":
        spec["delimiter"] = profile.delimiter
    decimals = {c.decimal_separator for c in profile.columns if c.decimal_separator}
    if "," in decimals:
        spec["decimal_separator"] = ","
        spec["thousands_separator"] = next((c.thousands_separator for c in profile.columns
                                            if c.decimal_separator == "," and c.thousands_separator), "")
    if profile.quoted_newlines:
        spec["quoted_newlines"] = True
    if profile.trailer is not None:
        spec["control"] = {"kind": "trailer", "marker": profile.trailer[0], "checksum": profile.trailer[1]}
    spec.update({"suite": profile.name, "error_budget": 0.05})
    if profile.rows == 0:
        spec["min_rows"] = 0
    spec["key"] = key[0] if len(key) == 1 else list(key)
    return spec


def _source_review(profile: ExtractProfile, entity: str, key: tuple[str, ...], party: bool) -> tuple[str, ...]:
    review = [f"REVIEW entity: guessed {entity!r}; one of {', '.join(ENTITIES)}",
              "REVIEW system: guessed from the file name; the source system's name",
              "REVIEW path: the file's name under the day's folder of the landing zone",
              "REVIEW error_budget: the share of failing rows that refuses the run"]
    if profile.encoding not in ("utf-8", "utf-8-sig", "gb18030"):
        review.append(f"REVIEW encoding: detected {profile.encoding}; re-export as UTF-8 or GBK if you can")
    if not key:
        review.append("REVIEW key: no column (or pair) is unique and never empty; name the key")
    else:
        review.append(f"REVIEW key: unique and never empty in {profile.sampled:,} sampled row(s)")
    if not party:
        review.append("REVIEW owners: a fact owned by customers maps its customer reference to owner_key and "
                      "lists the customer sources here (owners: [...]); an account's facts map account_no")
    if entity in PARTIES:
        review.append("REVIEW trust: survivorship rank among the customer sources (lower is more trusted)")
    review.append("REVIEW required: marks the columns no sampled row left empty; relax those that may be")
    review.append("REVIEW to: a column without its own mark keeps its name (snake case) as its canonical name; "
                  "rename it where the canonical model names it otherwise")
    return tuple(review + list(profile.notes))


def _flow(value: object) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=10_000)
    return text.strip().removesuffix("...").strip()


def render_source(draft: DraftSource) -> str:
    """The entry as YAML under ``sources:`` (indented), every guess commented."""
    lines = [f"  {_flow(draft.name)}:"]
    lines += [f"    # {note}" for note in draft.review]
    lines += [f"    {_flow(k)}: {_flow(v)}" for k, v in draft.spec.items()]
    lines.append("    columns:")
    for column in draft.columns:
        lines += [f"      # {column.source}: {note}" for note in column.review]
        lines.append(f"      {'# ' if column.disabled else ''}{_flow(column.source)}: {_flow(column.spec)}")
    return "\n".join(lines) + "\n"


HEADER = """\
# Sources configuration drafted by `bank-lifecycle sources scaffold` from the extracts' profiles.
# Every line marked REVIEW is a guess: check it, edit it, and delete the mark. The suites in
# expectations/ were derived from this draft: after editing, derive them again with
# `bank-lifecycle sources suite --all --sources-file <this file> --suites-dir <its expectations/> --write --force`.
# The options are documented in the packaged lifecycle/config/sources.yaml and docs/onboarding.md.
version: 1
sources:
"""


def render_config(drafts: list[DraftSource]) -> str:
    """A complete, loadable sources configuration holding every draft."""
    return HEADER + "\n".join(render_source(d) for d in drafts)
