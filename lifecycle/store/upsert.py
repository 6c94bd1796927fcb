"""Idempotent bulk upserts of DataFrames (``INSERT … ON CONFLICT DO UPDATE``).

A unique key plus ON CONFLICT is what makes a load idempotent: running the same
batch twice leaves the same rows. Works on SQLite and PostgreSQL alike.

Speed: columns are converted once, vectorised, to the driver's plain types
(text for dates and times in the formats SQLAlchemy itself stores on SQLite,
floats for amounts, JSON text for JSON) and sent through the DBAPI cursor's
``executemany`` with the statement SQLAlchemy compiled — no per-value type
processing in Python. psycopg sends text with an unknown type, so PostgreSQL
casts it to each column's type.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import JSON, Boolean, Connection, Date, DateTime, Float, Integer, LargeBinary, Numeric, Table
from sqlalchemy.dialects import postgresql, sqlite

BATCH_ROWS = 20_000


def _nulls(values: pd.Series, present: np.ndarray) -> list[Any]:
    out = values.astype(object).to_numpy(copy=True)
    out[~present] = None
    return out.tolist()


def column_values(series: pd.Series, column_type: Any) -> list[Any]:
    """``series`` as driver-ready Python values, None for missing."""
    if isinstance(column_type, (Date, DateTime)):
        return _datetime_text(series, date_only=isinstance(column_type, Date) and not isinstance(column_type, DateTime))
    if isinstance(column_type, Numeric):  # amounts (Numeric(18, 2)) to their scale; floats as they are
        number = pd.to_numeric(series, errors="coerce").astype("float64")
        if not isinstance(column_type, Float):
            number = number.round(column_type.scale if column_type.scale is not None else 2)
        return _nulls(number, number.notna().to_numpy())
    if isinstance(column_type, Boolean):
        obj = series.astype(object)
        present = obj.notna().to_numpy()
        return _nulls(obj.map(lambda v: bool(v) if isinstance(v, (bool, np.bool_)) else str(v).lower()
                              in ("true", "1")), present)
    if isinstance(column_type, Integer):
        number = pd.to_numeric(series, errors="coerce")
        return _nulls(number.astype("Int64"), number.notna().to_numpy())
    if isinstance(column_type, JSON):
        return [None if v is None or (isinstance(v, float) and np.isnan(v)) else json.dumps(v, ensure_ascii=False)
                for v in series.astype(object).tolist()]
    if isinstance(column_type, LargeBinary):
        return [v if isinstance(v, (bytes, bytearray, memoryview)) else None for v in series.astype(object).tolist()]
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        return series.to_numpy(dtype=object, na_value=None).tolist()  # already str: no per-value call
    obj = series.astype(object)
    present = obj.notna().to_numpy()
    return _nulls(obj.map(str, na_action="ignore"), present)


def _datetime_text(series: pd.Series, *, date_only: bool) -> list[Any]:
    """Dates as ``YYYY-MM-DD`` and times as ``YYYY-MM-DD HH:MM:SS.ffffff`` (SQLAlchemy's SQLite
    storage formats), None for missing; Arrow's cast formats them without a per-value call."""
    parsed = pd.to_datetime(series, errors="coerce")
    if parsed.dt.tz is not None:
        parsed = parsed.dt.tz_localize(None)  # the wall-clock time, as strftime would print it
    stamps = pa.array(parsed.astype("datetime64[us]"), type=pa.timestamp("us"))
    return (stamps.cast(pa.date32()) if date_only else stamps).cast(pa.string()).to_pylist()


def frame_records(df: pd.DataFrame, table: Table) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The columns of ``df`` and its rows as bind-ready tuples."""
    unknown = [c for c in df.columns if c not in table.c]
    if unknown:
        raise ValueError(f"columns {unknown} are not in table {table.name}")
    names = [c.name for c in table.columns if c.name in df.columns]  # the compiled statement's order
    columns = [column_values(df[c], table.c[c].type) for c in names]
    return names, list(zip(*columns, strict=True))


def _statement(conn: Connection, table: Table, names: list[str], update_columns: Sequence[str] | None) -> str:
    insert: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[conn.dialect.name]
    pk = [c.name for c in table.primary_key.columns]
    stmt = insert(table)
    updates = [c for c in (update_columns if update_columns is not None else names) if c not in pk]
    if updates:
        stmt = stmt.on_conflict_do_update(index_elements=pk, set_={c: stmt.excluded[c] for c in updates})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=pk)
    compiled = stmt.compile(dialect=conn.dialect, column_keys=names)
    return str(compiled)


def upsert_frame(
    conn: Connection,
    table: Table,
    df: pd.DataFrame,
    *,
    update_columns: Sequence[str] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> int:
    """Insert ``df`` into ``table``; rows whose primary key exists are updated.

    ``update_columns`` limits what an existing row takes from the new one
    (default: every non-key column in ``df``; empty: keep existing rows as they
    are). Returns the number of rows sent.
    """
    if df.empty:
        return 0
    pk = [c.name for c in table.primary_key.columns]
    missing = [c for c in pk if c not in df.columns]
    if missing:
        raise ValueError(f"upsert into {table.name} needs its key columns {missing}")
    names, rows = frame_records(df, table)
    sql = _statement(conn, table, names, update_columns)
    positional = conn.dialect.paramstyle == "qmark"  # SQLite: ?, PostgreSQL: %(name)s
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(rows), batch_rows):
            batch = rows[start : start + batch_rows]
            cursor.executemany(sql, batch if positional else [dict(zip(names, r, strict=True)) for r in batch])
    finally:
        cursor.close()
    return len(rows)
