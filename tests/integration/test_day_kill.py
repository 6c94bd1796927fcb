"""A day killed at any point (SIGKILL) and re-run ends in the store an uninterrupted day makes.

Each case runs the day in a child process that kills itself at one kill point
(tests/support/killpoints.py), then runs the day again plainly, and compares
the whole store with that of an uninterrupted run of the same files under the
same keyring: every table's rows (content checksums), every customer's PII and
every quarantined row decrypted, no run left ``running``, no staging folder
left, the day's report written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from lifecycle.bootstrap import build_context, upgrade_stores
from lifecycle.privacy.keyring import Keyring, generate_keyring, write_keyring
from lifecycle.settings import Settings
from lifecycle.store.models import IngestedFile, IngestionRun
from tests.support.killpoints import POINTS
from tests.support.store_snapshot import StoreSnapshot, snapshot

AS_OF = date(2026, 6, 30)
ROOT = Path(__file__).resolve().parents[2]
CHILD = ROOT / "tests" / "support" / "run_day_child.py"
pytestmark = [pytest.mark.slow, pytest.mark.reliability]  # make reliability (CI: .ci/run)


@dataclass(frozen=True)
class Home:
    path: Path
    env: dict[str, str]
    settings: Settings


def _home(path: Path, landing: Path, keyring_file: Path) -> Home:
    path.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "LIFECYCLE_HOME": str(path), "LIFECYCLE_LANDING_DIR": str(landing),
           "LIFECYCLE_KEYRING_FILE": str(keyring_file), "PYTHONPATH": str(ROOT)}
    for name in ("LIFECYCLE_DATABASE_URL", "LIFECYCLE_KEYSTORE_URL", "LIFECYCLE_KEYRING"):
        env.pop(name, None)
    settings = Settings(home=path, landing_dir=landing)
    upgrade_stores(settings)
    return Home(path, env, settings)


def _run(home: Home, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(CHILD), "--as-of", AS_OF.isoformat(), *(["--kill-at", kill_at] if kill_at else [])]
    return subprocess.run(command, env=home.env, capture_output=True, text=True, timeout=600, check=False)


def _snapshot(home: Home, keyring: Keyring) -> StoreSnapshot:
    ctx = build_context(home.settings, keyring=keyring)
    try:
        return snapshot(ctx.engine, ctx.keystore, ctx.keyring)
    finally:
        ctx.dispose()


@pytest.fixture(scope="module")
def keyring_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_keyring(generate_keyring(development_only=True),
                         tmp_path_factory.mktemp("keys") / "keyring.json")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory, generated_bank: Path,
                  keyring_file: Path) -> Iterator[StoreSnapshot]:
    home = _home(tmp_path_factory.mktemp("uninterrupted"), generated_bank / "landing", keyring_file)
    done = _run(home)
    assert done.returncode == 0, done.stderr
    shot = _snapshot(home, Keyring.from_file(keyring_file))
    assert shot.undecryptable == [] and shot.tables["customers"][0] > 300 and shot.tables["transactions"][0] > 1000
    yield shot


@pytest.mark.parametrize("point", sorted(POINTS))
def test_a_day_killed_at_any_point_and_rerun_equals_an_uninterrupted_day(
        point: str, tmp_path: Path, generated_bank: Path, keyring_file: Path, uninterrupted: StoreSnapshot) -> None:
    home = _home(tmp_path / "home", generated_bank / "landing", keyring_file)
    killed = _run(home, kill_at=point)
    assert killed.returncode == -signal.SIGKILL, f"{point} was never reached: {killed.stderr[-2000:]}"
    again = _run(home)
    assert again.returncode == 0, again.stderr[-2000:]

    resumed = _snapshot(home, Keyring.from_file(keyring_file))
    assert resumed.undecryptable == []  # every customer's PII decrypts
    assert resumed.tables == uninterrupted.tables
    assert resumed.pii == uninterrupted.pii
    assert resumed.quarantine == uninterrupted.quarantine
    assert "running" not in resumed.run_statuses
    assert resumed.run_statuses.count("succeeded") == 1
    engine = build_context(home.settings, keyring=Keyring.from_file(keyring_file)).engine
    with engine.connect() as conn:
        assert set(conn.execute(select(IngestedFile.status)).scalars()) == {"loaded"}
        reported = conn.execute(select(IngestionRun.report_path).where(IngestionRun.status == "succeeded")).scalar()
    engine.dispose()
    assert reported and Path(reported).is_file()
    staging = home.path / "staging"
    assert not staging.exists() or not any(staging.iterdir())
