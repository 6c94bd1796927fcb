"""Read one customer partition's inputs as of a date, aggregated in the database.

Every query is set-based SQL (SQLAlchemy Core, the same on SQLite and
PostgreSQL) that returns at most one row per customer and day: the database
does the heavy reduction (21M transactions → customer-days), pandas the rest.
Current-state tables are read through their history (validity ranges), events
by their own date, so nothing loaded after the as-of date changes what is read.

A partition is the customers whose ``customer_id % partitions == index``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine, Select, and_, case, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from lifecycle.features.config import FeatureConfig
from lifecycle.store.arrow import day_of, group_sums, read_batches
from lifecycle.store.base import table_of
from lifecycle.store.complaints import complaints_as_of
from lifecycle.store.frames import read_frame
from lifecycle.store.history import as_of, history_of
from lifecycle.store.models import (
    Account,
    BalanceSnapshot,
    Card,
    CardTransaction,
    Customer,
    DigitalEvent,
    Feedback,
    Loan,
    Transaction,
)


@dataclass(frozen=True)
class Partition:
    index: int = 0
    count: int = 1

    def __post_init__(self) -> None:
        if not (self.count >= 1 and 0 <= self.index < self.count):
            raise ValueError(f"partition {self.index} of {self.count} does not exist")

    def of(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        return literal(True) if self.count == 1 else column.op("%")(self.count) == self.index

    @property
    def label(self) -> str:
        return f"{self.index + 1}/{self.count}"


@dataclass(frozen=True)
class Inputs:
    """One partition's inputs, as frames (see each reader for the columns)."""

    customers: pd.DataFrame
    accounts: pd.DataFrame
    balances: pd.DataFrame
    transactions: pd.DataFrame
    cards: pd.DataFrame
    card_days: pd.DataFrame
    digital_days: pd.DataFrame
    loans: pd.DataFrame
    feedback: pd.DataFrame


def _frame(conn: Connection, stmt: Select[Any]) -> pd.DataFrame:
    return read_frame(conn, stmt)


def _end_of(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min)


def customers(conn: Connection, day: date, part: Partition) -> pd.DataFrame:
    """customer_id, customer_type, branch_code, rm_id, open_date, registered_capital — live customers only."""
    h = history_of(Customer)
    live = table_of(Customer)
    stmt = (select(h.c.customer_id, h.c.customer_type, h.c.branch_code, h.c.rm_id, h.c.open_date,
                   h.c.registered_capital)
            .join(live, live.c.customer_id == h.c.customer_id)
            .where(as_of(h, day), live.c.erased_at.is_(None), part.of(h.c.customer_id)))
    return _frame(conn, stmt)


def accounts(conn: Connection, day: date, part: Partition) -> pd.DataFrame:
    """customer_id, product_category, status, open_date, close_date: accounts open on or before the day."""
    h = history_of(Account)
    stmt = (select(h.c.customer_id, h.c.product_category, h.c.status, h.c.open_date, h.c.close_date)
            .where(as_of(h, day), h.c.open_date <= day, part.of(h.c.customer_id)))
    return _frame(conn, stmt)


def balances(conn: Connection, day: date, part: Partition, cfg: FeatureConfig, days_back: int) -> pd.DataFrame:
    """customer_id, balance_date, aum, deposit, wealth: sums over the customer's accounts per snapshot date."""
    b = table_of(BalanceSnapshot)
    h = history_of(Account)
    cny = b.c.balance_cny
    stmt = (select(b.c.customer_id, b.c.balance_date, func.sum(cny).label("aum"),
                   func.sum(case((h.c.product_category.in_(cfg.deposit_categories), cny), else_=0)).label("deposit"),
                   func.sum(case((h.c.product_category.in_(cfg.wealth_categories), cny), else_=0)).label("wealth"))
            .join(h, and_(h.c.account_no == b.c.account_no, as_of(h, day)))
            .where(b.c.balance_date <= day, b.c.balance_date > day - timedelta(days=days_back),
                   part.of(b.c.customer_id))
            .group_by(b.c.customer_id, b.c.balance_date))
    return _frame(conn, stmt)


def _reduce(engine: Engine, stmt: Select[Any], columns: dict[str, Callable[[pa.Table], pa.Array]]) -> pd.DataFrame:
    """Stream ``stmt``'s rows, map each batch to ``columns`` (by customer and day) and sum them."""
    keys = ["customer_id", "day"]
    partials = []
    for batch in read_batches(engine, stmt):
        rows = pa.Table.from_batches([batch])
        mapped = pa.table({"customer_id": rows["customer_id"], "day": day_of(rows["day"]),
                           **{name: make(rows) for name, make in columns.items()}})
        summed = mapped.group_by(keys).aggregate([(c, "sum") for c in columns])
        partials.append(summed.rename_columns([n.removesuffix("_sum") for n in summed.column_names]))
    frame = group_sums(partials, keys, list(columns)).to_pandas()
    return frame[[*keys, *columns]] if len(frame) else pd.DataFrame(columns=[*keys, *columns])


def _amount(rows: pa.Table, column: str = "amount") -> pa.Array:
    return pc.fill_null(pc.cast(rows[column], pa.float64()), 0.0)


def _flag(mask: pa.Array) -> pa.Array:
    return pc.cast(pc.fill_null(mask, False), pa.float64())


def _where(mask: pa.Array, values: pa.Array) -> pa.Array:
    return pc.if_else(pc.fill_null(mask, False), values, 0.0)


def transactions(engine: Engine, day: date, part: Partition, cfg: FeatureConfig) -> pd.DataFrame:
    """One row per customer and day with activity: counts and sums by kind (see ``columns``)."""
    t = table_of(Transaction)
    stmt = (select(t.c.customer_id, t.c.txn_time.label("day"), t.c.amount, t.c.txn_type, t.c.direction,
                   t.c.counterparty_country)
            .where(t.c.txn_time < _end_of(day), t.c.txn_time >= _end_of(day - timedelta(days=cfg.history_days)),
                   part.of(t.c.customer_id)))
    initiated = pa.array(cfg.customer_initiated_types, pa.string())
    cash = pa.array(["CASH_DEPOSIT", "CASH_WITHDRAWAL"], pa.string())
    abroad_types = pa.array(["CROSS_BORDER_IN", "CROSS_BORDER_OUT"], pa.string())

    def is_(rows: pa.Table, codes: pa.Array) -> pa.Array:
        return pc.is_in(rows["txn_type"], value_set=codes)

    def abroad(rows: pa.Table) -> pa.Array:
        foreign = pc.and_(pc.is_valid(rows["counterparty_country"]),
                          pc.not_equal(rows["counterparty_country"], cfg.foreign_country_not))
        return pc.or_(pc.fill_null(is_(rows, abroad_types), False), pc.fill_null(foreign, False))

    columns: dict[str, Callable[[pa.Table], pa.Array]] = {
        "n_initiated": lambda r: _flag(is_(r, initiated)),
        "initiated": lambda r: _where(is_(r, initiated), _amount(r)),
        "cash": lambda r: _where(is_(r, cash), _amount(r)),
        "n_cross_border": lambda r: _flag(abroad(r)),
        "credit": lambda r: _where(pc.equal(r["direction"], "CREDIT"), _amount(r)),
        "debit": lambda r: _where(pc.equal(r["direction"], "DEBIT"), _amount(r)),
        "salary": lambda r: _where(pc.equal(r["txn_type"], "SALARY"), _amount(r)),
        "fees": lambda r: _where(pc.equal(r["txn_type"], "FEE"), _amount(r)),
    }
    return _reduce(engine, stmt, columns)


def cards(conn: Connection, day: date, part: Partition) -> pd.DataFrame:
    """customer_id, card_status of every card opened on or before the day."""
    h = history_of(Card)
    stmt = select(h.c.customer_id, h.c.card_status).where(
        as_of(h, day), (h.c.open_date.is_(None)) | (h.c.open_date <= day), part.of(h.c.customer_id))
    return _frame(conn, stmt)


def card_days(engine: Engine, day: date, part: Partition, cfg: FeatureConfig) -> pd.DataFrame:
    """customer_id, day, n, amount of card spending per day."""
    c = table_of(CardTransaction)
    stmt = (select(c.c.customer_id, c.c.txn_time.label("day"), c.c.amount)
            .where(c.c.txn_time < _end_of(day), c.c.txn_time >= _end_of(day - timedelta(days=cfg.history_days)),
                   part.of(c.c.customer_id)))
    return _reduce(engine, stmt, {"n": lambda r: pc.cast(pc.is_valid(r["customer_id"]), pa.float64()),
                                  "amount": _amount})


def digital_days(engine: Engine, day: date, part: Partition, cfg: FeatureConfig) -> pd.DataFrame:
    """customer_id, day, events, logins per day."""
    d = table_of(DigitalEvent)
    stmt = (select(d.c.customer_id, d.c.event_time.label("day"), d.c.event_type)
            .where(d.c.event_time < _end_of(day), d.c.event_time >= _end_of(day - timedelta(days=cfg.history_days)),
                   part.of(d.c.customer_id)))
    return _reduce(engine, stmt, {"events": lambda r: pc.cast(pc.is_valid(r["customer_id"]), pa.float64()),
                                  "logins": lambda r: _flag(pc.equal(r["event_type"], "LOGIN"))})


def loans(conn: Connection, day: date, part: Partition) -> pd.DataFrame:
    """customer_id, outstanding, status, overdue_days, max_overdue_days_12m, five_class as of the day."""
    h = history_of(Loan)
    stmt = select(h.c.customer_id, h.c.outstanding, h.c.status, h.c.overdue_days, h.c.max_overdue_days_12m,
                  h.c.five_class).where(as_of(h, day), part.of(h.c.customer_id))
    return _frame(conn, stmt)


def feedback(conn: Connection, day: date, part: Partition, cfg: FeatureConfig) -> pd.DataFrame:
    """customer_id, feedback_date, kind, nps_score, severity, status of the surveys and
    complaints in the history window up to the day. A complaint's status is the
    complaint machine's on the day (``open``, ``in_progress``, ``resolved``: see
    :mod:`lifecycle.store.complaints`), its date the day it was opened."""
    f = table_of(Feedback)
    since = day - timedelta(days=cfg.history_days)
    surveys = _frame(conn, select(f.c.customer_id, f.c.feedback_date, f.c.kind, f.c.nps_score)
                     .where(f.c.kind == "SURVEY", f.c.feedback_date <= day, f.c.feedback_date > since,
                            part.of(f.c.customer_id)))
    states = complaints_as_of(conn, day, 0, part.of)  # due dates are not features: any service level
    states = states[pd.to_datetime(states["opened_on"]) > pd.Timestamp(since)]
    complaints = pd.DataFrame({"customer_id": states["customer_id"], "feedback_date": states["opened_on"],
                               "kind": "COMPLAINT", "nps_score": None, "severity": states["severity"],
                               "status": states["status"]})
    surveys = surveys.assign(severity=None, status=None)
    frames = [df for df in (surveys, complaints) if len(df)]
    return pd.concat(frames, ignore_index=True) if frames else surveys


def read_inputs(engine: Engine, day: date, part: Partition, cfg: FeatureConfig) -> Inputs:
    """Every input of one partition: small tables through one connection, event tables streamed."""
    with engine.connect() as conn:
        small = {"customers": customers(conn, day, part), "accounts": accounts(conn, day, part),
                 "balances": balances(conn, day, part, cfg, days_back=200), "cards": cards(conn, day, part),
                 "loans": loans(conn, day, part), "feedback": feedback(conn, day, part, cfg)}
    return Inputs(**small, transactions=transactions(engine, day, part, cfg),
                  card_days=card_days(engine, day, part, cfg), digital_days=digital_days(engine, day, part, cfg))
