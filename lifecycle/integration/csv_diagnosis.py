"""Why a CSV extract cannot be split into rows, found by a slow, careful scan.

Arrow's parser refuses a malformed CSV with a message that quotes the offending
line (personal data) and, parsing blocks in parallel, without its row number.
Once a file is refused, this scan reads it again with Python's csv module and
names the first row at fault and why: a value over the size limit, a quoted value
spanning lines, a quote never closed, a field count unlike the header's (a
trailer record, when it is the last line), never the content.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import IO, Any

from lifecycle.errors import SourceError
from lifecycle.integration.header import UNCONFIGURED, Header
from lifecycle.integration.sources import SourceSpec

BLOCK = 1 << 20


class _Window(io.RawIOBase):
    """The first ``limit`` bytes of a binary file, as a stream (the data before a trailer)."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self.raw, self.left = raw, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")[: self.left]
        n = self.raw.readinto(view) or 0  # type: ignore[attr-defined]
        self.left -= n
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


def _open_text(path: Path, encoding: str, limit: int) -> IO[str]:
    """The first ``limit`` bytes of the extract (its data, before a trailer) as text, streamed."""
    stream = io.BufferedReader(_Window(path.open("rb"), limit), BLOCK)
    return io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")


def diagnose_structure(spec: SourceSpec, file: Path, encoding: str, limit_bytes: int,
                       header: Header) -> SourceError:
    """The error for the first row the CSV reader cannot take: a value longer than the
    limit, a quoted value spanning lines, a quote never closed, or a field count that
    differs from the header's.

    Arrow's message quotes the row (PII), and its parallel parser does not know the
    row's number; this slow scan runs only once the file is already refused."""
    path, width = str(file), len(header.names)
    limit = max(csv.field_size_limit(), spec.max_field_chars + 1)
    previous_limit = csv.field_size_limit(limit)
    try:
        with _open_text(file, encoding, limit_bytes) as fh:
            rows = csv.reader(fh, delimiter=spec.delimiter, strict=True)
            next(rows, None)
            line, row_no = rows.line_num, 0
            try:
                for row_no, row in enumerate(rows, start=1):
                    first_line_of_row, line = line + 1, rows.line_num
                    error = _row_problem(spec, header, row, row_no, first_line_of_row, line, width, path)
                    if error is not None:
                        return _as_trailer(error, spec) if next(rows, None) is None else error
            except csv.Error as exc:
                return _reader_error(str(exc), path, row_no + 1, line + 1)
            last = row_no
    finally:
        csv.field_size_limit(previous_limit)
    return SourceError(path, None, None, "csv_structure",
                       f"malformed CSV after data row {last}: the file cannot be split into rows")


def _as_trailer(error: SourceError, spec: SourceSpec) -> SourceError:
    """A ragged last line is most often a trailer record: say how to declare it."""
    if error.rule != "csv_structure" or "fields, the header" not in error.message or spec.control is not None:
        return error
    return SourceError(error.file, error.row, error.column, error.rule,
                       f"{error.message} — it is the file's last line: if it is a trailer record, declare it "
                       "(`control: {kind: trailer, marker: ...}`) in the sources config")


def _row_problem(spec: SourceSpec, header: Header, row: list[str], row_no: int, first: int, last: int,
                 width: int, path: str) -> SourceError | None:
    for index, value in enumerate(row):
        if len(value) > spec.max_field_chars:
            name = header.names[index] if index < width and not header.names[index].startswith(UNCONFIGURED) \
                else f"position {index + 1}"
            return SourceError(path, row_no, name, "field_size", f"a value of {len(value):,} characters exceeds "
                               f"the source's max_field_chars of {spec.max_field_chars:,}")
    if last > first and not spec.quoted_newlines:
        return SourceError(path, row_no, None, "csv_structure",
                           f"lines {first}-{last}: a quoted value spans lines; set `quoted_newlines: true` "
                           "for this source if its extracts hold line breaks inside values")
    if len(row) != width:
        return SourceError(path, row_no, None, "csv_structure",
                           f"malformed CSV: line {first} has {len(row)} fields, the header {width}")
    return None


def _reader_error(reason: str, path: str, row_no: int, line: int) -> SourceError:
    if "field larger than field limit" in reason:
        return SourceError(path, row_no, None, "field_size", f"line {line}: a value exceeds the size limit")
    if "unexpected end of data" in reason or "EOF" in reason:
        return SourceError(path, row_no, None, "csv_structure",
                           f"malformed CSV: a quote opened on line {line} is never closed")
    if "NUL" in reason:
        return SourceError(path, row_no, None, "control_characters", f"line {line} holds a NUL byte")
    return SourceError(path, row_no, None, "csv_structure",
                       f"malformed CSV at line {line}: a quote inside a value is not doubled")
