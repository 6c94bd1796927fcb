"""Read one source extract into a frame of strings, or refuse it clearly.

Every value is read as text: typing is the standardiser's job, so that a bad
value becomes a quarantined row with a rule, not a crash. The encoding of a text
extract is resolved by :mod:`lifecycle.integration.encoding` (never on Parquet),
its header matched by :mod:`lifecycle.integration.header`, its completeness
announced by :mod:`lifecycle.integration.control`.

Every refusal is a :class:`~lifecycle.errors.SourceError` naming the file, the
row, the column and the rule — never a traceback from a parser, and never a byte
of the file: parsers quote the offending line (personal data) in their messages,
so their errors are replaced by the reader's own diagnosis.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lifecycle.errors import SourceError
from lifecycle.integration.control import Control, announced
from lifecycle.integration.csv_diagnosis import diagnose_structure
from lifecycle.integration.encoding import resolve_encoding
from lifecycle.integration.header import Header, first_line, match_header, split_names
from lifecycle.integration.sources import SourceSpec

ROW_ID = "row_id"
HASH_BLOCK = 1 << 20
CSV_BLOCK_BYTES = 8 << 20  # Arrow parses a CSV in blocks of this size, in parallel
PARQUET_MAGIC = b"PAR1"
WRITTEN_VALUE_RULES = frozenset({"control", "formula"})


@dataclass(frozen=True)
class LandingFile:
    """A located extract: where it is, its SHA-256 and its encoding (``binary`` for
    Parquet), the bytes holding data (before a trailer), its control totals."""

    source: str
    path: Path
    sha256: str
    encoding: str
    size: int
    data_bytes: int | None = None  # None: all of it
    control: Control | None = None
    mtime_ns: int = 0
    absent: tuple[str, ...] = ()  # optional configured columns the file lacks
    suspects: frozenset[str] = WRITTEN_VALUE_RULES | {"quotes"}  # checks worth running on this file's values


def locate(spec: SourceSpec, landing_dir: Path, as_of: date) -> Path:
    """The one regular file of ``spec`` for ``as_of``; a clear error when none, several,
    or a match that is not a file (a directory, a broken link)."""
    assert spec.path is not None
    relative = spec.path.format(as_of=as_of.isoformat())
    pattern = str(landing_dir / relative)
    matches = sorted(landing_dir.glob(relative)) or _broken_links(landing_dir / relative)
    if not matches:
        raise SourceError(pattern, None, None, "file_present",
                          f"no extract of source {spec.name!r} for {as_of}{_near_names(landing_dir / relative)}")
    if len(matches) > 1:
        raise SourceError(pattern, None, None, "single_file", f"{len(matches)} files match; expected one")
    path = matches[0]
    if not path.is_file():
        what = "a directory" if path.is_dir() else "a broken link" if path.is_symlink() else "not a regular file"
        raise SourceError(str(path), None, None, "regular_file", f"the extract is {what}, not a readable file")
    return path


def _broken_links(expected: Path) -> list[Path]:
    """Links matching the expected name whose target is gone (a glob does not list them)."""
    folder = expected.parent
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_symlink() and not p.exists()
                  and fnmatch.fnmatchcase(p.name, expected.name))


def _near_names(expected: Path) -> str:
    """A hint when the folder holds the expected name in another case (names are exact)."""
    folder = expected.parent
    if not folder.is_dir():
        return f"; the folder {folder.name} does not exist"
    names = [p.name for p in folder.iterdir()]
    same = [n for n in names if n.lower() == expected.name.lower()]
    if same:
        return f"; the folder holds {same[0]!r}: file names are case-sensitive"
    close = difflib.get_close_matches(expected.name, names, n=1, cutoff=0.8)
    return f"; the folder holds {close[0]!r}: is it misnamed?" if close else ""


CONTROL_RE2 = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def _field_start_re2(delimiter: str) -> str:
    """RE2 for a field start (line break or delimiter, a quote, blanks) before ``=``, ``@``,
    ``+`` or ``-``: a superset of where the formula row rule can fire (``,-5`` included)."""
    d = "\\" + delimiter if delimiter in "\\]^-" else delimiter
    return rf'[\r\n{d}]"?[ \t]*[=@+\-]'


def hash_and_scan(path: Path, delimiter: str) -> tuple[str, frozenset[str]]:
    """The file's SHA-256, and which value checks can fire at all: ``control`` (a
    control byte somewhere), ``formula`` (a field that may start like a formula) and
    ``quotes`` (a quote somewhere: only a quoted value can span lines).

    One pass over the bytes, the searches in RE2 at a few hundred MB/s: in a clean
    extract none is found and those per-value checks are skipped. Neither UTF-8 nor
    GBK has these bytes inside a multi-byte character, so the scan holds for both."""
    digest, found, tail = hashlib.sha256(), set(), b""
    searches = {"control": CONTROL_RE2, "formula": _field_start_re2(delimiter)}
    with path.open("rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
            data = pa.array([tail + block], pa.binary())
            for name, pattern in searches.items():
                if name not in found and pc.any(pc.match_substring_regex(data, pattern)).as_py():
                    found.add(name)
            if b'"' in block:
                found.add("quotes")
            tail = block[-16:]
    return digest.hexdigest(), frozenset(found)


def inspect_file(spec: SourceSpec, path: Path, landing_dir: Path | None = None,
                 as_of: date | None = None) -> LandingFile:
    """Identify and check a located extract: size, encoding, control totals, header."""
    try:
        stat = path.stat()
    except OSError:
        raise SourceError(str(path), None, None, "regular_file", "the extract cannot be read") from None
    if stat.st_size == 0:
        raise SourceError(str(path), None, None, "empty_file",
                          "the file is empty (0 bytes): not even a header; the extract failed or is still "
                          "being written")
    if spec.format == "parquet":
        encoding = "binary"
        _check_parquet_magic(path)
        control = None if spec.control is None else _control(spec, path, landing_dir, as_of)
    else:
        encoding = resolve_encoding(path, spec.encoding, spec.delimiter)
        control = _control(spec, path, landing_dir, as_of)
    sha256, suspects = hash_and_scan(path, spec.delimiter)
    if spec.format == "parquet":
        suspects = WRITTEN_VALUE_RULES  # a binary file's bytes say nothing: every value is checked
    landing = LandingFile(spec.name, path, sha256, encoding, stat.st_size,
                          control.data_bytes if control else None, control, stat.st_mtime_ns)
    header = read_header(spec, landing)
    return dataclasses.replace(landing, absent=header.absent, suspects=suspects)


def _control(spec: SourceSpec, path: Path, landing_dir: Path | None, as_of: date | None) -> Control | None:
    if spec.control is not None and spec.control.kind == "file" and (landing_dir is None or as_of is None):
        raise ValueError("a control file is located from the landing folder and the as-of date")
    return announced(spec, path, landing_dir or path.parent, as_of or date.min)


def _check_parquet_magic(path: Path) -> None:
    with path.open("rb") as fh:
        head = fh.read(4)
        fh.seek(-4, 2)
        tail = fh.read(4)
    if head != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        cut = head == PARQUET_MAGIC
        raise SourceError(str(path), None, None, "parquet_format",
                          "not a Parquet file: " + ("it lacks its footer (truncated while written or copied)"
                                                    if cut else "it does not start with Parquet's magic bytes"))


def _parquet_schema(path: Path) -> pa.Schema:
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(path)
    except (pa.ArrowException, OSError):  # the message may quote the file's bytes
        raise SourceError(str(path), None, None, "parquet_format",
                          "the Parquet footer cannot be read: the file is damaged or truncated") from None


def read_header(spec: SourceSpec, landing: LandingFile) -> Header:
    """The file's header matched against the source (see :mod:`lifecycle.integration.header`)."""
    if spec.format == "parquet":
        return match_header(spec, landing.path, list(_parquet_schema(landing.path).names), None)
    line = first_line(landing.path, landing.encoding)
    return match_header(spec, landing.path, split_names(line, spec.delimiter), spec.delimiter)


def check_header(spec: SourceSpec, landing: LandingFile) -> list[str]:
    """The configured columns the file holds; a SourceError naming the true cause when its
    header cannot be read as the source's (optional columns may be absent)."""
    return read_header(spec, landing).present


def read_chunks(spec: SourceSpec, landing: LandingFile, chunk_rows: int,
                columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """The extract in chunks of at most ``chunk_rows`` rows, all values as strings
    (None when empty), the configured columns (or ``columns``) only, plus
    ``row_id``: the 1-based data row number in the file (line number minus one).
    An optional column the file lacks is all None."""
    header = read_header(spec, landing)
    wanted = list(columns or spec.read_columns)
    present = [c for c in wanted if c in header.names]
    tables = _parquet_tables(spec, landing, header, present, chunk_rows) if spec.format == "parquet" \
        else _csv_tables(spec, landing, header, present, chunk_rows)
    start = 1
    for table in tables:
        _check_values(spec, landing, table, start)
        frame = table.to_pandas()
        if spec.format == "parquet":
            frame = frame.astype(object).where(frame.notna(), None)
        for name in wanted:
            if name not in frame:
                frame[name] = None
        frame = frame[wanted]
        frame.insert(0, ROW_ID, pd.RangeIndex(start, start + len(frame)))
        start += len(frame)
        yield frame


def _parquet_tables(spec: SourceSpec, landing: LandingFile, header: Header, present: list[str],
                    chunk_rows: int) -> Iterator[pa.Table]:
    """Parquet row batches as string tables, named as configured (padded names trimmed)."""
    import pyarrow.parquet as pq

    schema = _parquet_schema(landing.path)
    actual = {name: schema.names[i] for i, name in enumerate(header.names) if name in present}
    try:
        parquet = pq.ParquetFile(landing.path)
        yielded = False
        for batch in parquet.iter_batches(batch_size=chunk_rows, columns=[actual[c] for c in present]):
            yielded = True
            yield _as_strings(spec, pa.Table.from_batches([batch]), present)
        if not yielded:
            yield pa.table({c: pa.array([], pa.string()) for c in present})
    except (pa.ArrowException, OSError):
        raise SourceError(str(landing.path), None, None, "parquet_format",
                          "the Parquet data cannot be read: the file is damaged or truncated") from None


def _as_strings(spec: SourceSpec, table: pa.Table, names: list[str]) -> pa.Table:
    """Every column as text, as the source's CSV would hold it: a date or timestamp in the
    column's first configured format, numbers plain."""
    columns = []
    for name, column in zip(names, table.columns, strict=True):
        formats = spec.columns[name].format
        if formats and (pa.types.is_timestamp(column.type) or pa.types.is_date(column.type)):
            zone = column.type.tz if pa.types.is_timestamp(column.type) else None
            stamps = pc.cast(column, pa.timestamp("s", zone), safe=False)  # the formats have whole seconds
            columns.append(pc.strftime(stamps, format=formats[0]))
        else:
            columns.append(pc.cast(column, pa.string()))
    return pa.table(columns, names=names)


def _data_input(landing: LandingFile) -> str | pa.NativeFile:
    """The extract's data bytes for Arrow: the path, or a window before the trailer."""
    if landing.data_bytes is None or landing.data_bytes >= landing.size:
        return str(landing.path)
    return pa.BufferReader(pa.memory_map(str(landing.path)).read_buffer(landing.data_bytes))


def _csv_tables(spec: SourceSpec, landing: LandingFile, header: Header, wanted: list[str],
                chunk_rows: int) -> Iterator[pa.Table]:
    """The CSV's ``wanted`` columns as Arrow string tables of ``chunk_rows`` rows (the last shorter).

    Arrow's reader parses in parallel blocks without a Python object per value; only an
    empty cell is null (``NA``, ``null`` and the like stay text, as the source wrote them).
    The header row is skipped and the columns named by ``header`` (trimmed, configured).
    A parse error refuses the file with the reader's diagnosis, naming its line, not its content.
    """
    read_options = pacsv.ReadOptions(encoding=landing.encoding, block_size=CSV_BLOCK_BYTES,
                                     column_names=list(header.names), skip_rows=1)
    parse_options = pacsv.ParseOptions(delimiter=spec.delimiter, newlines_in_values=spec.quoted_newlines)
    convert_options = pacsv.ConvertOptions(
        include_columns=wanted, column_types=dict.fromkeys(wanted, pa.string()), null_values=[""],
        strings_can_be_null=True, quoted_strings_can_be_null=True)
    pending: list[pa.RecordBatch] = []
    rows, yielded = 0, False
    try:  # the first block is parsed on opening
        reader = pacsv.open_csv(_data_input(landing), read_options=read_options, parse_options=parse_options,
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
    except (pa.ArrowInvalid, UnicodeDecodeError):
        limit = landing.size if landing.data_bytes is None else landing.data_bytes
        raise diagnose_structure(spec, landing.path, landing.encoding, limit, header) from None
    if rows or not yielded:  # a header-only file is one empty chunk with its columns
        yield pa.Table.from_batches(pending, schema=reader.schema).combine_chunks()


def _check_values(spec: SourceSpec, landing: LandingFile, table: pa.Table, start: int) -> None:
    """Refuse a value longer than ``max_field_chars``, or spanning lines where the source
    does not allow it; vectorised over the chunk, naming row and column."""
    for name in table.column_names:
        column = table.column(name)
        if not pa.types.is_string(column.type) or column.null_count == len(column):
            continue
        lengths = pc.utf8_length(column)
        longest = pc.max(lengths).as_py()
        if longest is not None and longest > spec.max_field_chars:
            index = pc.index(lengths, longest).as_py()
            raise SourceError(str(landing.path), start + index, name, "field_size",
                              f"a value of {longest:,} characters exceeds the source's max_field_chars of "
                              f"{spec.max_field_chars:,}")
        if not spec.quoted_newlines and spec.format == "csv" and "quotes" in landing.suspects:
            spans = pc.match_substring_regex(column, r"[\r\n]")
            if pc.any(spans).as_py():
                index = pc.index(spans, True).as_py()
                raise SourceError(str(landing.path), start + index, name, "csv_structure",
                                  "a quoted value spans lines; set `quoted_newlines: true` for this source if "
                                  "its extracts hold line breaks inside values")
