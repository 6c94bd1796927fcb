"""The protection flows through Prefect (ephemeral API): logs, artifacts, failure and resumption.

One hand-made store per module, loaded through the production path; the flows
read it through the same wiring as in a deployment. Tests run in file order:
the rotation tests rotate to a new master-key version each, the erasure
tests erase customers other tests do not use.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_protection_support import (
    Person,
    Stores,
    add_rows,
    decrypt_name,
    flow_run_artifacts,
    flow_run_logs,
    load_people,
    people,
)

from lifecycle.privacy.keyring import Keyring
from lifecycle.protection import rotation
from lifecycle.protection.rotation import versions_in_use
from lifecycle.store.models import Erasure, KeyRotation, OutboxMessage

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Env:
    home: Path
    keyring_file: Path
    persons: list[Person]
    refs: list[str]

    def stores(self) -> Stores:
        from tasks.context import flow_context

        w = flow_context()
        return Stores(w.engine, w.keystore, w.keyring, w.settings.resolved_keystore_url)


@pytest.fixture(scope="module")
def env(prefect_api: None, tmp_path_factory: pytest.TempPathFactory,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> Iterator[Env]:
    from tasks.context import reset

    with pytest.MonkeyPatch.context() as mp:
        home = tmp_path_factory.mktemp("protection-home")
        use_home(mp, home, home / "landing")
        env = Env(home, home / "keyring.json", people(6), [])
        refs = load_people(env.stores(), env.persons)
        yield Env(env.home, env.keyring_file, env.persons, [refs[p.cust_no] for p in env.persons])
        reset()


def _new_master_version(env: Env) -> int:
    """What the operator does before a rotation: a new active version in the keyring file."""
    from lifecycle.cli import main
    from tasks.context import reset

    assert main(["keys", "new-version", "--keyring-file", str(env.keyring_file)], io.StringIO()) == 0
    reset()  # the flows' process reloads the keyring
    return Keyring.from_file(env.keyring_file).active_version


def _flow_run_id(state: Any) -> object:
    return state.state_details.flow_run_id


def test_a_rotation_that_fails_mid_way_is_completed_by_the_next_run(env: Env, monkeypatch: pytest.MonkeyPatch
                                                                     ) -> None:
    from flows.rotate_keys import rotate_master_key

    version = _new_master_version(env)
    real_batch = rotation.rewrap_batch
    calls: list[int] = []

    def crash_on_second_batch(*args: Any, **kwargs: Any) -> tuple[int, object]:
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("key store went away")
        return real_batch(*args, **kwargs)

    monkeypatch.setattr(rotation, "rewrap_batch", crash_on_second_batch)
    failed = rotate_master_key(batch_size=2, return_state=True)
    assert failed.is_failed()
    assert versions_in_use(env.stores().keystore)["customer_keys"] == {version - 1: 4, version: 2}

    monkeypatch.setattr(rotation, "rewrap_batch", real_batch)
    state = rotate_master_key(batch_size=2, return_state=True)

    summary = state.result()
    assert state.is_completed() and summary["total"] == 4 and summary["stale"] == 0
    assert summary["retirable_versions"] == [version - 1]
    logs = flow_run_logs(_flow_run_id(state))
    assert len([m for m in logs if m.startswith("batch ")]) == summary["batches"] == 2
    assert any("4 keys re-wrapped in 2 batches" in m for m in logs)
    assert any("Master key rotation" in a for a in flow_run_artifacts(_flow_run_id(state)))
    with env.stores().engine.connect() as conn:
        statuses = conn.execute(select(KeyRotation.status).order_by(KeyRotation.id)).scalars().all()
    assert statuses[-2:] == ["failed", "succeeded"]
    retired = Keyring.from_file(env.keyring_file).without_version(version - 1)
    assert decrypt_name(env.stores().engine, env.stores().keystore, retired, env.refs[0]) == env.persons[0].name


def test_erase_customer_flow_erases_once_and_then_says_already_erased(env: Env) -> None:
    from flows.erase_customer import erase_customer

    stores = env.stores()
    first = erase_customer(env.refs[4], "dpo.wang", "ticket PIPL-7", return_state=True)
    second = erase_customer(env.refs[4], "dpo.wang", "ticket PIPL-7", return_state=True)

    assert first.result()["already_erased"] is False and first.result()["key_destroyed"] is True
    assert second.result()["already_erased"] is True
    assert any(f"customer {env.refs[4]} was already erased" in m for m in flow_run_logs(_flow_run_id(second)))
    assert any(env.refs[4] in a for a in flow_run_artifacts(_flow_run_id(first)))
    with stores.engine.connect() as conn:
        assert len(conn.execute(select(Erasure.id)).all()) == 1


def test_erase_customer_flow_refuses_a_name_given_as_reference_without_logging_it(env: Env) -> None:
    from flows.erase_customer import erase_customer

    name = env.persons[5].name
    state = erase_customer(name, "dpo.wang", "ticket PIPL-8", return_state=True)

    assert state.is_failed()
    logs = flow_run_logs(_flow_run_id(state))
    assert any("customer reference" in m for m in logs)
    assert not [m for m in logs if name in m]


def test_purge_flow_logs_a_count_per_kind(env: Env) -> None:
    from flows.purge import purge

    landing = env.home / "landing"
    for day in ("2026-01-31", "2026-06-29"):
        (landing / day).mkdir(parents=True)
    now = datetime.now()
    add_rows(env.stores().engine, OutboxMessage, [
        {"message_key": "old-sent", "customer_id": None, "kind": "care_message", "channel": "sms",
         "route": ["customer-gateway"], "template": "spring", "locale": "zh_CN", "recipient": "C1",
         "as_of": (now - timedelta(days=60)).date(), "context_enc": b"\x01sealed",
         "not_before": now - timedelta(days=60), "status": "sent", "attempts": 1,
         "created_at": now - timedelta(days=60), "sent_at": now - timedelta(days=60)}])

    state = purge(today=date(2026, 6, 30), return_state=True)

    counts = state.result()
    assert {k: v for k, v in counts.items() if not k.startswith("facts_")} == {
        "landing_day_folders": 1, "quarantine_rows": 0, "run_keys": 0, "message_bodies": 1}
    assert {k for k in counts if k.startswith("facts_")} >= {"facts_transactions", "facts_balance_snapshots"}
    assert not any(v for k, v in counts.items() if k.startswith("facts_"))  # nothing five years old here
    assert sorted(p.name for p in landing.iterdir()) == ["2026-06-29"]
    logs = flow_run_logs(_flow_run_id(state))
    for kind in ("landing: 1 day folder", "quarantine: 0 row", "facts: 0 row", "care messages: 1 body"):
        assert any(m.startswith(kind) for m in logs), kind
