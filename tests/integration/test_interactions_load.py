"""The interactions extract loads like the other facts; a complaint move the machine refuses is quarantined."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from lifecycle.integration import quarantine
from lifecycle.store.models import Customer, Interaction, QuarantinedRow

DAY1, DAY2 = date(2026, 6, 30), date(2026, 7, 1)
ONLY = ["core_customers", "core_corporates", "feedback", "interactions"]
HEADER = "interaction_id,cust_no,interaction_time,kind,channel,outcome,case_ref,complaint_status,campaign_code\n"


def _day2(landing: Path, generated_bank: Path, loaded_cases: set[str]) -> tuple[str, str]:
    """Day 2: the same customers and feedback; interactions that move a resolved complaint
    back to open (refused), take an unresolved one up (accepted) and a status on a call
    (refused), on cases day 1 loaded. Returns (resolved case, unresolved case)."""
    shutil.copytree(generated_bank / "landing" / str(DAY1), landing / str(DAY2))
    ix = pd.read_csv(landing / str(DAY1) / "interactions.csv", dtype=str, keep_default_na=False)
    complaints = ix[(ix["kind"] == "COMPLAINT") & ix["case_ref"].isin(loaded_cases)]
    last = complaints.groupby("case_ref")["complaint_status"].last()
    resolved, still_open = last[last == "RESOLVED"].index[0], last[last != "RESOLVED"].index[0]
    owner = complaints.drop_duplicates("case_ref").set_index("case_ref")["cust_no"]
    rows = [f"IXT1,{owner[resolved]},2026-07-01 09:00:00,COMPLAINT,PHONE,LOGGED,{resolved},OPEN,",
            f"IXT2,{owner[still_open]},2026-07-01 10:00:00,COMPLAINT,PHONE,FOLLOWED_UP,{still_open},IN_PROGRESS,",
            f"IXT3,{owner[still_open]},2026-07-01 11:00:00,CALL,PHONE,COMPLETED,,RESOLVED,"]
    (landing / str(DAY2) / "interactions.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return resolved, still_open


@pytest.mark.slow
def test_interactions_load_and_refused_complaint_moves_are_quarantined_with_their_reason(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path, use_home: object,
        run_day: Callable[..., object]) -> None:
    from tasks.context import flow_context

    landing = tmp_path / "landing"
    shutil.copytree(generated_bank / "landing" / str(DAY1), landing / str(DAY1))
    use_home(monkeypatch, tmp_path / "home", landing)  # type: ignore[operator]
    first = run_day(DAY1, ONLY)
    w = flow_context()
    generated = len(pd.read_csv(landing / str(DAY1) / "interactions.csv", dtype=str))
    with w.engine.connect() as conn:
        loaded = conn.execute(select(func.count()).select_from(Interaction)).scalar_one()
        refused_day1 = conn.execute(select(func.count()).select_from(QuarantinedRow).where(
            QuarantinedRow.source == "interactions")).scalar_one()
        kinds = set(conn.execute(select(Interaction.kind).distinct()).scalars())
        cases = set(conn.execute(select(Interaction.case_ref).where(Interaction.case_ref.is_not(None))).scalars())
    # every generated row is loaded or quarantined as an orphan (its owner carried a planted flaw)
    assert loaded + refused_day1 == generated and loaded > 0.97 * generated
    assert kinds == {"CALL", "VISIT", "MESSAGE", "EMAIL", "SURVEY", "COMPLAINT"}
    assert first.load is not None and first.load.facts["interactions"] == loaded  # type: ignore[attr-defined]

    resolved, still_open = _day2(landing, generated_bank, cases)
    run_day(DAY2, ONLY)
    with w.engine.connect() as conn:
        rows = quarantine.list_rows(conn, w.keystore, w.keyring, w.sources, source="interactions", limit=None)
        day2 = rows[rows["rules"].str.contains("complaint_transition")]
        taken_up = conn.execute(select(Interaction.complaint_status, Customer.customer_id).join(
            Customer, Customer.customer_id == Interaction.customer_id).where(
            Interaction.interaction_id == "IXT2")).one()
        stored = set(conn.execute(select(Interaction.interaction_id).where(
            Interaction.interaction_id.in_(["IXT1", "IXT2", "IXT3"]))).scalars())
        reasons = [f for failures in conn.execute(select(QuarantinedRow.failures).where(
            QuarantinedRow.source == "interactions", QuarantinedRow.source_key.in_(["IXT1", "IXT3"]))).scalars()
            for f in failures]
    assert stored == {"IXT2"} and taken_up.complaint_status == "in_progress"
    assert sorted(day2["source_key"]) == ["IXT1", "IXT3"]
    texts = {f["expectation"] for f in reasons}
    assert f"case {resolved}: complaint: 'resolved' cannot become 'open' (allowed: none)" in texts
    assert "only a complaint contact carries a complaint status" in texts
    assert all(f["rule"] == "complaint_transition" and f["column"] == "complaint_status" for f in reasons)
