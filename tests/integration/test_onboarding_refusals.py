"""A sources configuration the loader could not load is refused when it is read: before any row,
through ``bank-lifecycle run daily``, with one line naming the file, the source, the key and what
to add — never a traceback from half-way through a load."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from flows.cli import main
from lifecycle.store.models import Account, Customer, IngestedFile, IngestionRun, QuarantinedRow, SourceLink

ONBOARDING = Path(__file__).resolve().parents[1] / "data" / "onboarding"
AS_OF = "2026-06-30"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> Iterator[Path]:
    from tasks.context import reset

    use_home(monkeypatch, tmp_path / "home", ONBOARDING / "landing")
    yield tmp_path / "home"
    reset()


def _run_daily(monkeypatch: pytest.MonkeyPatch, config: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from tasks.context import reset

    monkeypatch.setenv("LIFECYCLE_SOURCES_FILE", str(ONBOARDING / "configs" / config))
    reset()
    code = main(["run", "daily", "--as-of", AS_OF, "--no-decide"], io.StringIO())
    return code, capsys.readouterr().err


def _nothing_of_the_run(home: Path) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{home / 'lifecycle.db'}")
    try:
        with engine.connect() as conn:
            for model in (IngestionRun, IngestedFile, QuarantinedRow, Customer, SourceLink, Account):
                assert conn.execute(select(func.count()).select_from(model)).scalar_one() == 0, model.__tablename__
    finally:
        engine.dispose()


def _one_clear_line(err: str, config: str) -> str:
    assert "Traceback" not in err and "KeyError" not in err and "IntegrityError" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bank-lifecycle: error: sources configuration "), err
    assert str(ONBOARDING / "configs" / config) in lines[0]
    return lines[0]


def test_a_customer_source_without_a_name_column_is_refused_naming_what_to_add(
        home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run_daily(monkeypatch, "missing_name.yaml", capsys)
    assert code == 1
    line = _one_clear_line(err, "missing_name.yaml")
    assert "sources.crm_clients.columns" in line and "mapped to name" in line and "{to: name" in line
    assert "1 problem(s)" in line  # the other sources are fine
    _nothing_of_the_run(home)


def test_accounts_without_an_owner_are_refused_naming_owner_key_and_owners(
        home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run_daily(monkeypatch, "missing_owner.yaml", capsys)
    assert code == 1
    line = _one_clear_line(err, "missing_owner.yaml")
    assert "sources.accounts.columns" in line and "owner_key" in line and "owners" in line
    assert "crm_clients" in line  # the customer sources it could name
    _nothing_of_the_run(home)


def test_an_entity_the_loader_does_not_know_is_refused_listing_the_known_ones(
        home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run_daily(monkeypatch, "unknown_entity.yaml", capsys)
    assert code == 1
    line = _one_clear_line(err, "unknown_entity.yaml")
    assert "sources.transactions.entity" in line and "'standing_order'" in line
    assert "individual" in line and "transaction" in line and "tuple.index" not in line
    _nothing_of_the_run(home)


def test_accounts_without_an_open_date_are_refused_naming_the_not_null_column_and_a_default(
        home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run_daily(monkeypatch, "accounts_without_open_date.yaml", capsys)
    assert code == 1
    line = _one_clear_line(err, "accounts_without_open_date.yaml")
    assert "accounts.open_date is NOT NULL" in line and "sources.accounts.columns" in line
    assert "defaults: {open_date: 2000-01-01}" in line
    _nothing_of_the_run(home)


def test_accounts_without_an_open_date_load_with_the_configured_default(home: Path, tmp_path: Path) -> None:
    from datetime import date

    import yaml

    from lifecycle.bootstrap import build_context
    from lifecycle.integration.service import run_day
    from lifecycle.integration.sources import load_sources
    from tests.support.validators import NoFailuresGate

    raw = yaml.safe_load((ONBOARDING / "configs" / "accounts_without_open_date.yaml").read_text(encoding="utf-8"))
    raw["sources"]["accounts"]["defaults"] = {"open_date": date(2000, 1, 1)}
    config = tmp_path / "sources.yaml"
    config.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    ctx = build_context(gate=NoFailuresGate(docs_dir=tmp_path / "docs"), sources=load_sources(config))
    try:
        assert run_day(ctx, date.fromisoformat(AS_OF)).status == "succeeded"
        with ctx.engine.connect() as conn:
            assert set(conn.execute(select(Account.open_date)).scalars()) == {date(2000, 1, 1)}
            assert conn.execute(select(func.count()).select_from(Account)).scalar_one() == 3
    finally:
        ctx.dispose()
