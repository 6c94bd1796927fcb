"""Read one source extract into a frame of strings, or refuse it clearly.

Every value is read as text: typing is the standardiser's job, so that a bad
value becomes a quarantined row with a rule, not a crash. Encodings: strict
UTF-8 is tried first when the source says UTF-8 or auto; GBK extracts are
decoded as GB18030 (a superset holding rare name characters GBK lacks). UTF-8
bytes read as GBK would turn into mojibake without an error, so a declared
encoding is never silently swapped: a mismatch is an error naming file, row
and column.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import charset_normalizer
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from lifecycle.errors import SourceError
from lifecycle.integration.sources import SourceSpec

ROW_ID = "row_id"
HASH_BLOCK = 1 << 20
CSV_BLOCK_BYTES = 8 << 20  # Arrow parses a CSV in blocks of this size, in parallel


@dataclass(frozen=True)
class LandingFile:
    """A located extract: where it is, its SHA-256 and its encoding."""

    source: str
    path: Path
    sha256: str
    encoding: str
    size: int


def locate(spec: SourceSpec, landing_dir: Path, as_of: date) -> Path:
    """The one file of ``spec`` for ``as_of``; a clear error when none or several."""
    assert spec.path is not None
    relative = spec.path.format(as_of=as_of.isoformat())
    pattern = str(landing_dir / relative)
    matches = sorted(landing_dir.glob(relative))
    if not matches:
        raise SourceError(pattern, None, None, "file_present", f"no extract of source {spec.name!r} for {as_of}")
    if len(matches) > 1:
        raise SourceError(pattern, None, None, "single_file", f"{len(matches)} files match; expected one")
    return matches[0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _first_bad(path: Path, codec: str = "utf-8") -> tuple[int, int] | None:
    """(line, byte offset in line) of the first byte that is not valid ``codec``, or None.

    Read in blocks; a multibyte sequence cut by a block's end is carried over.
    ``ascii`` finds the first byte above 0x7F.
    """
    line_no, carry = 1, b""
    with path.open("rb") as fh:
        while block := fh.read(HASH_BLOCK):
            data = carry + block
            try:
                data.decode(codec)
                cut = len(data)
            except UnicodeDecodeError as exc:
                if exc.end >= len(data) and exc.start >= len(data) - 3 and codec != "ascii":
                    cut = exc.start  # perhaps only cut by the block's end
                else:
                    head = data[: exc.start]
                    line_no += head.count(b"\n")
                    return line_no, exc.start - (head.rfind(b"\n") + 1)
            line_no += data[:cut].count(b"\n")
            carry = data[cut:]
    if carry:
        return line_no, 0
    return None


def _column_at(path: Path, line_no: int, byte_in_line: int, delimiter: str) -> str | None:
    """The header name of the column holding byte ``byte_in_line`` of line ``line_no``."""
    with path.open("rb") as fh:
        header = fh.readline()
        line = header
        for _ in range(line_no - 1):
            line = fh.readline()
    index = line[:byte_in_line].count(delimiter.encode())
    names = header.decode("utf-8", errors="replace").strip().lstrip("\ufeff").split(delimiter)
    return names[index] if index < len(names) else None


def resolve_encoding(path: Path, declared: str, delimiter: str = ",") -> str:
    """The Python codec to read ``path`` with, or a SourceError naming where it breaks."""
    if declared in ("gbk", "gb18030"):
        return _gbk_encoding(path, declared, delimiter)
    bad = _first_bad(path, "utf-8")
    if bad is None:
        with path.open("rb") as fh:
            return "utf-8-sig" if fh.read(3) == b"\xef\xbb\xbf" else "utf-8"
    if declared == "auto":
        best = charset_normalizer.from_path(path).best()
        if best is None:
            raise SourceError(str(path), bad[0] - 1, None, "encoding", "cannot detect the file's encoding")
        name = best.encoding.lower()
        return "gb18030" if name in ("gbk", "gb2312", "gb18030", "hz") else name
    line_no, byte_in_line = bad
    column = _column_at(path, line_no, byte_in_line, delimiter)
    hint = ""
    try:
        path.read_bytes().decode("gb18030")
        hint = "; the bytes decode as GBK/GB18030: set `encoding: gbk` for this source or re-export as UTF-8"
    except UnicodeDecodeError:
        pass
    raise SourceError(
        str(path), line_no - 1, column, "encoding",
        f"not valid {declared.upper()} (line {line_no} of the file){hint}",
    )


def _gbk_encoding(path: Path, declared: str, delimiter: str) -> str:
    """``gb18030`` for a file of a GBK source, or a SourceError naming where it is not GBK.

    UTF-8 bytes read as GBK turn into mojibake without an error (or into an error that
    quotes the file's bytes), so a file that is UTF-8 — and not plain ASCII, which both
    read alike — is refused first.
    """
    if _first_bad(path, "utf-8") is None:
        bad, problem = _first_bad(path, "ascii"), (f"the file is UTF-8, not {declared.upper()}", "set `encoding: "
                                                    "utf-8` (or `auto`) for this source, or re-export the file as GBK")
    else:
        bad, problem = _first_bad(path, "gb18030"), (f"not valid {declared.upper()} (GB18030) nor UTF-8",
                                                      "re-export the file in the source's encoding")
    if bad is None:
        return "gb18030"
    line_no, byte_in_line = bad
    raise SourceError(str(path), line_no - 1, _column_at(path, line_no, byte_in_line, delimiter), "encoding",
                      f"{problem[0]} (line {line_no} of the file): {problem[1]}")


def inspect_file(spec: SourceSpec, path: Path) -> LandingFile:
    encoding = resolve_encoding(path, spec.encoding, spec.delimiter)
    return LandingFile(spec.name, path, sha256_of(path), encoding, path.stat().st_size)


def check_header(spec: SourceSpec, landing: LandingFile) -> list[str]:
    """The file's columns; a SourceError for the first configured column it lacks."""
    if spec.format == "parquet":
        import pyarrow.parquet as pq

        names = list(pq.read_schema(landing.path).names)
    else:
        header = pd.read_csv(landing.path, nrows=0, encoding=landing.encoding, sep=spec.delimiter, dtype=str)
        names = [str(c).strip() for c in header.columns]
    missing = [c for c in spec.columns if c not in names]
    if missing:
        raise SourceError(
            str(landing.path), 0, missing[0], "required_column",
            f"column missing from the header (source {spec.name!r} expects {', '.join(spec.columns)})"
            + (f"; also missing: {', '.join(missing[1:])}" if len(missing) > 1 else ""),
        )
    return names


def read_chunks(spec: SourceSpec, landing: LandingFile, chunk_rows: int,
                columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The extract in chunks of at most ``chunk_rows`` rows, all values as strings
    (None when empty), the configured columns (or ``columns``) only, plus
    ``row_id``: the 1-based data row number in the file (line number minus one)."""
    check_header(spec, landing)
    wanted = list(columns or spec.columns)
    if spec.format == "parquet":
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(landing.path)
        start = 1
        for batch in parquet.iter_batches(batch_size=chunk_rows, columns=wanted):
            frame = batch.to_pandas().astype("string").astype(object).where(lambda f: f.notna(), None)
            frame.insert(0, ROW_ID, range(start, start + len(frame)))
            start += len(frame)
            yield frame
        return
    start = 1
    for table in _csv_tables(spec, landing, wanted, chunk_rows):
        frame = table.to_pandas()
        frame.insert(0, ROW_ID, pd.RangeIndex(start, start + len(frame)))
        start += len(frame)
        yield frame


def _csv_tables(spec: SourceSpec, landing: LandingFile, wanted: list[str], chunk_rows: int) -> Iterator[pa.Table]:
    """The CSV's ``wanted`` columns as Arrow string tables of ``chunk_rows`` rows (the last shorter).

    Arrow's reader parses in parallel blocks without a Python object per value; only an
    empty cell is null (``NA``, ``null`` and the like stay text, as the source wrote them).
    A row with the wrong number of fields refuses the file, naming its line, not its content.
    """
    read_options = pacsv.ReadOptions(encoding=landing.encoding, block_size=CSV_BLOCK_BYTES)
    parse_options = pacsv.ParseOptions(delimiter=spec.delimiter)
    convert_options = pacsv.ConvertOptions(
        include_columns=wanted, column_types=dict.fromkeys(wanted, pa.string()), null_values=[""],
        strings_can_be_null=True, quoted_strings_can_be_null=True)
    pending: list[pa.RecordBatch] = []
    rows, yielded = 0, False
    try:  # the first block is parsed on opening
        reader = pacsv.open_csv(landing.path, read_options=read_options, parse_options=parse_options,
                                convert_options=convert_options)
        for batch in reader:
            pending.append(batch)
            rows += batch.num_rows
            while rows >= chunk_rows:
                table = pa.Table.from_batches(pending).combine_chunks()
                yielded = True
                yield table.slice(0, chunk_rows)
                rest = table.slice(chunk_rows)
                pending, rows = rest.to_batches(), rest.num_rows
    except pa.ArrowInvalid:
        raise _ragged_row_error(spec, landing) from None
    except UnicodeDecodeError as exc:  # its args hold the undecodable block: the file's content
        raise SourceError(str(landing.path), None, None, "encoding",
                          f"not valid {landing.encoding} ({exc.reason}) although checked on arrival: was the file "
                          "changed while it was read?") from None
    if rows or not yielded:  # a header-only file is one empty chunk with its columns
        yield pa.Table.from_batches(pending, schema=reader.schema).combine_chunks()


def _ragged_row_error(spec: SourceSpec, landing: LandingFile) -> SourceError:
    """The error for the first row whose field count differs from the header's.

    Arrow's message quotes the row (PII), and its parallel parser does not know the
    row's number; this slow scan runs only once the file is already refused."""
    with landing.path.open(encoding=landing.encoding, newline="") as fh:
        rows = csv.reader(fh, delimiter=spec.delimiter)
        width = len(next(rows, []))
        for row_no, row in enumerate(rows, start=1):
            if len(row) != width:
                return SourceError(str(landing.path), row_no, None, "csv_structure",
                                   f"malformed CSV: line {rows.line_num} has {len(row)} fields, the header {width}")
    return SourceError(str(landing.path), None, None, "csv_structure", "malformed CSV: a quoted field is not closed")
