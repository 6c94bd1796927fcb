"""Profile the slowest stage of a full run by replaying it on the same data.

The measured run is never profiled (a profiler changes what it measures).
Afterwards the slowest step is replayed in a scratch home and database with
only the sources it needs; a large target file is cut to a sample of
``2 × chunk_rows`` rows (chunks are uniform; two of them show any cross-chunk
cost). pyinstrument is used when installed (sampling, low overhead), else
cProfile. The summary lists the top 40 functions by cumulative time, the top
40 by own time, and the call tree.
"""

from __future__ import annotations

import cProfile
import importlib.util
import io
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from bench.runner import PARTY_STEPS, STAGING_STEPS, PipelineRun, stage_one
from lifecycle import pipeline
from lifecycle.ingest.read import locate
from lifecycle.ingest.stage import PARTY_ENTITIES, StagedSource
from lifecycle.sources import SourcesConfig
from tasks.wiring import Wiring

TOP = 40
OWNER_SOURCES = {"balance": "account", "transaction": "account"}  # entity -> entity of the owner lookup


@dataclass(frozen=True)
class Target:
    step: str
    kind: str  # stage | customers | facts | quarantine | report | plan
    source: str | None

    @property
    def label(self) -> str:
        return f"{self.kind} of {self.source}" if self.source else self.kind


def slowest_step(run: PipelineRun) -> str:
    """The step with the most wall time (``other`` is not a step of its own)."""
    steps = {k: v for k, v in run.steps.items() if k != "other"}
    return max(steps, key=lambda k: steps[k])


def choose_target(run: PipelineRun, step: str) -> Target:
    """What to replay for ``step``: the source that spent most time in it, or the customers' load."""
    if step in STAGING_STEPS:
        source = max(run.sources, key=lambda t: t.seconds.get(step, 0.0))
        return Target(step, "stage", source.source)
    if step in PARTY_STEPS:
        return Target(step, "customers", None)
    if step == "load":
        facts = [t for t in run.sources if t.entity not in PARTY_ENTITIES]
        customers_load = float(dict(run.customers.get("seconds", {}) or {}).get("load", 0.0))  # type: ignore[call-overload]
        heaviest = max(facts, key=lambda t: t.seconds.get("load", 0.0), default=None)
        if heaviest is None or customers_load >= heaviest.seconds.get("load", 0.0):
            return Target(step, "customers", None)
        return Target(step, "facts", heaviest.source)
    return Target(step, step if step in ("quarantine", "report", "plan") else "plan", None)


def needed_sources(target: Target, sources: SourcesConfig) -> list[str]:
    """The sources a replay of ``target`` must stage and load first (in config order)."""
    specs = sources.sources
    parties = [n for n, s in specs.items() if s.entity in PARTY_ENTITIES]
    if target.kind == "stage":
        return [str(target.source)]
    if target.kind == "customers":
        return parties
    if target.kind == "facts":
        entity = specs[str(target.source)].entity
        owner = OWNER_SOURCES.get(entity)
        extra = [n for n, s in specs.items() if owner and s.entity == owner]
        wanted = {*parties, *extra, str(target.source)}
        return [n for n in specs if n in wanted]
    return list(specs)


def sample_landing(src_landing: Path, dst_landing: Path, sources: SourcesConfig, names: list[str], as_of: Any,
                   cut: str | None, sample_rows: int) -> int:
    """A landing zone holding ``names``' files (links), with ``cut``'s file cut to ``sample_rows`` rows.

    Returns the rows of the cut file (or 0)."""
    cut_rows = 0
    for name in names:
        spec = sources[name]
        source_path = locate(spec, src_landing, as_of)
        target = dst_landing / source_path.relative_to(src_landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        if name != cut:
            target.symlink_to(source_path.resolve())
            continue
        with source_path.open("rb") as fh, target.open("wb") as out:  # line-based: no field holds a newline
            lines = list(islice(fh, sample_rows + 1))
            out.writelines(lines)
        cut_rows = max(0, len(lines) - 1)
    return cut_rows


def profile_call(fn: Callable[[], object], profiler: str) -> tuple[float, list[str], str]:
    """Run ``fn`` under ``profiler``; (seconds, top-by-cumulative lines, full summary text)."""
    started = time.perf_counter()
    if profiler == "pyinstrument":
        from pyinstrument import Profiler

        prof = Profiler(interval=0.001)
        prof.start()
        try:
            fn()
        finally:
            prof.stop()
        seconds = time.perf_counter() - started
        cumulative = [ln for ln in prof.output_text(flat=True, flat_time="total").splitlines() if ln[:1].isdigit()]
        own = [ln for ln in prof.output_text(flat=True, flat_time="self").splitlines() if ln[:1].isdigit()]
        text = "\n".join([f"# Top {TOP} by cumulative time (seconds, function, file)", *cumulative[:TOP], "",
                          f"# Top {TOP} by own time", *own[:TOP], "", "# Call tree",
                          prof.output_text(show_all=False)])
        return seconds, cumulative[:TOP], text
    prof_c = cProfile.Profile()
    prof_c.enable()
    try:
        fn()
    finally:
        prof_c.disable()
    seconds = time.perf_counter() - started
    stream = io.StringIO()
    stats = pstats.Stats(prof_c, stream=stream)
    stats.sort_stats("cumulative").print_stats(TOP)
    stats.sort_stats("tottime").print_stats(TOP)
    text = stream.getvalue()
    lines = [ln for ln in text.splitlines() if ln.strip()[:1].isdigit()]
    return seconds, lines[:TOP], text


def available_profiler(requested: str = "auto") -> str:
    if requested != "auto":
        return requested
    return "pyinstrument" if importlib.util.find_spec("pyinstrument") else "cprofile"


def replay(w: Wiring, landing_dir: Path, as_of: Any, target: Target, names: list[str],
           profiler: str) -> tuple[float, list[str], str]:
    """Run the pipeline on ``names`` of ``landing_dir`` up to ``target`` and profile that call only."""
    def make_plan() -> pipeline.RunPlan:
        return pipeline.plan(w.engine, w.sources, landing_dir, as_of, flow_run_id="bench-profile", only=names)

    if target.kind == "plan":
        return profile_call(make_plan, profiler)
    plan = make_plan()
    staged: list[StagedSource] = []
    for name in plan.files:
        if target.kind == "stage" and name == target.source:
            return profile_call(partial(stage_one, w, plan, name), profiler)
        staged.append(stage_one(w, plan, name))

    def gate() -> None:
        pipeline.quarantine_and_gate(w.engine, w.keystore, w.keyring, plan, staged)

    if target.kind == "quarantine":
        return profile_call(gate, profiler)
    gate()

    def customers() -> dict[str, object]:
        return pipeline.load_customers(w.engine, w.keystore, w.keyring, plan, staged)

    if target.kind == "customers":
        return profile_call(customers, profiler)
    customers()
    for fact in pipeline.fact_order(staged):
        if target.kind == "facts" and fact.spec.name == target.source:
            return profile_call(partial(pipeline.load_facts, w.engine, w.keystore, w.keyring, plan, fact), profiler)
        pipeline.load_facts(w.engine, w.keystore, w.keyring, plan, fact)

    def report() -> None:
        pipeline.report(w.engine, plan, staged)
        w.quality_gate.build_data_docs()

    return profile_call(report, profiler)
