"""Plaintext frames of a run live no longer than the run: nothing returned keeps them."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifecycle.integration.service import run_day
from lifecycle.integration.stage import StagedSource

AS_OF = date(2026, 6, 30)


def _frames_in(value: object, depth: int = 0) -> list[str]:
    """Where a DataFrame hides in ``value`` (dataclasses, dicts, lists), by attribute path."""
    if isinstance(value, pd.DataFrame):
        return ["<frame>"]
    if depth > 4:
        return []
    children: dict[str, Any] = {}
    if hasattr(value, "__dataclass_fields__"):
        children = {k: getattr(value, k) for k in value.__dataclass_fields__}
    elif isinstance(value, dict):
        children = {str(k): v for k, v in value.items()}
    elif isinstance(value, (list, tuple)):
        children = {str(i): v for i, v in enumerate(value)}
    return [f"{k}.{p}" for k, v in children.items() for p in _frames_in(v, depth + 1)]


def test_staged_frames_are_released_when_the_day_is_done(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> None:
    from tasks.context import flow_context, reset

    use_home(monkeypatch, tmp_path / "home", generated_bank / "landing")
    staged: list[weakref.ref[StagedSource]] = []

    def watching(name: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        if isinstance(result, StagedSource):
            assert len(result.rejected_raw) or result.spec.name != "core_customers"  # the bank has flaws
            staged.append(weakref.ref(result))
        return result

    try:
        # every owner of the feedback is loaded too: orphans count against the budget
        result = run_day(flow_context(), AS_OF, only=["core_customers", "core_corporates", "card_customers",
                                                      "feedback"], step=watching)
        assert result.status == "succeeded" and len(staged) == 4
        assert _frames_in(result) == []  # counts and timings only
        gc.collect()
        assert [ref() for ref in staged] == [None] * 4  # no one holds the staged frames any more
    finally:
        reset()
