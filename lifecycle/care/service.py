"""The day's care work for relationship managers: retention tasks, entitlements, expiry.

    plan_retention(ctx, as_of):  expire overdue tasks → candidates from the
    date's decisions → new tasks (one open task per customer) → entitlement changes

It reads the decided date from the store (decisions, stage transitions, tier
events, features, complaints as of the date) and writes in one transaction;
running it twice for a date adds nothing (task keys are unique, customers with
an open task are left out, a partial unique index guards the rule).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, and_, insert, select, update

from lifecycle.care.config import CareRuleSet
from lifecycle.care.context import CareContext
from lifecycle.care.retention import candidate_tasks
from lifecycle.complaints import unresolved
from lifecycle.features.config import FEATURE_SET
from lifecycle.status import TASK, TaskStatus
from lifecycle.store.base import table_of
from lifecycle.store.complaints import complaints_as_of
from lifecycle.store.frames import read_frame
from lifecycle.store.models import (
    CustomerDecision,
    CustomerFeatures,
    EntitlementChange,
    RelationshipManager,
    RetentionTask,
    RetentionTaskEvent,
    StageTransition,
    TierEvent,
)
from lifecycle.store.upsert import upsert_frame

OPEN = (TaskStatus.OPEN, TaskStatus.CONTACTED)
TASKS = table_of(RetentionTask)



@dataclass(frozen=True)
class RetentionResult:
    as_of: date
    created: int
    expired: int
    already_open: int
    entitlement_changes: int
    by_assignee: dict[str, int] = field(default_factory=dict)
    by_trigger: dict[str, int] = field(default_factory=dict)


def _decided(conn: Connection, day: date) -> pd.DataFrame:
    d, f = table_of(CustomerDecision), table_of(CustomerFeatures)
    stmt = (select(d.c.customer_id, d.c.lifecycle_stage, d.c.value_tier, d.c.p_active, f.c.rm_id, f.c.branch_code)
            .join(f, and_(f.c.customer_id == d.c.customer_id, f.c.as_of == d.c.as_of, f.c.feature_set == FEATURE_SET))
            .where(d.c.as_of == day))
    frame = read_frame(conn, stmt).set_index("customer_id")
    frame["p_active"] = pd.to_numeric(frame["p_active"]).astype("float64")
    return frame


def _complaints(conn: Connection, day: date, overdue_days: int) -> pd.DataFrame:
    """Unresolved complaints as of ``day`` per customer: serious ones and those past the
    service level (the complaint machine's status and due date)."""
    states = unresolved(complaints_as_of(conn, day, overdue_days))
    return pd.DataFrame({"serious_complaints": (states["severity"] == "HIGH").groupby(states["customer_id"]).sum(),
                         "overdue_complaints": states["overdue"].groupby(states["customer_id"]).sum()})


def _signals(conn: Connection, day: date, rules: CareRuleSet) -> pd.DataFrame:
    r = rules.rules.retention
    frame = _decided(conn, day)
    moves = read_frame(conn, select(StageTransition.customer_id, StageTransition.reasons).where(
        StageTransition.as_of == day, StageTransition.to_stage.in_(r.triggers.stages_entered),
        StageTransition.from_stage.is_not(None))).set_index("customer_id")["reasons"]
    downgrades = set(conn.execute(select(TierEvent.customer_id).where(
        TierEvent.as_of == day, TierEvent.dimension == "value_tier", TierEvent.direction == "downgrade")).scalars())
    complaints = _complaints(conn, day, r.triggers.complaint_overdue_days)
    rms = set(conn.execute(select(RelationshipManager.rm_id)).scalars())
    frame["entered_stage"] = frame.index.isin(moves.index)
    frame["stage_reasons"] = moves.reindex(frame.index)
    frame["downgraded"] = frame.index.isin(list(downgrades))
    for column in ("serious_complaints", "overdue_complaints"):
        frame[column] = pd.to_numeric(complaints[column]).reindex(frame.index).fillna(0).astype(int) \
            if len(complaints) else 0
    frame["rm_known"] = frame["rm_id"].isin(list(rms))
    return frame


def expire_tasks(conn: Connection, day: date, grace_days: int, now: object) -> int:
    """Open or contacted tasks past their due date and the grace period become expired."""
    stale = conn.execute(select(TASKS.c.id, TASKS.c.status).where(
        TASKS.c.status.in_(TASK.sources_of(TaskStatus.EXPIRED)),
        TASKS.c.due_date < day - timedelta(days=grace_days))).all()
    if stale:
        conn.execute(update(TASKS).where(TASKS.c.id.in_([t.id for t in stale])).values(
            status=TaskStatus.EXPIRED, updated_at=now, closed_on=day))
        conn.execute(insert(RetentionTaskEvent), [
            {"task_id": t.id, "at": now, "from_status": t.status, "to_status": TaskStatus.EXPIRED,
             "actor": "system", "via": "expiry", "note": f"due date passed more than {grace_days} days ago"}
            for t in stale])
    return len(stale)


def _entitlement_changes(conn: Connection, day: date, rules: CareRuleSet) -> int:
    events = conn.execute(select(TierEvent.customer_id, TierEvent.from_tier, TierEvent.to_tier).where(
        TierEvent.as_of == day, TierEvent.dimension == "value_tier")).all()
    table = rules.rules.entitlements
    rows = []
    for customer_id, before, after in events:  # one row per tier change, not per customer of the bank
        had, has = set(table.get(before, ())), set(table.get(after, ()))
        rows += [{"customer_id": customer_id, "as_of": day, "entitlement": e, "change": change,
                  "from_tier": before, "to_tier": after}
                 for change, names in (("granted", has - had), ("withdrawn", had - has)) for e in sorted(names)]
    if rows:
        upsert_frame(conn, table_of(EntitlementChange), pd.DataFrame(rows))
    return len(rows)


def plan_retention(ctx: CareContext, day: date) -> RetentionResult:
    """Expire, create and record the date's retention tasks and entitlement changes (one transaction)."""
    rules = ctx.care_rules
    r = rules.rules.retention
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        expired = expire_tasks(conn, day, r.grace_days, now)
        candidates = candidate_tasks(_signals(conn, day, rules), r, day)
        open_now = set(conn.execute(select(TASKS.c.customer_id).where(TASKS.c.status.in_(OPEN))).scalars())
        fresh = candidates[~candidates.index.isin(list(open_now))]
        if len(fresh):
            TASK.check(None, TaskStatus.OPEN)
            rows = fresh.reset_index().assign(
                task_key=lambda t: t["customer_id"].astype(str) + ":" + day.isoformat() + ":" + t["trigger"],
                as_of=day, status=TaskStatus.OPEN, created_at=now, updated_at=now, rules_version=rules.version)
            keys = rows["task_key"].tolist()
            known = set(conn.execute(select(TASKS.c.task_key).where(TASKS.c.task_key.in_(keys))).scalars())
            rows = rows[~rows["task_key"].isin(list(known))]  # closed the same day and planned again: not twice
            if len(rows):
                conn.execute(insert(TASKS), rows.astype(object).where(rows.notna(), None).to_dict("records"))
                ids = conn.execute(select(TASKS.c.id).where(TASKS.c.task_key.in_(rows["task_key"].tolist())))
                conn.execute(insert(RetentionTaskEvent), [
                    {"task_id": i, "at": now, "from_status": None, "to_status": TaskStatus.OPEN, "actor": "system",
                     "via": "created", "note": None} for i in ids.scalars()])
            fresh = fresh.loc[rows["customer_id"].tolist()] if len(rows) else fresh.iloc[0:0]
        changes = _entitlement_changes(conn, day, rules)
    return RetentionResult(day, len(fresh), expired, int(candidates.index.isin(list(open_now)).sum()), changes,
                           {str(k): int(v) for k, v in fresh["assignee"].value_counts().items()},
                           {str(k): int(v) for k, v in fresh["trigger"].value_counts().items()})


def update_task(conn: Connection, task_id: int, status: TaskStatus, *, actor: str, note: str | None, via: str,
                day: date, now: object) -> tuple[str, str]:
    """Move one task to ``status`` (checked against the state machine); returns (from, to)."""
    current = conn.execute(select(TASKS.c.status).where(TASKS.c.id == task_id)).scalar()
    if current is None:
        raise LookupError(task_id)
    TASK.check(TaskStatus(current), status)
    closing = status in (TaskStatus.RETAINED, TaskStatus.LOST, TaskStatus.EXPIRED, TaskStatus.CANCELLED)
    conn.execute(update(TASKS).where(TASKS.c.id == task_id, TASKS.c.status == current).values(
        status=status, updated_at=now, **({"closed_on": day} if closing else {})))
    conn.execute(insert(RetentionTaskEvent).values(task_id=task_id, at=now, from_status=current, to_status=status,
                                                   actor=actor, via=via, note=note))
    return str(current), str(status)


def retention_report(conn: Connection, since: date | None = None) -> dict[str, list[dict[str, object]]]:
    """Outcomes of closed tasks: retention rate by value tier, stage and suggested action."""
    stmt = select(TASKS.c.value_tier, TASKS.c.lifecycle_stage, TASKS.c.suggested_action, TASKS.c.status).where(
        TASKS.c.status.in_([TaskStatus.RETAINED, TaskStatus.LOST, TaskStatus.EXPIRED]))
    if since is not None:
        stmt = stmt.where(TASKS.c.closed_on >= since)
    frame = read_frame(conn, stmt)
    out: dict[str, list[dict[str, object]]] = {}
    for dimension in ("value_tier", "lifecycle_stage", "suggested_action"):
        rows = []
        for value, group in frame.groupby(dimension, dropna=False) if len(frame) else []:
            counts = group["status"].value_counts()
            closed = int(counts.sum())
            retained = int(counts.get(TaskStatus.RETAINED, 0))
            rows.append({dimension: value, "closed": closed, "retained": retained,
                         "lost": int(counts.get(TaskStatus.LOST, 0)), "expired": int(counts.get(TaskStatus.EXPIRED, 0)),
                         "retention_rate": round(retained / closed, 4) if closed else None})
        out[dimension] = rows
    return out


def reasons_text(reasons: str) -> list[str]:
    """The rule codes of a task's reasons, for people (no values: they may be large JSON)."""
    try:
        return [str(r.get("rule")) for r in json.loads(reasons)]
    except (ValueError, AttributeError):
        return []
