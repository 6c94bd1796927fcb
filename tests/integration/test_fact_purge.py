"""The fact purge deletes dated facts and ended history past their regulatory period, nothing younger."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lifecycle.protection.purge import AML_MINIMUM_DAYS, DATED_FACTS, PurgePolicy, purge_facts
from lifecycle.store.base import table_of
from lifecycle.store.history import HISTORY
from lifecycle.store.models import Customer

AS_OF = date(2026, 6, 30)
CUTOFF = AS_OF - timedelta(days=90)  # inside the generated history: some facts before it, some after
TODAY = CUTOFF + timedelta(days=1830)


@pytest.fixture()
def day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None], run_day: Callable[..., object]) -> Iterator[None]:
    from tasks.context import reset

    use_home(monkeypatch, tmp_path / "home", generated_bank / "landing")
    run_day(AS_OF)
    yield
    reset()


def _counts(conn: object, older: bool) -> dict[str, int]:
    out = {}
    for model, column in DATED_FACTS:
        table = table_of(model)
        bound = datetime.combine(CUTOFF, datetime.min.time()) if column.endswith("_time") else CUTOFF
        dated = table.c[column]
        out[table.name] = conn.execute(select(func.count()).select_from(table).where(  # type: ignore[attr-defined]
            dated < bound if older else dated >= bound)).scalar_one()
    return out


def test_facts_older_than_the_period_go_and_younger_ones_stay(day: None) -> None:
    from tasks.context import flow_context

    engine = flow_context().engine
    with engine.connect() as conn:
        old, young = _counts(conn, older=True), _counts(conn, older=False)
        customers = conn.execute(select(func.count()).select_from(Customer)).scalar_one()
    assert old["transactions"] > 0 and young["transactions"] > 0  # the cutoff falls inside the history

    deleted = purge_facts(engine, TODAY, 1830)

    with engine.connect() as conn:
        assert _counts(conn, older=True) == dict.fromkeys(old, 0)
        assert _counts(conn, older=False) == young
        assert conn.execute(select(func.count()).select_from(Customer)).scalar_one() == customers
    assert {t: deleted[t] for t in old} == old
    assert set(deleted) >= {h.name for h in HISTORY.values()}
    assert purge_facts(engine, TODAY, 1830) == dict.fromkeys(deleted, 0)  # idempotent


def test_a_period_shorter_than_the_aml_minimum_is_refused() -> None:
    with pytest.raises(ValueError, match="AML"):
        purge_facts(None, TODAY, 365)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="greater than or equal"):
        PurgePolicy(landing_files_days=30, quarantine_days=90, delivered_message_body_days=30,
                    fact_retention_days=AML_MINIMUM_DAYS - 1)
