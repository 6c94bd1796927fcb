"""Where a mapped column can go: the canonical columns of each entity.

A column mapped (``to``) to a name its entity has no place for would be read,
validated and then silently dropped by the loader. The sources configuration is
refused instead, naming the column and the ways out: a canonical name, an extra
attribute (``extra: true``, customer sources), or an input-only column.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.integration import survivorship
from lifecycle.store.base import table_of
from lifecycle.store.models import (
    Account,
    BalanceSnapshot,
    CardTransaction,
    DigitalEvent,
    Feedback,
    Interaction,
    Loan,
    RelationshipManager,
    Transaction,
)

if TYPE_CHECKING:
    from lifecycle.integration.sources import SourceSpec

PARTY_ENTITIES = ("individual", "corporate")
HOLDER_ROLES = ("OWNER", "JOINT_HOLDER", "AUTHORISED_USER")
_BOOKKEEPING = {"customer_id", "file_id"}
_PARTY = (set(survivorship.INDIVIDUAL_ATTRIBUTES) | set(survivorship.CORPORATE_ATTRIBUTES)
          | {"source_key", "updated_at", "id_type", "card_no", "card_product", "credit_limit", "card_status"})


def _table(model: type) -> set[str]:
    return {c.name for c in table_of(model).columns} - _BOOKKEEPING


def canonical_targets(entity: str) -> set[str] | None:
    """The canonical columns ``entity`` stores; None when any name is accepted (a
    reference extract's columns are only read by the sources joining it)."""
    if entity in PARTY_ENTITIES:
        return set(_PARTY)
    if entity in ("reference", "extra_fact"):  # a reference's columns are joined; an extra fact's kept as declared
        return None
    facts: dict[str, set[str]] = {
        "relationship_manager": _table(RelationshipManager),
        "account": _table(Account) | {"owner_key"},
        "balance": _table(BalanceSnapshot),
        "transaction": _table(Transaction),
        "card_transaction": (_table(CardTransaction) - {"card_ref"}) | {"card_no", "owner_key"},
        "loan": _table(Loan) | {"owner_key"},
        "digital_event": _table(DigitalEvent) | {"owner_key"},
        "feedback": _table(Feedback) | {"owner_key"},
        "interaction": _table(Interaction) | {"owner_key"},
        "account_holder": {"holder_key", "account_no", "owner_key", "holder_role"},
        "card": {"card_no", "holder_key", "owner_key", "card_product", "credit_limit", "open_date", "card_status"},
    }
    return facts.get(entity)  # an unknown entity is the configuration check's to refuse


def check_targets(spec: SourceSpec) -> None:
    """A ValueError naming the first column of ``spec`` that has nowhere to go."""
    targets = canonical_targets(spec.entity)
    for name, column in spec.mapped_columns.items():
        if column.extra:
            if spec.entity not in PARTY_ENTITIES:
                raise ValueError(f"source {spec.name!r}: column {name!r} is marked extra, but extra attributes "
                                 f"are kept per customer: only customer sources (individual, corporate) have them")
            if targets is not None and column.to in targets:
                raise ValueError(f"source {spec.name!r}: column {name!r} is marked extra but {column.to!r} is a "
                                 "canonical column: drop `extra` or rename it")
            continue
        if targets is not None and column.to not in targets:
            raise ValueError(
                f"source {spec.name!r}: column {name!r} maps to {column.to!r}, which entity {spec.entity!r} has no "
                f"place for (it has: {', '.join(sorted(targets))}); "
                + ("keep it with `extra: true`, " if spec.entity in PARTY_ENTITIES else "")
                + "map it to one of those, or drop `to` to use it only in expressions")
    if spec.entity == "account_holder":
        _check_holders(spec)
    if spec.entity == "extra_fact":
        _check_extra_fact(spec)
    if spec.entity == "card":
        mapped = {c.to for c in spec.mapped_columns.values()}
        if "card_no" not in mapped or not ({"holder_key", "owner_key"} & mapped):
            raise ValueError(f"source {spec.name!r}: a card source maps card_no and its owner: holder_key (with "
                             "`holders`) or owner_key (with `owners`)")
        if "holder_key" in mapped and spec.holders is None:
            raise ValueError(f"source {spec.name!r}: holder_key needs `holders: <account_holder source>`")


def _check_holders(spec: SourceSpec) -> None:
    mapped = {c.to: c for c in spec.mapped_columns.values()}
    missing = [c for c in ("account_no", "owner_key", "holder_role") if c not in mapped]
    if missing or not spec.owners:
        raise ValueError(f"source {spec.name!r}: a link source (account_holder) maps account_no, owner_key and "
                         f"holder_role and names its `owners`" + (f"; missing: {', '.join(missing)}" if missing
                                                                  else "; `owners` is empty"))
    unknown = sorted(set(mapped["holder_role"].codes.values()) - set(HOLDER_ROLES)) if mapped[
        "holder_role"].codes else []
    if unknown:
        raise ValueError(f"source {spec.name!r}: holder_role codes map to {unknown}; the roles are "
                         f"{', '.join(HOLDER_ROLES)}")


def _check_extra_fact(spec: SourceSpec) -> None:
    mapped = {c.to for c in spec.mapped_columns.values()}
    if not ({"owner_key", "account_no"} & mapped) or ("owner_key" in mapped and not spec.owners):
        raise ValueError(f"source {spec.name!r}: an extra fact needs its owner: owner_key (with `owners`) or "
                         "account_no (an account loaded before it)")
    pii = [name for name, c in spec.mapped_columns.items() if c.pii]
    if pii:
        raise ValueError(f"source {spec.name!r}: extra facts are stored in clear; column(s) {pii} are PII: keep "
                         "them in a customer source (extra: true) or leave them out")
