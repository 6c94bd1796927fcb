"""The daily lifecycle flow: integrate the day's extracts behind the quality gate.

    plan → stage (read, standardise, validate) per source → quarantine + gate
         → load customers (identity, golden record, encryption) → load facts
         → report

Later stages (features, decisions, campaigns, dispatch) slot in after the
loads. Re-running a day whose files were already loaded changes nothing.
"""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from lifecycle import pipeline
from tasks.ingest import load_customers, load_facts, plan_run, quality_gate, stage_source
from tasks.reporting import finish_run, publish_run_report


@flow(name="daily-lifecycle", log_prints=False, persist_result=False)
def daily_lifecycle(as_of: date, sources: list[str] | None = None) -> dict[str, object]:
    """Integrate the landing extracts of ``as_of`` into the store.

    Args:
        as_of: business date of the extracts (landing folder YYYY-MM-DD).
        sources: limit the run to these sources (default: every configured source).
    """
    plan = plan_run(as_of, sources, flow_run.get_id())
    log = get_run_logger()
    if not plan.files:
        log.info("every extract of %s is already loaded: nothing to do", as_of)
        return finish_run(plan, [], {}, status="skipped")
    staged = []
    try:
        staged = [stage_source(plan, name) for name in plan.files]
        quality_gate(plan, staged)
        counts: dict[str, object] = {"customers": load_customers(plan, staged)}
        for fact in pipeline.fact_order(staged):
            counts[fact.spec.name] = load_facts(plan, fact)
    except Exception as exc:
        finish_run(plan, staged, {}, status="failed", error=str(exc))
        if staged:  # stewards need the report and Data Docs of a refused run most of all
            try:
                publish_run_report(plan, staged)
            except Exception:  # never hide why the run failed
                log.exception("the run report of the failed run could not be published")
        raise
    summary = finish_run(plan, staged, counts, status="succeeded")
    publish_run_report(plan, staged)
    return summary
