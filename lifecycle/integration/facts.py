"""Load fact sources (accounts, balances, transactions, cards' spending, loans,
digital events, feedback, RMs) from staged chunks, linking each row to its
customer. A row whose owner is unknown is not dropped: it is returned for the
quarantine under the rule ``owner_known``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Table, select

from lifecycle.integration.read import ROW_ID
from lifecycle.integration.sources import SourceSpec
from lifecycle.store.base import table_of
from lifecycle.store.bulk import ForeignKeyCheck
from lifecycle.store.models import (
    Account,
    BalanceSnapshot,
    Card,
    CardTransaction,
    DigitalEvent,
    Feedback,
    Loan,
    RelationshipManager,
    SourceLink,
    Transaction,
)
from lifecycle.store.upsert import upsert_frame

ENTITY_TABLES: dict[str, Table] = {
    "relationship_manager": table_of(RelationshipManager),
    "account": table_of(Account),
    "balance": table_of(BalanceSnapshot),
    "transaction": table_of(Transaction),
    "card_transaction": table_of(CardTransaction),
    "loan": table_of(Loan),
    "digital_event": table_of(DigitalEvent),
    "feedback": table_of(Feedback),
}
# Load order: owners before what refers to them.
ENTITY_ORDER = ("relationship_manager", "account", "balance", "transaction", "card_transaction", "loan",
                "digital_event", "feedback")
OWNER_RULE = "owner_known"
# How a fact row without an owner_key finds its customer: the canonical column it refers
# by, and the entity that column names (whose rows carry the customer).
OWNER_REFERENCES: dict[str, tuple[str, str]] = {
    "balance": ("account_no", "account"),
    "transaction": ("account_no", "account"),
    "card_transaction": ("card_no", "card"),
}


def owner_reference(spec: SourceSpec) -> str | None:
    """The canonical column through which ``spec``'s rows name their customer, or None
    (a source whose rows have no customer, like the RMs)."""
    if any(c.to == "owner_key" for c in spec.columns.values()):
        return "owner_key"
    reference = OWNER_REFERENCES.get(spec.entity)
    return reference[0] if reference else None


@dataclass
class OwnerIndex:
    """Lookups from source references to customer ids, filled lazily per kind."""

    conn: Connection
    _cache: dict[str, pd.Series]

    @classmethod
    def of(cls, conn: Connection) -> OwnerIndex:
        return cls(conn, {})

    def _lookup(self, name: str, stmt: object) -> pd.Series:
        if name not in self._cache:
            rows = self.conn.execute(stmt).all()  # type: ignore[call-overload]
            self._cache[name] = pd.Series([r[1] for r in rows], index=[r[0] for r in rows], dtype="Int64")
        return self._cache[name]

    def by_source_key(self, owners: list[str]) -> pd.Series:
        """Source key -> customer id over the owner sources. A key two owner sources both
        use for different customers (``C1`` in the customers' and the corporates' file)
        names no one: it is left out, so the facts naming it are quarantined, not guessed."""
        name = "links:" + ",".join(owners)
        if name not in self._cache:
            stmt = select(SourceLink.source_key, SourceLink.customer_id).where(SourceLink.source.in_(owners))
            links = self._lookup(name, stmt)
            owners_per_key = links.groupby(level=0).nunique()
            links = links[~links.index.duplicated()]
            self._cache[name] = links[~links.index.isin(owners_per_key.index[owners_per_key > 1])]
        return self._cache[name]

    def by_account(self) -> pd.Series:
        return self._lookup("accounts", select(Account.account_no, Account.customer_id))

    def by_card(self) -> pd.Series:
        return self._lookup("cards", select(Card.card_ref, Card.customer_id))

    def forget(self, name: str) -> None:
        self._cache.pop(name, None)


def _owner_ids(spec: SourceSpec, frame: pd.DataFrame, owners: OwnerIndex) -> pd.Series | None:
    reference = owner_reference(spec)
    if reference == "owner_key":
        return frame["owner_key"].map(owners.by_source_key(spec.owners))
    if reference == "account_no":
        return frame["account_no"].map(owners.by_account())
    if reference == "card_no":  # staged as its blind index (the number is PII)
        return frame["card_ref"].map(owners.by_card())
    return None


def load_fact_chunk(conn: Connection, spec: SourceSpec, frame: pd.DataFrame, file_id: int,
                    owners: OwnerIndex, foreign_keys: ForeignKeyCheck | None = None) -> tuple[int, pd.DataFrame]:
    """Upsert one staged chunk; returns (rows loaded, orphan rows' row_id).

    ``foreign_keys``: the load's set-based check when the database does not check each
    row (:func:`lifecycle.store.bulk.bulk_transaction`); it is told what is written.
    """
    table = ENTITY_TABLES[spec.entity]
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("chk_")])
    customer_id = _owner_ids(spec, frame, owners)
    orphans = pd.DataFrame({ROW_ID: pd.Series(dtype="int64")})
    if customer_id is not None:
        known = customer_id.notna()
        orphans = frame.loc[~known, [ROW_ID]]
        frame = frame[known].assign(customer_id=customer_id[known].astype("int64"))
    out = frame.drop(columns=[c for c in (ROW_ID, "owner_key", "source_key") if c in frame])
    out = out[[c for c in out.columns if c in table.c]].assign(file_id=file_id) if "file_id" in table.c \
        else out[[c for c in out.columns if c in table.c]]
    if foreign_keys is not None:
        foreign_keys.note(out)
    loaded = upsert_frame(conn, table, out)
    if spec.entity == "account":
        owners.forget("accounts")
    return loaded, orphans
