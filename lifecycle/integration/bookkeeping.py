"""Ingestion bookkeeping: runs, and files by SHA-256 with their supersession.

Each landing file is identified by (source, as-of date, SHA-256): the same
file twice is a no-op; a corrected file for the same source and day
supersedes the earlier load, whose rows not rewritten by the new file are
removed (every fact row carries the ``file_id`` that last wrote it).

A run's row is committed when it starts (``running``), so operators see it; a
run whose process died stays ``running`` until the next run starts and marks
it ``interrupted``. File registrations are written in the same transaction as
the data they describe, so no file is ever seen half-loaded.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Connection, Table, delete, insert, select, update

from lifecycle.integration.read import LandingFile
from lifecycle.status import FILE, RUN, FileStatus, RunStatus
from lifecycle.store.models import IngestedFile, IngestionRun


def interrupt_stale_runs(conn: Connection, now: datetime) -> list[str]:
    """Runs still ``running`` when a new one starts died with their process: mark them
    ``interrupted`` (runs of the day are serialised: one at a time). Returns their ids."""
    stale = list(conn.execute(select(IngestionRun.run_id).where(IngestionRun.status == RunStatus.RUNNING)).scalars())
    if stale:
        conn.execute(update(IngestionRun).where(IngestionRun.run_id.in_(stale)).values(
            status=RunStatus.INTERRUPTED, finished_at=now,
            error="interrupted: its process stopped before the run finished; nothing of it was loaded"))
    return stale


def start_run(conn: Connection, as_of: date, flow_run_id: str | None, now: datetime) -> str:
    RUN.check(None, RunStatus.RUNNING)
    run_id = str(uuid.uuid4())
    conn.execute(insert(IngestionRun).values(run_id=run_id, as_of=as_of, started_at=now, status=RunStatus.RUNNING,
                                             flow_run_id=flow_run_id))
    return run_id


def run_status(conn: Connection, run_id: str) -> RunStatus | None:
    found = conn.execute(select(IngestionRun.status).where(IngestionRun.run_id == run_id)).scalar()
    return RunStatus(found) if found else None


def finish_run(conn: Connection, run_id: str, status: RunStatus, summary: dict[str, object], now: datetime,
               error: str | None = None) -> None:
    """Close a ``running`` run; a run already closed (or never started) is an error."""
    RUN.check(RunStatus.RUNNING, status)
    done = conn.execute(update(IngestionRun).where(
        IngestionRun.run_id == run_id, IngestionRun.status == RunStatus.RUNNING).values(
        status=status, finished_at=now, summary=summary, error=error[:2000] if error else None)).rowcount
    if done != 1:
        found = conn.execute(select(IngestionRun.status).where(IngestionRun.run_id == run_id)).scalar()
        RUN.check(RunStatus(found) if found else None, status)  # names the move that is not allowed
        raise AssertionError(f"run {run_id} could not be finished")


def mark_reported(conn: Connection, run_id: str, path: str, now: datetime) -> None:
    conn.execute(update(IngestionRun).where(IngestionRun.run_id == run_id).values(report_path=path, reported_at=now))


def unreported_runs(conn: Connection) -> list[str]:
    """Finished runs whose report was never written (their process died after the commit)."""
    closed = (RunStatus.SUCCEEDED, RunStatus.REFUSED, RunStatus.FAILED)
    return list(conn.execute(select(IngestionRun.run_id).where(
        IngestionRun.status.in_(closed), IngestionRun.reported_at.is_(None)).order_by(IngestionRun.started_at))
        .scalars())


def already_loaded(conn: Connection, source: str, as_of: date, sha256: str) -> bool:
    stmt = select(IngestedFile.id).where(IngestedFile.source == source, IngestedFile.as_of == as_of,
                                         IngestedFile.sha256 == sha256, IngestedFile.status == FileStatus.LOADED)
    return conn.execute(stmt).first() is not None


def previous_rows(conn: Connection, source: str, as_of: date) -> int | None:
    """Rows read from the source's file loaded last before ``as_of`` (None: never loaded)."""
    stmt = (select(IngestedFile.rows_read).where(IngestedFile.source == source, IngestedFile.as_of < as_of,
                                                 IngestedFile.status == FileStatus.LOADED)
            .order_by(IngestedFile.as_of.desc(), IngestedFile.id.desc()).limit(1))
    found = conn.execute(stmt).scalar()
    return None if found is None else int(found)


def register_file(conn: Connection, run_id: str, as_of: date, landing: LandingFile, now: datetime,
                  status: FileStatus) -> tuple[int, str | None]:
    """Record the file as read by this run with ``status``; returns (file_id, the run that
    registered it before, if any).

    The same file may come again after a run that did not load it (refused by the
    quality gate, or superseded by a correction that was itself withdrawn): its
    registration is taken over by this run; the caller supersedes the rows that
    earlier run quarantined, since this run quarantines them anew.
    """
    earlier = conn.execute(select(IngestedFile.id, IngestedFile.run_id, IngestedFile.status).where(
        IngestedFile.source == landing.source, IngestedFile.as_of == as_of,
        IngestedFile.sha256 == landing.sha256)).first()
    values = {"run_id": run_id, "path": str(landing.path), "encoding": landing.encoding, "rows_read": 0,
              "rows_loaded": 0, "rows_quarantined": 0, "status": status, "loaded_at": now}
    if earlier is not None:
        FILE.check(FileStatus(earlier.status), status)
        conn.execute(update(IngestedFile).where(IngestedFile.id == earlier.id).values(**values))
        return int(earlier.id), str(earlier.run_id)
    FILE.check(None, status)
    result = conn.execute(insert(IngestedFile).values(source=landing.source, as_of=as_of, sha256=landing.sha256,
                                                      **values))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0]), None


def earlier_registrations(conn: Connection, file_id: int) -> list[tuple[int, str, FileStatus]]:
    """(file_id, run_id, status) of the other live registrations of this file's source and day."""
    row = conn.execute(select(IngestedFile.source, IngestedFile.as_of).where(IngestedFile.id == file_id)).one()
    return [(int(p.id), str(p.run_id), FileStatus(p.status)) for p in conn.execute(
        select(IngestedFile.id, IngestedFile.run_id, IngestedFile.status).where(
            IngestedFile.source == row.source, IngestedFile.as_of == row.as_of, IngestedFile.id != file_id,
            IngestedFile.status.in_((FileStatus.LOADED, FileStatus.REFUSED))))]


def complete_file(conn: Connection, file_id: int, table: Table | None, *, rows_read: int, rows_loaded: int,
                  rows_quarantined: int) -> list[str]:
    """Record the file's counts and supersede the earlier loads of its source and day.

    Rows an earlier (now superseded) file of the day wrote to ``table`` and the
    corrected file did not rewrite are removed. Returns the runs of the superseded
    registrations: their open quarantine rows are history now, since this run
    quarantined its file's bad rows anew.
    """
    previous = earlier_registrations(conn, file_id)
    for _, _, status in previous:
        FILE.check(status, FileStatus.SUPERSEDED)
    earlier = [i for i, _, status in previous if status == FileStatus.LOADED]
    if earlier and table is not None and "file_id" in table.c:
        conn.execute(delete(table).where(table.c.file_id.in_(earlier)))
    if previous:
        conn.execute(update(IngestedFile).where(IngestedFile.id.in_([i for i, _, _ in previous]))
                     .values(status=FileStatus.SUPERSEDED))
    complete_counts(conn, file_id, rows_read=rows_read, rows_loaded=rows_loaded, rows_quarantined=rows_quarantined)
    return sorted({run_id for _, run_id, _ in previous})


def complete_counts(conn: Connection, file_id: int, *, rows_read: int, rows_loaded: int,
                    rows_quarantined: int) -> None:
    """Record a file's counts without superseding anything (a refused file replaces nothing)."""
    conn.execute(update(IngestedFile).where(IngestedFile.id == file_id).values(
        rows_read=rows_read, rows_loaded=rows_loaded, rows_quarantined=rows_quarantined))
