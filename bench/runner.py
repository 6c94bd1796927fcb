"""Run the daily pipeline the way the flow does, without Prefect, and time every step.

The steps are :mod:`lifecycle.pipeline`'s own functions, wired by
:func:`tasks.wiring.bootstrap` exactly as the Prefect tasks wire them. Step
seconds come from the timings the pipeline records (``StagedSource.timings``
for read/standardise/validate/stage, ``load_customers(...)["seconds"]`` for
resolve/survive/protect/load); the benchmark adds only what the pipeline does
not time itself: planning, the quarantine and gate, the fact loads and the
run report. ``other`` is the rest of the wall time (bookkeeping between steps).
"""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from bench.machine import MemoryWatch
from lifecycle import pipeline, runs
from lifecycle.ingest.stage import StagedSource
from lifecycle.privacy.keyring import generate_keyring, write_keyring
from lifecycle.timing import Stopwatch
from tasks.wiring import Wiring, bootstrap, reset

# Steps of the pipeline in the order they run; the first six are the brief's stages.
STEPS = ("plan", "read", "standardise", "validate", "stage", "quarantine", "resolve", "survive", "protect", "load",
         "report", "other")
STAGING_STEPS = ("read", "standardise", "validate", "stage")
PARTY_STEPS = ("resolve", "survive", "protect")
NOT_BUILT = ("features", "decisions", "campaigns", "dispatch")


@dataclass
class SourceTiming:
    source: str
    entity: str
    rows_read: int
    rows_failed: int
    seconds: dict[str, float]  # read/standardise/validate/stage/load, plus untimed staging work

    @property
    def staging_seconds(self) -> float:
        return sum(v for k, v in self.seconds.items() if k != "load")


@dataclass
class PipelineRun:
    """One pipeline run: wall time per step and the rows each step handled."""

    label: str
    as_of: str
    status: str
    run_id: str | None
    wall_seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STEPS, 0.0))
    rows: dict[str, int] = field(default_factory=dict)
    sources: list[SourceTiming] = field(default_factory=list)
    customers: dict[str, object] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration, then restore them (and the wiring)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    reset()
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old
        reset()


def run_settings(home: Path, database_url: str, landing_dir: Path, keystore_url: str | None = None) -> dict[str, str]:
    """The LIFECYCLE_* variables of one benchmark home, with a development keyring; the key
    store is ``keystore_url`` or a SQLite file in the home (the embedded default)."""
    home.mkdir(parents=True, exist_ok=True)
    keyring = home / "dev-keyring.json"
    if not keyring.exists():
        write_keyring(generate_keyring(development_only=True), keyring)
    return {"LIFECYCLE_HOME": str(home.resolve()), "LIFECYCLE_DATABASE_URL": database_url,
            "LIFECYCLE_KEYRING_FILE": str(keyring.resolve()), "LIFECYCLE_LANDING_DIR": str(landing_dir.resolve()),
            "LIFECYCLE_KEYSTORE_URL": keystore_url or f"sqlite:///{(home / 'keystore.db').resolve()}",
            "GX_ANALYTICS_ENABLED": "False"}


def warm_up() -> tuple[Wiring, float]:
    """Bootstrap (migrations, key store) and open the GX context: not part of a daily run's steps."""
    started = time.perf_counter()
    wiring = bootstrap()
    _ = wiring.keyring
    _ = wiring.quality_gate
    return wiring, time.perf_counter() - started


def _source_timing(s: StagedSource, wall: float) -> SourceTiming:
    seconds = {k: s.timings.get(k, 0.0) for k in STAGING_STEPS}
    seconds["untimed"] = max(0.0, wall - sum(seconds.values()))  # duplicate check across chunks, concat
    return SourceTiming(s.spec.name, s.spec.entity, s.rows_read, s.rows_failed, seconds)


def stage_one(w: Wiring, plan: pipeline.RunPlan, source: str) -> StagedSource:
    """``pipeline.stage`` for one source, with the arguments the stage task passes.

    Passed by name, from what the signature asks for: the step's arguments are
    still growing (the key store arrived with quarantine release), and the
    benchmark should follow the pipeline rather than pin one version of it.
    """
    available: dict[str, object] = {
        "engine": w.engine, "keystore": w.keystore, "plan_": plan, "sources": w.sources, "source": source,
        "validator": w.quality_gate, "keyring": w.keyring, "staging_root": Path(w.settings.home) / "staging",
        "chunk_rows": w.settings.chunk_rows}
    wanted = inspect.signature(pipeline.stage).parameters
    missing = [p for p in wanted if p not in available]
    if missing:
        raise TypeError(f"the benchmark does not know how to pass {missing} to lifecycle.pipeline.stage")
    staged: StagedSource = pipeline.stage(**{p: available[p] for p in wanted})  # type: ignore[arg-type]
    return staged


def _stage_all(w: Wiring, plan: pipeline.RunPlan, out: PipelineRun, memory: MemoryWatch) -> list[StagedSource]:
    staged = []
    for name in plan.files:
        started = time.perf_counter()
        with memory.step(f"stage {name}"):
            s = stage_one(w, plan, name)
        staged.append(s)
        timing = _source_timing(s, time.perf_counter() - started)
        out.sources.append(timing)
        for step in STAGING_STEPS:
            out.steps[step] += timing.seconds[step]
    return staged


def _load(w: Wiring, plan: pipeline.RunPlan, staged: list[StagedSource], out: PipelineRun, memory: MemoryWatch) -> int:
    with memory.step("load customers"):
        out.customers = pipeline.load_customers(w.engine, w.keystore, w.keyring, plan, staged)
    seconds = out.customers.get("seconds", {})
    assert isinstance(seconds, dict)
    for step in (*PARTY_STEPS, "load"):
        out.steps[step] += float(seconds.get(step, 0.0))
    loaded = int(str(out.customers.get("records", 0)))
    by_name = {t.source: t for t in out.sources}
    for fact in pipeline.fact_order(staged):
        started = time.perf_counter()
        with memory.step(f"load {fact.spec.name}"):
            loaded += pipeline.load_facts(w.engine, w.keystore, w.keyring, plan, fact)
        seconds_fact = time.perf_counter() - started
        by_name[fact.spec.name].seconds["load"] = seconds_fact
        out.steps["load"] += seconds_fact
    return loaded


def _report(w: Wiring, plan: pipeline.RunPlan, staged: list[StagedSource], out: PipelineRun) -> None:
    """The flow's tail: the steward's report rows, the Data Docs site, the run's summary."""
    pipeline.report(w.engine, plan, staged)
    w.quality_gate.build_data_docs()
    summary: dict[str, object] = {"run_id": plan.run_id, "as_of": plan.as_of.isoformat(), "status": "succeeded",
               "sources": {s.spec.name: {"rows_read": s.rows_read, "rows_failed": s.rows_failed} for s in staged},
               "loaded": {k: v for k, v in out.customers.items() if k != "seconds"}}
    with w.engine.begin() as conn:
        runs.finish_run(conn, plan.run_id, "succeeded", summary, pipeline.now())


def run_pipeline(w: Wiring, landing_dir: Path, as_of: date, label: str, memory: MemoryWatch) -> PipelineRun:
    """plan → stage per source → quarantine and gate → load customers → load facts → report.

    ``memory``, inside its phase, records each step's peak RSS.
    """
    out = PipelineRun(label, as_of.isoformat(), "running", None)
    clock = Stopwatch(out.steps)
    started = time.perf_counter()
    try:
        with clock("plan"):
            plan = pipeline.plan(w.engine, w.sources, landing_dir, as_of, flow_run_id=f"bench-{label}")
        out.run_id = plan.run_id
        staged = _stage_all(w, plan, out, memory)
        with clock("quarantine"), memory.step("quarantine and gate"):
            pipeline.quarantine_and_gate(w.engine, w.keystore, w.keyring, plan, staged)
        loaded = _load(w, plan, staged, out, memory)
        with clock("report"), memory.step("report"):
            _report(w, plan, staged, out)
        out.status = "succeeded" if plan.files else "skipped"
    except Exception as exc:  # the report says what failed; the caller decides whether to go on
        out.status, out.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        loaded = 0
    out.wall_seconds = time.perf_counter() - started
    out.steps["other"] = max(0.0, out.wall_seconds - sum(v for k, v in out.steps.items() if k != "other"))
    out.rows = _rows(out, loaded)
    return out


def _rows(out: PipelineRun, loaded: int) -> dict[str, int]:
    read = sum(t.rows_read for t in out.sources)
    failed = sum(t.rows_failed for t in out.sources)
    party = int(str(out.customers.get("records", 0)))
    staged_facts = sum(t.rows_read - t.rows_failed for t in out.sources if t.entity not in ("individual", "corporate"))
    rows = {"plan": read, "read": read, "standardise": read, "validate": read, "stage": staged_facts,
            "quarantine": failed, "load": loaded, "report": read, "other": read}
    rows.update(dict.fromkeys(PARTY_STEPS, party))
    return rows
