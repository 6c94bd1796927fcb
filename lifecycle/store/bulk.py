"""Bulk loads: build a table's secondary indexes once after a large load, not row by row.

Keeping an index up to date costs a B-tree insertion per row; on SQLite it was
measured at about three times the cost of the insert itself for the
transactions table (four secondary indexes), while building the same indexes
afterwards from sorted data took a few seconds per million rows. So when a load
brings at least as many rows as :data:`REBUILD_SHARE` of what the table already
holds (a first load, a backfill), the table's non-unique indexes are dropped
for the load and recreated from their own stored definitions after it, inside
the same transaction: if the load fails, the drop is rolled back with it.

Unique indexes and primary keys stay: ``ON CONFLICT`` needs them. An index a
database administrator added is rebuilt exactly as it was defined (its SQL is
read back from ``sqlite_master`` / ``pg_indexes``). On PostgreSQL the dropped
indexes take an exclusive lock on the table until the transaction commits:
readers of that table wait for a large load to finish.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Table, func, select, text

from lifecycle.errors import LoadIntegrityError

REBUILD_SHARE = 0.5  # rebuild when incoming rows >= this share of the rows already there
REBUILD_MIN_ROWS = 50_000  # below this, index upkeep is cheaper than a rebuild


@dataclass(frozen=True)
class IndexDefinition:
    name: str
    sql: str  # the statement that creates it, as the database stored it


def secondary_indexes(conn: Connection, table: Table) -> list[IndexDefinition]:
    """The table's non-unique indexes, with the SQL that recreates each."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        rows = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"),
            {"t": table.name}).all()
    elif dialect == "postgresql":
        rows = conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
            "AND schemaname = current_schema()"), {"t": table.name}).all()
    else:
        return []
    return [IndexDefinition(str(name), str(sql)) for name, sql in rows
            if not str(sql).lstrip().upper().startswith("CREATE UNIQUE")]


def should_rebuild(existing_rows: int, incoming_rows: int) -> bool:
    """Whether rebuilding the indexes after the load beats maintaining them during it."""
    return incoming_rows >= REBUILD_MIN_ROWS and incoming_rows >= REBUILD_SHARE * existing_rows


@contextmanager
def deferred_indexes(conn: Connection, table: Table, incoming_rows: int) -> Iterator[list[str]]:
    """Around a load of about ``incoming_rows`` rows into ``table`` within ``conn``'s
    transaction: drop its secondary indexes when a rebuild is cheaper, recreate them after.

    Yields the names of the indexes deferred (empty when they are maintained as usual).
    """
    if incoming_rows < REBUILD_MIN_ROWS:
        yield []
        return
    existing = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    indexes = secondary_indexes(conn, table) if should_rebuild(existing, incoming_rows) else []
    quote = conn.dialect.identifier_preparer.quote
    for index in indexes:
        conn.execute(text(f"DROP INDEX {quote(index.name)}"))
    yield [index.name for index in indexes]
    for index in indexes:
        conn.execute(text(index.sql))


IN_BATCH = 30_000  # keys per existence query (SQLite allows 32,766 bound variables)


class ForeignKeyCheck:
    """The foreign keys of a bulk load, checked once over the set of keys it wrote.

    SQLite checks a foreign key with a lookup per row; inside an upsert that was
    measured to nearly halve the insert rate. For a large load on SQLite the
    connection's per-row enforcement is switched off (see :func:`write_transaction`)
    and this check takes its place: :meth:`note` collects the distinct referenced
    values of every chunk written, :meth:`verify` looks them up in their parent
    tables before the transaction commits and raises :class:`LoadIntegrityError`
    (rolling the whole load back) if any is missing.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self._refs = {fk.parent.name: fk.column for fk in table.foreign_keys}
        self._seen: dict[str, list[np.ndarray]] = {name: [] for name in self._refs}

    def note(self, frame: pd.DataFrame) -> None:
        """Record the referenced values of a chunk about to be written to the table."""
        for name, values in self._seen.items():
            if name in frame:
                values.append(pd.unique(frame[name].dropna().to_numpy()))

    def verify(self, conn: Connection) -> None:
        for name, parent in self._refs.items():
            parts = self._seen[name]
            wanted = pd.unique(np.concatenate(parts)) if parts else np.empty(0)
            missing = 0
            for start in range(0, len(wanted), IN_BATCH):
                batch = wanted[start:start + IN_BATCH].tolist()  # numpy scalars become Python values
                found = conn.execute(select(func.count()).select_from(parent.table)
                                     .where(parent.in_(batch))).scalar_one()
                missing += len(batch) - int(found)
            if missing:
                raise LoadIntegrityError(
                    f"load into {self.table.name} refers to {missing} {parent.table.name}.{parent.name} value(s) "
                    f"that do not exist (column {name}); nothing of the load was stored")


def set_based_foreign_keys(engine: Engine, incoming_rows: int) -> bool:
    """Whether a write of about ``incoming_rows`` rows should check its foreign keys once,
    set-based, instead of per row (SQLite, large loads)."""
    return engine.dialect.name == "sqlite" and incoming_rows >= REBUILD_MIN_ROWS


@contextmanager
def write_transaction(engine: Engine, *, row_foreign_keys: bool = True) -> Iterator[Connection]:
    """One transaction on its own connection; with ``row_foreign_keys=False`` (SQLite
    only) the database does not check foreign keys per row inside it, and the writer
    checks them set-based (:class:`ForeignKeyCheck`, :func:`check_foreign_keys`).

    ``PRAGMA foreign_keys`` only takes effect outside a transaction, so it is set on
    the connection before ``BEGIN`` and restored after the transaction ends, whatever
    its outcome.
    """
    relaxed = not row_foreign_keys and engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        # On the driver's connection: a statement through ``conn`` would begin a transaction.
        driver = conn.connection.driver_connection
        if relaxed:
            driver.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with conn.begin():
                yield conn
        finally:
            if relaxed:
                driver.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]


def check_foreign_keys(conn: Connection, table: Table) -> None:
    """SQLite's own set-based check of every row of ``table`` (for writes made with
    per-row enforcement off whose referenced values were not noted)."""
    if conn.dialect.name != "sqlite" or not table.foreign_keys:
        return
    bad = conn.exec_driver_sql(f'PRAGMA foreign_key_check("{table.name}")').fetchall()
    if bad:
        parents = sorted({str(row[2]) for row in bad})
        raise LoadIntegrityError(f"load into {table.name} left {len(bad)} row(s) referring to nothing in "
                                 f"{', '.join(parents)}; nothing of the load was stored")


@contextmanager
def bulk_transaction(engine: Engine, table: Table, incoming_rows: int) -> Iterator[
        tuple[Connection, ForeignKeyCheck | None]]:
    """A transaction for loading about ``incoming_rows`` rows into ``table`` alone.

    On SQLite a large load (:data:`REBUILD_MIN_ROWS` or more) runs with per-row foreign
    key enforcement off and yields a :class:`ForeignKeyCheck` for the loader to feed;
    it is verified before the commit. Elsewhere (PostgreSQL, small loads) the database
    checks every row as usual and the check is ``None``.
    """
    deferred = set_based_foreign_keys(engine, incoming_rows) and bool(table.foreign_keys)
    with write_transaction(engine, row_foreign_keys=not deferred) as conn:
        check = ForeignKeyCheck(table) if deferred else None
        yield conn, check
        if check is not None:
            check.verify(conn)
