"""The reliability figures table counts each case in its category, lists kill points and leak places."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.reliability_report import render

STARTED = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)


def test_cases_are_counted_per_category_and_failures_listed() -> None:
    outcomes = {
        "tests/integration/test_night_kill.py::test_a_rotation_killed[rotate-after-first-batch]": "passed",
        "tests/integration/test_night_kill.py::test_a_rotation_killed[rotate-before-close]": "failed",
        "tests/integration/test_store_tamper.py::test_a_truncated_ciphertext_is_refused": "passed",
        "tests/unit/test_checks.py::test_ids_agree_with_stdnum": "skipped",
    }
    text = render(outcomes, None, STARTED)
    assert "| crash: decisions, care, dispatch, rotation, erasure (SIGKILL) | 2 | 1 | 1 | 0 |" in text
    assert "| tamper: ciphertexts, indexes, keys, keyring | 1 | 1 | 0 | 0 |" in text
    assert "| rules under generated inputs (hypothesis among them) | 1 | 0 | 0 | 1 |" in text
    assert "| **total** | **4** | **2** | **1** | **1** | |" in text
    assert "## Kill points (2 tried)" in text and "| `rotate-after-first-batch` |" in text
    assert "passed (0 / 0)" in text and "| failed |" in text
    assert "- `tests/integration/test_night_kill.py::test_a_rotation_killed[rotate-before-close]`" in text


def test_the_leak_places_become_a_table_with_their_hits() -> None:
    leaks = {"needles": 2324, "places": [{"place": "Data Docs (HTML)", "files": 74, "bytes": 6954940, "hits": 0},
                                         {"place": "key store files (with WAL)", "files": 3, "bytes": 1, "hits": 2}]}
    text = render({"tests/integration/test_leak_census.py::test_no_place": "failed"}, leaks, STARTED)
    assert "(2,324 generated PII values)" in text
    assert "| Data Docs (HTML) | 74 | 6,954,940 | 0 |" in text and "| key store files (with WAL) | 3 | 1 | 2 |" in text
    assert "## Kill points" not in text
