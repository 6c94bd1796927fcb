"""A source over its error budget refuses the whole run: nothing is loaded, stewards see why."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from lifecycle.integration.service import QualityGateError
from lifecycle.store.models import Account, Customer, IngestedFile, IngestionRun, QuarantinedRow, Transaction

AS_OF = date(2026, 6, 30)
pytestmark = pytest.mark.slow


def test_over_budget_source_refuses_the_run_and_names_source_rate_and_budget(
        prefect_api: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> None:
    from flows.daily import daily_lifecycle
    from tasks.context import flow_context, reset

    config = yaml.safe_load(Path("lifecycle/config/sources.yaml").read_text(encoding="utf-8"))
    config["sources"]["core_customers"]["error_budget"] = 0.001  # the bank's 1 % of flaws is over it
    strict = tmp_path / "sources-strict.yaml"
    strict.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    landing = tmp_path / "landing"
    shutil.copytree(generated_bank / "landing" / str(AS_OF), landing / str(AS_OF))
    use_home(monkeypatch, tmp_path / "home", landing)
    monkeypatch.setenv("LIFECYCLE_SOURCES_FILE", str(strict))
    reset()
    try:
        with pytest.raises(QualityGateError) as err:
            daily_lifecycle(AS_OF)
        message = str(err.value)
        assert "source core_customers (core_customers.csv)" in message
        assert "> error budget 0.10%" in message and "nothing was loaded" in message
        assert "%) >" in message  # the measured rate, as a percentage

        w = flow_context()
        with w.engine.connect() as conn:
            for model in (Customer, Account, Transaction):  # no source at all is loaded
                assert conn.execute(select(func.count()).select_from(model)).scalar_one() == 0
            assert conn.execute(select(IngestionRun.status)).scalar_one() == "failed"
            # the rejected rows are kept for the stewards, and no file counts as loaded
            assert conn.execute(select(func.count()).select_from(QuarantinedRow)).scalar_one() > 0
            assert conn.execute(select(func.count()).select_from(IngestedFile).where(
                IngestedFile.rows_loaded > 0)).scalar_one() == 0
            assert set(conn.execute(select(IngestedFile.status)).scalars()) == {"refused"}
            refused_open = conn.execute(select(func.count()).select_from(QuarantinedRow)).scalar_one()
        report = w.settings.resolved_reports_dir / f"ingestion-{AS_OF}.md"
        assert "core_customers" in report.read_text(encoding="utf-8")
        assert (w.settings.data_docs_dir / "index.html").is_file()

        # the budget is restored: the same files load, and their bad rows are listed once
        monkeypatch.delenv("LIFECYCLE_SOURCES_FILE")
        reset()
        assert daily_lifecycle(AS_OF)["status"] == "succeeded"
        w = flow_context()
        with w.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(Customer)).scalar_one() > 0
            statuses = dict(conn.execute(select(QuarantinedRow.status, func.count()).group_by(
                QuarantinedRow.status)).all())
            assert statuses["superseded"] == refused_open
            assert statuses["open"] >= refused_open  # re-quarantined by the run that loaded
            # one registration per file, taken over by the run that loaded it
            assert set(conn.execute(select(IngestedFile.status)).scalars()) == {"loaded"}
    finally:
        reset()
