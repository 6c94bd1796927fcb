"""The daily flow: the day's integration as Prefect tasks.

Composition only: :func:`lifecycle.integration.service.run_day` defines the
steps; :class:`tasks.steps.PrefectSteps` makes each one a task with its
retries and timeout; the run report becomes artifacts.
"""

from __future__ import annotations

from datetime import date

from prefect import flow
from prefect.runtime import flow_run

from lifecycle.clock import previous_day
from lifecycle.integration.service import run_day
from tasks.context import flow_context
from tasks.ingest import publish_run_report
from tasks.steps import PrefectSteps


@flow(name="daily-lifecycle", log_prints=False, persist_result=False)
def daily_lifecycle(as_of: date | None = None, sources: list[str] | None = None) -> dict[str, object]:
    """Integrate the landing extracts of ``as_of`` into the store.

    Args:
        as_of: business date of the extracts (landing folder YYYY-MM-DD); default: yesterday in Asia/Shanghai.
        sources: limit the run to these sources (default: every configured source).
    """
    ctx = flow_context()
    day = as_of or previous_day(ctx.clock)
    steps = PrefectSteps(after={"report": publish_run_report})
    return run_day(ctx, day, only=sources, flow_run_id=flow_run.get_id(), step=steps).summary
