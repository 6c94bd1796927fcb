"""CSV output: render frames to the contract's formats and append them in chunks.

A frame is a dict of source column -> values: Arrow string arrays, numpy
``datetime64`` (rendered with the column's first strptime format), or numpy
``int64`` amounts in fen (written as yuan with two decimals, or as integer
fen where the column's unit is ``fen``).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from lifecycle.synth.config import FileSummary, SourceSpec
from lifecycle.synth.formatting import fen_to_decimal, format_datetimes

Frame = dict[str, "pa.Array | np.ndarray"]


def render_column(values: pa.Array | np.ndarray, col_type: str, fmt: str | None, unit: str | None) -> pa.Array:
    """One column in its output representation."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    if np.issubdtype(values.dtype, np.datetime64):
        if fmt is None:
            raise ValueError(f"{col_type} column needs a format")
        return format_datetimes(values, fmt)
    if col_type == "decimal" and unit != "fen":
        return fen_to_decimal(values)
    if np.issubdtype(values.dtype, np.integer):
        return pa.array(values.astype(np.int64), pa.int64())
    return pa.array(values, pa.string())


def render_table(spec: SourceSpec, frame: Frame) -> pa.Table:
    """All contract columns, in contract order, ready to write."""
    missing = [c.name for c in spec.columns if c.name not in frame]
    if missing:
        raise KeyError(f"{spec.name}: frame lacks {missing}")
    arrays = [
        render_column(frame[c.name], c.type, c.formats[0] if c.formats else None, c.unit)
        for c in spec.columns
    ]
    return pa.table(arrays, names=list(spec.column_names))


def csv_bytes(table: pa.Table) -> bytes:
    """Rows (no header) as CSV; values are quoted only in chunks that need it."""
    buf = io.BytesIO()
    try:
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    except pa.ArrowInvalid:
        buf = io.BytesIO()
        pacsv.write_csv(
            table, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed")
        )
    return buf.getvalue()


class CsvSink:
    """One output file: header once, chunks appended, rows and SHA-256 tracked."""

    def __init__(self, out: Path, relative: str, source: str, columns: list[str], encoding: str) -> None:
        self.out = out
        self.relative = relative
        self.source = source
        self.columns = columns
        self.encoding = encoding
        self.rows = 0
        self.bytes = 0
        self._hash = hashlib.sha256()
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("wb")
        self._emit((",".join(columns) + "\n").encode("ascii"))

    def _emit(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.bytes += len(data)

    def write(self, table: pa.Table) -> None:
        """Append a table whose columns include (at least) this file's columns."""
        if table.num_rows == 0:
            return
        data = csv_bytes(table.select(self.columns))
        if self.encoding != "utf-8":
            data = data.decode("utf-8").encode(self.encoding)
        self._emit(data)
        self.rows += table.num_rows

    def close(self) -> FileSummary:
        self._file.close()
        return FileSummary(
            source=self.source, path=self.relative, rows=self.rows, bytes=self.bytes,
            sha256=self._hash.hexdigest(), encoding=self.encoding,
        )
