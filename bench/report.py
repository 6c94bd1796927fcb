"""Benchmark reports: one JSON document, rendered as Markdown, written with a ``latest`` copy.

The JSON is the record (every number the Markdown shows, and more); the
Markdown is for people: the tables and the verdict against the targets of
:mod:`bench.verdict`.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.runner import NOT_BUILT, STEPS

STEP_NOTES = {
    "plan": "locate files, SHA-256, encoding (bench timer)",
    "read": "StagedSource.timings",
    "standardise": "StagedSource.timings",
    "validate": "StagedSource.timings (GX)",
    "stage": "StagedSource.timings (fact parts to Parquet)",
    "quarantine": "quarantine_and_gate (bench timer)",
    "resolve": "PartyLoadResult.timings",
    "survive": "PartyLoadResult.timings",
    "protect": "PartyLoadResult.timings",
    "load": "PartyLoadResult.timings + load_facts (bench timer)",
    "report": "run report, Data Docs, run summary (bench timer)",
    "other": "wall time not in a step",
}


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.2f}" if value < 100 else f"{value:,.1f}"


def _count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else "—"


def fmt_rate(rows: float | None, seconds: float | None) -> str:
    if not rows or not seconds:
        return "—"
    return f"{rows / seconds:,.0f}"


def fmt_bytes(value: float | None) -> str:
    if value is None:
        return "—"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if value >= size:
            return f"{value / size:,.2f} {unit}"
    return f"{value:,.0f} B"


def fmt_ratio(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if percent else f"{value:.2f}"


def table(header: Sequence[str], rows: Iterable[Sequence[object]], align: str | None = None) -> list[str]:
    """A Markdown table; ``align`` holds one of ``l``/``r`` per column (default: first left, rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def stage_rows(run: Mapping[str, Any]) -> list[list[str]]:
    """One row per pipeline step (seconds, share, rows, rows/s), then the stages not built yet."""
    steps: Mapping[str, float] = run.get("steps", {})
    rows: Mapping[str, int] = run.get("rows", {})
    wall = float(run.get("wall_seconds") or 0.0)
    out = []
    for step in STEPS:
        seconds = float(steps.get(step, 0.0))
        share = f"{seconds / wall:.1%}" if wall else "—"
        out.append([step, fmt_seconds(seconds), share, f"{rows.get(step, 0):,}", fmt_rate(rows.get(step), seconds),
                    STEP_NOTES.get(step, "")])
    out.append(["**total**", f"**{fmt_seconds(wall)}**", "100%", f"{rows.get('read', 0):,}",
                fmt_rate(rows.get("read"), wall), "rows read / wall"])
    return out


def decision_rows(r: Mapping[str, Any]) -> list[list[str]]:
    """The date's decisions after the full run: features, models, decide — against the integration's wall."""
    d = r.get("decisions") or {}
    wall = float((r.get("full_run") or {}).get("wall_seconds") or 0.0)
    if not d:
        return [["features, decisions", "not run", "—", "—", "—", "the full run did not succeed"],
                *[[stage, "not built yet", "—", "—", "—", "next wave"] for stage in NOT_BUILT]]
    customers = int(d.get("customers") or 0)
    out = []
    for kind, note in (("features", f"{d.get('partitions')} partition(s): SQL per customer-day, then pandas"),
                       ("models", f"BG/NBD + Gamma-Gamma fit {d.get('model_fit_id')}"), ("decide", "rules"),
                       ("plan", "clear the date"), ("finish", "summary")):
        seconds = float(d.get("steps", {}).get(kind, 0.0))
        out.append([kind, fmt_seconds(seconds), f"{seconds / wall:.1%}" if wall else "—", f"{customers:,}",
                    fmt_rate(customers, seconds), note])
    total = float(d.get("wall_seconds") or 0.0)
    out.append(["**features + decisions**", f"**{fmt_seconds(total)}**", f"{total / wall:.1%}" if wall else "—",
                f"{customers:,}", fmt_rate(customers, total), f"{d.get('status')}; share of the integration run"])
    out += [[stage, "not built yet", "—", "—", "—", "next wave"] for stage in NOT_BUILT]
    return out


def _machine(r: Mapping[str, Any]) -> list[str]:
    m = r.get("machine", {})
    pk = m.get("packages", {})
    db = r.get("database", {})
    versions = ", ".join(f"{k} {v}" for k, v in pk.items() if v)
    return ["## Machine", "",
            f"- {m.get('cpu')} — {m.get('usable_cores')} usable of {m.get('cores')} cores, "
            f"{fmt_bytes(m.get('memory_bytes'))} memory; {m.get('platform')}",
            f"- Python {m.get('python')}; SQLite {m.get('sqlite')}"
            + (f"; PostgreSQL {db.get('server_version')}" if db.get("server_version") else ""),
            f"- {versions}",
            f"- load average at start {m.get('load_average_start')}, at end {r.get('load_average_end')}",
            f"- code: commit {m.get('code', {}).get('commit')}"
            + (" with local changes" if m.get("code", {}).get("dirty") else ""), ""]


def _data(r: Mapping[str, Any]) -> list[str]:
    s, data = r["scale"], r.get("data", {})
    lines = ["## Data", "",
             f"Scale {s['name']}: {s['customers']:,} customers, seed {s['seed']}, as of {s['as_of']}, "
             f"{s['txns_per_customer']:g} transactions per customer, flaw rate {s['flaw_rate']:g}; "
             f"incremental day {s['delta_as_of']} (delta fraction {s['delta_fraction']:g}).", ""]
    rows = []
    for mode in ("full", "delta"):
        d = data.get(mode)
        if d:
            how = "cached" if d.get("cached") else f"generated in {fmt_seconds(d.get('generated_seconds'))} s"
            rows.append([mode, d["as_of"], f"{d['rows']:,}", fmt_bytes(d["bytes"]), how])
    return lines + table(["extract", "as of", "rows", "size", "how"], rows, align="llrrl") + [""]


def _full_run(r: Mapping[str, Any]) -> list[str]:
    run = r.get("full_run") or {}
    lines = ["## Full run: wall time per stage", ""]
    if run.get("status") != "succeeded":
        lines += [f"**The full run {run.get('status', 'did not run')}**: {run.get('error') or ''}", ""]
    lines += table(["stage", "seconds", "share", "rows", "rows/s", "timed by"], stage_rows(run), align="lrrrrl")
    lines += ["", "Then the date's decisions (share: of the integration run above):", ""]
    lines += table(["stage", "seconds", "share", "customers", "customers/s", "what"], decision_rows(r),
                   align="lrrrrl")
    setup = fmt_seconds(r.get("setup_seconds"))
    lines += ["", f"Set-up before the run (migrations, key store, GX context): {setup} s. "
              f"Database: {r['database'].get('backend')} `{r['database'].get('database')}`; key store: "
              f"{r.get('key_store', '—')}; chunk rows {_count(r.get('chunk_rows'))}.", ""]
    sources = run.get("sources", [])
    if sources:
        lines += ["Per source (seconds):", ""]
        rows = [[s["source"], f"{s['rows_read']:,}", f"{s['rows_failed']:,}",
                 *[fmt_seconds(s["seconds"].get(k, 0.0)) for k in ("read", "standardise", "validate", "stage",
                                                                    "untimed", "load")]]
                for s in sources]
        lines += table(["source", "rows", "failed", "read", "standardise", "validate", "stage", "untimed", "load"],
                       rows) + [""]
        lines += ["`untimed`: staging work outside the pipeline's own timers (cross-chunk duplicate check, "
                  "concatenation). `load` of a party source is inside the customers' load above.", ""]
    c = run.get("customers") or {}
    if c:
        lines += [f"Customers: {c.get('records', 0):,} party records → {c.get('new_customers', 0):,} new customers, "
                  f"{c.get('customers_updated', 0):,} updated, {c.get('identity_conflicts', 0):,} identity conflicts.",
                  ""]
    return lines


def _floor(r: Mapping[str, Any]) -> list[str]:
    f, ratios = r.get("floor"), r.get("ratios", {})
    if not f:
        return ["## I/O floor", "", "Not measured.", ""]
    full = (r.get("full_run") or {}).get("wall_seconds")
    return ["## I/O floor", "",
            "The same landing files read with pandas (same chunks) and inserted as text with the driver's executemany "
            "through SQLAlchemy (same batches, the upserts' path) into a fresh database of the same kind: no checks, "
            "no types, no keys or indexes.", "",
            *table(["", "seconds", "rows", "rows/s"], [
                [label, fmt_seconds(seconds), f"{f['rows']:,}", fmt_rate(f["rows"], seconds)]
                for label, seconds in (("floor: read", f["read_seconds"]), ("floor: insert", f["insert_seconds"]),
                                       ("floor: total", f["wall_seconds"]), ("pipeline: full run", full))]),
            "", f"**pipeline / floor = {fmt_ratio(ratios.get('pipeline_floor'))}**", ""]


def _incremental(r: Mapping[str, Any]) -> list[str]:
    run, ratios = r.get("incremental_run"), r.get("ratios", {})
    if not run:
        return ["## Incremental day", "", "Not measured.", ""]
    lines = ["## Incremental day", "",
             f"The next day's delta on the same database: status {run['status']}, "
             f"{fmt_seconds(run['wall_seconds'])} s for {run.get('rows', {}).get('read', 0):,} rows; "
             f"**{fmt_ratio(ratios.get('incremental_full'), percent=True)} of the full run**."
             + (f" Error: {run['error']}" if run.get("error") else ""), ""]
    return lines + table(["stage", "seconds", "share", "rows", "rows/s", "timed by"], stage_rows(run),
                         align="lrrrrl") + [""]


def _identity(r: Mapping[str, Any]) -> list[str]:
    i = r.get("identity")
    if not i:
        return ["## Identity quality", "", "Not measured.", ""]
    return ["## Identity quality", "",
            f"Pairwise, against truth/identities.csv without records whose key carries a planted flaw "
            f"({i['truth_records_flawed']:,} left out): {i['records']:,} records compared.", "",
            *table(["precision", "recall", "true pairs", "predicted pairs", "correct pairs"],
                   [[f"{i['precision']:.4f}", f"{i['recall']:.4f}", f"{i['true_pairs']:,}",
                     f"{i['predicted_pairs']:,}", f"{i['correct_pairs']:,}"]], align="rrrrr"), ""]


def _quarantine(r: Mapping[str, Any]) -> list[str]:
    q = r.get("quarantine")
    if not q:
        return ["## Quarantine reconciliation", "", "Not measured.", ""]
    rows = [[s["source"], f"{s['rows_read']:,}", f"{s['rows_loaded']:,}", f"{s['rows_quarantined']:,}",
             "yes" if s["balanced"] else "**NO**", f"{s['planted']:,}", f"{s['found']:,}", f"{s['other_rule']:,}",
             f"{s['missed']:,}", f"{s['unplanted']:,}"] for s in q["sources"]]
    return ["## Quarantine reconciliation (full run)", "",
            "read = loaded + quarantined per file (ingested_files, and the quarantine table holds as many rows); "
            "planted flaws (truth/flaws.csv) found in the quarantine under their rule, under another rule, or "
            "missed; `unplanted`: quarantined rows without a planted flaw (e.g. orphans of a flawed owner).", "",
            *table(["source", "read", "loaded", "quarantined", "balanced", "planted", "found", "other rule",
                    "missed", "unplanted"], rows), "",
            f"All balanced: **{'yes' if q['all_balanced'] else 'NO'}**; planted {q['planted']:,}, found "
            f"{q['found']:,}, other rule {q['other_rule']:,}, missed {q['missed']:,}, unplanted {q['unplanted']:,}.",
            ""]


def _encryption(r: Mapping[str, Any]) -> list[str]:
    e = r.get("encryption")
    if not e:
        return ["## Encryption throughput", "", "Not measured.", ""]
    return ["## Encryption throughput", "",
            f"`lifecycle.privacy.fields.bench_encrypt({e['customers']:,})`: {e['fields']:,.0f} fields "
            f"({e['customers']:,} customers × 6), single-threaded.", "",
            *table(["", "seconds", "fields/s"], [
                ["wall", fmt_seconds(e["seconds"]), f"{e['fields_per_second']:,.0f}"],
                ["CPU (one core)", fmt_seconds(e["cpu_seconds"]), f"{e['fields_per_cpu_second']:,.0f}"]]), ""]


def _memory(r: Mapping[str, Any]) -> list[str]:
    m = r.get("memory", {})
    rows = [[phase, fmt_bytes(peak)] for phase, peak in m.get("phases", {}).items()]
    ru = m.get("getrusage", {})
    return ["## Memory", "",
            f"Peak RSS of the pipeline (full and incremental runs): **{fmt_bytes(m.get('pipeline_peak_bytes'))}**; "
            f"method: {m.get('method')}. getrusage: self {fmt_bytes(ru.get('self'))}, largest child (the generator) "
            f"{fmt_bytes(ru.get('children'))}.", "", *table(["phase", "peak RSS"], rows), "", *_memory_steps(m)]


def _memory_steps(m: Mapping[str, Any]) -> list[str]:
    """Peak RSS per step of the full run (RSS still held from earlier steps included)."""
    steps = (m.get("steps") or {}).get("full run") or {}
    if not steps:
        return []
    top = max(steps.values())
    rows = [[name, fmt_bytes(peak), "**peak**" if peak == top else ""] for name, peak in steps.items()]
    return ["Full run, per step (the high-water mark is reset when each step starts, so a step's figure "
            "includes what earlier steps still hold):", "", *table(["step", "peak RSS", ""], rows), ""]


def _verdict(r: Mapping[str, Any]) -> list[str]:
    checks = r.get("verdict", {}).get("checks", [])
    rows = [[c["target"], c["limit"], c["measured"], f"**{c['status']}**" if c["status"] == "FAIL" else c["status"],
             c.get("note", "")] for c in checks]
    return ["## Verdict", "", *table(["target", "limit", "measured", "status", "note"], rows, align="lllll"), "",
            f"Overall: **{r.get('verdict', {}).get('overall', '—')}**", ""]


def _profile(r: Mapping[str, Any]) -> list[str]:
    p = r.get("profile")
    if not p:
        return []
    if p.get("error"):
        return ["## Profile", "", f"Profiling failed: {p['error']}", ""]
    return ["## Profile", "",
            f"Slowest stage: **{p['step']}** ({fmt_seconds(p['step_seconds'])} s in the full run). Replayed "
            f"{p['target']} ({p['sample_rows']:,} rows) under {p['profiler']} in {fmt_seconds(p['seconds'])} s; "
            f"summary (top 40 by cumulative time, then the call tree): `{p['file']}`.", "",
            "```", *p.get("top", [])[:25], "```", ""]


def render_markdown(r: Mapping[str, Any]) -> str:
    s = r["scale"]
    head = [f"# Benchmark {s['name']} on {r['database']['backend']} — {r['started_at']}", "",
            f"Full run {fmt_seconds((r.get('full_run') or {}).get('wall_seconds'))} s · "
            f"verdict **{r.get('verdict', {}).get('overall', '—')}** · "
            f"`python -m bench {' '.join(r.get('argv', []))}`", ""]
    if r.get("notes"):
        head += [f"> {n}" for n in r["notes"]] + [""]
    parts = [head, _verdict(r), _machine(r), _data(r), _full_run(r), _floor(r), _incremental(r), _identity(r),
             _quarantine(r), _encryption(r), _memory(r), _profile(r)]
    return "\n".join(line for part in parts for line in part).rstrip() + "\n"


def report_stem(scale: str, backend: str, stamp: str) -> str:
    """``<scale>-<timestamp>`` on SQLite, ``<scale>-<backend>-<timestamp>`` otherwise."""
    return f"{scale}-{stamp}" if backend == "sqlite" else f"{scale}-{backend}-{stamp}"


def latest_stem(scale: str, backend: str) -> str:
    return f"latest-{scale}" if backend == "sqlite" else f"latest-{scale}-{backend}"


def write_report(out_dir: Path, r: Mapping[str, Any], stem: str, latest: str) -> dict[str, Path]:
    """Write ``<stem>.json`` and ``<stem>.md`` into ``out_dir`` and copy them (and any
    ``<stem>.*`` side files, such as the profile) to ``<latest>.*``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"json": out_dir / f"{stem}.json", "md": out_dir / f"{stem}.md"}
    paths["json"].write_text(json.dumps(r, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    paths["md"].write_text(render_markdown(r), encoding="utf-8")
    for path in sorted(out_dir.glob(f"{stem}.*")):
        suffix = path.name[len(stem):]
        shutil.copyfile(path, out_dir / f"{latest}{suffix}")
        paths[f"latest{suffix}"] = out_dir / f"{latest}{suffix}"
    return paths
