"""The scaling curve: full-run time per customer across scales, and whether it stays flat.

Each scale runs in a process of its own (``python -m bench --scale X``), so that
one scale's memory does not weigh on the next; the curve is then read from the
scales' latest JSON reports (``--from-reports`` reads them without running).

Shape, from the ratio of per-customer times between the largest and the smallest
scale: within ``TOLERANCE`` of 1 is *linear*, below is *sub-linear*, above is
*super-linear*. Fixed costs (GX start-up, one Data Docs build per source) make
small scales look expensive per customer, so the marginal cost per customer
between neighbouring scales is given too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.report import table
from bench.scales import SCALES

TOLERANCE = 0.25


def shape_of(ratio: float, tolerance: float = TOLERANCE) -> str:
    if ratio > 1 + tolerance:
        return "super-linear"
    if ratio < 1 - tolerance:
        return "sub-linear"
    return "linear"


def curve_of(points: list[dict[str, Any]], tolerance: float = TOLERANCE) -> dict[str, Any]:
    """``points``: scale, customers, full_seconds (any order). Adds per-customer and marginal costs."""
    ordered = sorted(points, key=lambda p: p["customers"])
    for p in ordered:
        p["ms_per_customer"] = 1000 * p["full_seconds"] / p["customers"]
    steps = []
    for a, b in zip(ordered, ordered[1:], strict=False):
        ratio = b["ms_per_customer"] / a["ms_per_customer"]
        marginal = 1000 * (b["full_seconds"] - a["full_seconds"]) / (b["customers"] - a["customers"])
        steps.append({"from": a["scale"], "to": b["scale"], "per_customer_ratio": ratio,
                      "shape": shape_of(ratio, tolerance), "marginal_ms_per_customer": marginal})
    if len(ordered) < 2:
        return {"points": ordered, "steps": steps, "shape": "unknown", "summary": "fewer than two scales",
                "tolerance": tolerance}
    overall = ordered[-1]["ms_per_customer"] / ordered[0]["ms_per_customer"]
    return {"points": ordered, "steps": steps, "shape": shape_of(overall, tolerance), "overall_ratio": overall,
            "tolerance": tolerance,
            "summary": f"per-customer time {ordered[-1]['scale']}/{ordered[0]['scale']} = {overall:.2f}, "
                       f"tolerance ±{tolerance:.0%}"}


def point_from_report(path: Path) -> dict[str, Any]:
    r = json.loads(path.read_text(encoding="utf-8"))
    full = r.get("full_run") or {}
    if full.get("status") != "succeeded":
        raise RuntimeError(f"{path}: the full run {full.get('status')}; no point for the curve")
    return {"scale": r["scale"]["name"], "customers": r["scale"]["customers"], "full_seconds": full["wall_seconds"],
            "report": str(path.with_name(f"{r['report_stem']}.md")) if r.get("report_stem") else str(path),
            "started_at": r.get("started_at"),
            "load_average_start": r.get("machine", {}).get("load_average_start")}


def render_curve(result: dict[str, Any]) -> str:
    lines = [f"# Scaling curve — {result['created_at']}", "",
             f"Shape: **{result['shape']}** ({result['summary']}).", ""]
    lines += table(["scale", "customers", "full run s", "ms / customer", "load avg at start", "report"],
                   [[p["scale"], f"{p['customers']:,}", f"{p['full_seconds']:,.1f}", f"{p['ms_per_customer']:.3f}",
                     p.get("load_average_start"), p["report"]] for p in result["points"]], align="lrrrll")
    lines += ["", *table(["step", "per-customer ratio", "shape", "marginal ms / customer"],
                         [[f"{s['from']} → {s['to']}", f"{s['per_customer_ratio']:.2f}", s["shape"],
                           f"{s['marginal_ms_per_customer']:.3f}"] for s in result["steps"]], align="lrlr"), ""]
    return "\n".join(lines)


def run_curve(names: list[str], *, out_dir: Path, root: Path, database_url: str | None, profile: bool | None,
              from_reports: bool) -> tuple[dict[str, Any], Path]:
    from bench.database import backend_of
    from bench.report import latest_stem

    unknown = [n for n in names if n not in SCALES]
    if unknown:
        raise ValueError(f"unknown scales {unknown}; expected {', '.join(SCALES)}")
    backend = backend_of(database_url)
    points = []
    for name in names:
        if not from_reports:
            argv = [sys.executable, "-m", "bench", "--scale", name, "--out", str(out_dir), "--root", str(root),
                    "--profile" if profile else "--no-profile"]
            if database_url:
                argv += ["--database-url", database_url]
            subprocess.run(argv, check=True)
        report = out_dir / f"{latest_stem(name, backend)}.json"
        if not report.exists():
            raise FileNotFoundError(f"no report of scale {name} in {out_dir}: run `python -m bench --scale {name}` "
                                    "first, or drop --from-reports")
        points.append(point_from_report(report))
    result = curve_of(points)
    created = datetime.now()
    result["created_at"] = created.isoformat(timespec="seconds")
    result["backend"] = backend
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"curve-{created:%Y%m%dT%H%M%S}" if backend == "sqlite" else f"curve-{backend}-{created:%Y%m%dT%H%M%S}"
    latest = "latest-curve" if backend == "sqlite" else f"latest-curve-{backend}"
    for name in (stem, latest):
        (out_dir / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        (out_dir / f"{name}.md").write_text(render_curve(result), encoding="utf-8")
    return result, out_dir / f"{stem}.md"
