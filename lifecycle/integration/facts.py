"""Load fact sources (accounts, their holders, cards, balances, transactions,
cards' spending, loans, digital events, feedback, interactions, RMs) from staged
chunks, linking each row to its customer. A row whose owner is unknown is not
dropped: it is returned for the quarantine under the rule ``owner_known``; an
interaction whose complaint status is a move the complaint machine refuses is
returned under ``complaint_transition``, with the reason.

Link extracts (entity ``account_holder``) say which client holds which account and
how (owner, joint holder, authorised user). An account configured with ``holders``
takes its primary owner from them: the one OWNER row of the account in the day's
link extract, else the stored one; none or several and the account is an orphan.
A card configured with ``holders`` belongs to the client of its holder row.
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
    AccountHolder,
    BalanceSnapshot,
    Card,
    CardTransaction,
    DigitalEvent,
    ExtraFact,
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
    "account_holder": table_of(AccountHolder),
    "card": table_of(Card),
    "balance": table_of(BalanceSnapshot),
    "transaction": table_of(Transaction),
    "card_transaction": table_of(CardTransaction),
    "loan": table_of(Loan),
    "digital_event": table_of(DigitalEvent),
    "feedback": table_of(Feedback),
    "interaction": table_of(Interaction),
    "extra_fact": table_of(ExtraFact),
}
# Load order: owners before what refers to them.
ENTITY_ORDER = ("relationship_manager", "account", "account_holder", "card", "balance", "transaction",
                "card_transaction", "loan", "digital_event", "feedback", "interaction", "extra_fact")
OWNER_RULE = "owner_known"
REFUSED_COLUMNS = (ROW_ID, "rule", "expectation", "column")
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
    mapped = {c.to for c in spec.mapped_columns.values()}
    if "owner_key" in mapped:
        return "owner_key"
    if spec.entity == "extra_fact" and "account_no" in mapped:
        return "account_no"
    reference = OWNER_REFERENCES.get(spec.entity)
    return reference[0] if reference else None


@dataclass
class OwnerIndex:
    """Lookups from source references to customer ids, filled lazily per kind."""

    conn: Connection
    _cache: dict[str, pd.Series]
    links: LinkRows | None = None  # an account source with holders: that link source's rows of the run

    @classmethod
    def of(cls, conn: Connection, links: LinkRows | None = None) -> OwnerIndex:
        return cls(conn, {}, links)

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

    def by_holder(self, source: str) -> pd.Series:
        """Holder key -> customer id of the stored rows of link source ``source``."""
        return self._lookup(f"holders:{source}", select(AccountHolder.holder_key, AccountHolder.customer_id)
                            .where(AccountHolder.source == source))

    def forget(self, name: str) -> None:
        self._cache.pop(name, None)


@dataclass(frozen=True)
class LinkRows:
    """The valid rows of an account_holder source in this run (staged, not yet loaded)."""

    spec: SourceSpec
    rows: pd.DataFrame  # account_no, owner_key, holder_role


def account_owners(conn: Connection, links: LinkRows, owners: OwnerIndex) -> pd.Series:
    """Account number -> customer id of its one OWNER: from the day's link rows for the
    accounts they name, from the stored holders for the others. An account with no
    known OWNER, or with several, is left out (its rows become orphans)."""
    today = links.rows.loc[links.rows["holder_role"] == "OWNER", ["account_no", "owner_key"]]
    pairs = pd.DataFrame({"account_no": today["account_no"].to_numpy(),
                          "customer_id": today["owner_key"].map(owners.by_source_key(links.spec.owners)).to_numpy()})
    stored = pd.DataFrame(conn.execute(
        select(AccountHolder.account_no, AccountHolder.customer_id).where(
            AccountHolder.source == links.spec.name, AccountHolder.holder_role == "OWNER")).all(),
        columns=["account_no", "customer_id"])
    stored = stored[~stored["account_no"].isin(links.rows["account_no"])]
    pairs = pd.concat([pairs, stored], ignore_index=True)
    count = pairs.groupby("account_no")["customer_id"].size()
    single = pairs[pairs["account_no"].isin(count.index[count == 1]) & pairs["customer_id"].notna()]
    return pd.Series(single["customer_id"].astype("int64").to_numpy(), index=single["account_no"].to_numpy(),
                     dtype="Int64")


def _owner_ids(spec: SourceSpec, frame: pd.DataFrame, owners: OwnerIndex) -> pd.Series | None:
    if spec.entity == "account" and spec.holders is not None:
        if owners.links is None:
            raise ValueError(f"source {spec.name}: its holders {spec.holders!r} were not given to the load")
        return frame["account_no"].map(account_owners(owners.conn, owners.links, owners))
    if spec.entity == "card" and "holder_key" in frame:
        return frame["holder_key"].map(owners.by_holder(str(spec.holders)))
    if spec.entity == "account_holder":
        customer = frame["owner_key"].map(owners.by_source_key(spec.owners))
        return customer.where(frame["account_no"].isin(owners.by_account().index))
    reference = owner_reference(spec)
    if reference == "owner_key":
        return frame["owner_key"].map(owners.by_source_key(spec.owners))
    if reference == "account_no":
        return frame["account_no"].map(owners.by_account())
    if reference == "card_no":  # staged as its blind index (the number is PII)
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


def _as_extra_facts(spec: SourceSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """An extra fact source's rows as (source, fact_key, owner reference, values): the key's
    values joined by ``|``, the other columns as one JSON object per row."""
    keys = spec.canonical_key
    key = frame[keys[0]].astype(str)
    for column in keys[1:]:
        key = key + "|" + frame[column].astype(str)
    owner = [c for c in ("owner_key", "account_no") if c in frame]
    data = frame.drop(columns=[ROW_ID, *owner, *[c for c in frame.columns if c.startswith("chk_")]])
    for column in data.columns:
        if pd.api.types.is_datetime64_any_dtype(data[column]):
            data[column] = data[column].dt.strftime("%Y-%m-%dT%H:%M:%S").str.removesuffix("T00:00:00")
    data = data.astype(object).where(data.notna(), None)
    return pd.DataFrame({ROW_ID: frame[ROW_ID].to_numpy(), "source": spec.name, "fact_key": key.to_numpy(),
                         **{c: frame[c].to_numpy() for c in owner}, "values": data.to_dict("records")},
                        index=frame.index)


def load_fact_chunk(conn: Connection, spec: SourceSpec, frame: pd.DataFrame, file_id: int,
                    owners: OwnerIndex, foreign_keys: ForeignKeyCheck | None = None) -> tuple[int, pd.DataFrame]:
    """Upsert one staged chunk; returns (rows loaded, refused rows' failures: ``row_id``,
    ``rule``, ``expectation``, ``column`` — orphans and refused complaint moves).

    ``foreign_keys``: the load's set-based check when the database does not check each
    row (:func:`lifecycle.store.bulk.bulk_transaction`); it is told what is written.
    """
    table = ENTITY_TABLES[spec.entity]
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("chk_")])
    if spec.entity == "account_holder":
        key = frame["holder_key"] if "holder_key" in frame else frame["account_no"].astype(str) + "|" + frame[
            "owner_key"].astype(str)
        frame = frame.assign(source=spec.name, holder_key=key)
    if spec.entity == "extra_fact":
        frame = _as_extra_facts(spec, frame)
    customer_id = _owner_ids(spec, frame, owners)
    refused = [pd.DataFrame({c: pd.Series(dtype="int64" if c == ROW_ID else object) for c in REFUSED_COLUMNS})]
    if customer_id is not None:
        known = customer_id.notna()
        owner_column = owner_reference(spec) or spec.canonical_key[0]  # the column naming the owner
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
    if spec.entity == "account_holder":
        owners.forget(f"holders:{spec.name}")
    return loaded, pd.concat(refused, ignore_index=True)
