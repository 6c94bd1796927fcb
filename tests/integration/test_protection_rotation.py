"""Master-key rotation on SQLite and PostgreSQL: complete, resumable, clear when keys are missing."""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from test_protection_support import Stores, decrypt_name, load_people, make_stores, people

from lifecycle.errors import KeyringError
from lifecycle.privacy.keyring import write_keyring
from lifecycle.protection.rotation import BatchProgress, rotate_master_key, versions_in_use
from lifecycle.store.models import KeyRotation

NOW = datetime(2026, 7, 1, 2, 0)


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> tuple[Stores, dict[str, str], list[str]]:
    """7 customers (4 of them card holders, resolved into the same customers) and 2 quarantine run keys."""
    stores = make_stores(database_url, tmp_path)
    refs = load_people(stores, people(7))
    run_ids = [str(uuid.uuid4()) for _ in range(2)]
    for run_id in run_ids:
        stores.keystore.quarantine_key(stores.keyring, run_id, NOW)
    return stores, refs, run_ids


def _rotations(stores: Stores) -> list[tuple[str, int]]:
    with stores.engine.connect() as conn:
        rows = conn.execute(select(KeyRotation.status, KeyRotation.rewrapped).order_by(KeyRotation.id)).all()
    return [(status, rewrapped) for status, rewrapped in rows]


def test_rotation_leaves_no_key_on_the_old_version(store: tuple[Stores, dict[str, str], list[str]]) -> None:
    stores, refs, run_ids = store
    assert versions_in_use(stores.keystore) == {"customer_keys": {1: 7}, "run_keys": {1: 2}}
    rotated = stores.keyring.with_new_version()

    result = rotate_master_key(stores.engine, stores.keystore, rotated, batch_size=3)

    assert versions_in_use(stores.keystore) == {"customer_keys": {2: 7}, "run_keys": {2: 2}}
    assert result.rewrapped == {"customer_keys": 7, "run_keys": 2} and result.batches == 4
    assert result.stale == 0 and result.retirable_versions == [1]
    assert _rotations(stores) == [("succeeded", 9)]
    retired = rotated.without_version(1)
    names = {ref: decrypt_name(stores.engine, stores.keystore, retired, ref) for ref in refs.values()}
    assert names == {ref: p.name for p, ref in zip(people(7), refs.values(), strict=True)}
    for run_id in run_ids:
        assert stores.keystore.quarantine_key(retired, run_id, NOW)  # unwraps under version 2 alone


def test_a_second_rotation_finds_nothing_to_do(store: tuple[Stores, dict[str, str], list[str]]) -> None:
    stores, _, _ = store
    rotated = stores.keyring.with_new_version()
    rotate_master_key(stores.engine, stores.keystore, rotated, batch_size=100)
    again = rotate_master_key(stores.engine, stores.keystore, rotated, batch_size=100)
    assert again.total == 0 and again.batches == 0
    assert _rotations(stores) == [("succeeded", 9), ("succeeded", 0)]


def test_a_crash_after_the_first_batch_is_completed_by_the_next_run(
        store: tuple[Stores, dict[str, str], list[str]]) -> None:
    stores, refs, _ = store
    rotated = stores.keyring.with_new_version()
    seen: list[BatchProgress] = []

    def crash_after_first_batch(progress: BatchProgress) -> None:
        seen.append(progress)
        raise RuntimeError("worker lost")

    with pytest.raises(RuntimeError, match="worker lost"):
        rotate_master_key(stores.engine, stores.keystore, rotated, batch_size=3, on_batch=crash_after_first_batch)

    assert seen == [BatchProgress("customer_keys", 1, 3, 3, 7)]
    assert versions_in_use(stores.keystore) == {"customer_keys": {1: 4, 2: 3}, "run_keys": {1: 2}}
    assert _rotations(stores) == [("failed", 3)]

    resumed = rotate_master_key(stores.engine, stores.keystore, rotated, batch_size=3)

    assert resumed.rewrapped == {"customer_keys": 4, "run_keys": 2}
    assert versions_in_use(stores.keystore) == {"customer_keys": {2: 7}, "run_keys": {2: 2}}
    assert _rotations(stores) == [("failed", 3), ("succeeded", 6)]
    retired = rotated.without_version(1)
    assert all(decrypt_name(stores.engine, stores.keystore, retired, ref) for ref in refs.values())


def test_a_rotation_left_running_by_a_killed_process_is_marked_interrupted(
        store: tuple[Stores, dict[str, str], list[str]]) -> None:
    stores, _, _ = store
    with stores.engine.begin() as conn:
        conn.execute(insert(KeyRotation).values(to_version=2, started_at=NOW, rewrapped=3, status="running"))
    result = rotate_master_key(stores.engine, stores.keystore, stores.keyring.with_new_version())
    assert result.interrupted == [1]
    assert _rotations(stores) == [("interrupted", 3), ("succeeded", 9)]


def test_retiring_the_old_version_before_rotating_fails_clearly(
        store: tuple[Stores, dict[str, str], list[str]]) -> None:
    stores, refs, _ = store
    rotated = stores.keyring.with_new_version()
    too_early = rotated.without_version(1)
    some_ref = next(iter(refs.values()))

    with pytest.raises(KeyringError, match="master key version 1 is not in the keyring"):
        rotate_master_key(stores.engine, stores.keystore, too_early)
    with pytest.raises(KeyringError, match="master key version 1 is not in the keyring"):
        decrypt_name(stores.engine, stores.keystore, too_early, some_ref)

    assert _rotations(stores) == [("failed", 0)]
    assert versions_in_use(stores.keystore)["customer_keys"] == {1: 7}  # nothing damaged
    assert decrypt_name(stores.engine, stores.keystore, rotated, some_ref) == people(7)[0].name


def test_keys_status_and_retire_follow_the_rotation(store: tuple[Stores, dict[str, str], list[str]], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle.cli import main
    from lifecycle.privacy.keyring import Keyring
    from lifecycle.settings import get_settings

    stores, _, _ = store
    keyring_file = write_keyring(stores.keyring, tmp_path / "keyring.json")
    monkeypatch.setenv("LIFECYCLE_DATABASE_URL", stores.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LIFECYCLE_KEYSTORE_URL", stores.keystore_url)
    monkeypatch.setenv("LIFECYCLE_KEYRING_FILE", str(keyring_file))
    get_settings.cache_clear()
    try:
        assert main(["keys", "new-version", "--keyring-file", str(keyring_file)], io.StringIO()) == 0
        assert main(["keys", "retire", "--version", "1", "--keyring-file", str(keyring_file)]) == 1  # refused: in use
        rotate_master_key(stores.engine, stores.keystore, Keyring.from_file(keyring_file))
        status = io.StringIO()
        assert main(["keys", "status"], status) == 0
        assert "customer_keys: v2: 7" in status.getvalue() and "retirable: 1" in status.getvalue()
        assert main(["keys", "retire", "--version", "1", "--keyring-file", str(keyring_file)], io.StringIO()) == 0
        assert sorted(Keyring.from_file(keyring_file).master_keys) == [2]
    finally:
        get_settings.cache_clear()
