"""Run the day's integration the way the flow does, without Prefect, and time every step.

The benchmark calls :func:`lifecycle.integration.service.run_day` — the same
definition of the day the flow runs — on a context from
:func:`lifecycle.bootstrap.build_context`, passing a :class:`BenchSteps` that
times each step and records its peak memory. Step seconds come from the
timings the services record (``StagedSource.timings`` for
read/standardise/validate/stage, the customers' load's ``seconds`` for
resolve/survive/protect/load); the wrapper adds what they do not time
themselves: planning, the quarantine and gate, the fact loads and the run
report. ``other`` is the rest of the wall time (bookkeeping between steps, the
commit).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bench.machine import MemoryWatch
from lifecycle.bootstrap import Context, build_context, upgrade_stores
from lifecycle.integration.loading import FileCounts
from lifecycle.integration.service import run_day
from lifecycle.integration.stage import StagedSource
from lifecycle.privacy.keyring import Keyring, generate_keyring, write_keyring
from lifecycle.settings import Settings
from lifecycle.steps import detail_of, kind_of

# Steps of the pipeline in the order they run; the first six are the brief's stages.
STEPS = ("plan", "read", "standardise", "validate", "stage", "quarantine", "resolve", "survive", "protect", "load",
         "report", "other")
STAGING_STEPS = ("read", "standardise", "validate", "stage")
PARTY_STEPS = ("resolve", "survive", "protect")
NOT_BUILT = ("campaigns", "dispatch")


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


def run_settings(home: Path, database_url: str, landing_dir: Path, keystore_url: str | None = None) -> Settings:
    """The settings of one benchmark home; the key store is ``keystore_url`` or a SQLite
    file in the home (the embedded default)."""
    home.mkdir(parents=True, exist_ok=True)
    return Settings(home=home.resolve(), database_url=database_url, landing_dir=landing_dir.resolve(),
                    keystore_url=keystore_url or f"sqlite:///{(home / 'keystore.db').resolve()}")


def bench_keyring(home: Path) -> Keyring:
    """A development keyring kept in the home (so a replay can read what a run wrote)."""
    path = home / "dev-keyring.json"
    if not path.exists():
        write_keyring(generate_keyring(development_only=True), path)
    return Keyring.from_file(path)


def warm_up(settings: Settings) -> tuple[Context, float]:
    """Create the schemas, build the context, open the keyring and the GX context: not
    part of a daily run's steps."""
    started = time.perf_counter()
    upgrade_stores(settings)
    ctx = build_context(settings, keyring=bench_keyring(Path(settings.home)))
    _ = ctx.keyring
    _ = ctx.gate
    return ctx, time.perf_counter() - started


def with_landing(ctx: Context, landing_dir: Path) -> Context:
    """The same stores, keyring and gate, reading another landing zone (the incremental day)."""
    settings = ctx.settings.model_copy(update={"landing_dir": landing_dir.resolve()})
    return build_context(settings, engine=ctx.engine, keystore=ctx.keystore, keyring=ctx.keyring, gate=ctx.gate,
                         clock=ctx.clock, sources=ctx.sources)


def _source_timing(s: StagedSource, wall: float) -> SourceTiming:
    seconds = {k: s.timings.get(k, 0.0) for k in STAGING_STEPS}
    seconds["untimed"] = max(0.0, wall - sum(seconds.values()))  # duplicate check across chunks, concat
    return SourceTiming(s.spec.name, s.spec.entity, s.rows_read, s.rows_failed, seconds)


MEMORY_STEPS = {"stage-source": "stage {}", "register-files": "quarantine and gate", "quality-gate": None,
                "load-customers": "load customers", "load-facts": "load {}", "record-history": "record history",
                "report": "report"}
QUARANTINE_KINDS = ("quality-gate", "register-files", "record-refusal")


class BenchSteps:
    """A :class:`~lifecycle.steps.Step` that times each step into a :class:`PipelineRun`.

    Memory is measured per leaf step (``load`` encloses the loads it runs; its own
    share — registration aside — is the commit, counted in ``other``)."""

    def __init__(self, out: PipelineRun, memory: MemoryWatch) -> None:
        self.out, self.memory, self.loaded = out, memory, 0

    def __call__(self, name: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        kind, detail = kind_of(name), detail_of(name)
        label = MEMORY_STEPS.get(kind)
        started = time.perf_counter()
        with self.memory.step(label.format(detail)) if label else nullcontext():
            result = fn(*args, **kwargs)
        self._record(kind, detail, result, time.perf_counter() - started)
        return result

    def _record(self, kind: str, detail: str | None, result: Any, seconds: float) -> None:
        out = self.out
        if kind == "plan":
            out.steps["plan"] += seconds
            out.run_id = result.run_id
        elif kind == "stage-source":
            timing = _source_timing(result, seconds)
            out.sources.append(timing)
            for step in STAGING_STEPS:
                out.steps[step] += timing.seconds[step]
        elif kind in QUARANTINE_KINDS:
            out.steps["quarantine"] += seconds
        elif kind == "load-customers":
            out.customers = result
            for step in (*PARTY_STEPS, "load"):
                out.steps[step] += float(result.get("seconds", {}).get(step, 0.0))
            self.loaded += int(result.get("records", 0))
        elif kind == "load-facts":
            assert isinstance(result, FileCounts)
            next(t for t in out.sources if t.source == detail).seconds["load"] = seconds
            out.steps["load"] += seconds
            self.loaded += result.rows_loaded
        elif kind == "record-history":
            out.steps["load"] += seconds
        elif kind == "report":
            out.steps["report"] += seconds


def run_pipeline(ctx: Context, as_of: date, label: str, memory: MemoryWatch) -> PipelineRun:
    """The day's integration (plan → stage → gate → load → report), timed per step.

    ``memory``, inside its phase, records each step's peak RSS.
    """
    out = PipelineRun(label, as_of.isoformat(), "running", None)
    steps = BenchSteps(out, memory)
    started = time.perf_counter()
    try:
        result = run_day(ctx, as_of, flow_run_id=f"bench-{label}", step=steps)
        out.status = str(result.status)
    except Exception as exc:  # the report says what failed; the caller decides whether to go on
        out.status, out.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
    out.wall_seconds = time.perf_counter() - started
    out.steps["other"] = max(0.0, out.wall_seconds - sum(v for k, v in out.steps.items() if k != "other"))
    out.rows = _rows(out, steps.loaded if out.status == "succeeded" else 0)
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


DECISION_KINDS = {"plan-decisions": "plan", "features": "features", "fit-models": "models", "decide": "decide",
                  "finish-decisions": "finish"}


@dataclass
class DecisionRun:
    """The date's decisions (features → models → decide), timed per kind of step."""

    status: str = "running"
    wall_seconds: float = 0.0
    steps: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DECISION_KINDS.values(), 0.0))
    customers: int = 0
    partitions: int = 0
    model_fit_id: int | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class DecisionSteps:
    def __init__(self, out: DecisionRun, memory: MemoryWatch) -> None:
        self.out, self.memory = out, memory

    def __call__(self, name: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        kind = DECISION_KINDS.get(kind_of(name), "finish")
        started = time.perf_counter()
        with self.memory.step(f"decisions: {name}"):
            result = fn(*args, **kwargs)
        self.out.steps[kind] += time.perf_counter() - started
        return result


def run_decisions(ctx: Context, as_of: date, memory: MemoryWatch) -> DecisionRun:
    from lifecycle.decisioning.service import decide_day

    out = DecisionRun()
    started = time.perf_counter()
    try:
        result = decide_day(ctx, as_of, step=DecisionSteps(out, memory))
        out.status, out.model_fit_id = "succeeded", result.model_fit_id
        out.customers = int(str(result.summary.get("customers", 0)))
        out.partitions = int(str(result.summary.get("partitions", 0)))
    except Exception as exc:  # reported, not raised: the benchmark goes on
        out.status, out.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
    out.wall_seconds = time.perf_counter() - started
    return out
