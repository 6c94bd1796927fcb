"""End to end at a tiny size: the benchmark writes both reports, and they hold every stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.runner import NOT_BUILT, STEPS

pytestmark = pytest.mark.slow


def test_a_tiny_benchmark_writes_reports_holding_every_stage(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "reports"
    code = main(["--scale", "S", "--customers", "120", "--root", str(tmp_path / "bench"), "--out", str(out),
                 "--no-profile"])
    assert code == 0, capsys.readouterr().out
    report = json.loads((out / "latest-c120.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in out.glob("c120-*")) and (out / "latest-c120.md").exists()
    full, incremental = report["full_run"], report["incremental_run"]
    assert (full["status"], incremental["status"]) == ("succeeded", "succeeded")
    assert set(STEPS) <= set(full["steps"]) and full["steps"]["validate"] > 0 and full["steps"]["load"] > 0
    assert full["rows"]["read"] == report["data"]["full"]["rows"]
    assert report["quarantine"]["all_balanced"] and report["quarantine"]["missed"] == 0
    assert report["identity"]["precision"] > 0.9 and report["floor"]["rows"] == full["rows"]["read"]
    assert report["ratios"]["pipeline_floor"] > 0 and report["encryption"]["fields"] > 0
    assert report["memory"]["pipeline_peak_bytes"] > 0
    md = (out / "latest-c120.md").read_text(encoding="utf-8")
    for stage in (*STEPS, *NOT_BUILT):
        assert f"| {stage} |" in md
    assert not list((tmp_path / "bench" / "runs").glob("*/db/*.db"))  # working databases removed
