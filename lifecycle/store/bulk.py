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

from sqlalchemy import Connection, Table, func, select, text

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
