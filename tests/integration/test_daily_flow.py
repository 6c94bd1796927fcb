"""The daily flow on generated data: loads, quarantines, and is idempotent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from lifecycle.store.models import Customer, IngestedFile, IngestionRun, QuarantinedRow, SourceLink, Transaction

AS_OF = date(2026, 6, 30)
pytestmark = pytest.mark.slow


def _counts(engine: object) -> dict[str, int]:
    from sqlalchemy import Engine

    assert isinstance(engine, Engine)
    with engine.connect() as conn:
        return {m.__tablename__: conn.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (Customer, SourceLink, Transaction, QuarantinedRow)}


def test_second_run_of_the_same_day_changes_nothing(prefect_api: None, lifecycle_env: Path,
                                                     generated_bank: Path) -> None:
    from flows.daily import daily_lifecycle
    from tasks.wiring import bootstrap

    first = daily_lifecycle(AS_OF)
    engine = bootstrap().engine
    after_first = _counts(engine)
    second = daily_lifecycle(AS_OF)
    assert (first["status"], second["status"]) == ("succeeded", "skipped")
    assert _counts(engine) == after_first
    assert after_first["customers"] > 0 and after_first["transactions"] > 0
    with engine.connect() as conn:
        statuses = conn.execute(select(IngestionRun.status).order_by(IngestionRun.started_at)).scalars().all()
    assert statuses == ["succeeded", "skipped"]


def test_every_row_read_is_loaded_or_quarantined(prefect_api: None, lifecycle_env: Path,
                                                 generated_bank: Path) -> None:
    from flows.daily import daily_lifecycle
    from tasks.wiring import bootstrap

    daily_lifecycle(AS_OF)
    with bootstrap().engine.connect() as conn:
        files = conn.execute(select(IngestedFile.source, IngestedFile.rows_read, IngestedFile.rows_loaded,
                                    IngestedFile.rows_quarantined)).all()
        quarantined = dict(conn.execute(select(QuarantinedRow.source, func.count())
                                        .group_by(QuarantinedRow.source)).all())
    flaws = pd.read_csv(generated_bank / "truth" / "flaws.csv", dtype=str)
    for source, read, loaded, rejected in files:
        assert read == loaded + rejected, source
        assert quarantined.get(source, 0) == rejected, source
    for source, planted in flaws.groupby("source"):
        assert quarantined.get(source, 0) >= planted["row"].nunique(), source
