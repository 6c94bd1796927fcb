"""The same daily steps on PostgreSQL: loads, and a second run of the day changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from lifecycle.store.models import Account, Customer, QuarantinedRow, SourceLink, Transaction

AS_OF = date(2026, 6, 30)
TABLES = (Customer, SourceLink, Account, Transaction, QuarantinedRow)


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {m.__tablename__: conn.execute(select(func.count()).select_from(m)).scalar_one() for m in TABLES}


@pytest.mark.slow
@pytest.mark.postgres
def test_loading_a_day_twice_on_postgres_leaves_the_same_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path, postgres_url: str,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None], run_day: Callable[..., object]) -> None:
    from tasks.context import flow_context, reset

    monkeypatch.setenv("LIFECYCLE_DATABASE_URL", postgres_url)
    use_home(monkeypatch, tmp_path / "home", generated_bank / "landing")
    run_day(AS_OF)
    engine = flow_context().engine
    assert engine.dialect.name == "postgresql"
    first = _counts(engine)
    with engine.connect() as conn:
        customers = conn.execute(select(Customer.customer_id, Customer.name_enc).order_by(Customer.customer_id)).all()

    # forget the files, as if the same extracts arrived again under new names: every row is upserted again
    from lifecycle.store.models import IngestedFile

    with engine.begin() as conn:
        conn.execute(IngestedFile.__table__.delete())
    run_day(AS_OF)
    assert first["customers"] > 300 and first["transactions"] > 1000
    second = _counts(engine)
    assert {k: v for k, v in second.items() if k != "quarantine"} == \
        {k: v for k, v in first.items() if k != "quarantine"}
    with engine.connect() as conn:
        again = conn.execute(select(Customer.customer_id, Customer.name_enc).order_by(Customer.customer_id)).all()
    assert again == customers  # the golden records were not rewritten: same ciphertexts
    engine.dispose()
    reset()
