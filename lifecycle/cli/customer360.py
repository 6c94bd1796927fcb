"""Customer 360 for ``bank-lifecycle customer show``: every section from the store, masked.

Sections: the latest decision with its reasons, stage history, key features,
labels, groups, the contact timeline (surveys and complaints from the feedback
extract), open complaints with their service-level due date, retention tasks and
the messages sent or queued (kind, channel, status — never their content).
Nothing here decrypts: PII appears only through ``--reveal``.
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import Connection, select

from lifecycle.segments.groups import customer_groups
from lifecycle.segments.service import labels_of
from lifecycle.store.models import (
    CustomerDecision,
    CustomerFeatures,
    Feedback,
    OutboxMessage,
    RetentionTask,
    StageTransition,
)

FEATURES = ("aum", "aum_change_90d", "deposit_balance", "wealth_balance", "loan_outstanding", "products_held",
            "txn_count_90d", "txn_recency_days", "card_spend_365d", "digital_logins_90d", "max_overdue_days",
            "complaints_90d", "nps_latest", "profitability")
LIMIT = 10


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and value == 0:
        return "0"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4f}"
    return str(value)


def _section(title: str, lines: list[str]) -> str:
    return f"\n{title}\n" + ("".join(f"    {line}\n" for line in lines) if lines else "    (none)\n")


def _decision(conn: Connection, customer_id: int) -> list[str]:
    row = conn.execute(select(CustomerDecision).where(CustomerDecision.customer_id == customer_id)
                       .order_by(CustomerDecision.as_of.desc()).limit(1)).first()
    if row is None:
        return []
    d = row
    reasons = json.loads(d.reasons)
    out = [f"as of {d.as_of}: stage {d.lifecycle_stage}, value {d.value_tier}, risk {d.risk_tier}, "
           f"need {d.need_tier}, score {_fmt(d.composite_score)}, P(active) {_fmt(d.p_active)}, CLV {_fmt(d.clv)}"]
    for key in ("lifecycle_stage", "value_tier", "risk_tier"):
        rules = ", ".join(str(r.get("rule")) for r in reasons.get(key, []))
        if rules:
            out.append(f"{key} because: {rules}")
    return out


def _features(conn: Connection, customer_id: int) -> list[str]:
    f = CustomerFeatures.__table__
    row = conn.execute(select(f.c.as_of, *[f.c[c] for c in FEATURES]).where(f.c.customer_id == customer_id)
                       .order_by(f.c.as_of.desc()).limit(1)).first()
    if row is None:
        return []
    m = row._mapping
    return [f"as of {m['as_of']}"] + [f"{c:<20} {_fmt(m[c])}" for c in FEATURES]


def _stages(conn: Connection, customer_id: int) -> list[str]:
    rows = conn.execute(select(StageTransition.as_of, StageTransition.from_stage, StageTransition.to_stage,
                               StageTransition.reasons).where(StageTransition.customer_id == customer_id)
                        .order_by(StageTransition.as_of.desc()).limit(LIMIT)).all()
    return [f"{r.as_of}  {r.from_stage or '(first)'} -> {r.to_stage}  "
            f"({', '.join(str(x.get('rule')) for x in json.loads(r.reasons)) or '-'})" for r in rows]


def _timeline(conn: Connection, customer_id: int, overdue_days: int) -> tuple[list[str], list[str]]:
    rows = conn.execute(select(Feedback.feedback_date, Feedback.kind, Feedback.category, Feedback.severity,
                               Feedback.status, Feedback.nps_score).where(Feedback.customer_id == customer_id)
                        .order_by(Feedback.feedback_date.desc())).all()
    timeline, complaints = [], []
    for r in rows[:LIMIT]:
        detail = f"NPS {r.nps_score}" if r.kind == "SURVEY" else f"{r.category or '-'}, {r.severity or '-'}, " \
                                                                  f"{(r.status or 'OPEN').lower()}"
        timeline.append(f"{r.feedback_date}  {r.kind.lower():<9} {detail}")
    for r in rows:
        if r.kind == "COMPLAINT" and (r.status or "OPEN") not in ("RESOLVED", "CLOSED"):
            due = r.feedback_date + timedelta(days=overdue_days)
            complaints.append(f"{r.feedback_date}  {r.category or '-'} ({r.severity or '-'}), due {due}")
    return timeline, complaints


def _tasks(conn: Connection, customer_id: int) -> list[str]:
    rows = conn.execute(select(RetentionTask.as_of, RetentionTask.trigger, RetentionTask.priority,
                               RetentionTask.suggested_action, RetentionTask.assignee, RetentionTask.due_date,
                               RetentionTask.status).where(RetentionTask.customer_id == customer_id)
                        .order_by(RetentionTask.as_of.desc()).limit(LIMIT)).all()
    return [f"{r.as_of}  {r.priority} {r.trigger} -> {r.suggested_action}, {r.assignee}, due {r.due_date}, "
            f"{r.status}" for r in rows]


def _messages(conn: Connection, customer_id: int) -> list[str]:
    rows = conn.execute(select(OutboxMessage.as_of, OutboxMessage.kind, OutboxMessage.channel,
                               OutboxMessage.status, OutboxMessage.sent_at)
                        .where(OutboxMessage.customer_id == customer_id)
                        .order_by(OutboxMessage.as_of.desc(), OutboxMessage.id.desc()).limit(LIMIT)).all()
    return [f"{r.as_of}  {r.kind} via {r.channel}: {r.status}" + (f" at {r.sent_at}" if r.sent_at else "")
            for r in rows]


def render_360(conn: Connection, customer_id: int, *, complaint_overdue_days: int) -> str:
    labels = [f"{r['dimension']:<15} {r['label']:<17} {r['value']}" for r in labels_of(conn, customer_id)]
    groups = [f"{g['name_zh']} / {g['name_en']}: joined {g['joined_on']}"
              + (f", left {g['left_on']} ({g['leave_reason']})" if g["left_on"] else "")
              for g in customer_groups(conn, customer_id)]
    timeline, complaints = _timeline(conn, customer_id, complaint_overdue_days)
    return "".join([
        _section("decision", _decision(conn, customer_id)),
        _section("stage history", _stages(conn, customer_id)),
        _section("features", _features(conn, customer_id)),
        _section("labels", labels),
        _section("groups", groups),
        _section("timeline", timeline),
        _section("open complaints", complaints),
        _section("retention tasks", _tasks(conn, customer_id)),
        _section("messages", _messages(conn, customer_id)),
    ])
