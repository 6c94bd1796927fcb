"""Prefect tasks of the daily ingestion: thin wrappers around ``lifecycle.pipeline``.

None of these tasks persists its result or caches on its inputs: staged
customer frames hold plaintext PII in memory, and Prefect would otherwise
pickle them under PREFECT_HOME (and hash large frames for cache keys).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import ParamSpec, TypeVar

from prefect import Task, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from lifecycle import pipeline
from lifecycle.ingest.stage import StagedSource
from tasks.wiring import bootstrap

P = ParamSpec("P")
R = TypeVar("R")


def pii_safe_task(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A task that neither persists its result nor hashes its inputs for a cache key."""
    return task(name=name, persist_result=False, cache_policy=NO_CACHE)


@pii_safe_task("plan-run")
def plan_run(as_of: date, only: list[str] | None = None, flow_run_id: str | None = None) -> pipeline.RunPlan:
    w = bootstrap()
    plan = pipeline.plan(w.engine, w.sources, w.settings.resolved_landing_dir, as_of, flow_run_id, only)
    log = get_run_logger()
    log.info("run %s for %s: %d source file(s) to load, %d unchanged (%s)", plan.run_id, as_of,
             len(plan.files), len(plan.unchanged), ", ".join(plan.unchanged) or "none")
    return plan


@pii_safe_task("stage-source")
def stage_source(plan: pipeline.RunPlan, source: str) -> StagedSource:
    w = bootstrap()
    staged = pipeline.stage(w.engine, w.keystore, plan, w.sources, source, w.quality_gate, w.keyring,
                            Path(w.settings.home) / "staging", w.settings.chunk_rows)
    get_run_logger().info("%s: %d rows read, %d failed checks (%.2f%%, budget %.2f%%)", source, staged.rows_read,
                          staged.rows_failed, 100 * staged.error_rate, 100 * staged.spec.error_budget)
    return staged


@pii_safe_task("quality-gate")
def quality_gate(plan: pipeline.RunPlan, staged: list[StagedSource]) -> None:
    w = bootstrap()
    pipeline.quarantine_and_gate(w.engine, w.keystore, w.keyring, plan, staged)


@pii_safe_task("load-customers")
def load_customers(plan: pipeline.RunPlan, staged: list[StagedSource]) -> dict[str, object]:
    w = bootstrap()
    counts = pipeline.load_customers(w.engine, w.keystore, w.keyring, plan, staged, w.sources.identity)
    get_run_logger().info("customers: %s", counts)
    return counts


@pii_safe_task("load-facts")
def load_facts(plan: pipeline.RunPlan, staged: StagedSource) -> int:
    w = bootstrap()
    loaded = pipeline.load_facts(w.engine, w.keystore, w.keyring, plan, staged)
    get_run_logger().info("%s: %d rows loaded", staged.spec.name, loaded)
    return loaded
