"""The I/O floor: the same landing files read with pandas and bulk-inserted as text.

No checks, no typing, no identity, no encryption: each file is read in the
pipeline's chunks (``chunk_rows``) and inserted into a table of text columns
with the driver's ``executemany`` through SQLAlchemy (``exec_driver_sql``, the
path the pipeline's upserts take) in the pipeline's batches (``BATCH_ROWS`` of
:mod:`lifecycle.store.upsert`), one transaction per file. What the pipeline
costs above this is the price of its work, not of the disk or the driver.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Column, Connection, Engine, MetaData, Table, Text

from lifecycle.integration.read import locate
from lifecycle.integration.sources import SourcesConfig, SourceSpec
from lifecycle.store.upsert import BATCH_ROWS


@dataclass
class FloorFile:
    source: str
    rows: int
    bytes: int
    read_seconds: float
    insert_seconds: float

    @property
    def seconds(self) -> float:
        return self.read_seconds + self.insert_seconds


@dataclass
class FloorResult:
    files: list[FloorFile] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def read_seconds(self) -> float:
        return sum(f.read_seconds for f in self.files)

    @property
    def insert_seconds(self) -> float:
        return sum(f.insert_seconds for f in self.files)

    def to_dict(self) -> dict[str, object]:
        return {"wall_seconds": self.wall_seconds, "rows": self.rows, "read_seconds": self.read_seconds,
                "insert_seconds": self.insert_seconds, "files": [asdict(f) for f in self.files]}


def plain_encoding(spec: SourceSpec) -> str:
    """The codec a plain reader would use: the declared one (GBK read as its superset)."""
    return "gb18030" if spec.encoding in ("gbk", "gb18030") else "utf-8"


def read_plain(path: Path, encoding: str, delimiter: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The file in chunks, every value as text, empty cells as None."""
    reader = pd.read_csv(path, encoding=encoding, sep=delimiter, dtype=str, keep_default_na=False,
                         na_values=[""], chunksize=chunk_rows, engine="c")
    for frame in reader:
        yield frame.astype(object).where(frame.notna(), None)


def text_table(metadata: MetaData, name: str, columns: list[str]) -> Table:
    return Table(name, metadata, *[Column(c, Text) for c in columns])


def insert_sql(conn: Connection, table: Table) -> str:
    """A plain INSERT of every column, in the driver's parameter style."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    quote = conn.dialect.identifier_preparer.quote
    return (f"INSERT INTO {quote(table.name)} ({', '.join(quote(c.name) for c in table.columns)}) "
            f"VALUES ({', '.join([mark] * len(table.columns))})")


def insert_frame(conn: Connection, table: Table, frame: pd.DataFrame, batch_rows: int = BATCH_ROWS) -> int:
    sql = insert_sql(conn, table)
    rows: list[tuple[Any, ...]] = list(frame.itertuples(index=False, name=None))
    for start in range(0, len(rows), batch_rows):
        conn.exec_driver_sql(sql, rows[start : start + batch_rows])
    return len(rows)


def load_file(engine: Engine, spec: SourceSpec, path: Path, chunk_rows: int, batch_rows: int = BATCH_ROWS) -> FloorFile:
    """Read ``path`` and insert it into a new table ``floor_<source>`` in one transaction."""
    header = pd.read_csv(path, nrows=0, encoding=plain_encoding(spec), sep=spec.delimiter, dtype=str)
    table = text_table(MetaData(), f"floor_{spec.name}", [str(c) for c in header.columns])
    table.create(engine)
    result = FloorFile(spec.name, 0, path.stat().st_size, 0.0, 0.0)
    with engine.begin() as conn:
        chunks = read_plain(path, plain_encoding(spec), spec.delimiter, chunk_rows)
        while True:
            started = time.perf_counter()
            frame = next(chunks, None)
            result.read_seconds += time.perf_counter() - started
            if frame is None:
                break
            started = time.perf_counter()
            result.rows += insert_frame(conn, table, frame, batch_rows)
            result.insert_seconds += time.perf_counter() - started
    return result


def load_floor(engine: Engine, sources: SourcesConfig, landing_dir: Path, as_of: date, chunk_rows: int,
               batch_rows: int = BATCH_ROWS) -> FloorResult:
    """Every file source of ``as_of`` loaded plainly into ``engine`` (a fresh database)."""
    out = FloorResult()
    started = time.perf_counter()
    for spec in sources.sources.values():
        if spec.path is None:  # SQL sources have no landing file
            continue
        out.files.append(load_file(engine, spec, locate(spec, landing_dir, as_of), chunk_rows, batch_rows))
    out.wall_seconds = time.perf_counter() - started
    return out
