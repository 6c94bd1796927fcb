"""Read one customer partition's inputs as of a date, aggregated in the database.

Every query is set-based SQL (SQLAlchemy Core, the same on SQLite and
PostgreSQL) that returns at most one row per customer and day: the database
does the heavy reduction (21M transactions → customer-days), pandas the rest.
Current-state tables are read through their history (validity ranges), events
by their own date, so nothing loaded after the as-of date changes what is read.

A partition is the customers whose ``customer_id % partitions == index``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Select, and_, case, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from lifecycle.features.config import FeatureConfig
from lifecycle.store.base import table_of
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


def transactions(conn: Connection, day: date, part: Partition, cfg: FeatureConfig) -> pd.DataFrame:
    """One row per customer and day with activity: counts and sums by kind (see the SELECT)."""
    t = table_of(Transaction)
    amount = t.c.amount
    initiated = t.c.txn_type.in_(cfg.customer_initiated_types)
    cash = t.c.txn_type.in_(("CASH_DEPOSIT", "CASH_WITHDRAWAL"))
    abroad = t.c.txn_type.in_(("CROSS_BORDER_IN", "CROSS_BORDER_OUT")) | and_(
        t.c.counterparty_country.is_not(None), t.c.counterparty_country != cfg.foreign_country_not)
    credit, debit = t.c.direction == "CREDIT", t.c.direction == "DEBIT"

    def total(condition: ColumnElement[bool], value: Any) -> ColumnElement[float]:
        return func.sum(case((condition, value), else_=0))

    one = literal(1)
    stmt = (select(t.c.customer_id, func.date(t.c.txn_time).label("day"),
                   total(initiated, one).label("n_initiated"), total(initiated, amount).label("initiated"),
                   total(cash, amount).label("cash"), total(abroad, one).label("n_cross_border"),
                   total(credit, amount).label("credit"), total(debit, amount).label("debit"),
                   total(t.c.txn_type == "SALARY", amount).label("salary"),
                   total(t.c.txn_type == "FEE", amount).label("fees"))
            .where(t.c.txn_time < _end_of(day), t.c.txn_time >= _end_of(day - timedelta(days=cfg.history_days)),
                   part.of(t.c.customer_id))
            .group_by(t.c.customer_id, func.date(t.c.txn_time)))
    return _frame(conn, stmt)


def cards(conn: Connection, day: date, part: Partition) -> pd.DataFrame:
    """customer_id, card_status of every card opened on or before the day."""
    h = history_of(Card)
    stmt = select(h.c.customer_id, h.c.card_status).where(
        as_of(h, day), (h.c.open_date.is_(None)) | (h.c.open_date <= day), part.of(h.c.customer_id))
    return _frame(conn, stmt)


def card_days(conn: Connection, day: date, part: Partition, cfg: FeatureConfig) -> pd.DataFrame:
    """customer_id, day, n, amount of card spending per day."""
    c = table_of(CardTransaction)
    stmt = (select(c.c.customer_id, func.date(c.c.txn_time).label("day"), func.count().label("n"),
                   func.sum(c.c.amount).label("amount"))
            .where(c.c.txn_time < _end_of(day), c.c.txn_time >= _end_of(day - timedelta(days=cfg.history_days)),
                   part.of(c.c.customer_id))
            .group_by(c.c.customer_id, func.date(c.c.txn_time)))
    return _frame(conn, stmt)


def digital_days(conn: Connection, day: date, part: Partition, cfg: FeatureConfig) -> pd.DataFrame:
    """customer_id, day, events, logins per day."""
    d = table_of(DigitalEvent)
    stmt = (select(d.c.customer_id, func.date(d.c.event_time).label("day"), func.count().label("events"),
                   func.sum(case((d.c.event_type == "LOGIN", 1), else_=0)).label("logins"))
            .where(d.c.event_time < _end_of(day), d.c.event_time >= _end_of(day - timedelta(days=cfg.history_days)),
                   part.of(d.c.customer_id))
            .group_by(d.c.customer_id, func.date(d.c.event_time)))
    return _frame(conn, stmt)


def loans(conn: Connection, day: date, part: Partition) -> pd.DataFrame:
    """customer_id, outstanding, status, overdue_days, max_overdue_days_12m, five_class as of the day."""
    h = history_of(Loan)
    stmt = select(h.c.customer_id, h.c.outstanding, h.c.status, h.c.overdue_days, h.c.max_overdue_days_12m,
                  h.c.five_class).where(as_of(h, day), part.of(h.c.customer_id))
    return _frame(conn, stmt)


def feedback(conn: Connection, day: date, part: Partition, cfg: FeatureConfig) -> pd.DataFrame:
    """customer_id, feedback_date, kind, nps_score, severity, status (as of the day) of feedback up to the day."""
    f = table_of(Feedback)
    h = history_of(Feedback)
    stmt = (select(f.c.customer_id, f.c.feedback_date, f.c.kind, f.c.nps_score, h.c.severity, h.c.status)
            .join(h, and_(h.c.feedback_id == f.c.feedback_id, as_of(h, day)))
            .where(f.c.feedback_date <= day, f.c.feedback_date > day - timedelta(days=cfg.history_days),
                   part.of(f.c.customer_id)))
    return _frame(conn, stmt)


def read_inputs(conn: Connection, day: date, part: Partition, cfg: FeatureConfig) -> Inputs:
    return Inputs(
        customers=customers(conn, day, part), accounts=accounts(conn, day, part),
        balances=balances(conn, day, part, cfg, days_back=200), transactions=transactions(conn, day, part, cfg),
        cards=cards(conn, day, part), card_days=card_days(conn, day, part, cfg),
        digital_days=digital_days(conn, day, part, cfg), loans=loans(conn, day, part),
        feedback=feedback(conn, day, part, cfg))
