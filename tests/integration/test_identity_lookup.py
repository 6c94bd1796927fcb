"""A small batch looks up only the identities it can reach, and resolves exactly as a full read would."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import Engine

from lifecycle.integration import parties
from lifecycle.integration.identity import resolve
from lifecycle.store.base import table_of
from lifecycle.store.db import make_engine, upgrade
from lifecycle.store.models import Customer, SourceLink
from lifecycle.store.upsert import upsert_frame

RULES = ("id_no_bidx", "name_mobile_bidx")


def _store(database_url: str) -> Engine:
    """Customers 1–6: 1 and 2 already share a name+mobile key (a recorded conflict), 3 is
    erased, 4 has no match keys but a link, 5 and 6 are unrelated to the batch."""
    engine = make_engine(database_url)
    upgrade(engine)
    customers = pd.DataFrame({
        "customer_id": [1, 2, 3, 4, 5, 6], "customer_ref": [f"CUS{i}" for i in range(1, 7)],
        "customer_type": "individual",
        "id_no_bidx": ["id-a", "id-b", "id-c", None, "id-e", "id-f"],
        "name_mobile_bidx": ["nm-1", "nm-1", "nm-3", None, "nm-5", "nm-6"],
        "erased_at": [None, None, datetime(2026, 1, 1), None, None, None]})
    links = pd.DataFrame({
        "source": ["core", "core", "core", "card", "core"], "source_key": ["K1", "K2", "K3", "C4", "K5"],
        "customer_id": [1, 2, 3, 4, 5], "system": "x", "match_rule": "new", "first_run_id": "r0",
        "last_run_id": "r0"})
    with engine.begin() as conn:
        upsert_frame(conn, table_of(Customer), customers)
        upsert_frame(conn, table_of(SourceLink), links)
    return engine


BATCH = pd.DataFrame({
    "source": ["card", "card", "core", "card", "card"],
    "source_key": ["C10", "C4", "K3", "C11", "C12"],
    # C10 reaches 1 by ID, and 2 through 1's name+mobile; C4 is linked to 4; K3 is linked
    # to the erased 3; C11 shares 3's ID (erased: not a match); C12 is new.
    "id_no_bidx": ["id-a", None, "id-c", "id-c", "id-z"],
    "name_mobile_bidx": [None, None, None, None, "nm-z"],
})


def _resolution(engine: Engine, monkeypatch: pytest.MonkeyPatch, targeted: int) -> tuple[object, ...]:
    monkeypatch.setattr(parties, "TARGETED_RECORDS", targeted)
    with engine.connect() as conn:
        existing, stale = parties._existing(conn, BATCH, RULES)
    res = resolve(BATCH, existing, RULES, next_customer_id=7)
    return (res.assignments.to_dict("list"), res.conflicts.to_dict("list"), res.next_customer_id,
            sorted(map(tuple, stale.to_numpy().tolist())), sorted(existing.keys["customer_id"].tolist()))


def test_targeted_lookup_resolves_like_a_full_read(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _store(database_url)
    full = _resolution(engine, monkeypatch, targeted=0)
    targeted = _resolution(engine, monkeypatch, targeted=10_000)
    assert targeted[:4] == full[:4]
    assignments = full[0]
    assert isinstance(assignments, dict)
    assert assignments["customer_id"][:2] == [1, 4]  # min of the reached customers 1 and 2; the link
    assert full[1] == {"customer_id": [1], "other_customer_id": [2]}
    assert full[3] == [("core", "K3")]  # the link to the erased customer is stale
    # the targeted read fetched only what the batch reaches: not 5, 6 or the erased 3
    assert targeted[4] == [1, 2]
    assert 5 in full[4] and 6 in full[4]
