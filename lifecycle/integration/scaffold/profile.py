"""What an extract holds, measured: encoding, delimiter, and per column its type, formats,
emptiness, distinct values, uniqueness and likely personal data.

The encoding comes from the reader's own detection
(:func:`lifecycle.integration.encoding.resolve_encoding`, declared ``auto``), so
the draft says what the run will find. Values are read as text with pandas and
judged vectorised; a file of more than ``sample_rows`` rows is sampled evenly
(every chunk contributes its share), and its row count is still exact. A
profile holds counts, shapes and — for low-cardinality columns only — the
distinct values (the code sets a steward reviews); never other values, which may
be personal data.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from lifecycle.errors import SourceError
from lifecycle.integration import checks
from lifecycle.integration.encoding import looks_gbk, resolve_encoding
from lifecycle.integration.header import DELIMITERS, first_line, split_names
from lifecycle.integration.sources import ColumnType

SAMPLE_ROWS = 100_000
MAX_CODES = 20  # a text column with at most this many distinct values (and repeats) is a code
CHUNK_ROWS = 200_000
SHAPE_SHARE = 0.9  # share of values that must have a shape for the column to be judged by it

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%Y.%m.%d")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M:%S",
                    "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M")
DIGIT_DATE_FORMATS = ("%Y%m%d", "%Y%m%d%H%M%S")  # only for columns whose name speaks of a date
DATE_HINT = re.compile(r"(date|time|_dt$|^dt_|_dt_|dt$|_ts$|^ts_|birth|dob|day|日期|时间)", re.IGNORECASE)
AMOUNT_HINT = re.compile(r"(amt|amount|bal|balance|limit|capital|principal|outstanding|fee|price|salary|"
                         r"income|金额|余额|额度)", re.IGNORECASE)
FEN_HINT = re.compile(r"(fen|cent|分)", re.IGNORECASE)
IDENTIFIER_HINT = re.compile(r"(_no$|^no_|_id$|^id$|^id_|id$|_code$|code$|key|ref|num|mcc|zip|post|phone|"
                             r"mobile|tel|card|cert|acct|account|编号|号)", re.IGNORECASE)

# Names that speak of personal data: such a column is never drafted as a code (its values would be
# written into the configuration).
PII_HINT = re.compile(r"addr|birth|dob|mail|mobile|phone|tel|cert|id_?no|passport|ssn|card|姓名|地址|电话|手机|证件",
                      re.IGNORECASE)
NAME_HINT = re.compile(r"(^|_)(name|nm|surname)($|_)|name$|nm$|姓名|名称$|名字$", re.IGNORECASE)
_PERSON_NAME = r"[\u3400-\u9fff·\s\u3000]{2,6}|[A-Za-z'’.-]+(?: [A-Za-z'’.-]+){0,3}"
_INTEGER = r"[+-]?\d+"
_DOT_DECIMAL = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_COMMA_DECIMAL = r"[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?"
_MOBILE = r"(?:\+?86)?1[3-9]\d{9}"
_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
_CARD = r"\d{16,19}"


@dataclass(frozen=True)
class ColumnProfile:
    """One column as measured (no values but a low-cardinality column's distinct ones)."""

    name: str
    type: ColumnType
    empty: int  # rows without a value, in the sample
    distinct: int
    unique: bool  # no value repeats in the sample
    formats: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    decimal_separator: str | None = None  # of a decimal column whose values show it
    thousands_separator: str | None = None
    shape: str | None = None  # ric | mobile | email | uscc | card_no | person_name
    notes: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return self.empty == 0


@dataclass(frozen=True)
class ExtractProfile:
    """One extract as measured."""

    path: Path
    encoding: str  # the codec the reader resolved
    delimiter: str
    rows: int  # data rows in the file (exact)
    sampled: int  # rows the column profiles are measured on
    columns: tuple[ColumnProfile, ...]
    quoted_newlines: bool = False
    notes: tuple[str, ...] = field(default=())
    keys: tuple[tuple[str, ...], ...] = ()  # candidate keys: unique and never empty in the sample
    trailer: tuple[str, str] | None = None  # (marker, checksum) of a trailer line, left out of the rows

    @property
    def name(self) -> str:
        return re.sub(r"\W+", "_", self.path.stem).strip("_").lower() or "source"

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)


def detect_delimiter(path: Path) -> str:
    """The delimiter that splits the header and the next lines alike into the most fields."""
    with path.open("rb") as fh:
        lines = [fh.readline() for _ in range(20)]
    text = [line.decode("latin-1").rstrip("\r\n") for line in lines if line.strip()]  # delimiters are ASCII
    best, best_width = ",", 1
    for delimiter in DELIMITERS:
        widths = {len(next(csv.reader([line], delimiter=delimiter), [])) for line in text}
        width = widths.pop() if len(widths) == 1 else 1
        if width > best_width:
            best, best_width = delimiter, width
    return best


def detect_trailer(path: Path, delimiter: str, width: int) -> tuple[str, str] | None:
    """(marker, checksum kind) when the last line is a trailer record: fewer fields than the
    header, a marker that is not a number, then a row count and maybe a hex checksum."""
    with path.open("rb") as fh:
        fh.seek(max(0, path.stat().st_size - 4096))
        tail = fh.read()
    last = tail.rstrip(b"\r\n").rsplit(b"\n", 1)[-1].decode("latin-1").rstrip("\r")
    fields = next(csv.reader([last], delimiter=delimiter), [])
    if not (2 <= len(fields) <= 3 and len(fields) < width and fields[1].isdigit() and fields[0].strip()
            and not fields[0].isdigit()):
        return None
    if len(fields) == 2:
        return fields[0], "none"
    checksum = {64: "sha256", 32: "md5"}.get(len(fields[2])) if re.fullmatch(r"[0-9a-fA-F]+", fields[2]) else None
    return (fields[0], checksum) if checksum else None


def _read_sample(path: Path, codec: str, delimiter: str, sample_rows: int, seed: int) -> tuple[pd.DataFrame, int]:
    """(sample of the rows as text, exact data row count); blank values are missing."""
    options = {"sep": delimiter, "dtype": str, "keep_default_na": False, "na_values": [""], "encoding": codec,
               "skipinitialspace": False}
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    per_row = max(1.0, len(head) / max(1, head.count(b"\n")))
    if size / per_row <= sample_rows * 1.2:
        frame = pd.read_csv(path, **options)
        return frame, len(frame)
    share = sample_rows / (size / per_row)
    rng = np.random.default_rng(seed)
    parts, rows = [], 0
    for chunk in pd.read_csv(path, chunksize=CHUNK_ROWS, **options):
        rows += len(chunk)
        parts.append(chunk[rng.random(len(chunk)) < share])
    frame = pd.concat(parts, ignore_index=True).head(sample_rows)
    return frame, rows


def _all_match(values: pd.Series, pattern: str) -> bool:
    return bool(values.str.fullmatch(pattern).all())


def _share(values: pd.Series, pattern: str) -> float:
    return float(values.str.fullmatch(pattern).mean()) if len(values) else 0.0


def _date_formats(name: str, values: pd.Series) -> tuple[ColumnType, tuple[str, ...], tuple[str, ...]] | None:
    """(type, formats, notes) when every value is a date or time in one format."""
    distinct = pd.Series(values.unique()[:5000])
    digits = _all_match(distinct, r"\d+")
    candidates = DIGIT_DATE_FORMATS if digits else DATE_FORMATS + DATETIME_FORMATS
    if digits and not DATE_HINT.search(name):
        return None
    fitting = [f for f in candidates
               if pd.to_datetime(distinct, format=f, errors="coerce").notna().all()
               and (not digits or _all_match(distinct, rf"\d{{{len(pd.Timestamp(2000, 1, 1).strftime(f))}}}"))]
    if not fitting:
        return None if not _two_digit_years(distinct) else (ColumnType.STRING, (), (
            "REVIEW format: dates with two-digit years; give the format and its century pivot",))
    kind = ColumnType.DATETIME if "%H" in fitting[0] else ColumnType.DATE
    notes = (f"REVIEW format: the values fit {' and '.join(fitting)} alike; keep the one the source "
             "system writes",) if len(fitting) > 1 else ()
    return kind, (fitting[0],), notes


@dataclass(frozen=True)
class _Number:
    type: ColumnType
    decimal_separator: str | None = None
    thousands_separator: str | None = None
    notes: tuple[str, ...] = ()


def _two_digit_years(values: pd.Series) -> bool:
    """Whether the values look like dates written with two-digit years (YYMMDD, DD.MM.YY, …)."""
    return any(pd.to_datetime(values, format=f, errors="coerce").notna().all()
               for f in ("%y%m%d", "%d.%m.%y", "%d/%m/%y", "%y-%m-%d"))


def _number(name: str, values: pd.Series) -> _Number | None:
    """The numeric type and separators when every value is a number, else None."""
    if _all_match(values, _INTEGER):
        if IDENTIFIER_HINT.search(name) or values.str.match(r"[+-]?0\d").any() or values.str.len().max() > 12:
            return None  # an identifier made of digits: text
        return _Number(ColumnType.DECIMAL if AMOUNT_HINT.search(name) else ColumnType.INTEGER)
    dot, comma = _all_match(values, _DOT_DECIMAL), _all_match(values, _COMMA_DECIMAL)
    if not (dot or comma):
        return None
    comma_decimals = values.str.contains(r",\d{1,2}$").any() and not values.str.contains(r"\.").any()
    if comma and (comma_decimals or not dot):
        grouped = values.str.contains(r"\d\.\d{3}(?:[.,]|$)").any()
        return _Number(ColumnType.DECIMAL, ",", "." if grouped else "")
    notes = ("REVIEW decimal_separator: values like 1,234 read as thousands here; a source writing "
             "decimal commas needs decimal_separator ','",) if comma and values.str.contains(",").any() else ()
    return _Number(ColumnType.DECIMAL, ".", ",", notes)


def _shape(name: str, values: pd.Series) -> str | None:
    """The identifier shape most values have: resident ID, mobile, e-mail, USCC, card number."""
    upper = values.str.upper()
    if _share(upper, checks.RIC_SHAPE) >= SHAPE_SHARE:
        return "ric"
    if _share(upper, checks.USCC_SHAPE) >= SHAPE_SHARE and not _all_match(values, r"\d+"):
        return "uscc"
    if _share(values.str.replace(r"[\s-]", "", regex=True), _MOBILE) >= SHAPE_SHARE:
        return "mobile"
    if _share(values, _EMAIL) >= SHAPE_SHARE:
        return "email"
    if NAME_HINT.search(name) and _share(values, _PERSON_NAME) >= SHAPE_SHARE:
        return "person_name"
    if re.search(r"card|卡", name, re.IGNORECASE) and _share(values, _CARD) >= SHAPE_SHARE \
            and checks.luhn(values[values.str.fullmatch(_CARD)]).eq(True).mean() >= SHAPE_SHARE:
        return "card_no"
    return None


def profile_column(name: str, raw: pd.Series, max_codes: int = MAX_CODES) -> ColumnProfile:
    """The profile of one column's sampled values (text; missing where blank)."""
    values = raw.dropna().astype(str).str.strip()
    values = values[values.str.len() > 0]
    distinct = int(values.nunique())
    base = ColumnProfile(name, ColumnType.STRING, len(raw) - len(values), distinct, distinct == len(values))
    if values.empty:
        return replace(base, notes=("REVIEW type: the column is empty in every sampled row",))
    dated = _date_formats(name, values)
    if dated:
        kind, formats, notes = dated
        return replace(base, type=kind, formats=formats, notes=notes)
    number = _number(name, values)
    if number is not None:
        few = (f"REVIEW type: only {distinct} distinct value(s): a code?",) \
            if number.type is ColumnType.INTEGER and distinct <= 10 and not base.unique else ()
        return replace(base, type=number.type, decimal_separator=number.decimal_separator,
                       thousands_separator=number.thousands_separator, notes=number.notes + few)
    shape = _shape(name, values)
    if shape is None and distinct <= max_codes and not base.unique and values.str.len().max() <= 32 \
            and not PII_HINT.search(name) and not NAME_HINT.search(name):
        return replace(base, type=ColumnType.CODE, codes=tuple(sorted(values.unique())))
    return replace(base, shape=shape)


def _codec(path: Path, delimiter: str) -> str:
    """The reader's codec: strict UTF-8 first, then GBK when the text is common Chinese (a
    detector guesses wrong on small GBK files), else what detection finds."""
    codec = resolve_encoding(path, "auto", delimiter)
    if codec not in ("utf-8", "utf-8-sig", "gb18030") and looks_gbk(path):
        return resolve_encoding(path, "gbk", delimiter)
    return codec


def profile_extract(path: Path, sample_rows: int = SAMPLE_ROWS, max_codes: int = MAX_CODES,
                    seed: int = 0) -> ExtractProfile:
    """Profile one CSV extract; a SourceError names the file when it cannot be read."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise SourceError(str(path), None, None, "file_present", "no such file, or it is empty")
    delimiter = detect_delimiter(path)
    codec = _codec(path, delimiter)
    try:
        frame, rows = _read_sample(path, codec, delimiter, sample_rows, seed)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise SourceError(str(path), None, None, "csv_structure",
                          f"cannot be split into rows as {delimiter!r}-delimited CSV ({type(exc).__name__})") from None
    names = split_names(first_line(path, codec), delimiter)
    frame.columns = names if len(names) == len(frame.columns) else [str(c).strip() for c in frame.columns]
    trailer = detect_trailer(path, delimiter, len(frame.columns))
    if trailer is not None:  # the trailer is no data row
        first = frame.iloc[:, 0]
        frame = frame[~(first.eq(trailer[0]) & frame.iloc[:, 3:].isna().all(axis=1))].reset_index(drop=True)
        rows -= 1
    columns = tuple(profile_column(str(name), frame[name], max_codes) for name in frame.columns)
    newlines = bool(frame.apply(lambda c: c.str.contains("\n", regex=False).any()).any()) if len(frame) else False
    notes: tuple[str, ...] = (f"sampled {len(frame):,} of {rows:,} rows: uniqueness and code sets are those of "
                              "the sample",) if len(frame) < rows else ()
    if trailer is not None:
        notes += (f"REVIEW control: the last line is a trailer record ({trailer[0]!r}, a row count"
                  + ("" if trailer[1] == "none" else f", a {trailer[1]} checksum") + ")",)
    return ExtractProfile(path, codec, delimiter, rows, len(frame), columns, newlines, notes,
                          candidate_keys(frame, columns), trailer)


def candidate_keys(frame: pd.DataFrame, columns: tuple[ColumnProfile, ...]) -> tuple[tuple[str, ...], ...]:
    """Single columns unique and never empty; when there is none, such pairs of columns
    (an identifier and a date first: a balance per account and day)."""
    complete = [c for c in columns if c.complete and c.type is not ColumnType.DECIMAL]
    singles = tuple((c.name,) for c in complete if c.unique)
    if singles or len(frame) < 2:
        return singles
    pool = complete[:12]
    pairs = [(a.name, b.name) for i, a in enumerate(pool) for b in pool[i + 1:]]
    pairs.sort(key=lambda p: not any(frame_type in (ColumnType.DATE, ColumnType.DATETIME)
                                     for frame_type in (next(c.type for c in pool if c.name == n) for n in p)))
    return tuple(pair for pair in pairs if not frame.duplicated(list(pair)).any())
