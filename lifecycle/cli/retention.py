"""``bank-lifecycle retention …``: relationship managers' retention tasks.

``list`` shows tasks (masked customer data only); ``update TASK_ID --status``
records what the RM did (contacted, retained, lost); ``import FILE.csv`` applies
the task list an RM sends back (task_id, status, note), all or nothing, naming
every bad row; ``report`` gives retention rates by value tier, stage and action.
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, select

from lifecycle.care.service import TASKS, reasons_text, retention_report, update_task
from lifecycle.care.task_import import SETTABLE, apply_updates, parse
from lifecycle.cli import open_context
from lifecycle.cli.output import add_listing_options, page_limit, write_listing
from lifecycle.errors import LifecycleError
from lifecycle.privacy.redaction import redact_text
from lifecycle.status import TaskStatus
from lifecycle.store.models import Customer


class UnknownTaskError(LifecycleError):
    """No retention task has the given id."""


def register(groups: Any) -> None:
    group = groups.add_parser("retention", help="retention tasks for relationship managers")
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", help="tasks with their reasons (masked customer data)")
    listing.add_argument("--assignee", help="rm-<RM id> or branch-<branch code>")
    listing.add_argument("--status", default="open", choices=[*list(TaskStatus), "all"],
                         help="task status (default: open)")
    add_listing_options(listing, "tasks")
    listing.set_defaults(handler=list_tasks)
    upd = commands.add_parser("update", help="record what was done for a task")
    upd.add_argument("task_id", type=int, metavar="TASK_ID", help="the task's id, as `list` shows it (#ID)")
    upd.add_argument("--status", required=True, choices=list(SETTABLE), help="the task's new status")
    upd.add_argument("--note", help="what happened (no personal data: ID numbers and mobiles are redacted)")
    upd.add_argument("--actor", default=getpass.getuser(), help="who did it (default: the current user)")
    upd.set_defaults(handler=update_one)
    imp = commands.add_parser("import", help="apply an RM's task list: CSV with task_id,status[,note,actor]")
    imp.add_argument("file", type=Path, metavar="FILE", help="the CSV file the RM sent back")
    imp.add_argument("--actor", default=getpass.getuser(), help="recorded for rows without an actor")
    imp.set_defaults(handler=import_file)
    rep = commands.add_parser("report", help="retention rate by value tier, lifecycle stage and action")
    rep.add_argument("--since", type=date.fromisoformat, help="only tasks closed on or after this date")
    rep.add_argument("--json", action="store_true", help="the rates as one JSON object")
    rep.set_defaults(handler=report)


def list_tasks(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    c = Customer.__table__
    stmt = select(TASKS.c.id, TASKS.c.assignee, TASKS.c.priority, TASKS.c.trigger, TASKS.c.suggested_action,
                  TASKS.c.due_date, TASKS.c.status, TASKS.c.reasons, c.c.customer_ref, c.c.name_masked).join(
        c, c.c.customer_id == TASKS.c.customer_id)
    count = select(func.count()).select_from(TASKS)
    if args.status != "all":
        stmt, count = stmt.where(TASKS.c.status == args.status), count.where(TASKS.c.status == args.status)
    if args.assignee:
        stmt, count = stmt.where(TASKS.c.assignee == args.assignee), count.where(TASKS.c.assignee == args.assignee)
    with ctx.engine.connect() as conn:
        total = int(conn.execute(count).scalar_one())
        rows = conn.execute(stmt.order_by(TASKS.c.priority, TASKS.c.due_date, TASKS.c.id)
                            .limit(page_limit(args))).all()
    items = [{"task_id": r.id, "assignee": r.assignee, "priority": r.priority, "customer_ref": r.customer_ref,
              "name": r.name_masked, "trigger": r.trigger, "reasons": reasons_text(r.reasons),
              "action": r.suggested_action, "due_date": str(r.due_date), "status": r.status} for r in rows]
    write_listing(args, out, items, total, "task(s)", _task_line)
    return 0


def _task_line(t: Mapping[str, Any]) -> str:
    return (f"#{t['task_id']:<7} {t['priority']} {t['status']:<9} due {t['due_date']}  {t['assignee']:<16} "
            f"{t['customer_ref']} {t['name'] or '-'}  {t['trigger']}: {', '.join(t['reasons'])} -> {t['action']}\n")


def update_one(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    with ctx.engine.begin() as conn:
        try:
            before, after = update_task(conn, args.task_id, TaskStatus(args.status), actor=args.actor,
                                        note=redact_text(args.note) if args.note else None, via="cli",
                                        day=ctx.clock.bank_now().date(), now=ctx.clock.now())
        except LookupError:
            raise UnknownTaskError(f"no retention task {args.task_id}") from None
    out.write(f"task {args.task_id}: {before} -> {after}\n")
    return 0


def import_file(args: argparse.Namespace, out: TextIO) -> int:
    updates = parse(args.file)
    ctx = open_context()
    with ctx.engine.begin() as conn:
        applied = apply_updates(conn, args.file, updates, actor=args.actor, day=ctx.clock.bank_now().date(),
                                now=ctx.clock.now())
    out.write(f"{args.file}: {applied} task update(s) applied\n")
    return 0


def report(args: argparse.Namespace, out: TextIO) -> int:
    ctx = open_context()
    with ctx.engine.connect() as conn:
        rates = retention_report(conn, args.since)
    if args.json:
        out.write(json.dumps(rates, ensure_ascii=False, default=str) + "\n")
        return 0
    for dimension, rows in rates.items():
        out.write(f"{dimension}\n  {'value':<22}{'closed':>8}{'retained':>10}{'lost':>6}{'expired':>9}{'rate':>8}\n")
        for row in rows:
            rate = row["retention_rate"]
            out.write(f"  {row[dimension]!s:<22}{row['closed']:>8}{row['retained']:>10}{row['lost']:>6}"
                      f"{row['expired']:>9}{(f'{rate:.1%}' if rate is not None else '-'):>8}\n")
    return 0
