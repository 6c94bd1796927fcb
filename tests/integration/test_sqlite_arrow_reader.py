"""The Arrow reader of SQLite event tables keeps the process's SQLite locks intact.

A second SQLite library in the process (the ADBC driver bundles its own) that opens and
closes the database file drops every POSIX lock the process holds on it: another process
then believes it is alone, checkpoints and deletes the WAL under the open connections, and
the next connection here fails with "disk I/O error" (SQLite's "How To Corrupt" §2.2.1).
The reader therefore runs the ADBC driver in a child process and streams Arrow batches back.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text

from lifecycle.errors import LifecycleError
from lifecycle.store.arrow import read_batches
from lifecycle.store.db import make_engine

metadata = MetaData()
events = Table("events", metadata, Column("id", Integer, primary_key=True), Column("kind", String(10)))


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(events), [{"id": i, "kind": "debit" if i % 3 else "credit"} for i in range(1, 5001)])
    return engine


def test_batches_arrive_whole_and_typed(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    batches = list(read_batches(engine, select(events.c.id, events.c.kind).where(events.c.id > 10)))
    table = pa.Table.from_batches(batches)
    assert table.num_rows == 4990 and table.column_names == ["id", "kind"]
    assert pa.types.is_integer(table.schema.field("id").type)
    assert sorted(table.column("id").to_pylist()) == list(range(11, 5001))
    engine.dispose()


def test_another_process_closing_the_database_leaves_our_wal_alone(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    database = tmp_path / "store.db"
    with engine.connect() as held:  # a pooled connection of this process stays open throughout
        held.execute(select(events.c.id).limit(1)).all()
        assert sum(b.num_rows for b in read_batches(engine, select(events.c.id))) == 5000
        other = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                 "c.execute('select count(*) from events'); c.close()")
        subprocess.run([sys.executable, "-c", other, str(database)], check=True)
        assert Path(f"{database}-wal").exists()  # the other process saw us and did not delete it
        with engine.connect() as fresh:
            fresh.execute(text("PRAGMA journal_mode=WAL"))
            assert fresh.execute(select(events.c.id).where(events.c.id == 7)).scalar_one() == 7
    plain = sqlite3.connect(database)
    assert plain.execute("select count(*) from events").fetchone() == (5000,)
    plain.close()
    engine.dispose()


def test_a_failing_statement_is_a_clear_error(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    broken = select(text("no_such_column")).select_from(events)
    with pytest.raises(LifecycleError, match="no_such_column|no such column"):
        list(read_batches(engine, broken))
    engine.dispose()


def test_a_reader_abandoned_halfway_leaves_no_child_behind(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    reader = read_batches(engine, select(events.c.id))
    next(reader)
    reader.close()
    with engine.begin() as conn:  # the database is still writable: the child released it
        conn.execute(insert(events), [{"id": 9999, "kind": "debit"}])
    engine.dispose()
