"""Is the extract complete? Control totals, a stable file, the row count against the last load.

A file cut short — still being written, copied half, truncated at a line boundary
— parses as a perfectly good CSV with fewer rows. Only the source can say how
many rows it wrote, so each source may announce it (``control`` in the sources
config):

* ``trailer``: the file's last line is ``<marker><delimiter><rows>[<delimiter><checksum>]``,
  the checksum taken over every byte before that line;
* ``file``: a control file beside the extract holds one line ``<rows>[,<checksum>]``,
  the checksum taken over the whole extract.

Without control totals three checks still stand: ``min_rows`` (default 1: a
header-only or empty extract is refused; with control totals the source's own
count decides), ``stable_seconds`` (a file modified
more recently than that is still being written) and ``volume_tolerance`` (the
row count may not differ from the previous load of the source by more than that
share). Every refusal names the file and its rule; none quotes the file's content.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from lifecycle.errors import SourceError
from lifecycle.integration.sources import ControlTotals, SourceSpec

TAIL_BYTES = 64 << 10
HASH_BLOCK = 1 << 20


@dataclass(frozen=True)
class Control:
    """What the source announced: its row count and checksum, and where its data ends."""

    rows: int
    checksum: str | None
    data_bytes: int  # bytes of the extract proper (before the trailer line)


def digest(path: Path, algorithm: str, limit: int | None = None) -> str:
    """Hex digest of the first ``limit`` bytes of ``path`` (all of it by default)."""
    h = hashlib.new(algorithm)
    left = path.stat().st_size if limit is None else limit
    with path.open("rb") as fh:
        while left > 0 and (block := fh.read(min(HASH_BLOCK, left))):
            h.update(block)
            left -= len(block)
    return h.hexdigest()


def _parse_totals(fields: list[str], control: ControlTotals, where: str, path: Path,
                  rule: str) -> tuple[int, str | None]:
    expected = "<rows>" + ("" if control.checksum == "none" else f",<{control.checksum}>")
    if not fields or not fields[0].strip().isdigit() or len(fields) > 2:
        raise SourceError(str(path), None, None, rule, f"the {where} is not {expected}")
    checksum = fields[1].strip().lower() if len(fields) == 2 else None
    if control.checksum != "none" and not checksum:
        raise SourceError(str(path), None, None, rule, f"the {where} has no {control.checksum} checksum ({expected})")
    return int(fields[0]), checksum


def read_trailer(spec: SourceSpec, path: Path) -> Control:
    """The trailer of ``path``, or a SourceError when the last line is not one."""
    control = spec.control
    assert control is not None
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(size - TAIL_BYTES, 0))
        tail = fh.read()
    body = tail.rstrip(b"\r\n")
    start = max(body.rfind(b"\n"), body.rfind(b"\r")) + 1
    fields = body[start:].decode("ascii", errors="replace").split(spec.delimiter)
    shape = f"{control.marker}{spec.delimiter}<rows>" + (
        "" if control.checksum == "none" else f"{spec.delimiter}<{control.checksum}>")
    if fields[0].strip() != control.marker:
        raise SourceError(str(path), None, None, "control_missing",
                          f"the last line is not the trailer {shape}: the extract is incomplete (cut while "
                          "being written or copied) or was exported without its trailer")
    rows, checksum = _parse_totals(fields[1:], control, "trailer", path, "control_missing")
    return Control(rows, checksum, size - len(tail) + start)


def locate_control_file(spec: SourceSpec, landing_dir: Path, as_of: date) -> Path:
    control = spec.control
    assert control is not None and control.file is not None
    relative = control.file.format(as_of=as_of.isoformat())
    matches = [p for p in sorted(landing_dir.glob(relative)) if p.is_file()]
    if len(matches) != 1:
        found = "no" if not matches else f"{len(matches)}"
        raise SourceError(str(landing_dir / relative), None, None, "control_missing",
                          f"{found} control file(s) for source {spec.name!r}; expected one: the extract's "
                          "completeness cannot be checked")
    return matches[0]


def read_control_file(spec: SourceSpec, path: Path, control_path: Path) -> Control:
    control = spec.control
    assert control is not None
    text = control_path.read_bytes()[:4096].decode("ascii", errors="replace").strip().splitlines()
    fields = text[0].split(",") if text else []
    rows, checksum = _parse_totals(fields, control, f"control file {control_path.name}", control_path,
                                   "control_format")
    return Control(rows, checksum, path.stat().st_size)


def announced(spec: SourceSpec, path: Path, landing_dir: Path, as_of: date) -> Control | None:
    """The source's control totals for ``path``, checksum verified; None when it has none."""
    control = spec.control
    if control is None:
        return None
    if control.kind == "trailer":
        found = read_trailer(spec, path)
    else:
        found = read_control_file(spec, path, locate_control_file(spec, landing_dir, as_of))
    if control.checksum != "none":
        actual = digest(path, control.checksum, found.data_bytes)
        if actual != found.checksum:
            raise SourceError(str(path), None, None, "control_checksum",
                              f"the {control.checksum} of the extract differs from its control totals: the file "
                              "is incomplete or was altered after the control totals were written")
    return found


def check_stable(spec: SourceSpec, path: Path, now: datetime) -> None:
    """Refuse a file modified less than ``stable_seconds`` ago: it may still be written."""
    if spec.stable_seconds <= 0:
        return
    age = now.timestamp() - path.stat().st_mtime
    if age < spec.stable_seconds:
        raise SourceError(str(path), None, None, "file_stable",
                          f"modified {max(age, 0):.0f} s ago: a file is read once unchanged for "
                          f"{spec.stable_seconds:.0f} s (it may still be being written); run the day again later")


def check_row_count(spec: SourceSpec, path: Path, rows: int, control: Control | None) -> None:
    """The data rows read against the control totals, or (without them) the source's
    minimum: a source that announces zero rows in its trailer vouches for an empty day."""
    if control is not None and rows != control.rows:
        raise SourceError(str(path), None, None, "control_row_count",
                          f"the control totals announce {control.rows:,} rows, the file holds {rows:,}: "
                          "the extract is incomplete or has extra rows; nothing of the day was loaded")
    if control is None and rows < spec.min_rows:  # control totals are the source's own word
        what = "only a header" if rows == 0 else f"{rows:,} rows"
        raise SourceError(str(path), None, None, "min_rows",
                          f"the extract holds {what}, fewer than the source's min_rows of {spec.min_rows:,}: "
                          "an empty or cut extract is not loaded as a day")


def check_volume(spec: SourceSpec, path: Path, rows: int, previous: int | None) -> None:
    """The row count against the previous load, within ``volume_tolerance``."""
    if spec.volume_tolerance is None or not previous:
        return
    change = (rows - previous) / previous
    if abs(change) > spec.volume_tolerance:
        raise SourceError(str(path), None, None, "volume",
                          f"{rows:,} rows against {previous:,} at the previous load ({change:+.1%}), beyond the "
                          f"source's volume_tolerance of {spec.volume_tolerance:.0%}: a truncated or "
                          "duplicated extract is not loaded; if the change is real, raise the tolerance for a run")


def check_unchanged(path: Path, size: int, mtime_ns: int) -> None:
    """Refuse a file that changed since it was inspected (written while it was read)."""
    stat = path.stat()
    if (stat.st_size, stat.st_mtime_ns) != (size, mtime_ns):
        raise SourceError(str(path), None, None, "file_changed",
                          "the file changed while the run was reading it (it is still being written); "
                          "nothing of the day was loaded; run the day again once it is complete")
