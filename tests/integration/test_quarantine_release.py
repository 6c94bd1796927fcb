"""Stewards release quarantined rows after a fix; the next run reprocesses them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from lifecycle.integration import quarantine
from lifecycle.integration.quality.derive import derive_suite, suite_json
from lifecycle.integration.quarantine import QuarantineError
from lifecycle.integration.release import undo_release
from lifecycle.integration.service import DayResult
from lifecycle.integration.sources import load_sources
from lifecycle.store.models import Feedback, QuarantinedRow

DAY1, DAY2 = date(2026, 6, 30), date(2026, 7, 1)
ONLY = ["core_customers", "core_corporates", "feedback"]


def _broken_code_table(tmp_path: Path, generated_bank: Path, budget: float) -> tuple[Path, Path, Path]:
    """Two days of landing files (day 2's feedback without the complaints) and a sources
    configuration whose code table lacks the complaints, with the suites derived from it (so
    the configuration loads and rejects every complaint); returns (landing, configuration, suites)."""
    landing = tmp_path / "landing"
    shutil.copytree(generated_bank / "landing" / str(DAY1), landing / str(DAY1))
    shutil.copytree(generated_bank / "landing" / str(DAY1), landing / str(DAY2))
    day2_feedback = landing / str(DAY2) / "feedback.csv"  # the next extract no longer holds those rows
    lines = day2_feedback.read_text(encoding="utf-8").splitlines(keepends=True)
    day2_feedback.write_text("".join(line for line in lines if ",COMPLAINT," not in line), encoding="utf-8")
    config = yaml.safe_load((Path("lifecycle/config/sources.yaml")).read_text(encoding="utf-8"))
    feedback = config["sources"]["feedback"]
    feedback["error_budget"] = budget
    del feedback["columns"]["kind"]["codes"]["COMPLAINT"]  # a broken code table
    broken = tmp_path / f"sources-broken-{budget}.yaml"
    broken.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    suites = tmp_path / f"suites-broken-{budget}"
    shutil.copytree("expectations", suites)
    (suites / "feedback.json").write_text(suite_json(derive_suite(load_sources(broken)["feedback"])),
                                          encoding="utf-8")
    return landing, broken, suites


@pytest.mark.slow
def test_rows_released_after_a_config_fix_are_loaded_by_the_next_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path, use_home: object,
        run_day: Callable[..., object]) -> None:
    from tasks.context import flow_context, reset

    landing, broken, suites = _broken_code_table(tmp_path, generated_bank, 1.0)
    use_home(monkeypatch, tmp_path / "home", landing)  # type: ignore[operator]
    monkeypatch.setenv("LIFECYCLE_SOURCES_FILE", str(broken))
    monkeypatch.setenv("LIFECYCLE_SUITES_DIR", str(suites))
    reset()
    run_day(DAY1, ONLY)

    w = flow_context()
    with w.engine.begin() as conn:
        rejected = quarantine.list_rows(conn, w.keystore, w.keyring, w.sources, source="feedback", limit=10_000)
        loaded_before = conn.execute(select(func.count()).select_from(Feedback)).scalar_one()
        assert len(rejected) > 0 and all("code_in_set(kind)" in r for r in rejected["rules"])
        released = quarantine.release(conn, rejected["id"].tolist(), actor="steward", note="fixed kind codes",
                                      now=w.clock.now())
    assert released == len(rejected)

    monkeypatch.delenv("LIFECYCLE_SOURCES_FILE")  # the fixed configuration
    monkeypatch.delenv("LIFECYCLE_SUITES_DIR")
    reset()
    run_day(DAY2, ONLY)
    w = flow_context()
    with w.engine.connect() as conn:
        loaded_after = conn.execute(select(func.count()).select_from(Feedback)).scalar_one()
        rows = conn.execute(select(QuarantinedRow.status, QuarantinedRow.failures).where(
            QuarantinedRow.source == "feedback")).all()
    again = [failures for status, failures in rows if status == "open"]
    assert sum(status == "reprocessed" for status, _ in rows) == released
    # every released row is loaded now, or quarantined anew for another reason (e.g. an unknown owner)
    assert loaded_after + len(again) == loaded_before + released
    assert all(f["rule"] != "code_in_set" for failures in again for f in failures)
    with w.engine.begin() as conn, pytest.raises(QuarantineError, match="is reprocessed"):
        undo_release(conn, rejected["id"].tolist(), actor="steward", now=w.clock.now())  # too late: fed again


@pytest.mark.slow
def test_released_rows_that_fail_again_do_not_refuse_the_day_and_are_reported_apart(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path, use_home: object,
        run_day: Callable[..., DayResult]) -> None:
    from tasks.context import flow_context, reset

    landing, lenient, suites = _broken_code_table(tmp_path, generated_bank, 1.0)
    _, strict, _ = _broken_code_table(tmp_path / "strict", generated_bank, 0.05)
    use_home(monkeypatch, tmp_path / "home", landing)  # type: ignore[operator]
    monkeypatch.setenv("LIFECYCLE_SOURCES_FILE", str(lenient))
    monkeypatch.setenv("LIFECYCLE_SUITES_DIR", str(suites))
    reset()
    run_day(DAY1, ONLY)
    w = flow_context()
    with w.engine.begin() as conn:
        rejected = quarantine.list_rows(conn, w.keystore, w.keyring, w.sources, source="feedback", limit=None)
        released = quarantine.release(conn, rejected["id"].tolist(), actor="steward", note="fixed, I thought",
                                      now=w.clock.now())
    feedback_rows = len((landing / str(DAY2) / "feedback.csv").read_text(encoding="utf-8").splitlines()) - 1
    assert released / (feedback_rows + released) > 0.05  # enough to refuse the day, were they counted

    monkeypatch.setenv("LIFECYCLE_SOURCES_FILE", str(strict))  # the code table is still broken
    reset()
    day2 = run_day(DAY2, ONLY)

    assert day2.status == "succeeded"
    w = flow_context()
    with w.engine.connect() as conn:
        again = conn.execute(select(func.count()).select_from(QuarantinedRow).where(
            QuarantinedRow.run_id == day2.run_id, QuarantinedRow.source == "feedback")).scalar_one()
    assert again == released  # quarantined anew: nothing lost
    assert day2.report is not None
    row = next(line for line in day2.report.markdown.splitlines() if line.startswith("| feedback |"))
    assert "0.00% ≤ 5.00%: within budget" in row
    assert f"released rows fed again {released:,}, failed again {released:,}" in row
