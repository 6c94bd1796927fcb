"""Named customer groups: membership refreshed per date with its history, names checked for personal data.

**Membership.** A group's members on a date are the customers its rule selects
(tiers, stages, ``label.<name>`` columns). Against the open memberships, a
newcomer *joins* (reason: the rule's tests it met) and a member no longer
selected *leaves* (reason: ``no longer meets <code>``). Re-running a date
changes nothing; membership is never deleted, only closed (``left_on``).

**Names.** From the group's templates with the bank's brand — "示例银行高净值客户俱乐部".
Before a name is stored it is checked for personal data against the
customers themselves, through their blind indexes (never by decrypting):
every run of 11 digits as a mobile, every 15 or 18 characters of ID-number shape
as an ID number, every 2 to 4 consecutive CJK characters as a name. A name
that hits is refused (:class:`GroupNameError`, naming the template and the
check that caught it). Names must be unique; a name stays as it was across
refreshes until the group's definition (rule or templates) changes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Connection, func, select, update

from lifecycle.errors import LifecycleError
from lifecycle.privacy.blind_index import blind_index
from lifecycle.privacy.keyring import Keyring
from lifecycle.segments.config import LabelRules
from lifecycle.segments.labels import matches
from lifecycle.store.base import table_of
from lifecycle.store.frames import read_frame
from lifecycle.store.models import Customer, CustomerGroup, GroupMembership

GROUPS = table_of(CustomerGroup)
MEMBERS = table_of(GroupMembership)
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_DIGITS = re.compile(r"\d{11,}")
_ID_SHAPE = re.compile(r"\d{17}[\dXx]|\d{15}")


class GroupNameError(LifecycleError):
    """A group's name would carry personal data, or clash with another group's."""


@dataclass(frozen=True)
class GroupChange:
    code: str
    name_zh: str
    name_en: str
    members: int
    joined: int
    left: int


def _candidates(name: str) -> list[tuple[str, str, str]]:
    """(purpose, blind-index column, text) to look up for one name."""
    out = []
    for run in _DIGITS.findall(name):
        out += [("mobile", "mobile_bidx", run[i:i + 11]) for i in range(len(run) - 10)]
    out += [("id_no", "id_no_bidx", m.upper()) for m in _ID_SHAPE.findall(name)]
    for run in _CJK.findall(name):
        out += [("name", "name_bidx", run[i:i + n]) for n in (2, 3, 4) for i in range(len(run) - n + 1)]
    return out


def check_name(conn: Connection, keyring: Keyring, code: str, template: str, name: str) -> None:
    """Refuse ``name`` when a customer's name, mobile or ID number is in it (looked up by blind index)."""
    wanted: dict[str, dict[str, str]] = {}
    for purpose, column, text in _candidates(name):
        index = blind_index(keyring, purpose, text)
        if index is not None:
            wanted.setdefault(column, {})[index] = purpose
    c = Customer.__table__
    for column, indexes in wanted.items():
        keys = sorted(indexes)
        for start in range(0, len(keys), 500):
            hit = conn.execute(select(c.c[column]).where(c.c[column].in_(keys[start:start + 500])).limit(1)).first()
            if hit is not None:
                what = {"name_bidx": "a customer's name", "mobile_bidx": "a customer's mobile number",
                        "id_no_bidx": "a customer's ID number"}[column]
                raise GroupNameError(f"group {code}: the name from template {template!r} contains {what} "
                                     f"(check: {indexes[hit[0]]} blind index); choose another template")


def _names(rules: LabelRules, code: str) -> dict[str, str]:
    group = next(g for g in rules.groups if g.code == code)
    return {loc: template.format(brand=rules.brand.get(loc, "")) for loc, template in group.names.items()}


def _digest(definition: str) -> str:
    return hashlib.sha256(definition.encode("utf-8")).hexdigest()[:16]


def name_groups(conn: Connection, keyring: Keyring, rules: LabelRules, now: datetime) -> dict[str, dict[str, str]]:
    """Store each group's names (checked) when new or when its definition changed; return the names.

    Everything is checked before anything is written: a clash or a name with
    personal data refuses the whole set.
    """
    stored = {r.code: r for r in conn.execute(select(GROUPS))}
    names: dict[str, dict[str, str]] = {}
    fresh: dict[str, str] = {}  # code -> definition hash, for groups named now
    for group in rules.groups:
        digest = _digest(group.definition)
        current = stored.get(group.code)
        if current is not None and current.definition_hash == digest:
            names[group.code] = {"zh_CN": current.name_zh, "en": current.name_en}
        else:
            names[group.code] = _names(rules, group.code)
            fresh[group.code] = digest
    retired = {code: {"zh_CN": r.name_zh, "en": r.name_en} for code, r in stored.items() if code not in names}
    for locale in ("zh_CN", "en"):
        seen: dict[str, str] = {}
        for code, by_locale in [*names.items(), *retired.items()]:
            other = seen.setdefault(by_locale[locale], code)
            if other != code:
                raise GroupNameError(f"groups {other} and {code} would both be named {by_locale[locale]!r}")
    by_code = {g.code: g for g in rules.groups}
    for code in fresh:
        for locale, name in names[code].items():
            check_name(conn, keyring, code, by_code[code].names[locale], name)  # type: ignore[index]
    for code, digest in fresh.items():
        values = {"name_zh": names[code]["zh_CN"], "name_en": names[code]["en"], "definition_hash": digest,
                  "rationale": by_code[code].rationale, "named_at": now}
        if code in stored:
            conn.execute(update(GROUPS).where(GROUPS.c.code == code).values(**values))
        else:
            conn.execute(GROUPS.insert().values(code=code, **values))
    return names


def _reasons(group_tests: Sequence[str]) -> str:
    return "meets " + ", ".join(group_tests)


def refresh_groups(conn: Connection, inputs: pd.DataFrame, rules: LabelRules, day: date,
                   now: datetime) -> list[GroupChange]:
    """Join and leave per group for ``day`` (``inputs``: one row per customer, tiers, stages and labels)."""
    names = {r.code: (r.name_zh, r.name_en) for r in conn.execute(select(GROUPS.c.code, GROUPS.c.name_zh,
                                                                         GROUPS.c.name_en))}
    open_rows = read_frame(conn, select(MEMBERS.c.group_code, MEMBERS.c.customer_id).where(
        MEMBERS.c.left_on.is_(None)))
    changes = []
    for group in rules.groups:
        selected = set(inputs.loc[matches(group.when, group.match, inputs), "customer_id"].astype("int64"))
        members = set(open_rows.loc[open_rows["group_code"] == group.code, "customer_id"].astype("int64"))
        joined, left = sorted(selected - members), sorted(members - selected)
        reason = _reasons([f"{t.column} {t.op} {t.value}" for t in group.when])
        if joined:
            conn.execute(MEMBERS.insert(), [{"group_code": group.code, "customer_id": cid, "joined_on": day,
                                             "join_reason": reason[:255], "created_at": now} for cid in joined])
        for start in range(0, len(left), 500):
            conn.execute(update(MEMBERS).where(
                MEMBERS.c.group_code == group.code, MEMBERS.c.left_on.is_(None),
                MEMBERS.c.customer_id.in_(left[start:start + 500])).values(
                left_on=day, leave_reason=f"no longer meets {group.code}"))
        zh, en = names.get(group.code, ("", ""))
        changes.append(GroupChange(group.code, zh, en, len(selected), len(joined), len(left)))
    return changes


def latest_refresh(conn: Connection) -> date | None:
    """The latest date a membership changed on."""
    joined = conn.execute(select(func.max(MEMBERS.c.joined_on))).scalar()
    left = conn.execute(select(func.max(MEMBERS.c.left_on))).scalar()
    days = [d for d in (joined, left) if d is not None]
    return max(days) if days else None


def group_sizes(conn: Connection, day: date) -> dict[str, int]:
    """Members per group on ``day`` (joined on or before it, not left by then)."""
    rows = conn.execute(select(MEMBERS.c.group_code, func.count()).where(
        MEMBERS.c.joined_on <= day, MEMBERS.c.left_on.is_(None) | (MEMBERS.c.left_on > day))
        .group_by(MEMBERS.c.group_code)).all()
    return {str(code): int(n) for code, n in rows}


def customer_groups(conn: Connection, customer_id: int) -> list[dict[str, object]]:
    rows = conn.execute(select(MEMBERS.c.group_code, GROUPS.c.name_zh, GROUPS.c.name_en, MEMBERS.c.joined_on,
                               MEMBERS.c.left_on, MEMBERS.c.join_reason, MEMBERS.c.leave_reason)
                        .join(GROUPS, GROUPS.c.code == MEMBERS.c.group_code)
                        .where(MEMBERS.c.customer_id == customer_id)
                        .order_by(MEMBERS.c.joined_on.desc())).all()
    return [dict(r._mapping) for r in rows]
