"""Large loads defer a table's secondary indexes and rebuild exactly the same ones, and on SQLite
check their foreign keys once over the set of keys they wrote."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
import pytest
import sqlalchemy.exc
from sqlalchemy import Connection, Engine, func, select, text

from lifecycle.errors import LoadIntegrityError
from lifecycle.store import bulk
from lifecycle.store.base import table_of
from lifecycle.store.bulk import bulk_transaction, deferred_indexes, secondary_indexes, should_rebuild
from lifecycle.store.db import make_engine, upgrade
from lifecycle.store.models import Customer, Transaction
from lifecycle.store.upsert import upsert_frame

TXN = table_of(Transaction)
# What a per-row check raises: the bulk path writes through the driver's cursor.
ROW_CHECK = (sqlite3.IntegrityError, psycopg.IntegrityError, sqlalchemy.exc.IntegrityError)


def _transactions(first: int, n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "txn_id": [f"T{i:08d}" for i in range(first, first + n)], "account_no": "A1",
        "customer_id": [1 + i % 3 for i in range(n)],
        "txn_time": pd.date_range("2026-01-01", periods=n, freq="min"), "amount": 1.5, "direction": "D",
        "file_id": 7})


@pytest.fixture
def engine(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A migrated store with three customers, where a load of 10 rows or more counts as large."""
    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 10)
    store = make_engine(database_url)
    upgrade(store)
    with store.begin() as conn:
        upsert_frame(conn, table_of(Customer), pd.DataFrame({
            "customer_id": [1, 2, 3], "customer_ref": ["CUS1", "CUS2", "CUS3"], "customer_type": "individual"}))
    return store


def _definitions(conn: Connection) -> dict[str, str]:
    return {i.name: i.sql for i in secondary_indexes(conn, TXN)}


def test_rebuild_only_when_the_load_is_large_against_the_table() -> None:
    assert should_rebuild(existing_rows=0, incoming_rows=bulk.REBUILD_MIN_ROWS)
    assert not should_rebuild(existing_rows=0, incoming_rows=bulk.REBUILD_MIN_ROWS - 1)
    assert should_rebuild(existing_rows=1_000_000, incoming_rows=600_000)
    assert not should_rebuild(existing_rows=1_000_000, incoming_rows=100_000)


def test_a_large_load_drops_the_indexes_and_rebuilds_the_same(engine: Engine) -> None:
    with engine.connect() as conn:
        before = _definitions(conn)
    assert {"ix_transactions_customer_id", "ix_transactions_txn_time", "ix_transactions_file_id"} <= set(before)
    with engine.begin() as conn, deferred_indexes(conn, TXN, incoming_rows=100) as deferred:
        assert set(deferred) == set(before)
        assert _definitions(conn) == {}  # the load runs without them
        upsert_frame(conn, TXN, _transactions(0, 100))
    with engine.connect() as conn:
        assert _definitions(conn) == before
        assert conn.execute(select(func.count()).select_from(TXN)).scalar_one() == 100
        # the rebuilt index serves queries
        assert conn.execute(select(func.count()).select_from(TXN).where(TXN.c.customer_id == 2)).scalar_one() == 33


def test_a_small_load_against_a_large_table_keeps_the_indexes(engine: Engine) -> None:
    with engine.begin() as conn:
        upsert_frame(conn, TXN, _transactions(0, 100))
    with engine.begin() as conn, deferred_indexes(conn, TXN, incoming_rows=20) as deferred:
        assert deferred == []
        assert len(_definitions(conn)) >= 3


def test_a_failed_load_leaves_the_indexes_and_the_rows_as_they_were(engine: Engine) -> None:
    with engine.connect() as conn:
        before = _definitions(conn)
    with pytest.raises(RuntimeError, match="load failed"), engine.begin() as conn, \
            deferred_indexes(conn, TXN, incoming_rows=100):
        upsert_frame(conn, TXN, _transactions(0, 100))
        raise RuntimeError("load failed")
    with engine.connect() as conn:
        assert _definitions(conn) == before
        assert conn.execute(select(func.count()).select_from(TXN)).scalar_one() == 0


def test_an_index_added_by_an_administrator_is_rebuilt_as_defined(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE INDEX ix_dba_large_debits ON transactions (amount) WHERE direction = 'D'"))
        before = _definitions(conn)
    with engine.begin() as conn, deferred_indexes(conn, TXN, incoming_rows=100) as deferred:
        assert "ix_dba_large_debits" in deferred
        upsert_frame(conn, TXN, _transactions(0, 100))
    with engine.connect() as conn:
        assert _definitions(conn) == before


def _load(engine: Engine, frame: pd.DataFrame) -> None:
    with bulk_transaction(engine, TXN, len(frame)) as (conn, foreign_keys):
        for start in range(0, len(frame), 7):  # several chunks, as a fact load sends them
            chunk = frame.iloc[start:start + 7]
            if foreign_keys is not None:
                foreign_keys.note(chunk)
            upsert_frame(conn, TXN, chunk)


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(TXN)).scalar_one())


def test_a_large_load_with_known_owners_is_stored(engine: Engine) -> None:
    _load(engine, _transactions(0, 30))
    assert _count(engine) == 30


def test_a_large_load_naming_an_unknown_customer_stores_nothing(engine: Engine) -> None:
    rows = [1 + i % 3 for i in range(30)]
    rows[17] = rows[25] = 99
    expected = LoadIntegrityError if engine.dialect.name == "sqlite" else ROW_CHECK
    with pytest.raises(expected) as failure:
        _load(engine, _transactions(0, 30).assign(customer_id=rows))
    if engine.dialect.name == "sqlite":
        assert "transactions refers to 1 customers.customer_id value(s)" in str(failure.value)
        assert "column customer_id" in str(failure.value)
    assert _count(engine) == 0


def test_per_row_enforcement_is_back_after_a_large_load(engine: Engine) -> None:
    _load(engine, _transactions(0, 30))
    with pytest.raises(LoadIntegrityError if engine.dialect.name == "sqlite" else ROW_CHECK):
        _load(engine, _transactions(0, 30).assign(customer_id=5))
    with pytest.raises(ROW_CHECK), engine.begin() as conn:  # a plain write is checked per row
        upsert_frame(conn, TXN, pd.DataFrame({"txn_id": ["X1"], "account_no": "A1", "customer_id": [42],
                                              "txn_time": [pd.Timestamp("2026-01-01")], "amount": 1.0,
                                              "direction": "D"}))
    assert _count(engine) == 30


def test_a_small_load_is_checked_row_by_row_by_the_database(engine: Engine) -> None:
    with pytest.raises(ROW_CHECK), bulk_transaction(engine, TXN, 3) as (conn, foreign_keys):
        assert foreign_keys is None
        upsert_frame(conn, TXN, _transactions(0, 3).assign(customer_id=[1, 2, 77]))
    assert _count(engine) == 0


@pytest.mark.slow
def test_a_fact_load_whose_owner_vanished_is_refused_whole_by_the_set_based_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None], run_day: Callable[..., object]) -> None:
    """The daily load feeds the check: an owner that is not in customers fails the load."""
    from lifecycle.integration import facts
    from tasks.context import flow_context, reset

    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 10)
    real = facts._owner_ids

    def vanished(spec: Any, frame: pd.DataFrame, owners: Any) -> pd.Series | None:
        ids = real(spec, frame, owners)
        return ids + 10**6 if spec.entity == "transaction" and ids is not None else ids

    monkeypatch.setattr(facts, "_owner_ids", vanished)
    use_home(monkeypatch, tmp_path / "home", generated_bank / "landing")
    with pytest.raises(LoadIntegrityError, match="transactions refers to .* customers.customer_id"):
        run_day(date(2026, 6, 30))
    engine = flow_context().engine
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TXN)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(table_of(Customer))).scalar_one() == 0  # all or nothing
    engine.dispose()
    reset()
