"""Load fact sources (accounts, balances, transactions, cards' spending, loans,
digital events, feedback, interactions, RMs) from staged chunks, linking each
row to its customer. A row whose owner is unknown is not dropped: it is returned
for the quarantine under the rule ``owner_known``; an interaction whose
complaint status is a move the complaint machine refuses is returned under
``complaint_transition``, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Table, select

from lifecycle.complaints import TRANSITION_RULE, latest_status, refused_transitions
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
    Interaction,
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
    "interaction": table_of(Interaction),
}
# Load order: owners before what refers to them.
ENTITY_ORDER = ("relationship_manager", "account", "balance", "transaction", "card_transaction", "loan",
                "digital_event", "feedback", "interaction")
OWNER_RULE = "owner_known"
REFUSED_COLUMNS = (ROW_ID, "rule", "expectation", "column")


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
    if "owner_key" in frame:
        return frame["owner_key"].map(owners.by_source_key(spec.owners))
    if spec.entity in ("balance", "transaction"):
        return frame["account_no"].map(owners.by_account())
    if spec.entity == "card_transaction":
        return frame["card_ref"].map(owners.by_card())
    return None


def _refusals(rows: pd.DataFrame, rule: str, reason: pd.Series | str, column: str) -> pd.DataFrame:
    return pd.DataFrame({ROW_ID: rows[ROW_ID].to_numpy(), "rule": rule,
                         "expectation": reason if isinstance(reason, str) else reason.to_numpy(), "column": column})


def stored_complaint_status(conn: Connection, cases: list[str], excluding: list[str]) -> pd.Series:
    """``case_ref`` -> the latest stored status of each case (rows of ``excluding`` left out:
    the batch itself, when a corrected file loads again)."""
    t = table_of(Interaction)
    rows: list[pd.DataFrame] = []
    for start in range(0, len(cases), 5_000):
        stmt = select(t.c.case_ref, t.c.interaction_id, t.c.interaction_time, t.c.complaint_status).where(
            t.c.case_ref.in_(cases[start:start + 5_000]), t.c.complaint_status.is_not(None))
        rows.append(pd.DataFrame(conn.execute(stmt).all(),
                                 columns=["case_ref", "interaction_id", "interaction_time", "complaint_status"]))
    stored = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    if stored.empty:
        return pd.Series(dtype=object)
    return latest_status(stored[~stored["interaction_id"].isin(excluding)])


def refused_interactions(conn: Connection, frame: pd.DataFrame) -> pd.DataFrame:
    """Interaction rows the complaint machine refuses, as quarantine failures.

    A complaint contact names its case and status; only a complaint carries a
    status; and each status row is a move :data:`lifecycle.status.COMPLAINT`
    allows from the case's state (the store's, then the batch's earlier rows).
    """
    kind = frame["kind"].astype(str)
    status = frame["complaint_status"] if "complaint_status" in frame else pd.Series(None, index=frame.index)
    case = frame["case_ref"] if "case_ref" in frame else pd.Series(None, index=frame.index)
    complaint = kind == "COMPLAINT"
    unnamed = complaint & (case.isna() | status.isna())
    stray = ~complaint & status.notna()
    failures = [
        _refusals(frame[unnamed], TRANSITION_RULE, "a complaint contact names its case (case_ref) and its "
                  "status (complaint_status)", "complaint_status"),
        _refusals(frame[stray], TRANSITION_RULE, "only a complaint contact carries a complaint status",
                  "complaint_status"),
    ]
    moves = frame[complaint & ~unnamed]
    if len(moves):
        current = stored_complaint_status(conn, sorted(moves["case_ref"].astype(str).unique()),
                                          moves["interaction_id"].astype(str).tolist())
        refused = refused_transitions(moves, current)
        failures.append(_refusals(refused, TRANSITION_RULE, refused["reason"], "complaint_status"))
    return pd.concat(failures, ignore_index=True)


def load_fact_chunk(conn: Connection, spec: SourceSpec, frame: pd.DataFrame, file_id: int,
                    owners: OwnerIndex, foreign_keys: ForeignKeyCheck | None = None) -> tuple[int, pd.DataFrame]:
    """Upsert one staged chunk; returns (rows loaded, refused rows' failures: ``row_id``,
    ``rule``, ``expectation``, ``column`` — orphans and refused complaint moves).

    ``foreign_keys``: the load's set-based check when the database does not check each
    row (:func:`lifecycle.store.bulk.bulk_transaction`); it is told what is written.
    """
    table = ENTITY_TABLES[spec.entity]
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("chk_")])
    customer_id = _owner_ids(spec, frame, owners)
    refused = [pd.DataFrame({c: pd.Series(dtype="int64" if c == ROW_ID else object) for c in REFUSED_COLUMNS})]
    if customer_id is not None:
        known = customer_id.notna()
        owner_column = "owner_key" if "owner_key" in frame else spec.canonical_key[0]
        refused.append(_refusals(frame[~known], OWNER_RULE, OWNER_RULE, owner_column))
        frame = frame[known].assign(customer_id=customer_id[known].astype("int64"))
    if spec.entity == "interaction" and len(frame):
        moves = refused_interactions(conn, frame)
        refused.append(moves)
        frame = frame[~frame[ROW_ID].isin(moves[ROW_ID])]
    out = frame.drop(columns=[c for c in (ROW_ID, "owner_key", "source_key") if c in frame])
    out = out[[c for c in out.columns if c in table.c]].assign(file_id=file_id) if "file_id" in table.c \
        else out[[c for c in out.columns if c in table.c]]
    if foreign_keys is not None:
        foreign_keys.note(out)
    loaded = upsert_frame(conn, table, out)
    if spec.entity == "account":
        owners.forget("accounts")
    return loaded, pd.concat(refused, ignore_index=True)
