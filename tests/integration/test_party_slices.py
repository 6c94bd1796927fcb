"""Customers are survived, protected and stored in slices: the result does not depend on the slice."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from lifecycle.integration import parties
from lifecycle.store.models import Card, Customer, IdentityConflict, SourceLink

AS_OF = date(2026, 6, 30)
# Deterministic columns: masks, blind indexes and clear attributes (ciphertexts have random nonces).
CUSTOMER_COLUMNS = ("customer_id", "customer_ref", "customer_type", "name_masked", "mobile_masked", "id_no_masked",
                    "id_no_bidx", "mobile_bidx", "name_mobile_bidx", "birth_year", "gender", "branch_code",
                    "rm_id", "open_date", "marketing_consent", "provenance")


def _state(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    c = Customer.__table__.c
    with engine.connect() as conn:
        return {
            "customers": [tuple(r) for r in conn.execute(
                select(*[c[name] for name in CUSTOMER_COLUMNS]).order_by(c.customer_id)).all()],
            "links": [tuple(r) for r in conn.execute(
                select(SourceLink.source, SourceLink.source_key, SourceLink.customer_id, SourceLink.match_rule)
                .order_by(SourceLink.source, SourceLink.source_key)).all()],
            "cards": [tuple(r) for r in conn.execute(
                select(Card.card_ref, Card.customer_id, Card.card_no_masked).order_by(Card.card_ref)).all()],
            "conflicts": sorted(tuple(r) for r in conn.execute(
                select(IdentityConflict.customer_id, IdentityConflict.attribute, IdentityConflict.kept_source,
                       IdentityConflict.other_source)).all()),
        }


def _load_with_slices(slice_customers: int, home: Path, landing: Path, monkeypatch: pytest.MonkeyPatch,
                      use_home: Callable[[pytest.MonkeyPatch, Path, Path], None],
                      run_day: Callable[..., object]) -> dict[str, list[tuple[object, ...]]]:
    from tasks.context import flow_context, reset

    monkeypatch.setattr(parties, "PARTY_CHUNK", slice_customers)
    use_home(monkeypatch, home, landing)
    run_day(AS_OF)
    engine = flow_context().engine
    state = _state(engine)
    engine.dispose()
    reset()
    return state


@pytest.mark.slow
def test_slices_of_37_customers_store_what_one_slice_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None], run_day: Callable[..., object]) -> None:
    landing = generated_bank / "landing"
    whole = _load_with_slices(10**9, tmp_path / "whole", landing, monkeypatch, use_home, run_day)
    (tmp_path / "sliced").mkdir()
    shutil.copy(tmp_path / "whole" / "keyring.json", tmp_path / "sliced" / "keyring.json")  # same blind-index key
    sliced = _load_with_slices(37, tmp_path / "sliced", landing, monkeypatch, use_home, run_day)
    assert len(whole["customers"]) > 300 and whole["cards"] and whole["conflicts"]
    for table, rows in whole.items():
        differing = [(a, b) for a, b in zip(rows, sliced[table], strict=False) if a != b]
        assert len(sliced[table]) == len(rows), table
        assert not differing, f"{table}: {len(differing)} rows differ, first {differing[0]}"
