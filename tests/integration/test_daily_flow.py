"""The daily flow on generated data: loads, quarantines, resolves, is idempotent.

The flow runs twice for the module (the same day): the tests read what it left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from lifecycle.store.models import Customer, IngestedFile, IngestionRun, QuarantinedRow, SourceLink, Transaction

AS_OF = date(2026, 6, 30)
pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class TwoRuns:
    first: dict[str, object]
    second: dict[str, object]
    counts_after_first: dict[str, int]
    engine: Engine
    home: Path


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {m.__tablename__: conn.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (Customer, SourceLink, Transaction, QuarantinedRow)}


@pytest.fixture(scope="module")
def two_runs(prefect_api: None, generated_bank: Path, tmp_path_factory: pytest.TempPathFactory,
             use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> Iterator[TwoRuns]:
    from flows.daily import daily_lifecycle
    from tasks.context import flow_context, reset

    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("home")
        use_home(mp, home, generated_bank / "landing")
        first = daily_lifecycle(AS_OF)
        engine = flow_context().engine
        counts = _counts(engine)
        second = daily_lifecycle(AS_OF)
        yield TwoRuns(first, second, counts, engine, home)
        reset()


def test_second_run_of_the_same_day_changes_nothing(two_runs: TwoRuns) -> None:
    assert (two_runs.first["status"], two_runs.second["status"]) == ("succeeded", "skipped")
    assert _counts(two_runs.engine) == two_runs.counts_after_first
    assert two_runs.counts_after_first["customers"] > 0 and two_runs.counts_after_first["transactions"] > 0
    with two_runs.engine.connect() as conn:
        statuses = conn.execute(select(IngestionRun.status).order_by(IngestionRun.started_at)).scalars().all()
    assert statuses == ["succeeded", "skipped"]


def test_every_row_read_is_loaded_or_quarantined(two_runs: TwoRuns, generated_bank: Path) -> None:
    with two_runs.engine.connect() as conn:
        files = conn.execute(select(IngestedFile.source, IngestedFile.rows_read, IngestedFile.rows_loaded,
                                    IngestedFile.rows_quarantined)).all()
        quarantined = dict(conn.execute(select(QuarantinedRow.source, func.count())
                                        .group_by(QuarantinedRow.source)).all())
    assert len(files) == 12
    for source, read, loaded, rejected in files:
        assert read == loaded + rejected, source
        assert quarantined.get(source, 0) == rejected, source


def test_planted_flaws_are_quarantined_with_the_rule_they_break(two_runs: TwoRuns, generated_bank: Path) -> None:
    with two_runs.engine.connect() as conn:
        rows = conn.execute(select(QuarantinedRow.source, QuarantinedRow.row_number, QuarantinedRow.failures)).all()
    rules = {(source, row): {f["rule"] for f in failures} for source, row, failures in rows}
    flaws = pd.read_csv(generated_bank / "truth" / "flaws.csv", dtype={"row": int})
    assert len(flaws) > 10
    missed = [(f.source, f.row, f.rule) for f in flaws.itertuples()
              if f.rule not in rules.get((f.source, f.row), set())]
    assert missed == []


def test_cross_system_duplicates_resolve_with_high_precision_and_recall(two_runs: TwoRuns,
                                                                         generated_bank: Path) -> None:
    from lifecycle.integration.evaluation import pairwise_scores

    with two_runs.engine.connect() as conn:
        links = pd.DataFrame(conn.execute(select(SourceLink.source, SourceLink.source_key,
                                                 SourceLink.customer_id)).all(),
                             columns=["source", "source_key", "customer_id"])
    truth = pd.read_csv(generated_bank / "truth" / "identities.csv", dtype=str)
    scores = pairwise_scores(links, truth)
    assert scores.true_pairs > 20
    assert scores.precision >= 0.99 and scores.recall >= 0.99, scores


def test_data_docs_and_the_run_report_are_written(two_runs: TwoRuns) -> None:
    reports = two_runs.home / "reports"
    assert (reports / "data-docs" / "index.html").stat().st_size > 0
    report = (reports / f"ingestion-{AS_OF}.md").read_text(encoding="utf-8")
    assert "| core_customers |" in report and "Data Docs" in report
