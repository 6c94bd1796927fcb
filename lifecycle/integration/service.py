"""The day's integration, defined once: :func:`run_day`.

    plan → stage each source → quality gate → load (one transaction) → report

The Prefect flow, the command line, the benchmark and the tests all call this
function; they differ only in the :class:`~lifecycle.steps.Step` they pass
(tasks, a timer, or plain calls). Guarantees:

* **All or nothing.** Nothing of a run is loaded unless all of it is: the load is
  one transaction (:mod:`lifecycle.integration.loading`). A refused run keeps
  only its quarantine for the stewards.
* **Idempotent.** A file already loaded for its source and day is left out; a day
  whose every file is loaded is ``skipped``.
* **Resumable after a kill.** A run whose process died is closed as
  ``interrupted`` by the next run; its staging folder is removed; a run that
  committed but died before writing its report gets its report from the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from lifecycle.integration import bookkeeping
from lifecycle.integration.loading import LoadResult, load_day, record_failure, record_refusal, summary
from lifecycle.integration.planning import QualityGateError, RunPlan, judge, plan_day, remove_staging, stage
from lifecycle.integration.ports import IntegrationContext
from lifecycle.integration.report import WrittenReport, unreported_runs, write_report
from lifecycle.integration.stage import StagedSource
from lifecycle.status import RunStatus
from lifecycle.steps import Step, direct

log = logging.getLogger(__name__)

__all__ = ["DayResult", "QualityGateError", "SourceStats", "run_day"]


@dataclass(frozen=True)
class SourceStats:
    """What staging found in one source (no data: counts and timings)."""

    source: str
    entity: str
    rows_read: int
    rows_failed: int
    timings: dict[str, float]


@dataclass(frozen=True)
class DayResult:
    run_id: str
    as_of: date
    status: RunStatus
    summary: dict[str, object]
    sources: list[SourceStats] = field(default_factory=list)
    load: LoadResult | None = None
    report: WrittenReport | None = None


def _stats(staged: list[StagedSource]) -> list[SourceStats]:
    return [SourceStats(s.spec.name, s.spec.entity, s.rows_read, s.rows_failed, dict(s.timings)) for s in staged]


def finish_skipped(ctx: IntegrationContext, plan: RunPlan) -> dict[str, object]:
    result = summary(plan, [], RunStatus.SKIPPED)
    with ctx.engine.begin() as conn:
        if bookkeeping.run_status(conn, plan.run_id) != RunStatus.SKIPPED:  # not committed by an earlier attempt
            bookkeeping.finish_run(conn, plan.run_id, RunStatus.SKIPPED, result, ctx.clock.now())
    return result


def run_day(ctx: IntegrationContext, as_of: date, *, only: list[str] | None = None,
            flow_run_id: str | None = None, step: Step = direct) -> DayResult:
    """Integrate the landing extracts of ``as_of`` (or of the sources in ``only``).

    Raises :class:`QualityGateError` when a source is over its error budget — rows the
    checks rejected and, found by the load, rows whose owner was not loaded — (nothing
    loaded; its quarantine and report kept), and any other error after recording the
    run as failed (nothing loaded).
    """
    plan = step("plan", plan_day, ctx, as_of, only, flow_run_id)
    for earlier in unreported_runs(ctx):  # committed by a process that died before reporting
        if earlier != plan.run_id:
            step(f"report:{earlier[:8]}", write_report, ctx, earlier)
    if not plan.files:
        return DayResult(plan.run_id, as_of, RunStatus.SKIPPED, step("finish-run", finish_skipped, ctx, plan))
    staged: list[StagedSource] = []
    try:
        staged = [step(f"stage-source:{name}", stage, ctx, plan, name) for name in plan.files]
        verdict = step("quality-gate", judge, staged)
        if verdict.refused:
            step("record-refusal", record_refusal, ctx, plan, staged, verdict)
            raise QualityGateError(verdict.message)
        loaded = step("load", load_day, ctx, plan, staged, step)
    except Exception as exc:
        if not isinstance(exc, QualityGateError):
            try:
                step("record-failure", record_failure, ctx, plan, staged, f"{type(exc).__name__}: {exc}")
            except Exception:  # the database may be what failed: the next run closes this one
                log.exception("run %s could not be recorded as failed", plan.run_id)
        if staged:  # stewards need the report and Data Docs of a refused run most of all
            try:
                step("report", write_report, ctx, plan.run_id)
            except Exception:  # never hide why the run failed
                log.exception("the report of the failed run %s could not be written", plan.run_id)
        raise
    finally:
        remove_staging(ctx, plan.run_id)
    report = step("report", write_report, ctx, plan.run_id)
    return DayResult(plan.run_id, as_of, RunStatus.SUCCEEDED, summary(plan, staged, RunStatus.SUCCEEDED,
                     {"customers": {k: v for k, v in loaded.customers.items() if k != "seconds"}, **loaded.facts},
                     loaded.orphaned), _stats(staged), loaded, report)
