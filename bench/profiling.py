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
from itertools import islice
from pathlib import Path
from typing import Any

from bench.runner import PARTY_STEPS, STAGING_STEPS, PipelineRun
from lifecycle.bootstrap import Context
from lifecycle.integration.control import digest, locate_control_file
from lifecycle.integration.read import locate
from lifecycle.integration.service import run_day
from lifecycle.integration.sources import SourcesConfig
from lifecycle.integration.stage import PARTY_ENTITIES
from lifecycle.steps import detail_of, kind_of

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
        control = (locate_control_file(spec, src_landing, as_of)
                   if spec.control is not None and spec.control.kind == "file" else None)
        control_target = None if control is None else dst_landing / control.relative_to(src_landing)
        if name != cut:
            target.symlink_to(source_path.resolve())
            if control is not None and control_target is not None:
                control_target.symlink_to(control.resolve())
            continue
        with source_path.open("rb") as fh, target.open("wb") as out:  # line-based: no field holds a newline
            lines = list(islice(fh, sample_rows + 1))
            out.writelines(lines)
        cut_rows = max(0, len(lines) - 1)
        if control_target is not None and spec.control is not None:  # the sample announces its own totals
            checksum = spec.control.checksum
            totals = str(cut_rows) if checksum == "none" else f"{cut_rows},{digest(target, checksum)}"
            control_target.write_text(totals + "\n", encoding="ascii")
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


class _ProfileTarget:
    """A :class:`~lifecycle.steps.Step` that profiles the one step ``target`` names and
    runs every other step as a plain call."""

    def __init__(self, target: Target, profiler: str) -> None:
        self.target, self.profiler = target, profiler
        self.found: tuple[float, list[str], str] | None = None

    def _is_target(self, name: str) -> bool:
        kind, detail = kind_of(name), detail_of(name)
        wanted = {"plan": ("plan", None), "stage": ("stage-source", self.target.source),
                  "quarantine": ("register-files", None), "customers": ("load-customers", None),
                  "facts": ("load-facts", self.target.source), "report": ("report", None)}[self.target.kind]
        return kind == wanted[0] and (wanted[1] is None or detail == wanted[1])

    def __call__(self, name: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        if self.found is not None or not self._is_target(name):
            return fn(*args, **kwargs)
        box: list[Any] = []
        self.found = profile_call(lambda: box.append(fn(*args, **kwargs)), self.profiler)
        return box[0]


def replay(ctx: Context, as_of: Any, target: Target, names: list[str], profiler: str) -> tuple[float, list[str], str]:
    """Run the day on ``names`` of the context's landing zone and profile ``target``'s step only."""
    steps = _ProfileTarget(target, profiler)
    run_day(ctx, as_of, only=names, flow_run_id="bench-profile", step=steps)
    if steps.found is None:
        raise RuntimeError(f"the replay never ran the step of {target.label}")
    return steps.found
