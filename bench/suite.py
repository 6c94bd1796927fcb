"""One benchmark run at one scale: everything the report holds, in order.

1. the scale's landing data (cached) and the next day's delta;
2. the full daily run on a fresh database, then identity quality and the
   quarantine reconciliation on what it stored;
3. the incremental day on the same database;
4. the I/O floor on a fresh database of the same kind;
5. the encryption micro-benchmark;
6. the profile of the slowest stage (replayed in a scratch database);
7. the verdict and the reports.
"""

from __future__ import annotations

import shutil
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from bench import verdict
from bench.data import Extract, ensure_extract
from bench.database import Database, backend_of, discard, fresh_database
from bench.floor import load_floor
from bench.machine import MemoryWatch, load_average, machine_info, rusage_peaks
from bench.profiling import available_profiler, choose_target, needed_sources, replay, sample_landing, slowest_step
from bench.quality import identity_quality, quarantine_reconciliation
from bench.report import latest_stem, report_stem, write_report
from bench.runner import PipelineRun, run_decisions, run_pipeline, run_settings, warm_up, with_landing
from bench.scales import Scale
from lifecycle.integration.sources import SourcesConfig
from lifecycle.privacy.fields import bench_encrypt
from lifecycle.store.db import make_engine

T = TypeVar("T")
PIPELINE_PHASES = ("full run", "decisions", "incremental run")


@dataclass
class Options:
    scale: Scale
    root: Path  # var/bench: data/, runs/, reports/
    out_dir: Path  # where reports go
    database_url: str | None = None
    profile: bool = False
    profiler: str = "auto"
    keep: bool = False
    profile_step: str | None = None  # profile this step instead of the slowest
    argv: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    report: dict[str, Any]
    paths: dict[str, Path]


def _attempt(errors: dict[str, str], name: str, fn: Callable[[], T]) -> T | None:
    """Run one optional part; a failure is recorded in the report instead of ending the benchmark."""
    try:
        return fn()
    except Exception as exc:  # a benchmark reports what broke and carries on with the rest
        errors[name] = f"{type(exc).__name__}: {exc}"[:2000]
        errors[f"{name}_traceback"] = traceback.format_exc()[-4000:]
        return None


@contextmanager
def key_store(opts: Options, main: Database, work: Path, label: str) -> Iterator[str | None]:
    """On PostgreSQL, a database of its own for the key store (as in production), when the
    main one was created for the run; otherwise None (a SQLite file in the run's home)."""
    if main.backend != "postgresql" or not main.created:
        yield None
        return
    keys = fresh_database(opts.database_url, work / "keys", f"{label}_keys")
    try:
        yield keys.url
    finally:
        discard(keys, opts.database_url)


def _pipeline_runs(opts: Options, db: Database, work: Path, full: Extract, delta: Extract, memory: MemoryWatch,
                   r: dict[str, Any], errors: dict[str, str]) -> tuple[SourcesConfig, PipelineRun]:
    """Full run, its quality checks and the incremental day on one database; returns the
    sources configuration and the full run."""
    with key_store(opts, db, work, opts.scale.name) as keys:
        r["key_store"] = "SQLite file in the run's home" if keys is None else "a PostgreSQL database of its own"
        ctx, r["setup_seconds"] = warm_up(run_settings(work / "home", db.url, full.landing_dir, keys))
        r["chunk_rows"] = ctx.settings.chunk_rows
        with memory.phase("full run"):
            first: PipelineRun = run_pipeline(ctx, full.as_of, "full", memory)
        r["full_run"] = first.to_dict()
        if first.status == "succeeded":
            with memory.phase("decisions"):
                r["decisions"] = run_decisions(ctx, full.as_of, memory).to_dict()
        if first.status == "succeeded" and first.run_id:
            run_id = first.run_id
            r["identity"] = _attempt(errors, "identity", lambda: identity_quality(ctx.engine, full.truth_dir))
            r["quarantine"] = _attempt(errors, "quarantine",
                                       lambda: quarantine_reconciliation(ctx.engine, run_id, full.truth_dir))
            with memory.phase("incremental run"):
                second = run_pipeline(with_landing(ctx, delta.landing_dir), delta.as_of, "incremental", memory)
            r["incremental_run"] = second.to_dict()
        sources = ctx.sources
        ctx.dispose()
    return sources, first


def _floor(opts: Options, work: Path, full: Extract, sources: SourcesConfig, chunk_rows: int,
           memory: MemoryWatch) -> dict[str, Any]:
    db = fresh_database(opts.database_url, work / "floor", f"{opts.scale.name}_floor")
    engine = make_engine(db.url)
    try:
        with memory.phase("floor"):
            return load_floor(engine, sources, full.landing_dir, full.as_of, chunk_rows).to_dict()
    finally:
        engine.dispose()
        discard(db, opts.database_url)


def _encryption(opts: Options, memory: MemoryWatch) -> dict[str, Any]:
    with memory.phase("encryption"):
        result: dict[str, Any] = dict(bench_encrypt(opts.scale.encrypt_customers))
    result["customers"] = opts.scale.encrypt_customers
    return result


def _profile(opts: Options, work: Path, full: Extract, run: PipelineRun, stem: str) -> dict[str, Any]:
    step = opts.profile_step or slowest_step(run)
    target = choose_target(run, step)
    profiler = available_profiler(opts.profiler)
    db = fresh_database(opts.database_url, work / "profile", f"{opts.scale.name}_profile")
    landing = work / "profile-landing"
    try:
        with key_store(opts, db, work, f"{opts.scale.name}_profile") as keys:
            ctx, _ = warm_up(run_settings(work / "profile-home", db.url, landing, keys))
            names = needed_sources(target, ctx.sources)
            sample = 2 * ctx.settings.chunk_rows
            cut = target.source if target.kind in ("stage", "facts") else None
            cut_rows = sample_landing(full.landing_dir, landing, ctx.sources, names, full.as_of, cut, sample)
            seconds, top, text = replay(ctx, full.as_of, target, names, profiler)
            ctx.dispose()
    finally:
        discard(db, opts.database_url)
    path = opts.out_dir / f"{stem}.profile.txt"
    opts.out_dir.mkdir(parents=True, exist_ok=True)
    header = [f"# Profile of the slowest stage of {stem}: {step} -> replay of {target.label}",
              f"# profiler {profiler}; sources staged first: {', '.join(names)}; sample rows of the cut file: "
              f"{cut_rows if cut else 'whole files'}", ""]
    path.write_text("\n".join(header) + text + "\n", encoding="utf-8")
    rows = cut_rows if cut else sum(int(t.rows_read) for t in run.sources if t.source in names)
    return {"step": step, "step_seconds": run.steps.get(step), "target": target.label, "kind": target.kind,
            "source": target.source, "profiler": profiler, "sample_rows": rows, "seconds": seconds,
            "file": str(path), "top": top}


def _ratios(r: dict[str, Any]) -> dict[str, float | None]:
    full = (r.get("full_run") or {}).get("wall_seconds")
    incremental = (r.get("incremental_run") or {}).get("wall_seconds")
    floor = (r.get("floor") or {}).get("wall_seconds")
    ok = (r.get("full_run") or {}).get("status") == "succeeded"
    return {"pipeline_floor": full / floor if ok and full and floor else None,
            "incremental_full": incremental / full if ok and full and incremental is not None else None}


def _judge(opts: Options, r: dict[str, Any]) -> dict[str, Any]:
    ok = (r.get("full_run") or {}).get("status") == "succeeded"
    checks = verdict.judge(opts.scale.name, r["full_run"]["wall_seconds"] if ok else None,
                           r["memory"]["pipeline_peak_bytes"], r["ratios"]["pipeline_floor"],
                           r["ratios"]["incremental_full"], opts.scale.customers,
                           (r.get("decisions") or {}).get("wall_seconds"))
    return {"checks": [c.to_dict() for c in checks], "overall": verdict.overall(checks) if ok else verdict.FAIL}


def load_notes(machine: dict[str, Any], load_end: list[float] | None) -> list[str]:
    """A warning when other work shared the machine (1-minute load above half the usable cores)."""
    cores = int(machine.get("usable_cores") or 1)
    loads = [v[0] for v in (machine.get("load_average_start"), load_end) if v]
    if loads and max(loads) > cores / 2:
        return [f"The machine was shared: 1-minute load average {' → '.join(f'{v:.2f}' for v in loads)} on "
                f"{cores} cores. Timings include contention from other jobs."]
    return []


def run_scale(opts: Options) -> Outcome:
    """The whole benchmark at ``opts.scale``; writes the reports and returns them."""
    started = datetime.now()
    stamp = started.strftime("%Y%m%dT%H%M%S")
    backend = backend_of(opts.database_url)
    stem = report_stem(opts.scale.name, backend, stamp)
    errors: dict[str, str] = {}
    memory = MemoryWatch()
    r: dict[str, Any] = {"started_at": started.isoformat(timespec="seconds"), "argv": opts.argv,
                         "scale": opts.scale.to_dict(), "machine": machine_info(), "notes": [], "errors": errors}
    clock = time.perf_counter()
    full = ensure_extract(opts.root / "data", opts.scale, "full")
    delta = ensure_extract(opts.root / "data", opts.scale, "delta")
    r["data"] = {"full": full.to_dict(), "delta": delta.to_dict()}
    work = opts.root / "runs" / stem
    shutil.rmtree(work, ignore_errors=True)
    db = fresh_database(opts.database_url, work / "db", f"{opts.scale.name}_pipeline")
    r["database"] = db.describe()
    try:
        sources, first = _pipeline_runs(opts, db, work, full, delta, memory, r, errors)
    finally:
        discard(db, opts.database_url)
    chunk_rows = int(r.get("chunk_rows") or 1_000_000)
    r["floor"] = _attempt(errors, "floor", lambda: _floor(opts, work, full, sources, chunk_rows, memory))
    r["encryption"] = _attempt(errors, "encryption", lambda: _encryption(opts, memory))
    if opts.profile and first.status == "succeeded":
        r["profile"] = _attempt(errors, "profile", lambda: _profile(opts, work, full, first, stem))
        if r["profile"] is None:
            r["profile"] = {"error": errors.get("profile")}
    if not opts.keep:
        shutil.rmtree(work, ignore_errors=True)
    r["memory"] = {"method": memory.method, "phases": memory.phases, "steps": memory.steps,
                   "getrusage": rusage_peaks(),
                   "pipeline_peak_bytes": max((memory.phases.get(p, 0) for p in PIPELINE_PHASES), default=0) or None}
    r["ratios"] = _ratios(r)
    r["verdict"] = _judge(opts, r)
    r["load_average_end"] = load_average()
    r["notes"] += load_notes(r["machine"], r["load_average_end"])
    r["bench_seconds"] = time.perf_counter() - clock
    r["finished_at"] = datetime.now().isoformat(timespec="seconds")
    r["report_stem"] = stem
    paths = write_report(opts.out_dir, r, stem, latest_stem(opts.scale.name, backend))
    return Outcome(r, paths)
