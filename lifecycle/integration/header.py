"""An extract's header against its source's configured columns.

A steward needs the true cause, so each way a header can be wrong has its rule:

* ``header_missing`` — no configured column is in the first line (the header row
  was left out, or every name is different);
* ``delimiter`` — the first line is one name that splits into configured names on
  another delimiter (``;``, tab, ``|`` or ``,``);
* ``header_duplicate`` — a configured column appears twice: which one holds the
  data is anyone's guess;
* ``header_case`` — a configured column is there in another case (``CUST_NO`` for
  ``cust_no``): names are compared exactly;
* ``required_column`` — a required (or key) column is absent.

Names padded with white space are read as their trimmed selves. An optional
column that is absent is read as empty (:attr:`Header.absent`); an unconfigured
one is ignored. Messages quote configured names only — a header that is really a
data row must not leak its values — and count the others.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from lifecycle.errors import SourceError
from lifecycle.integration.sources import SourceSpec

DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class Header:
    """A header as the reader uses it: ``names`` are the file's columns in order, the
    configured ones by their configured name and the others by placeholders."""

    names: tuple[str, ...]
    absent: tuple[str, ...] = ()  # optional configured columns the file lacks

    @property
    def present(self) -> list[str]:
        return [n for n in self.names if not n.startswith(UNCONFIGURED)]


UNCONFIGURED = "\x00unconfigured:"


def required_columns(spec: SourceSpec) -> list[str]:
    return [name for name, column in spec.read_columns.items() if column.required or name in spec.key]


def first_line(path: Path, encoding: str, limit: int = 1 << 20) -> str:
    """The file's first line (up to a line feed or a lone carriage return), decoded."""
    with path.open("rb") as fh:
        head = fh.read(limit)
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    line = head[: min(ends)] if ends else head
    return line.decode(encoding, errors="replace").lstrip("\ufeff")


def split_names(line: str, delimiter: str) -> list[str]:
    return [n.strip() for n in next(csv.reader([line], delimiter=delimiter), [])]


def _error(path: Path, column: str | None, rule: str, message: str) -> SourceError:
    return SourceError(str(path), 0, column, rule, message)


def match_header(spec: SourceSpec, path: Path, raw_names: list[str], delimiter: str | None) -> Header:
    """Check ``raw_names`` (the file's header, in order) against ``spec``; a SourceError
    with the true cause when the file cannot be read as the source."""
    names = [n.strip() for n in raw_names]
    configured = list(spec.read_columns)
    if not any(names):
        raise _error(path, None, "header_missing", "the first line is empty: the header row is missing")
    if delimiter is not None and len(names) == 1:
        for other in DELIMITERS:
            if other != delimiter and len(set(split_names(names[0], other)) & set(configured)) >= 2:
                shown = "tab" if other == "\t" else repr(other)
                raise _error(path, None, "delimiter", f"the header is one column when split on {delimiter!r}: "
                             f"the file is delimited by {shown}; set `delimiter` for this source or re-export it")
    counts = Counter(names)
    for name in configured:
        if counts[name] > 1:
            places = [str(i + 1) for i, n in enumerate(names) if n == name]
            raise _error(path, name, "header_duplicate", f"the column appears {counts[name]} times in the header "
                         f"(positions {', '.join(places)}): which one holds the data cannot be told")
    present = set(names) & set(configured)
    by_lower = {n.lower(): n for n in names}
    others = sum(1 for n in names if n not in present)
    if not present:
        if sum(1 for c in configured if c.lower() in by_lower) >= 2:
            raise _error(path, configured[0], "header_case", "the header names the configured columns in another "
                         "case (column names are compared exactly); fix the header or the sources config")
        raise _error(path, None, "header_missing", f"none of the {len(configured)} configured columns is in the "
                     f"first line ({len(names)} unconfigured names): the header row is missing or renamed")
    for name in configured:
        spelled = by_lower.get(name.lower())
        if name not in present and spelled is not None:
            raise _error(path, name, "header_case", f"the header spells the column {spelled!r}: column names "
                         "are compared exactly; fix the header or the sources config")
    for name in required_columns(spec):
        if name in present:
            continue
        lacking = [c for c in required_columns(spec) if c not in present]
        raise _error(path, name, "required_column",
                     f"required column missing from the header (source {spec.name!r} requires "
                     f"{', '.join(required_columns(spec))})"
                     + (f"; also missing: {', '.join(lacking[1:])}" if len(lacking) > 1 else "")
                     + (f"; the header has {others} unconfigured column(s)" if others else ""))
    internal = tuple(n if n in present else f"{UNCONFIGURED}{i}" for i, n in enumerate(names))
    return Header(internal, tuple(c for c in configured if c not in present))
