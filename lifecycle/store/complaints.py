"""Complaints as of a day, read from the store: the feedback extract's complaint records
(category, severity, their own status that day) and the interactions' status rows up
to the day, put through :func:`lifecycle.complaints.complaint_states`.

Point in time: a status row after the day is not seen, and a feedback record's
status is its version valid that day (its history), so a past date is answered
as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import ColumnElement, Connection, and_, literal, select

from lifecycle.complaints import complaint_states
from lifecycle.store.base import table_of
from lifecycle.store.frames import read_frame
from lifecycle.store.history import as_of, history_of
from lifecycle.store.holdings import Feedback, Interaction

OwnerFilter = Callable[[ColumnElement[int]], ColumnElement[bool]]


def _everyone(column: ColumnElement[int]) -> ColumnElement[bool]:
    return literal(True)


def complaint_events(conn: Connection, day: date, owners: OwnerFilter = _everyone) -> pd.DataFrame:
    """Complaint status rows up to the end of ``day``."""
    t = table_of(Interaction)
    end = datetime.combine(day + timedelta(days=1), time.min)
    stmt = select(t.c.case_ref, t.c.customer_id, t.c.interaction_id, t.c.interaction_time, t.c.complaint_status) \
        .where(t.c.complaint_status.is_not(None), t.c.case_ref.is_not(None), t.c.interaction_time < end,
               owners(t.c.customer_id))
    return read_frame(conn, stmt)


def complaint_cases(conn: Connection, day: date, owners: OwnerFilter = _everyone) -> pd.DataFrame:
    """The feedback extract's complaints filed by ``day``, with their status valid that day."""
    f, h = table_of(Feedback), history_of(Feedback)
    stmt = (select(f.c.feedback_id.label("case_ref"), f.c.customer_id, f.c.feedback_date, f.c.category,
                   h.c.severity, h.c.status)
            .join(h, and_(h.c.feedback_id == f.c.feedback_id, as_of(h, day)))
            .where(f.c.kind == "COMPLAINT", f.c.feedback_date <= day, owners(f.c.customer_id)))
    return read_frame(conn, stmt)


def complaints_as_of(conn: Connection, day: date, sla_days: int, owners: OwnerFilter = _everyone) -> pd.DataFrame:
    """Every complaint's state on ``day`` (columns: :data:`lifecycle.complaints.STATE_COLUMNS`)."""
    return complaint_states(complaint_events(conn, day, owners), complaint_cases(conn, day, owners), day, sla_days)


def customer_complaints(conn: Connection, customer_id: int, day: date, sla_days: int) -> pd.DataFrame:
    """One customer's complaints on ``day``."""
    return complaints_as_of(conn, day, sla_days, lambda column: column == customer_id)
