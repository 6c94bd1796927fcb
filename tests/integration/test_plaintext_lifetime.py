"""Plaintext frames of a run live no longer than the step that needs them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from lifecycle import pipeline

AS_OF = date(2026, 6, 30)


def test_rejected_rows_and_customer_frames_are_released_once_stored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> None:
    from tasks.wiring import bootstrap, reset

    use_home(monkeypatch, tmp_path / "home", generated_bank / "landing")
    try:
        w = bootstrap()
        only = ["core_customers", "card_customers", "feedback"]
        plan = pipeline.plan(w.engine, w.sources, w.settings.resolved_landing_dir, AS_OF, only=only)
        staged = [pipeline.stage(w.engine, w.keystore, plan, w.sources, name, w.quality_gate, w.keyring,
                                 w.settings.home / "staging", w.settings.chunk_rows) for name in plan.files]
        assert any(len(s.rejected_raw) for s in staged)  # the bank has planted flaws
        pipeline.quarantine_and_gate(w.engine, w.keystore, w.keyring, plan, staged)
        assert all(s.rejected_raw.empty for s in staged)
        assert all(s.rows_failed >= 0 for s in staged)  # counts survive for the report
        parties = [s for s in staged if s.is_party]
        assert parties and all(s.valid is not None and len(s.valid) for s in parties)
        loaded = pipeline.load_customers(w.engine, w.keystore, w.keyring, plan, staged, w.sources.identity)
        assert loaded["new_customers"]
        assert all(s.valid is None for s in parties)
        reports = pipeline.report(w.engine, plan, staged)
        assert {r.source for r in reports} == set(only)
    finally:
        reset()
