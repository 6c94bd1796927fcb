"""Validity ranges of what decisions read: versions per business date, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, select

from lifecycle.store.base import table_of
from lifecycle.store.db import make_engine, upgrade
from lifecycle.store.history import as_of, history_of, record_history
from lifecycle.store.models import Account, Customer
from lifecycle.store.upsert import upsert_frame

D1, D2, D3 = date(2026, 6, 30), date(2026, 7, 1), date(2026, 7, 2)
ACCOUNTS = table_of(Account)


def _store(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        upsert_frame(conn, table_of(Customer), pd.DataFrame({"customer_id": [1, 2], "customer_ref": ["C1", "C2"],
                                                             "customer_type": "individual"}))
    return engine


def _account(conn: object, no: str, status: str) -> None:
    upsert_frame(conn, ACCOUNTS, pd.DataFrame({"account_no": [no], "customer_id": [1], "product_code": "DD",  # type: ignore[arg-type]
                                               "open_date": [date(2020, 1, 1)], "status": [status]}))


def _status_on(engine: Engine, day: date) -> dict[str, str]:
    h = history_of(Account)
    with engine.connect() as conn:
        return dict(conn.execute(select(h.c.account_no, h.c.status).where(as_of(h, day))).all())


def test_a_change_opens_a_version_and_a_past_date_still_reads_the_old_one(database_url: str) -> None:
    engine = _store(database_url)
    with engine.begin() as conn:
        _account(conn, "A1", "ACTIVE")
        _account(conn, "A2", "ACTIVE")
        assert record_history(conn, D1) is not None
    with engine.begin() as conn:
        _account(conn, "A1", "CLOSED")
        conn.execute(ACCOUNTS.delete().where(ACCOUNTS.c.account_no == "A2"))
        _account(conn, "A3", "ACTIVE")
        opened = record_history(conn, D2)
    assert opened is not None and opened["accounts_history"] == 2  # A1's new version and A3
    assert _status_on(engine, D1) == {"A1": "ACTIVE", "A2": "ACTIVE"}
    assert _status_on(engine, D2) == {"A1": "CLOSED", "A3": "ACTIVE"}
    with engine.begin() as conn:  # nothing changed: no new version
        assert record_history(conn, D3) == dict.fromkeys(opened, 0)
    assert _status_on(engine, D3) == _status_on(engine, D2)
    engine.dispose()


def test_reloading_a_day_rewrites_its_versions_and_an_older_day_is_not_recorded(database_url: str) -> None:
    engine = _store(database_url)
    with engine.begin() as conn:
        _account(conn, "A1", "ACTIVE")
        record_history(conn, D1)
        _account(conn, "A1", "DORMANT")
        record_history(conn, D2)
        _account(conn, "A1", "CLOSED")  # a corrected file for D2
        record_history(conn, D2)
        assert record_history(conn, D1) is None  # a later day is recorded already
    h = history_of(Account)
    with engine.connect() as conn:
        versions = conn.execute(select(h.c.status, h.c.valid_from, h.c.valid_to).order_by(h.c.valid_from)).all()
    assert [tuple(v) for v in versions] == [("ACTIVE", D1, D2), ("CLOSED", D2, None)]
    engine.dispose()
