"""The first steps of a day: plan the run, stage each source, judge the quality gate.

Nothing here writes data to the store: planning commits only the run's own
row (so operators see it running), staging writes Parquet parts to the run's
staging folder, and the gate is a verdict over what staging found.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from lifecycle.errors import ConfigError, LifecycleError, SourceError
from lifecycle.integration import bookkeeping, quarantine
from lifecycle.integration.control import check_stable, check_unchanged, check_volume
from lifecycle.integration.extract_sql import extract_sql
from lifecycle.integration.facts import OWNER_RULE, owner_reference
from lifecycle.integration.ports import IntegrationContext
from lifecycle.integration.prepare import references_of
from lifecycle.integration.read import LandingFile, inspect_file, locate
from lifecycle.integration.stage import StagedSource, budget_rate, stage_source

log = logging.getLogger(__name__)


class QualityGateError(LifecycleError):
    """One or more sources are over their error budget; nothing was loaded."""


@dataclass(frozen=True)
class RunPlan:
    run_id: str
    as_of: date
    files: dict[str, LandingFile]  # sources to load in this run
    unchanged: tuple[str, ...] = ()  # same file already loaded
    interrupted: tuple[str, ...] = ()  # earlier runs found dead ("running") and closed

    @property
    def run_name(self) -> str:
        return validation_run_name(self.as_of, self.run_id)


def validation_run_name(as_of: date, run_id: str) -> str:
    """The name a run's validations (and their Data Docs pages) carry."""
    return f"{as_of}-{run_id[:8]}"


@dataclass(frozen=True)
class GateVerdict:
    over_budget: tuple[str, ...]  # sources over their error budget
    message: str | None  # for the refusal: source, file, rate and budget of each

    @property
    def refused(self) -> bool:
        return bool(self.over_budget)


def staging_root(ctx: IntegrationContext) -> Path:
    return Path(ctx.settings.home) / "staging"


def staging_dir(ctx: IntegrationContext, run_id: str) -> Path:
    return staging_root(ctx) / run_id


def plan_day(ctx: IntegrationContext, as_of: date, only: list[str] | None = None,
             flow_run_id: str | None = None) -> RunPlan:
    """Locate every source's file for ``as_of`` (unreadable ones fail here, clearly),
    close runs that died, leave out files already loaded, and start the run."""
    landing_dir = ctx.settings.resolved_landing_dir
    unknown = sorted(set(only or ()) - set(ctx.sources.sources))
    if unknown:
        raise ConfigError(f"unknown source(s) {', '.join(unknown)}; configured: "
                             f"{', '.join(ctx.sources.sources)}")
    files = {}
    for name, spec in ctx.sources.sources.items():
        if (only and name not in only) or spec.entity == "reference":  # a reference is read where it is joined
            continue
        try:
            path = extract_sql(spec, landing_dir, as_of) if spec.sql else locate(spec, landing_dir, as_of)
        except SourceError as exc:
            if not (spec.optional and exc.rule == "file_present"):
                raise
            log.info("source %s is optional and has no extract for %s", name, as_of)
            continue
        if not spec.sql:  # an SQL extract was written just now, by this run
            check_stable(spec, path, datetime.now(UTC))  # file times are wall-clock times
        landing = inspect_file(spec, path, landing_dir, as_of)
        if landing.absent:
            log.warning("source %s: optional column(s) %s absent from %s; read as empty", name,
                        ", ".join(landing.absent), path.name)
        files[name] = landing
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        interrupted = bookkeeping.interrupt_stale_runs(conn, now)
        unchanged = [name for name, landing in files.items()
                     if bookkeeping.already_loaded(conn, name, as_of, landing.sha256)]
        run_id = bookkeeping.start_run(conn, as_of, flow_run_id, now)
    _remove_leftover_staging(ctx, keep=run_id)
    return RunPlan(run_id, as_of, {n: f for n, f in files.items() if n not in unchanged}, tuple(unchanged),
                   tuple(interrupted))


def _remove_leftover_staging(ctx: IntegrationContext, keep: str) -> None:
    """Staging folders of earlier runs: a run that died could not remove its own."""
    root = staging_root(ctx)
    if root.is_dir():
        for folder in root.iterdir():
            if folder.name != keep:
                shutil.rmtree(folder, ignore_errors=True)


def remove_staging(ctx: IntegrationContext, run_id: str) -> None:
    shutil.rmtree(staging_dir(ctx, run_id), ignore_errors=True)


def stage(ctx: IntegrationContext, plan: RunPlan, source: str) -> StagedSource:
    """Read, standardise and validate one source's file and its released quarantine rows;
    a SourceError when its row count is off (control totals, minimum, volume against the
    previous load) or the file changed while it was read."""
    spec = ctx.sources[source]
    landing = plan.files[source]
    with ctx.engine.connect() as conn:
        released = quarantine.released_rows(conn, ctx.keystore, ctx.keyring, spec, ctx.clock.now())
        previous = bookkeeping.previous_rows(conn, source, plan.as_of)
    references = references_of(spec, ctx.sources, ctx.settings.resolved_landing_dir, plan.as_of)
    staged = stage_source(spec, landing, plan.as_of, ctx.gate, keyring=ctx.keyring,
                          staging_dir=staging_dir(ctx, plan.run_id), run_name=plan.run_name,
                          chunk_rows=ctx.settings.chunk_rows, released=released, references=references)
    check_volume(spec, landing.path, staged.file_rows, previous)
    check_unchanged(landing.path, landing.size, landing.mtime_ns)
    return staged


REFUSAL_PREFIX = "quality gate refused"  # how a refusal's message begins (the run report tells refusals by it)


def judge(staged: list[StagedSource], orphaned: Mapping[str, int] | None = None) -> GateVerdict:
    """The quality gate's verdict: the run is refused if any source is over its error budget.

    ``orphaned`` (known once the day's load has run, inside its transaction): per fact source,
    its file's rows whose owner was not loaded; they count against the budget like rows the
    checks rejected."""
    orphaned = orphaned or {}
    rates = {s.spec.name: budget_rate(s.rows_read - s.rows_skipped, s.rows_failed + orphaned.get(s.spec.name, 0),
                                      s.rows_released,
                                      s.rows_failed_again) for s in staged}
    over = [s for s in staged if rates[s.spec.name] > s.spec.error_budget]
    if not over:
        return GateVerdict((), None)

    def failed(s: StagedSource) -> str:
        text = (f"{s.rows_failed - s.rows_failed_again + orphaned.get(s.spec.name, 0)} of "
                f"{s.rows_read - s.rows_released - s.rows_skipped} rows failed ({rates[s.spec.name]:.2%}) > "
                f"error budget {s.spec.error_budget:.2%}")
        if orphaned.get(s.spec.name):
            reference = owner_reference(s.spec) or "owner"
            text += (f", {orphaned[s.spec.name]} of them without a loaded owner ({OWNER_RULE}: "
                     f"{s.spec.source_column(reference)})")
        return text

    detail = "; ".join(f"source {s.spec.name} ({s.file.path.name}): {failed(s)}" for s in over)
    return GateVerdict(tuple(s.spec.name for s in over), f"{REFUSAL_PREFIX} the run, nothing was loaded: {detail}")
