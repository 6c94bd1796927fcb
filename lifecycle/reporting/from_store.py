"""The management report's figures counted in the store for one decided date.

* value tiers and the lifecycle funnel: the decisions of the date;
* stage transitions: each customer's stage at the previous decided date (rows)
  against this date (columns) — customers decided on both dates;
* customer groups: members on the date and on the previous decided date, by the
  group's checked Chinese name;
* complaint backlog: complaints not resolved on the date (open or in progress,
  from the complaint machine: :mod:`lifecycle.store.complaints`), by status and
  age (days since opened), overdue past the service level.

Counts only (aggregated in SQL, or from case references and statuses), so no PII
can reach the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import pandas as pd
from sqlalchemy import Connection, func, select

from lifecycle.care.context import CareContext
from lifecycle.complaints import UNRESOLVED, unresolved
from lifecycle.decisioning.rules import STAGES, VALUE_TIERS
from lifecycle.reporting.figures import (
    ComplaintBacklog,
    ComplaintStatusRow,
    CustomerGroups,
    FunnelStage,
    GroupSize,
    LifecycleFunnel,
    ManagementReport,
    StageTransitionMatrix,
    TierCount,
    ValueTierDistribution,
)
from lifecycle.segments.groups import group_sizes
from lifecycle.settings import Settings
from lifecycle.store.complaints import complaints_as_of
from lifecycle.store.models import CustomerDecision, CustomerGroup

AGE_BUCKETS: tuple[tuple[str, int | None], ...] = (("0–7 天", 8), ("8–15 天", 16), ("16–30 天", 31),
                                                   ("30 天以上", None))


class ReportContext(CareContext, Protocol):
    @property
    def settings(self) -> Settings: ...


@dataclass(frozen=True)
class ReportResult:
    report: ManagementReport
    path: Path


def previous_decided(conn: Connection, day: date) -> date | None:
    d = CustomerDecision.__table__
    return conn.execute(select(func.max(d.c.as_of)).where(d.c.as_of < day)).scalar()


def _counts(conn: Connection, column: str, day: date) -> dict[str, int]:
    d = CustomerDecision.__table__
    rows = conn.execute(select(d.c[column], func.count()).where(d.c.as_of == day).group_by(d.c[column])).all()
    return {str(k): int(n) for k, n in rows}


def _transitions(conn: Connection, day: date, previous: date | None) -> StageTransitionMatrix:
    pairs: dict[tuple[str, str], int] = {}
    if previous is not None:
        now = CustomerDecision.__table__.alias("now")
        before = CustomerDecision.__table__.alias("before")
        rows = conn.execute(select(before.c.lifecycle_stage, now.c.lifecycle_stage, func.count())
                            .join(before, before.c.customer_id == now.c.customer_id)
                            .where(now.c.as_of == day, before.c.as_of == previous)
                            .group_by(before.c.lifecycle_stage, now.c.lifecycle_stage)).all()
        pairs = {(str(a), str(b)): int(n) for a, b, n in rows}
    return StageTransitionMatrix.from_pairs(STAGES, pairs)


def _groups(conn: Connection, day: date, previous: date | None) -> CustomerGroups:
    names = {str(c): str(n) for c, n in conn.execute(select(CustomerGroup.code, CustomerGroup.name_zh))}
    now, before = group_sizes(conn, day), group_sizes(conn, previous) if previous else {}
    return CustomerGroups(tuple(GroupSize(str(names[code]), now.get(code, 0),
                                          before.get(code) if previous else None)
                                for code in sorted(names) if code in now or code in before))


def _complaints(conn: Connection, day: date, overdue_days: int) -> ComplaintBacklog:
    """Unresolved complaints on ``day`` by status (open, in progress) and age since opened;
    overdue: past the service-level due date (the complaint machine's states)."""
    rows = unresolved(complaints_as_of(conn, day, overdue_days))
    labels = [b for b, _ in AGE_BUCKETS]
    if rows.empty:
        return ComplaintBacklog(tuple(labels), ())
    age = (pd.Timestamp(day) - pd.to_datetime(rows["opened_on"])).dt.days
    bucket = pd.Series(len(AGE_BUCKETS) - 1, index=rows.index)
    for i, (_, below) in reversed(list(enumerate(AGE_BUCKETS))):
        if below is not None:
            bucket[age < below] = i
    rows = rows.assign(bucket=bucket)
    out = []
    for status in UNRESOLVED:
        mine = rows[rows["status"] == status]
        if mine.empty:
            continue
        counts = mine["bucket"].value_counts()
        out.append(ComplaintStatusRow(str(status), tuple(int(counts.get(i, 0)) for i in range(len(labels))),
                                      int(mine["overdue"].sum())))
    return ComplaintBacklog(tuple(labels), tuple(out))


def management_report(conn: Connection, day: date, *, title: str, generated_at: datetime,
                      complaint_overdue_days: int) -> ManagementReport:
    previous = previous_decided(conn, day)
    tiers, stages = _counts(conn, "value_tier", day), _counts(conn, "lifecycle_stage", day)
    return ManagementReport(
        title=title, as_of=day, previous_as_of=previous, generated_at=generated_at,
        value_tiers=ValueTierDistribution(tuple(TierCount(t, tiers.get(t, 0)) for t in VALUE_TIERS)),
        funnel=LifecycleFunnel(tuple(FunnelStage(s, stages.get(s, 0)) for s in STAGES)),
        transitions=_transitions(conn, day, previous),
        groups=_groups(conn, day, previous),
        complaints=_complaints(conn, day, complaint_overdue_days))


def write_management_report(ctx: ReportContext, day: date) -> ReportResult:
    """Count the date's figures and write ``<reports>/management-<date>.html`` (replaced on a re-run)."""
    from lifecycle.reporting.html import write_report

    with ctx.engine.connect() as conn:
        report = management_report(conn, day, title="客户生命周期管理报告", generated_at=ctx.clock.now(),
                                   complaint_overdue_days=ctx.care_rules.rules.retention.triggers.complaint_overdue_days)
    path = write_report(report, ctx.settings.resolved_reports_dir / f"management-{day.isoformat()}.html")
    return ReportResult(report, path)
