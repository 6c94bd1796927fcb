"""Customer 360 for ``bank-lifecycle customer show``: every section from the store, masked.

Sections: the latest decision with its reasons, stage history, key features,
labels, groups, the contact timeline (the interactions extract: every call,
visit, message, email, survey and complaint with its channel and outcome), open
complaints with their status, service-level due date and overdue flag, retention tasks and
the messages sent or queued (kind, channel, status — never their content).
Nothing here decrypts: PII appears only through ``--reveal``.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Connection, select

from lifecycle.complaints import unresolved
from lifecycle.segments.groups import customer_groups
from lifecycle.segments.service import labels_of
from lifecycle.store.complaints import customer_complaints
from lifecycle.store.models import (
    CustomerDecision,
    CustomerFeatures,
    Feedback,
    Interaction,
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


def _timeline(conn: Connection, customer_id: int) -> list[str]:
    """The latest contacts, newest first: kind, channel, outcome; a survey's score and a
    complaint's status move with its case."""
    t, f = Interaction.__table__, Feedback.__table__
    rows = conn.execute(select(t.c.interaction_time, t.c.kind, t.c.channel, t.c.outcome, t.c.case_ref,
                               t.c.complaint_status, t.c.campaign_code, f.c.nps_score, f.c.category)
                        .outerjoin(f, f.c.feedback_id == t.c.case_ref).where(t.c.customer_id == customer_id)
                        .order_by(t.c.interaction_time.desc(), t.c.interaction_id.desc()).limit(LIMIT)).all()
    out = []
    for r in rows:
        detail = [r.outcome or "-"]
        if r.kind == "SURVEY" and r.nps_score is not None:
            detail.append(f"NPS {r.nps_score}")
        if r.kind == "COMPLAINT":
            detail.append(f"{r.case_ref} {r.complaint_status}" + (f" ({r.category})" if r.category else ""))
        if r.campaign_code:
            detail.append(f"campaign {r.campaign_code}")
        out.append(f"{r.interaction_time:%Y-%m-%d %H:%M}  {r.kind.lower():<9} {r.channel or '-':<7} "
                   + ", ".join(detail))
    return out


def _open_complaints(conn: Connection, customer_id: int, day: date, sla_days: int) -> list[str]:
    """Unresolved complaints on ``day`` with their status, due date and whether overdue."""
    states = unresolved(customer_complaints(conn, customer_id, day, sla_days))
    return [f"{r.case_ref}  opened {r.opened_on}  {r.category or '-'} ({r.severity or '-'}) {r.status}, "
            f"due {r.due_on}" + ("  OVERDUE" if r.overdue else "") for r in states.itertuples()]


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


def render_360(conn: Connection, customer_id: int, *, complaint_overdue_days: int, today: date) -> str:
    """Every section for one customer; complaints as of ``today`` (the bank's date)."""
    labels = [f"{r['dimension']:<15} {r['label']:<17} {r['value']}" for r in labels_of(conn, customer_id)]
    groups = [f"{g['name_zh']} / {g['name_en']}: joined {g['joined_on']}"
              + (f", left {g['left_on']} ({g['leave_reason']})" if g["left_on"] else "")
              for g in customer_groups(conn, customer_id)]
    return "".join([
        _section("decision", _decision(conn, customer_id)),
        _section("stage history", _stages(conn, customer_id)),
        _section("features", _features(conn, customer_id)),
        _section("labels", labels),
        _section("groups", groups),
        _section("timeline", _timeline(conn, customer_id)),
        _section("open complaints", _open_complaints(conn, customer_id, today, complaint_overdue_days)),
        _section("retention tasks", _tasks(conn, customer_id)),
        _section("messages", _messages(conn, customer_id)),
    ])
