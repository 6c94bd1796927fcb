"""Stewards choose quarantined rows to release, see what will be reprocessed, and undo a release.

A :class:`Selection` picks rows by id, source, rule and file (all that are
given must hold). :func:`select_rows` finds the rows in one status that match
it, :func:`summarise` says what they are (rows per source, rule and file) so
that a steward sees what the next run will reprocess before releasing, and
:func:`undo_release` puts released rows back to ``open`` — possible until the
next run of their source feeds them again (then they are ``reprocessed`` or
``superseded``, and stay so). Releasing itself is
:func:`lifecycle.integration.quarantine.release`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from sqlalchemy import Connection, func, select, update

from lifecycle.integration.quarantine import QuarantineError, require_status
from lifecycle.integration.sources import SourcesConfig
from lifecycle.status import QuarantineStatus
from lifecycle.store.models import QuarantinedRow

NOTE_LENGTH = 512  # quarantine.release_note


@dataclass(frozen=True)
class Selection:
    """Which quarantined rows: every criterion given must hold; none given selects nothing."""

    ids: tuple[int, ...] = ()
    source: str | None = None
    rule: str | None = None
    file: str | None = None  # the stored path, or its file name
    run: str | None = None  # a run id, or its first characters (as reports show it)

    @property
    def empty(self) -> bool:
        return not (self.ids or self.source or self.rule or self.file or self.run)

    def describe(self) -> str:
        parts = [f"id {', '.join(f'#{i}' for i in self.ids)}"] if self.ids else []
        parts += [f"{name} {value}" for name, value in (("source", self.source), ("rule", self.rule),
                                                         ("file", self.file), ("run", self.run)) if value]
        return ", ".join(parts)


@dataclass(frozen=True)
class Chosen:
    """Rows a selection found: their ids and, per (source, rule, file name), how many rows."""

    ids: list[int]
    counts: dict[tuple[str, str, str], int]

    def lines(self) -> list[str]:
        return [f"{source}  {rule}  {file}: {n:,} row(s)" for (source, rule, file), n in sorted(self.counts.items())]


def _file_matches(stored: str, wanted: str) -> bool:
    return stored == wanted or PurePath(stored).name == wanted


def select_rows(conn: Connection, sources: SourcesConfig, selection: Selection,
                status: QuarantineStatus, *, required: bool = True) -> Chosen:
    """The rows in ``status`` that ``selection`` picks, by id.

    Refused (:class:`QuarantineError`, naming what was asked): an empty selection,
    an unknown source, an id that is not in ``status``, or — when ``required`` — a
    selection that picks nothing.
    """
    if selection.empty:
        raise QuarantineError("say which rows: quarantine ids, or --source, --rule or --file")
    if selection.source:
        sources[selection.source]  # an unknown source is named with the configured ones
    if selection.ids:
        require_status(conn, selection.ids, [status], "chosen")
    stmt = select(QuarantinedRow.id, QuarantinedRow.source, QuarantinedRow.file, QuarantinedRow.failures).where(
        QuarantinedRow.status == status)
    if selection.ids:
        stmt = stmt.where(QuarantinedRow.id.in_(list(selection.ids)))
    if selection.source:
        stmt = stmt.where(QuarantinedRow.source == selection.source)
    if selection.run:
        stmt = stmt.where(QuarantinedRow.run_id.startswith(selection.run, autoescape=True))
    ids: list[int] = []
    counts: Counter[tuple[str, str, str]] = Counter()
    for row_id, source, file, failures in conn.execute(stmt.order_by(QuarantinedRow.id)):
        rules = sorted({str(f["rule"]) for f in failures or []})
        if selection.rule and selection.rule not in rules:
            continue
        if selection.file and not _file_matches(str(file), selection.file):
            continue
        ids.append(int(row_id))
        counts.update((str(source), rule, PurePath(str(file)).name) for rule in rules)
    if not ids and required:
        raise QuarantineError(f"no {status} quarantined row matches {selection.describe()}")
    return Chosen(ids, dict(counts))


def undo_release(conn: Connection, ids: list[int], *, actor: str, now: datetime) -> int:
    """Put released rows back to ``open`` (before the next run feeds them); the undo is noted on each."""
    require_status(conn, ids, [QuarantineStatus.RELEASED], "reopened")
    undone = f" [release undone by {actor[:64]} at {now:%Y-%m-%d %H:%M}]"
    kept = func.substr(func.coalesce(QuarantinedRow.release_note, ""), 1, NOTE_LENGTH - len(undone))
    result = conn.execute(update(QuarantinedRow).where(
        QuarantinedRow.id.in_(ids), QuarantinedRow.status == QuarantineStatus.RELEASED).values(
        status=QuarantineStatus.OPEN, released_at=None, released_by=None, release_note=kept + undone))
    return int(result.rowcount or 0)
