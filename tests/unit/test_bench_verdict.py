"""The benchmark's verdict: each target judged only where it applies, never guessed."""

from __future__ import annotations

from bench.verdict import FAIL, MISSING, NOT_APPLICABLE, PASS, judge, overall


def _status(checks: list, target: str) -> str:
    return next(c.status for c in checks if c.target == target)


def test_a_full_run_at_l_passes_under_fifteen_minutes_and_fails_over() -> None:
    assert _status(judge("L", 14 * 60, 10**9, 2.0, 0.05), "full run at L") == PASS
    assert _status(judge("L", 16 * 60, 10**9, 2.0, 0.05), "full run at L") == FAIL


def test_the_full_run_target_does_not_apply_below_l_but_shows_a_projection() -> None:
    checks = judge("M", 120.0, 10**9, 2.0, 0.05, customers=100_000)
    full = next(c for c in checks if c.target == "full run at L")
    assert full.status == NOT_APPLICABLE and "20.0 min" in full.note


def test_the_floor_ratio_is_judged_at_m_and_l_only() -> None:
    assert _status(judge("S", 30.0, 10**9, 9.0, 0.05), "pipeline / I/O floor") == NOT_APPLICABLE
    assert _status(judge("M", 300.0, 10**9, 3.5, 0.05), "pipeline / I/O floor") == FAIL
    assert _status(judge("L", 800.0, 10**9, 2.9, 0.05), "pipeline / I/O floor") == PASS


def test_memory_and_the_incremental_day_are_judged_at_every_scale() -> None:
    checks = judge("c300", 10.0, 7 * 10**9, None, 0.8)
    assert _status(checks, "peak RSS") == FAIL
    assert _status(checks, "incremental day / full run") == FAIL
    assert _status(judge("S", 10.0, 5 * 10**9, None, 0.1), "incremental day / full run") == PASS


def test_an_unmeasured_target_is_said_so_and_does_not_fail_the_run() -> None:
    checks = judge("M", 100.0, 10**9, None, None)
    assert _status(checks, "pipeline / I/O floor") == MISSING
    assert overall(checks) == PASS
    assert overall(judge("M", 100.0, 10**9, 4.0, None)) == FAIL
