"""Read large SELECTs as Arrow record batches, and aggregate them in Arrow.

Feature inputs are tens of millions of event rows. SQLite's GROUP BY over
(customer, day) builds a temporary B-tree and managed ~70k rows/s here, and
rows fetched as Python tuples cost an object per value. So event tables are
read raw and reduced by Arrow's hash aggregation (C++), batch by batch:

* on SQLite the statement runs through the ADBC SQLite driver on a read-only
  connection, straight into Arrow (measured ~10× the tuple path), in a child
  process that streams the batches back as Arrow IPC. Never in this process:
  the driver bundles its own SQLite library, and when it closes its descriptor
  of the database file POSIX drops every lock this process's connections hold
  on it; another process (a dispatcher, the CLI) then checkpoints and deletes
  the WAL under them, and the next connection here fails with "disk I/O error"
  (SQLite's "How To Corrupt An SQLite Database File", two copies of SQLite);
* elsewhere (PostgreSQL) through the SQLAlchemy connection's DBAPI cursor in
  batches, converted column-wise.

The statement is the same SQLAlchemy statement on every database; values are
rendered as typed literals (dates, numbers, configured codes), never user text.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine
from sqlalchemy.sql import Select

from lifecycle.errors import LifecycleError

BATCH_ROWS = 1_000_000
_CHILD = Path(__file__).with_name("sqlite_arrow_child.py")


class ArrowReadError(LifecycleError):
    """A batch read of the store failed; the message says why (never row content)."""


def _sqlite_batches(engine: Engine, sql: str) -> Iterator[pa.RecordBatch]:
    database = str(engine.url.database)
    child = subprocess.Popen(  # our interpreter and our own script, no shell
        [sys.executable, str(_CHILD), database, str(BATCH_ROWS)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None and child.stderr is not None
    finished = False
    broken: Exception | None = None
    try:
        child.stdin.write(sql.encode("utf-8"))
        child.stdin.close()
        try:
            with pa.ipc.open_stream(child.stdout) as reader:
                yield from reader
        except (pa.ArrowInvalid, OSError) as exc:  # the child failed first (it says why), or the stream broke
            broken = exc
        finished = True
    finally:
        if not finished and child.poll() is None:  # abandoned halfway (or failed here): stop the child
            child.kill()
        child.stdout.close()
        problem = child.stderr.read().decode("utf-8", "replace").strip()
        child.stderr.close()
        code = child.wait()
    if code != 0 or broken is not None:
        why = problem or (f"exit code {code}" if code != 0 else f"the batch stream broke ({type(broken).__name__})")
        raise ArrowReadError(f"reading {Path(database).name} failed: {why}")


def _dbapi_batches(engine: Engine, stmt: Select[Any]) -> Iterator[pa.RecordBatch]:
    """Through the driver's own (server-side, where it has one) cursor: SQLAlchemy's result
    would pre-buffer rows that a raw fetch then never sees."""
    compiled = stmt.compile(dialect=engine.dialect)
    names = [c.name for c in stmt.selected_columns]
    with engine.connect() as conn:
        driver: Any = conn.connection.driver_connection
        cursor = driver.cursor(name="lifecycle_batches") if engine.dialect.name == "postgresql" else driver.cursor()
        try:
            cursor.execute(str(compiled), compiled.params)
            while rows := cursor.fetchmany(BATCH_ROWS):
                columns = list(zip(*rows, strict=True))
                yield pa.RecordBatch.from_arrays([pa.array(c) for c in columns], names=names)
        finally:
            cursor.close()
            conn.rollback()


def read_batches(engine: Engine, stmt: Select[Any]) -> Iterator[pa.RecordBatch]:
    """The rows of ``stmt`` as Arrow record batches of at most :data:`BATCH_ROWS` rows."""
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        sql = str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
        yield from _sqlite_batches(engine, sql)
    else:
        yield from _dbapi_batches(engine, stmt)


def day_of(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A date32 column from stored times: ISO text (SQLite) or timestamps/dates (PostgreSQL)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return pc.cast(pc.strptime(pc.utf8_slice_codeunits(column, 0, 10), format="%Y-%m-%d", unit="s"),
                       pa.date32())
    if pa.types.is_date32(column.type):
        return column
    return pc.cast(column, pa.date32())


def group_sums(tables: Sequence[pa.Table], keys: list[str], columns: list[str]) -> pa.Table:
    """Sum ``columns`` per ``keys`` over every table (partial sums of batches are summed again)."""
    if not tables:
        return pa.table({**{k: pa.array([], pa.int64()) for k in keys}, **{c: pa.array([], pa.float64())
                                                                           for c in columns}})
    out = pa.concat_tables(tables).group_by(keys).aggregate([(c, "sum") for c in columns])
    return out.rename_columns([name.removesuffix("_sum") for name in out.column_names])
