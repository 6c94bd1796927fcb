"""The quarantine command lists rejected rows masked and releases them."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.cli import main

AS_OF = date(2026, 6, 30)


def test_list_shows_rules_and_masks_pii_then_release_marks_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                generated_bank: Path, use_home: object,
                                                                run_day: object) -> None:
    use_home(monkeypatch, tmp_path / "home", generated_bank / "landing")  # type: ignore[operator]
    run_day(AS_OF, ["core_customers", "core_corporates", "card_customers"])  # type: ignore[operator]
    out = io.StringIO()
    assert main(["quarantine", "list", "--source", "core_customers", "--limit", "500"], out) == 0
    listing = out.getvalue()
    flaws = pd.read_csv(generated_bank / "truth" / "flaws.csv", dtype=str)
    planted = flaws[flaws["source"] == "core_customers"]
    assert len(planted) and all(rule in listing for rule in planted["rule"].unique())
    raw = pd.read_csv(generated_bank / "landing" / str(AS_OF) / "core_customers.csv", dtype=str)
    rejected = raw.iloc[planted["row"].astype(int).unique() - 1]
    for value in [*rejected["id_no"].dropna(), *rejected["mobile"].dropna(), *rejected["email"].dropna()]:
        assert value not in listing
    first_id = int(listing.split()[0].lstrip("#"))
    out = io.StringIO()
    assert main(["quarantine", "release", str(first_id), "--note", "checked with the branch"], out) == 0
    assert "released 1 of 1" in out.getvalue()
    out = io.StringIO()
    main(["quarantine", "list", "--status", "released"], out)
    assert f"#{first_id} " in out.getvalue()
