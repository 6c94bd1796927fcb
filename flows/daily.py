"""The daily flow: the day's integration, then its decisions, labels and groups, the management report,
retention tasks and loyalty points, as Prefect tasks.

Composition only: :func:`lifecycle.integration.service.run_day` and
:func:`lifecycle.decisioning.service.decide_day` define the steps;
:class:`tasks.steps.PrefectSteps` makes each one a task with its retries and
timeout (customer partitions as concurrent tasks); reports become artifacts.
Deciding does not depend on new files: a day whose files were all loaded
already is still decided (after a rule change, say).
"""

from __future__ import annotations

from datetime import date, timedelta

from prefect import flow
from prefect.runtime import flow_run

from lifecycle.care.loyalty import post_day
from lifecycle.care.service import plan_retention
from lifecycle.clock import previous_day
from lifecycle.decisioning.service import decide_day
from lifecycle.integration.service import run_day
from lifecycle.reporting.from_store import write_management_report
from lifecycle.segments.service import label_day
from tasks.care import publish_ledger, publish_retention
from tasks.context import flow_context
from tasks.decisions import publish_decision_summary
from tasks.ingest import publish_run_report
from tasks.segments import publish_labels, publish_management_report
from tasks.steps import PrefectSteps


@flow(name="daily-lifecycle", log_prints=False, persist_result=False)
def daily_lifecycle(as_of: date | None = None, sources: list[str] | None = None,
                    decide: bool = True) -> dict[str, object]:
    """Integrate the landing extracts of ``as_of`` into the store, then decide the date, plan its
    retention tasks and post its loyalty points.

    Args:
        as_of: business date of the extracts (landing folder YYYY-MM-DD); default: yesterday in Asia/Shanghai.
        sources: limit the integration to these sources (default: every configured source).
        decide: decide the date after integrating it (features, stages, tiers, score, models), label it
            and refresh the customer groups, write the management report, then create its retention tasks
            and post its loyalty points (earned and expired).
    """
    ctx = flow_context()
    day = as_of or previous_day(ctx.clock)
    steps = PrefectSteps(after={"report": publish_run_report, "finish-decisions": publish_decision_summary,
                                "retention": publish_retention, "loyalty": publish_ledger,
                                "labels": publish_labels, "management-report": publish_management_report})
    summary = run_day(ctx, day, only=sources, flow_run_id=flow_run.get_id(), step=steps).summary
    if decide:
        summary["decisions"] = decide_day(ctx, day, step=steps).summary
        labelled = steps("labels", label_day, ctx, day)
        summary["labels"] = {"labels": labelled.labels, "groups": {g.code: g.members for g in labelled.groups}}
        summary["management_report"] = str(steps("management-report", write_management_report, ctx, day).path)
        result = steps("retention", plan_retention, ctx, day)
        summary["retention"] = {"created": result.created, "expired": result.expired,
                                "already_open": result.already_open}
        ledger = steps("loyalty", post_day, ctx, day)
        summary["loyalty"] = {"earned_points": ledger.earned_points, "expired_points": ledger.expired_points}
    return summary


@flow(name="decide-dates", log_prints=False, persist_result=False)
def decide_dates(start: date, end: date | None = None) -> dict[str, object]:
    """Decide every date from ``start`` to ``end`` (inclusive; default: ``start`` alone), in order:
    a back-fill after a rule change, or the first decisions of loaded history.

    Args:
        start: first as-of date to decide.
        end: last as-of date to decide (default: the start date).
    """
    ctx = flow_context()
    steps = PrefectSteps(after={"finish-decisions": publish_decision_summary})
    last = end or start
    decided: dict[str, object] = {}
    day = start
    while day <= last:
        decided[day.isoformat()] = decide_day(ctx, day, step=steps).summary
        day += timedelta(days=1)
    return decided
