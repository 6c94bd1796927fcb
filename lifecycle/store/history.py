"""What decisions read, kept per business date: validity ranges (SCD type 2) of current-state tables.

Accounts, loans, cards, customers' decision attributes and feedback statuses
are upserted as they are *now*; a decision for a past date must see them as
they were *then*. Each tracked table has a history table holding one row per
version of a row: its key, the tracked columns, ``valid_from`` (the business
date of the load that wrote that version) and ``valid_to`` (the date of the
load that replaced it; NULL while current). A row is as of date D when
``valid_from <= D < valid_to`` (or ``valid_to`` is NULL).

:func:`record_history` runs inside the day's load transaction, after the
facts: set-based SQL, no per-row Python. Loading the same day again (a
corrected file) rewrites that day's versions; a day older than the latest
recorded one is not recorded (its current-state upsert already overwrote
newer state; back-fills of history need the days in order).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Column, Connection, Date, Table, and_, delete, exists, func, insert, literal, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from lifecycle.store.base import Base, table_of
from lifecycle.store.holdings import Account, Card, Feedback, Loan
from lifecycle.store.parties import Customer


@dataclass(frozen=True)
class Tracked:
    source: Table
    key: tuple[str, ...]
    columns: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.source.name}_history"


TRACKED: tuple[Tracked, ...] = (
    Tracked(table_of(Account), ("account_no",),
            ("customer_id", "product_category", "currency", "status", "open_date", "close_date")),
    Tracked(table_of(Loan), ("loan_no",),
            ("customer_id", "product", "principal", "outstanding", "interest_rate", "status", "overdue_days",
             "max_overdue_days_12m", "five_class")),
    Tracked(table_of(Card), ("card_ref",), ("customer_id", "card_product", "credit_limit", "open_date",
                                            "card_status")),
    Tracked(table_of(Customer), ("customer_id",),
            ("customer_type", "branch_code", "rm_id", "open_date", "marketing_consent", "industry_code",
             "registered_capital")),
    Tracked(table_of(Feedback), ("feedback_id",), ("customer_id", "kind", "severity", "status")),
)


def _history_table(spec: Tracked) -> Table:
    columns = [Column(c, spec.source.c[c].type, primary_key=True) for c in spec.key]
    columns += [Column(c, spec.source.c[c].type, nullable=True, index=c == "customer_id") for c in spec.columns]
    columns += [Column("valid_from", Date, primary_key=True), Column("valid_to", Date, nullable=True, index=True)]
    return Table(spec.name, Base.metadata, *columns)


HISTORY: dict[str, Table] = {spec.source.name: _history_table(spec) for spec in TRACKED}


def history_of(source: Table | type[Base]) -> Table:
    name = source.name if isinstance(source, Table) else table_of(source).name
    return HISTORY[name]


def as_of(history: Table, day: date) -> ColumnElement[bool]:
    """The condition selecting the versions valid on ``day``."""
    return and_(history.c.valid_from <= day, or_(history.c.valid_to.is_(None), history.c.valid_to > day))


def _same(history: Table, current: Table, spec: Tracked) -> ColumnElement[bool]:
    keys = [history.c[k] == current.c[k] for k in spec.key]
    values = [history.c[c].is_not_distinct_from(current.c[c]) for c in spec.columns]
    return and_(*keys, *values)


def _key_match(history: Table, current: Table, spec: Tracked) -> ColumnElement[bool]:
    return and_(*[history.c[k] == current.c[k] for k in spec.key])


def latest_recorded(conn: Connection) -> date | None:
    days = [conn.execute(select(func.max(h.c.valid_from))).scalar() for h in HISTORY.values()]
    known = [d for d in days if d is not None]
    return max(known) if known else None


def record_history(conn: Connection, day: date) -> dict[str, int] | None:
    """Record the versions of every tracked table as of ``day`` (inside the load's transaction).

    Returns the versions opened per table, or None when ``day`` is older than the
    latest day recorded (nothing is recorded then)."""
    latest = latest_recorded(conn)
    if latest is not None and day < latest:
        return None
    opened: dict[str, int] = {}
    for spec in TRACKED:
        history, current = HISTORY[spec.source.name], spec.source
        open_ = history.c.valid_to.is_(None)
        unchanged = exists().where(_same(history, current, spec))
        # the same day loaded again: its versions are rewritten, not closed
        conn.execute(delete(history).where(open_, history.c.valid_from == day, ~unchanged))
        conn.execute(update(history).where(open_, history.c.valid_from < day, ~unchanged).values(valid_to=day))
        still_open = exists().where(_key_match(history, current, spec), history.c.valid_to.is_(None))
        names = [*spec.key, *spec.columns]
        rows = select(*[current.c[c] for c in names], literal(day, Date)).where(~still_open)
        # rowcount of an INSERT is only kept when asked for (SQLAlchemy's preserve_rowcount)
        result = conn.execute(insert(history).from_select([*names, "valid_from"], rows)
                              .execution_options(preserve_rowcount=True))
        opened[spec.name] = int(result.rowcount or 0)
    return opened
