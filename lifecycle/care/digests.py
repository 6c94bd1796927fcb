"""One digest per relationship manager (or branch queue) per run, written to the outbox.

A digest lists the assignee's open tasks that are new on the date, due soon or
overdue — customer reference, masked name, priority, trigger and reasons
(rule codes), suggested action, due date. An assignee with nothing new that
day (no new task, none that became due-soon or overdue) gets no digest. The
context stored in the outbox holds masked data only; the message key
``rm_digest:<assignee>:<date>`` makes a re-run enqueue nothing twice. Digests
wait for the end of quiet hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, select

from lifecycle.care.notifier import branch_tag, check_tag, rm_tag
from lifecycle.care.outbox import NewMessage, enqueue
from lifecycle.care.quiet import next_allowed, to_machine_time
from lifecycle.care.service import OPEN, TASKS, CareContext, reasons_text
from lifecycle.store.frames import read_frame
from lifecycle.store.models import Customer, RelationshipManager

KIND = "rm_digest"


@dataclass(frozen=True)
class DigestResult:
    as_of: date
    enqueued: int
    assignees: list[str]
    tasks_listed: int


def _route(assignee: str, notify_tags: dict[str, str], team: str | None) -> tuple[str, ...]:
    kind, _, code = assignee.partition("-")
    if kind == "rm":
        tag = notify_tags.get(code)
        try:
            route = (check_tag(tag),) if tag else (rm_tag(code),)
        except ValueError:
            route = (rm_tag(code),)
    else:
        route = (branch_tag(code),)
    return (*route, f"team-{team}") if team and kind == "branch" else route


def _listing(rows: pd.DataFrame) -> list[dict[str, object]]:
    return [{"task_id": int(r.id), "customer_ref": r.customer_ref, "name": r.name_masked or "-",
             "priority": r.priority, "trigger": r.trigger, "reasons": reasons_text(r.reasons),
             "action": r.suggested_action, "due_date": str(r.due_date)}
            for r in rows.sort_values(["priority", "due_date", "id"]).itertuples()]


def enqueue_digests(ctx: CareContext, day: date) -> DigestResult:
    rules = ctx.care_rules.rules
    soon = rules.retention.due_soon_days
    with ctx.engine.begin() as conn:
        tasks = _open_tasks(conn)
        tasks["due_date"] = pd.to_datetime(tasks["due_date"]).dt.date
        tasks["as_of"] = pd.to_datetime(tasks["as_of"]).dt.date
        new = tasks["as_of"] == day
        due_soon = (tasks["due_date"] >= day) & (tasks["due_date"] <= day + timedelta(days=soon))
        overdue = tasks["due_date"] < day
        became_due_soon = tasks["due_date"] == day + timedelta(days=soon)
        newsworthy = new | became_due_soon | (tasks["due_date"] == day - timedelta(days=1))
        rms = conn.execute(select(RelationshipManager.rm_id, RelationshipManager.notify_tag,
                                  RelationshipManager.rm_name)).all()
        notify_tags: dict[str, str] = {str(r[0]): str(r[1]) for r in rms if r[1]}
        names: dict[str, str] = {str(r[0]): str(r[2]) for r in rms}
        not_before = to_machine_time(next_allowed(ctx.clock.bank_now(), rules.quiet_hours))
        held = not_before > ctx.clock.now()
        messages = []
        listed = 0
        for assignee, mine in tasks.groupby("assignee"):
            if not newsworthy[mine.index].any():
                continue
            context = {"assignee": str(assignee), "rm_name": names.get(str(assignee).partition("-")[2]),
                       "as_of": day.isoformat(), "new": _listing(mine[new[mine.index]]),
                       "due_soon": _listing(mine[due_soon[mine.index] & ~new[mine.index]]),
                       "overdue": _listing(mine[overdue[mine.index]])}
            listed += sum(len(context[k] or "") for k in ("new", "due_soon", "overdue"))
            messages.append(NewMessage(
                message_key=f"{KIND}:{assignee}:{day.isoformat()}", kind=KIND, channel=rules.digests.channel,
                route=_route(str(assignee), notify_tags, rules.digests.branch_queue_team), template=KIND,
                locale=rules.digests.locale, recipient=str(assignee)[:32], as_of=day, not_before=not_before,
                context=context, held_for_quiet_hours=held))
        added = enqueue(conn, messages, ctx.clock.now())
    return DigestResult(day, added, [m.recipient for m in messages], listed)


def _open_tasks(conn: Connection) -> pd.DataFrame:
    c = Customer.__table__
    stmt = (select(TASKS.c.id, TASKS.c.assignee, TASKS.c.as_of, TASKS.c.due_date, TASKS.c.priority, TASKS.c.trigger,
                   TASKS.c.reasons, TASKS.c.suggested_action, c.c.customer_ref, c.c.name_masked)
            .join(c, c.c.customer_id == TASKS.c.customer_id).where(TASKS.c.status.in_(OPEN)))
    return read_frame(conn, stmt)
