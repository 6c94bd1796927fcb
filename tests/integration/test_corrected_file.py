"""A corrected file for the same source and day replaces the earlier load."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from lifecycle.store.models import Account, IngestedFile

AS_OF = date(2026, 6, 30)
ONLY = ["core_customers", "core_corporates", "accounts"]


def test_corrected_accounts_file_replaces_the_first_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         generated_bank: Path, use_home: object,
                                                         run_day: Callable[..., object]) -> None:
    from tasks.context import flow_context

    landing = tmp_path / "landing"
    shutil.copytree(generated_bank / "landing" / str(AS_OF), landing / str(AS_OF))
    use_home(monkeypatch, tmp_path / "home", landing)  # type: ignore[operator]
    run_day(AS_OF, ONLY)
    path = landing / str(AS_OF) / "accounts.csv"
    accounts = pd.read_csv(path, dtype=str, keep_default_na=False)
    dropped = accounts.iloc[:5]["account_no"].tolist()
    corrected = accounts.iloc[5:].copy()
    corrected.iloc[0, corrected.columns.get_loc("status")] = "CLOSED"
    changed = corrected.iloc[0]["account_no"]
    corrected.to_csv(path, index=False)

    run_day(AS_OF, ONLY)
    engine = flow_context().engine
    with engine.connect() as conn:
        stored = dict(conn.execute(select(Account.account_no, Account.status)).all())
        files = conn.execute(select(IngestedFile.status).where(IngestedFile.source == "accounts")
                             .order_by(IngestedFile.id)).scalars().all()
    assert not set(dropped) & set(stored)
    assert stored[changed] == "CLOSED"
    assert files == ["superseded", "loaded"]

    again = run_day(AS_OF, ONLY)  # the same corrected file again: nothing to do
    assert again.status == "skipped" and sorted(again.summary["unchanged_sources"]) == sorted(ONLY)
