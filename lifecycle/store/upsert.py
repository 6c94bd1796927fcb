"""Idempotent bulk upserts of DataFrames (``INSERT … ON CONFLICT DO UPDATE``).

A unique key plus ON CONFLICT is what makes a load idempotent: running the same
batch twice leaves the same rows. Works on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Date, DateTime, Numeric, Table
from sqlalchemy.dialects import postgresql, sqlite

BATCH_ROWS = 20_000


def _python_values(series: pd.Series, column_type: Any) -> list[Any]:
    """Values of ``series`` as Python objects the driver binds, None for missing."""
    if isinstance(column_type, Date):
        parsed = pd.to_datetime(series, errors="coerce")
        out = parsed.dt.date.astype(object)
        return [None if pd.isna(v) else v for v in out]
    if isinstance(column_type, DateTime):
        parsed = pd.to_datetime(series, errors="coerce")
        return [None if v is pd.NaT else v.to_pydatetime() for v in parsed]
    if isinstance(column_type, Numeric) and column_type.asdecimal:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        return [None if np.isnan(v) else Decimal(repr(round(float(v), 2))) for v in values]
    obj = series.astype(object)
    return [None if (v is None or (not isinstance(v, (bytes, str, list, dict)) and pd.isna(v))) else _unwrap(v)
            for v in obj]


def _unwrap(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def frame_records(df: pd.DataFrame, table: Table) -> list[dict[str, Any]]:
    """Rows of ``df`` (columns named like ``table``'s) as bind-ready dicts."""
    unknown = [c for c in df.columns if c not in table.c]
    if unknown:
        raise ValueError(f"columns {unknown} are not in table {table.name}")
    columns = {c: _python_values(df[c], table.c[c].type) for c in df.columns}
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _batches(records: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


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
    (default: every non-key column in ``df``). Returns the number of rows sent.
    """
    if df.empty:
        return 0
    pk = [c.name for c in table.primary_key.columns]
    missing = [c for c in pk if c not in df.columns]
    if missing:
        raise ValueError(f"upsert into {table.name} needs its key columns {missing}")
    insert: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}[conn.dialect.name]
    stmt = insert(table)
    updates = [c for c in (update_columns or df.columns) if c not in pk]
    if updates:
        stmt = stmt.on_conflict_do_update(index_elements=pk, set_={c: stmt.excluded[c] for c in updates})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=pk)
    records = frame_records(df, table)
    for batch in _batches(records, batch_rows):
        conn.execute(stmt, list(batch))
    return len(records)

