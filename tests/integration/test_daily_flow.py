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


def test_planted_flaws_are_quarantined_with_the_rule_they_break(prefect_api: None, lifecycle_env: Path,
                                                                generated_bank: Path) -> None:
    from flows.daily import daily_lifecycle
    from tasks.wiring import bootstrap

    daily_lifecycle(AS_OF)
    with bootstrap().engine.connect() as conn:
        rows = conn.execute(select(QuarantinedRow.source, QuarantinedRow.row_number, QuarantinedRow.failures)).all()
    rules = {(source, row): {f["rule"] for f in failures} for source, row, failures in rows}
    flaws = pd.read_csv(generated_bank / "truth" / "flaws.csv", dtype={"row": int})
    assert len(flaws) > 10
    missed = [(f.source, f.row, f.rule) for f in flaws.itertuples()
              if f.rule not in rules.get((f.source, f.row), set())]
    assert missed == []


def test_cross_system_duplicates_resolve_with_high_precision_and_recall(prefect_api: None, lifecycle_env: Path,
                                                                         generated_bank: Path) -> None:
    from flows.daily import daily_lifecycle
    from lifecycle.evaluation import pairwise_scores
    from tasks.wiring import bootstrap

    daily_lifecycle(AS_OF)
    with bootstrap().engine.connect() as conn:
        links = pd.DataFrame(conn.execute(select(SourceLink.source, SourceLink.source_key,
                                                 SourceLink.customer_id)).all(),
                             columns=["source", "source_key", "customer_id"])
    truth = pd.read_csv(generated_bank / "truth" / "identities.csv", dtype=str)
    scores = pairwise_scores(links, truth)
    assert scores.true_pairs > 20
    assert scores.precision >= 0.99 and scores.recall >= 0.99, scores
