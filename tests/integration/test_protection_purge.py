"""Retention purges in the databases (SQLite and PostgreSQL): quarantine, run keys, message bodies."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from test_protection_support import Stores, add_rows, make_stores

from lifecycle.protection.purge import clear_delivered_bodies, purge_quarantine
from lifecycle.store.keystore import RunKey
from lifecycle.store.models import OutboxMessage, QuarantinedRow

NOW = datetime(2026, 6, 30, 4, 0)


def _ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def _quarantine(stores: Stores, run_id: str, days_ago: list[int]) -> None:
    stores.keystore.quarantine_key(stores.keyring, run_id, _ago(max(days_ago, default=0)))
    add_rows(stores.engine, QuarantinedRow, [
        {"run_id": run_id, "source": "accounts", "file": "accounts.csv", "row_number": i, "source_key": f"A{i}",
         "failures": [{"rule": "owner_known"}], "raw_enc": b"\x01sealed", "created_at": _ago(d)}
        for i, d in enumerate(days_ago, start=1)])


def _run_keys(stores: Stores) -> set[str]:
    with stores.keystore.engine.connect() as conn:
        return set(conn.execute(select(RunKey.run_id)).scalars())


def test_old_quarantine_rows_go_and_a_run_key_goes_with_its_last_row(database_url: str, tmp_path: Path) -> None:
    stores = make_stores(database_url, tmp_path)
    old, mixed, recent, emptied, starting = (str(uuid.uuid4()) for _ in range(5))
    _quarantine(stores, old, [120, 100])
    _quarantine(stores, mixed, [100, 10])  # key made with its oldest row, 100 days ago
    _quarantine(stores, recent, [10])
    stores.keystore.quarantine_key(stores.keyring, emptied, _ago(200))  # its rows were purged earlier
    stores.keystore.quarantine_key(stores.keyring, starting, NOW)  # a run writing its quarantine now

    purged = purge_quarantine(stores.engine, stores.keystore, NOW, 90)

    with stores.engine.connect() as conn:
        left = sorted(conn.execute(select(QuarantinedRow.run_id, QuarantinedRow.row_number)).all())
    assert left == sorted([(mixed, 2), (recent, 1)])
    assert (purged.rows, purged.run_keys) == (3, 2)
    assert _run_keys(stores) == {mixed, recent, starting}
    assert stores.keystore.quarantine_key(stores.keyring, mixed, NOW)  # the remaining row's key still unwraps
    again = purge_quarantine(stores.engine, stores.keystore, NOW, 90)
    assert (again.rows, again.run_keys) == (0, 0)


def test_bodies_of_messages_sent_longer_ago_than_the_period_are_cleared(database_url: str, tmp_path: Path) -> None:
    stores = make_stores(database_url, tmp_path)
    cases = {"sent-old": ("sent", 40), "sent-recent": ("sent", 10), "pending-old": ("pending", 40),
             "failed-old": ("failed", 40)}
    add_rows(stores.engine, OutboxMessage, [
        {"message_key": key, "customer_id": None, "kind": "care_message", "channel": "sms",
         "route": ["customer-gateway"], "template": "mid_autumn", "locale": "zh_CN", "recipient": "C1",
         "as_of": _ago(d).date(), "context_enc": b"\x01sealed", "not_before": _ago(d), "status": status,
         "attempts": 1, "created_at": _ago(d), "sent_at": _ago(d) if status == "sent" else None}
        for key, (status, d) in cases.items()])

    assert clear_delivered_bodies(stores.engine, NOW, 30) == 1

    with stores.engine.connect() as conn:
        bodies = dict(conn.execute(select(OutboxMessage.message_key, OutboxMessage.context_enc)).all())
    assert {k for k, body in bodies.items() if body is None} == {"sent-old"}
    assert clear_delivered_bodies(stores.engine, NOW, 30) == 0
