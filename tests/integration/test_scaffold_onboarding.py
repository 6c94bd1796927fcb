"""Onboarding by scaffold: the drafts of `sources scaffold` on the generator's extracts, after the
steward's mechanical edits written down below, load the same rows as the hand-written configuration."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from lifecycle.cli import main as cli
from lifecycle.integration.service import DayResult
from lifecycle.integration.sources import load_sources
from lifecycle.store.base import Base
from lifecycle.store.models import IngestedFile

AS_OF = date(2026, 6, 30)
BOOKKEEPING = {"ingestion_runs", "ingested_files", "alembic_version"}
pytestmark = pytest.mark.slow

OWNERS = ["core_customers", "core_corporates"]
# What a steward decides on review, per source: what the profile cannot know (the system, the
# survivorship trust, who owns a fact), canonical column names where a column's own name is not
# the canonical one, the canonical codes of code columns, and the unit of an amount in fen.
EDITS: dict[str, dict[str, Any]] = {
    "core_customers": {"system": "CORE", "trust": 1, "columns": {
        "id_type": {"codes": {"01": "RIC", "02": "PASSPORT"}},
        "marketing_consent": {"codes": {"Y": "true", "N": "false"}}}},
    "core_corporates": {"system": "CORE", "trust": 1, "columns": {
        "reg_capital": {"to": "registered_capital"}}},
    "card_customers": {"system": "CARD", "trust": 2, "columns": {
        "CREDIT_LIMIT": {"unit": "fen"},
        "CARD_STATUS": {"codes": {"A": "ACTIVE", "C": "CLOSED", "F": "FROZEN"}}}},
    "relationship_managers": {"system": "HR"},
    "accounts": {"system": "CORE", "owners": OWNERS, "columns": {"cust_no": {"to": "owner_key"}}},
    "balances": {"system": "CORE"},
    "transactions": {"system": "CORE", "columns": {
        "direction": {"codes": {"D": "DEBIT", "C": "CREDIT"}},
        "txn_type": {"codes": {"CASH_DEP": "CASH_DEPOSIT", "CASH_WDL": "CASH_WITHDRAWAL", "TRF_IN": "TRANSFER_IN",
                               "TRF_OUT": "TRANSFER_OUT", "SALARY": "SALARY", "PAYMENT": "PAYMENT",
                               "XB_IN": "CROSS_BORDER_IN", "XB_OUT": "CROSS_BORDER_OUT", "FEE": "FEE",
                               "INTEREST": "INTEREST"}}}},
    "card_transactions": {"system": "CARD", "columns": {
        "TXN_TS": {"to": "txn_time"}, "AMT_FEN": {"to": "amount"}}},
    "loans": {"system": "LOAN", "owners": OWNERS, "columns": {
        "borrower_id": {"to": "owner_key"},
        "five_class": {"type": "code", "codes": {"1": "NORMAL", "2": "SPECIAL_MENTION", "3": "SUBSTANDARD",
                                                 "4": "DOUBTFUL", "5": "LOSS"}}}},
    "digital_activity": {"system": "DIGITAL", "owners": OWNERS, "columns": {"cust_no": {"to": "owner_key"}}},
    "feedback": {"system": "CRM", "owners": OWNERS, "columns": {"cust_no": {"to": "owner_key"}}},
    "interactions": {"system": "CRM", "owners": OWNERS, "columns": {
        "cust_no": {"to": "owner_key"},
        "complaint_status": {"codes": {"OPEN": "open", "IN_PROGRESS": "in_progress", "RESOLVED": "resolved"}}}},
}


def _edit(draft: Path, edited: Path) -> None:
    text = draft.read_text(encoding="utf-8")
    for edits in EDITS.values():  # a column drafted commented out (no canonical place) is uncommented once mapped
        for column, changes in edits.get("columns", {}).items():
            if "to" in changes:
                text = text.replace(f"      # {column}: {{", f"      {column}: {{")
    config = yaml.safe_load(text)
    for source, edits in EDITS.items():
        entry = config["sources"][source]
        for column, changes in edits.get("columns", {}).items():
            if "to" in changes:  # mapped to a canonical column: no longer an extra attribute
                entry["columns"][column].pop("extra", None)
            entry["columns"][column].update(changes)
        entry.update({k: v for k, v in edits.items() if k != "columns"})
    edited.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _run(cli_args: list[str]) -> str:
    out = io.StringIO()
    assert cli(cli_args, out) == 0, out.getvalue()
    return out.getvalue()


def _loaded(engine: Any) -> tuple[dict[str, Any], dict[str, tuple[int, int, int]]]:
    """Per table its rows, and per column its values present and, for numbers, their total (a
    wrong unit or code shows there); per source its rows read, loaded and quarantined."""
    with engine.connect() as conn:
        tables = {t.name: conn.execute(select(func.count().label("count"), *(_column_summary(c) for c in t.columns))
                                       .select_from(t)).one()._asdict()
                  for t in Base.metadata.sorted_tables if t.name not in BOOKKEEPING}
        files = {r.source: (r.rows_read, r.rows_loaded, r.rows_quarantined) for r in conn.execute(
            select(IngestedFile.source, IngestedFile.rows_read, IngestedFile.rows_loaded,
                   IngestedFile.rows_quarantined))}
    return tables, files


def _column_summary(column: Any) -> Any:
    try:
        numeric = column.type.python_type in (int, float, Decimal) and not column.primary_key
    except NotImplementedError:
        numeric = False
    if numeric:
        return func.round(func.coalesce(func.sum(column), 0), 2).label(f"{column.name}_total")
    return func.count(column).label(f"{column.name}_present")


@pytest.fixture(scope="module")
def clean_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lifecycle.synth.cli import main as synth

    # No planted flaws: a code set drafted from an extract holds every code the extract holds, bad ones
    # included, so the review would have to find each planted flaw before the counts could agree.
    out = tmp_path_factory.mktemp("clean-bank")
    assert synth(["--customers", "300", "--seed", "11", "--as-of", str(AS_OF), "--out", str(out),
                  "--txns-per-customer", "8"]) == 0
    return out / "landing"


def test_scaffolded_and_edited_configuration_loads_the_same_rows_as_the_hand_written_one(
        clean_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None], run_day: Callable[..., DayResult]) -> None:
    from tasks.context import flow_context, reset

    drafts = tmp_path / "onboarding"
    extracts = [clean_bank / str(AS_OF) / f"{source}.csv" for source in EDITS]  # in the packaged config's order
    summary = _run(["sources", "scaffold", *map(str, extracts), "--out", str(drafts)])
    assert summary.count("to review") == len(EDITS) == len(extracts)
    assert "REVIEW entity" in (drafts / "sources.yaml").read_text(encoding="utf-8")
    drafted = load_sources(drafts / "sources.yaml", loader_check=False)  # owners are the review's to add
    # every entity and key was guessed right: the review need not touch them
    assert {n: (s.entity, s.key) for n, s in drafted.sources.items()} == \
        {n: (s.entity, s.key) for n, s in load_sources().sources.items()}
    edited, suites = tmp_path / "sources.yaml", drafts / "expectations"
    _edit(drafts / "sources.yaml", edited)
    # the steward derives the suites again from the reviewed entries
    _run(["sources", "suite", "--all", "--sources-file", str(edited), "--suites-dir", str(suites), "--write",
          "--force"])
    assert _run(["sources", "check", "--sources-file", str(edited), "--suites-dir", str(suites)]).endswith(
        "0 disagreement(s) with their suites in " + str(suites) + "\n")

    use_home(monkeypatch, tmp_path / "hand-written", clean_bank)
    hand = run_day(AS_OF)
    hand_tables, hand_files = _loaded(flow_context().engine)

    monkeypatch.setenv("LIFECYCLE_SOURCES_FILE", str(edited))
    monkeypatch.setenv("LIFECYCLE_SUITES_DIR", str(suites))
    use_home(monkeypatch, tmp_path / "scaffolded", clean_bank)
    scaffolded = run_day(AS_OF)
    tables, files = _loaded(flow_context().engine)
    reset()

    assert (hand.status, scaffolded.status) == ("succeeded", "succeeded")
    assert hand_tables["customers"]["count"] > 0 and hand_tables["transactions"]["count"] > 0
    assert tables == hand_tables
    assert files == hand_files and len(files) == len(extracts)
