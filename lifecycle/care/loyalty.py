"""The loyalty programme's points ledger: earning, expiry, redemption, statements.

**Earning.** Each eligible transaction earns once: ``floor(amount × per_cny[kind]
× tier_multiplier[tier])`` points, where *kind* is ``card`` for card spending
or the core transaction type (``PAYMENT`` …, debits in CNY only) and *tier*
the customer's value tier in the latest decision on or before the
transaction's day (``mass`` without one). The entry's key is
``earn:txn:<txn_id>`` or ``earn:card:<txn_id>`` (unique in the ledger), so a
day run again — or a transaction delivered again in a later extract — earns
nothing twice. A run for day *D* looks at transactions of the
``late_days`` days up to *D*, which catches transactions delivered late.

**Expiry (first in, first out).** Points expire ``expiry_months`` after the day
they were earned. On day *D* with cut-off *C* = *D* − ``expiry_months``, the
points still unspent from on or before *C* are ``credits up to C − all debits up
to D`` (redemptions and earlier expiries spend the oldest points first); when
positive they expire in one entry keyed ``expire:<customer>:<C>``.

**Redemption.** A reward of the catalogue costs its points; the balance is
checked in the same transaction (the customer's balance row is locked on
PostgreSQL; SQLite has one writer) and never goes below zero. The request id
makes a retried request redeem once.

**Balances.** ``points_balances`` holds each customer's balance, updated in the
same transaction as the entries that change it; :func:`reconcile` checks it
against the ledger's sums.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, case, func, insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from lifecycle.care.config import Loyalty
from lifecycle.care.context import CareContext
from lifecycle.errors import LifecycleError
from lifecycle.store.base import table_of
from lifecycle.store.frames import read_frame
from lifecycle.store.models import (
    CardTransaction,
    Customer,
    CustomerDecision,
    PointsBalance,
    PointsEntry,
    Transaction,
)

LEDGER = table_of(PointsEntry)
BALANCES = table_of(PointsBalance)
CHUNK = 900


class LoyaltyError(LifecycleError):
    """A redemption or ledger operation that cannot be done (unknown reward, balance too low …)."""


@dataclass
class LedgerResult:
    as_of: date
    earned_entries: int = 0
    earned_points: int = 0
    expired_entries: int = 0
    expired_points: int = 0
    by_source: dict[str, int] = field(default_factory=dict)  # points earned per kind of spending


def months_before(day: date, months: int) -> date:
    """``day`` minus whole months (the last day of the month when the day does not exist)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for dom in range(day.day, 27, -1):
        try:
            return date(year, month, dom)
        except ValueError:
            continue
    return date(year, month, min(day.day, 28))


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), datetime.min.time())


def _tiers(conn: Connection, day: date) -> pd.Series:
    """Each customer's value tier in the latest decision on or before ``day``."""
    d = table_of(CustomerDecision)
    latest = select(func.max(d.c.as_of)).where(d.c.as_of <= day).scalar_subquery()
    frame = read_frame(conn, select(d.c.customer_id, d.c.value_tier).where(d.c.as_of == latest))
    return frame.set_index("customer_id")["value_tier"] if not frame.empty else pd.Series(dtype=object)


def _candidates(conn: Connection, day: date, rules: Loyalty) -> pd.DataFrame:
    start = max(date.fromisoformat(rules.starts_on), day - timedelta(days=rules.late_days))
    if start > day:
        return pd.DataFrame(columns=["entry_key", "customer_id", "as_of", "source", "amount"])
    per = rules.earning.per_cny
    parts = []
    core_kinds = [k for k in per if k != "card"]
    c = Customer.__table__
    if core_kinds:
        t = table_of(Transaction)
        parts.append(read_frame(conn, select(
            (literal("earn:txn:") + t.c.txn_id).label("entry_key"), t.c.customer_id,
            t.c.txn_time.label("as_of"), t.c.txn_type.label("source"), t.c.amount)
            .join(c, c.c.customer_id == t.c.customer_id)
            .where(t.c.txn_time >= datetime.combine(start, datetime.min.time()), t.c.txn_time < _end_of(day),
                   t.c.direction == "DEBIT", t.c.txn_type.in_(core_kinds), func.coalesce(t.c.currency, "CNY") == "CNY",
                   t.c.amount > 0, c.c.erased_at.is_(None))))
    if "card" in per:
        ct = table_of(CardTransaction)
        parts.append(read_frame(conn, select(
            (literal("earn:card:") + ct.c.txn_id).label("entry_key"), ct.c.customer_id,
            ct.c.txn_time.label("as_of"), literal("card").label("source"), ct.c.amount)
            .join(c, c.c.customer_id == ct.c.customer_id)
            .where(ct.c.txn_time >= datetime.combine(start, datetime.min.time()), ct.c.txn_time < _end_of(day),
                   ct.c.amount > 0, c.c.erased_at.is_(None))))
    frame = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(
        not p.empty for p in parts) else pd.DataFrame(columns=["entry_key", "customer_id", "as_of", "source", "amount"])
    return frame


def _existing_keys(conn: Connection, keys: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), CHUNK):
        found.update(conn.execute(select(LEDGER.c.entry_key).where(
            LEDGER.c.entry_key.in_(keys[i:i + CHUNK]))).scalars())
    return found


def _insert_entries(conn: Connection, entries: pd.DataFrame, now: datetime) -> None:
    """Insert ledger entries and add them to the balances (one transaction: ``conn``'s)."""
    if entries.empty:
        return
    records = [{"entry_key": r.entry_key, "customer_id": int(r.customer_id), "kind": r.kind, "points": int(r.points),
                "as_of": r.as_of, "source": r.source, "reason": r.reason, "created_at": now}
               for r in entries.itertuples(index=False)]
    conn.execute(insert(LEDGER), records)  # a duplicate key fails the transaction: nothing counts twice
    pts = entries["points"].astype("int64")
    sums = pd.DataFrame({"customer_id": entries["customer_id"].astype("int64"), "balance": pts,
                         "earned": pts.where(entries["kind"].isin(["earn", "adjust"]) & (pts > 0), 0),
                         "redeemed": (-pts).where(entries["kind"] == "redeem", 0),
                         "expired": (-pts).where(entries["kind"] == "expire", 0)}).groupby("customer_id").sum()
    dialect: Any = {"sqlite": sqlite, "postgresql": postgresql}[conn.dialect.name]
    stmt = dialect.insert(BALANCES)
    stmt = stmt.on_conflict_do_update(index_elements=["customer_id"], set_={
        "balance": BALANCES.c.balance + stmt.excluded.balance, "earned": BALANCES.c.earned + stmt.excluded.earned,
        "redeemed": BALANCES.c.redeemed + stmt.excluded.redeemed,
        "expired": BALANCES.c.expired + stmt.excluded.expired, "updated_at": stmt.excluded.updated_at})
    conn.execute(stmt, [{"customer_id": int(cid), "balance": int(r.balance), "earned": int(r.earned),
                         "redeemed": int(r.redeemed), "expired": int(r.expired), "updated_at": now}
                        for cid, r in sums.iterrows()])


def accrue(conn: Connection, day: date, rules: Loyalty, now: datetime) -> LedgerResult:
    """Points for the eligible transactions up to ``day`` that have not earned yet (see the module doc)."""
    result = LedgerResult(day)
    txns = _candidates(conn, day, rules)
    if txns.empty:
        return result
    txns = txns[~txns["entry_key"].isin(_existing_keys(conn, txns["entry_key"].tolist()))]
    if txns.empty:
        return result
    tiers = _tiers(conn, day)
    tier = txns["customer_id"].map(tiers).fillna("mass")
    multiplier = tier.map(dict(rules.earning.tier_multiplier)).fillna(1.0).astype("float64")
    rate = txns["source"].map(rules.earning.per_cny).astype("float64")
    amount = pd.to_numeric(txns["amount"], errors="coerce").astype("float64")
    # floor with a small tolerance, so that 100.00 × 0.1 is 10 points and not 9 (binary fractions)
    points = np.floor(amount.to_numpy() * rate.to_numpy() * multiplier.to_numpy() + 1e-9).astype("int64")
    entries = pd.DataFrame({"entry_key": txns["entry_key"].to_numpy(), "customer_id": txns["customer_id"].to_numpy(),
                            "kind": "earn", "points": points,
                            "as_of": pd.to_datetime(txns["as_of"]).dt.date.to_numpy(),
                            "source": txns["source"].to_numpy(), "reason": None})
    entries = entries[entries["points"] > 0]
    _insert_entries(conn, entries, now)
    result.earned_entries, result.earned_points = len(entries), int(entries["points"].sum())
    result.by_source = {str(k): int(v) for k, v in entries.groupby("source")["points"].sum().items()}
    return result


def expire(conn: Connection, day: date, rules: Loyalty, now: datetime, result: LedgerResult | None = None
           ) -> LedgerResult:
    """Expire, first in first out, the points earned on or before ``day`` − ``expiry_months``."""
    result = result or LedgerResult(day)
    cutoff = months_before(day, rules.expiry_months)
    credits = func.sum(case((and_(LEDGER.c.points > 0, LEDGER.c.as_of <= cutoff), LEDGER.c.points), else_=0))
    debits = func.sum(case((LEDGER.c.points < 0, -LEDGER.c.points), else_=0))
    frame = read_frame(conn, select(LEDGER.c.customer_id, credits.label("old"), debits.label("spent"))
                       .where(LEDGER.c.as_of <= day).group_by(LEDGER.c.customer_id))
    if frame.empty:
        return result
    frame["due"] = frame["old"].astype("int64") - frame["spent"].astype("int64")
    frame = frame[frame["due"] > 0]
    if frame.empty:
        return result
    frame["entry_key"] = "expire:" + frame["customer_id"].astype(str) + ":" + cutoff.isoformat()
    frame = frame[~frame["entry_key"].isin(_existing_keys(conn, frame["entry_key"].tolist()))]
    entries = pd.DataFrame({"entry_key": frame["entry_key"], "customer_id": frame["customer_id"], "kind": "expire",
                            "points": -frame["due"], "as_of": day, "source": None,
                            "reason": f"earned on or before {cutoff}"})
    _insert_entries(conn, entries, now)
    result.expired_entries, result.expired_points = len(entries), int(-entries["points"].sum()) if len(entries) else 0
    return result


def run_ledger(conn: Connection, day: date, rules: Loyalty, now: datetime) -> LedgerResult:
    """The day's ledger work: accrue, then expire (one transaction: ``conn``'s)."""
    return expire(conn, day, rules, now, accrue(conn, day, rules, now))


def balance_of(conn: Connection, customer_id: int, *, lock: bool = False) -> int:
    """The stored balance; ``lock`` holds it until the transaction ends (call it first in the transaction).

    PostgreSQL locks the row (a concurrent redemption waits, then reads the new
    balance). SQLite has no row locks and a transaction's first read fixes its
    snapshot, so the lock there is a no-op write that takes the database's write
    lock before anything is read: the other redemption waits for it the same way.
    """
    stmt = select(BALANCES.c.balance).where(BALANCES.c.customer_id == customer_id)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    elif lock:
        conn.execute(update(BALANCES).where(BALANCES.c.customer_id == customer_id)
                     .values(balance=BALANCES.c.balance))
    return int(conn.execute(stmt).scalar() or 0)


@dataclass(frozen=True)
class Redemption:
    entry_key: str
    points: int
    balance: int
    repeated: bool  # the request was already redeemed: nothing changed


def redeem(conn: Connection, customer_id: int, reward: str, request_id: str, rules: Loyalty, *, day: date,
           now: datetime) -> Redemption:
    """Spend a reward's points, never below a zero balance; the same request redeems once."""
    if reward not in rules.rewards:
        raise LoyaltyError(f"no reward {reward!r}; the catalogue has {', '.join(sorted(rules.rewards))}")
    if not request_id or len(request_id) > 64 or not request_id.isprintable():
        raise LoyaltyError("a request id (at most 64 printable characters) names the redemption")
    key = f"redeem:{request_id}"
    cost = int(rules.rewards[reward])
    balance = balance_of(conn, customer_id, lock=True)  # first: a concurrent redemption waits from here
    prior = conn.execute(select(LEDGER.c.customer_id, LEDGER.c.points, LEDGER.c.source)
                         .where(LEDGER.c.entry_key == key)).first()
    if prior is not None:
        if int(prior.customer_id) != customer_id or prior.source != reward:
            raise LoyaltyError(f"request {request_id} was already used for another redemption")
        return Redemption(key, -int(prior.points), balance, repeated=True)
    if balance < cost:
        raise LoyaltyError(f"the balance is {balance:,} points; {reward} costs {cost:,}")
    _insert_entries(conn, pd.DataFrame([{"entry_key": key, "customer_id": customer_id, "kind": "redeem",
                                         "points": -cost, "as_of": day, "source": reward,
                                         "reason": f"request {request_id}"}]), now)
    return Redemption(key, cost, balance - cost, repeated=False)


def reconcile(conn: Connection) -> list[dict[str, int]]:
    """Customers whose stored balance differs from the sum of their entries (empty when all agree)."""
    sums = read_frame(conn, select(LEDGER.c.customer_id, func.sum(LEDGER.c.points).label("entries"))
                      .group_by(LEDGER.c.customer_id))
    balances = read_frame(conn, select(BALANCES.c.customer_id, BALANCES.c.balance))
    both = sums.merge(balances, on="customer_id", how="outer").fillna(0)
    bad = both[(both["entries"].astype("int64") != both["balance"].astype("int64")) | (both["balance"] < 0)]
    return [{"customer_id": int(r.customer_id), "entries": int(r.entries), "balance": int(r.balance)}
            for r in bad.itertuples()]


def recent_entries(conn: Connection, customer_id: int, limit: int) -> list[dict[str, object]]:
    rows = conn.execute(select(LEDGER.c.as_of, LEDGER.c.kind, LEDGER.c.points, LEDGER.c.source)
                        .where(LEDGER.c.customer_id == customer_id)
                        .order_by(LEDGER.c.as_of.desc(), LEDGER.c.id.desc()).limit(limit)).all()
    return [{"date": str(r.as_of), "kind": r.kind, "points": int(r.points), "source": r.source} for r in rows]


def statements(conn: Connection, day: date, rules: Loyalty) -> pd.DataFrame:
    """One row per customer with a balance or entries in the month before ``day``: the statement's figures.

    Columns: customer_id, balance, earned, spent (the previous month), expiring (points that
    expire within 31 days unless spent).
    """
    first = date(day.year, day.month, 1)
    previous = months_before(first, 1)
    month = and_(LEDGER.c.as_of >= previous, LEDGER.c.as_of < first)
    soon = months_before(day + timedelta(days=31), rules.expiry_months)
    frame = read_frame(conn, select(
        LEDGER.c.customer_id,
        func.sum(case((LEDGER.c.as_of < day, LEDGER.c.points), else_=0)).label("balance"),
        func.sum(case((and_(month, LEDGER.c.points > 0), LEDGER.c.points), else_=0)).label("earned"),
        func.sum(case((and_(month, LEDGER.c.points < 0), -LEDGER.c.points), else_=0)).label("spent"),
        func.sum(case((and_(LEDGER.c.points > 0, LEDGER.c.as_of <= soon), LEDGER.c.points), else_=0)).label("old"),
        func.sum(case((and_(LEDGER.c.points < 0, LEDGER.c.as_of < day), -LEDGER.c.points), else_=0)).label("debits"),
    ).where(LEDGER.c.as_of < day).group_by(LEDGER.c.customer_id))
    if frame.empty:
        return pd.DataFrame(columns=["customer_id", "balance", "earned", "spent", "expiring"])
    for col in ("balance", "earned", "spent", "old", "debits"):
        frame[col] = frame[col].astype("int64")
    frame["expiring"] = (frame["old"] - frame["debits"]).clip(lower=0)
    frame = frame[(frame["balance"] > 0) | (frame["earned"] > 0) | (frame["spent"] > 0)]
    return frame[["customer_id", "balance", "earned", "spent", "expiring"]].reset_index(drop=True)


def ledger_summary(conn: Connection, customer_id: int, limit: int = 10) -> dict[str, object]:
    """The customer 360's loyalty section: balance and recent entries."""
    row = conn.execute(select(BALANCES).where(BALANCES.c.customer_id == customer_id)).first()
    return {"balance": int(row.balance) if row else 0, "earned": int(row.earned) if row else 0,
            "redeemed": int(row.redeemed) if row else 0, "expired": int(row.expired) if row else 0,
            "recent": recent_entries(conn, customer_id, limit)}



def post_day(ctx: CareContext, day: date) -> LedgerResult:
    """The ledger's work for a day in one transaction: earn, then expire."""
    with ctx.engine.begin() as conn:
        return run_ledger(conn, day, ctx.care_rules.rules.loyalty, ctx.clock.now())
