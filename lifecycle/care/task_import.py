"""Task updates that relationship managers send back as CSV, validated like any extract.

Columns: ``task_id`` (required), ``status`` (contacted | retained | lost,
required), ``note`` (optional, at most 200 characters; ID numbers, mobiles,
card numbers and e-mail addresses in it are redacted before it is stored),
``actor`` (optional; default: the importing user). The file is applied all or
nothing: any bad row refuses the file, and every bad row is named (file, row,
column, rule) so the RM can fix and resend it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, select

from lifecycle.care.csvfile import RowProblemsError, csv_rows
from lifecycle.care.service import TASKS, update_task
from lifecycle.errors import SourceError
from lifecycle.privacy.redaction import redact_text
from lifecycle.status import TASK, TaskStatus

REQUIRED = ("task_id", "status")
SETTABLE = (TaskStatus.CONTACTED, TaskStatus.RETAINED, TaskStatus.LOST)
MAX_NOTE = 200


class TaskImportError(RowProblemsError):
    """One or more rows of a task-update file are wrong; nothing of the file was applied."""


@dataclass(frozen=True)
class Update:
    row: int
    task_id: int
    status: TaskStatus
    note: str | None
    actor: str | None


def parse(file: Path) -> list[Update]:
    """Read and check the file's shape and values (not yet against the store)."""
    name = str(file)
    updates, problems = [], []
    for number, row in csv_rows(file, REQUIRED, "task_id, status[, note, actor]"):
        task_id, status, note = row.get("task_id", ""), row.get("status", "").lower(), row.get("note") or None
        if not task_id.isdigit():
            problems.append(SourceError(name, number, "task_id", "integer", "a task id is a whole number"))
            continue
        if status not in SETTABLE:
            problems.append(SourceError(name, number, "status", "code_in_set",
                                        f"status must be one of {', '.join(SETTABLE)}"))
            continue
        if note and len(note) > MAX_NOTE:
            problems.append(SourceError(name, number, "note", "max_length", f"at most {MAX_NOTE} characters"))
            continue
        updates.append(Update(number, int(task_id), TaskStatus(status), redact_text(note) if note else None,
                              row.get("actor") or None))
    if problems:
        raise TaskImportError(name, problems)
    return updates


def apply_updates(conn: Connection, file: Path, updates: list[Update], *, actor: str, day: date,
                  now: object) -> int:
    """Check every update against the store, then apply them all (inside ``conn``'s transaction)."""
    name = str(file)
    known: dict[int, str] = {int(r[0]): str(r[1]) for r in conn.execute(select(TASKS.c.id, TASKS.c.status).where(
        TASKS.c.id.in_([u.task_id for u in updates])))} if updates else {}
    problems = []
    seen: set[int] = set()
    for u in updates:
        if u.task_id not in known:
            problems.append(SourceError(name, u.row, "task_id", "known_task", f"no task {u.task_id}"))
        elif u.task_id in seen:
            problems.append(SourceError(name, u.row, "task_id", "unique", f"task {u.task_id} appears twice"))
        elif u.status not in TASK.moves[TaskStatus(known[u.task_id])]:
            problems.append(SourceError(name, u.row, "status", "allowed_transition",
                                        f"task {u.task_id} is {known[u.task_id]} and cannot become {u.status}"))
        seen.add(u.task_id)
    if problems:
        raise TaskImportError(name, problems)
    for u in updates:
        update_task(conn, u.task_id, u.status, actor=u.actor or actor, note=u.note, via="csv", day=day, now=now)
    return len(updates)
