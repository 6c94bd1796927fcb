"""Small CSV files people send back (RM replies, opt-out extracts): read, header checked, rows stripped."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from lifecycle.errors import SourceError


def csv_rows(file: Path, required: Sequence[str], expected: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number, stripped values by stripped column name) of a UTF-8 CSV file (a BOM is allowed).

    Raises :class:`SourceError` naming the file when it cannot be read, is not
    UTF-8, or its header lacks a ``required`` column (``expected`` describes the
    whole header for the message). Row numbers count data rows from 1.
    """
    name = str(file)
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise SourceError(name, None, None, "file_readable", f"cannot read the file ({type(exc).__name__})") from None
    except UnicodeDecodeError:
        raise SourceError(name, None, None, "encoding", "the file is not UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        raise SourceError(name, 0, missing[0], "required_column",
                          f"the header lacks {', '.join(missing)} (expected {expected})")
    for number, raw in enumerate(reader, start=1):
        yield number, {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}


class RowProblemsError(SourceError):
    """Rows of a file are wrong; nothing of the file was applied. Names the first, lists up to ten."""

    def __init__(self, file: str, problems: list[SourceError]) -> None:
        first = problems[0]
        shown = "; ".join(str(p) for p in problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(file, first.row, first.column, first.rule,
                         f"{len(problems)} row problem(s), nothing applied: {shown}{more}")
        self.problems = problems
