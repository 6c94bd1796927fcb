"""The report builder: every stage in the tables, stages not built said so, files and latest copies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.report import decision_rows, latest_stem, render_markdown, report_stem, stage_rows, write_report
from bench.runner import NOT_BUILT, STEPS


def _run(wall: float) -> dict[str, Any]:
    steps = dict.fromkeys(STEPS, wall / len(STEPS))
    return {"label": "full", "status": "succeeded", "wall_seconds": wall, "steps": steps,
            "rows": dict.fromkeys(STEPS, 1_000), "sources": [], "customers": {}, "error": None}


def tiny_report() -> dict[str, Any]:
    return {
        "started_at": "2026-07-01T00:00:00", "argv": ["--scale", "S"],
        "scale": {"name": "S", "customers": 300, "seed": 42, "as_of": "2026-06-30", "txns_per_customer": 20.0,
                  "flaw_rate": 0.005, "delta_fraction": 0.01, "delta_as_of": "2026-07-01"},
        "machine": {"cpu": "test cpu", "cores": 2, "usable_cores": 2, "memory_bytes": 2 * 10**9,
                    "python": "3.11.0", "sqlite": "3.40.1", "packages": {"pandas": "3.0"}},
        "database": {"backend": "sqlite"},
        "data": {"full": {"as_of": "2026-06-30", "rows": 1_000, "bytes": 50_000, "cached": True}},
        "full_run": _run(12.0), "incremental_run": _run(1.0),
        "floor": {"wall_seconds": 4.0, "read_seconds": 1.0, "insert_seconds": 3.0, "rows": 1_000, "files": []},
        "encryption": {"customers": 1_000, "fields": 6_000.0, "seconds": 0.02, "fields_per_second": 300_000.0,
                       "cpu_seconds": 0.02, "fields_per_cpu_second": 300_000.0},
        "memory": {"method": "test", "phases": {"full run": 10**8}, "getrusage": {}, "pipeline_peak_bytes": 10**8},
        "ratios": {"pipeline_floor": 3.0, "incremental_full": 1 / 12},
        "verdict": {"overall": "pass", "checks": [{"target": "peak RSS", "limit": "≤ 6 GB", "measured": "0.10 GB",
                                                   "status": "pass", "note": ""}]},
        "notes": ["The machine was shared."], "errors": {},
    }


def test_the_stage_table_has_every_step_then_the_decisions_then_the_stages_not_built_yet() -> None:
    rows = stage_rows(_run(12.0))
    assert [r[0] for r in rows] == [*STEPS, "**total**"]
    assert rows[STEPS.index("read")][4] == "1,000"  # 1,000 rows in 1 s
    decisions = decision_rows({"full_run": {"wall_seconds": 100.0}, "decisions": {
        "status": "succeeded", "wall_seconds": 20.0, "customers": 1000, "partitions": 2, "model_fit_id": 1,
        "steps": {"features": 12.0, "models": 2.0, "decide": 5.0, "plan": 0.5, "finish": 0.5}}})
    assert [r[0] for r in decisions] == ["features", "models", "decide", "plan", "finish",
                                         "**features + decisions**", *NOT_BUILT]
    assert decisions[0][2] == "12.0%" and decisions[5][2] == "20.0%"
    assert all(r[1] == "not built yet" for r in decisions if r[0] in NOT_BUILT)


def test_the_markdown_holds_the_verdict_ratios_and_the_machine_note() -> None:
    md = render_markdown(tiny_report())
    for stage in (*STEPS, *NOT_BUILT):
        assert f"| {stage} |" in md
    assert "pipeline / floor = 3.00" in md and "8.3% of the full run" in md
    assert "Overall: **pass**" in md and "> The machine was shared." in md
    assert "300,000" in md  # encryption fields/s


def test_reports_are_written_with_latest_copies_of_every_side_file(tmp_path: Path) -> None:
    stem = report_stem("S", "sqlite", "20260701T000000")
    (tmp_path / f"{stem}.profile.txt").write_text("profile", encoding="utf-8")
    paths = write_report(tmp_path, tiny_report(), stem, latest_stem("S", "sqlite"))
    assert json.loads(paths["json"].read_text(encoding="utf-8"))["scale"]["name"] == "S"
    for name in ("latest-S.json", "latest-S.md", "latest-S.profile.txt"):
        assert (tmp_path / name).stat().st_size > 0
    assert report_stem("M", "postgresql", "x") == "M-postgresql-x"
    assert latest_stem("M", "postgresql") == "latest-M-postgresql"
