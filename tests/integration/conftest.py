"""Shared fixtures for flow tests: a generated bank, a keyring, settings per test."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from lifecycle.bootstrap import upgrade_stores
from lifecycle.integration.service import DayResult, run_day
from lifecycle.privacy.keyring import generate_keyring, write_keyring

AS_OF = "2026-06-30"


@pytest.fixture(scope="session")
def generated_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """400 customers with 1 % planted flaws (generated once per session)."""
    from lifecycle.synth.cli import main as synth

    out = tmp_path_factory.mktemp("bank")
    assert synth(["--customers", "400", "--seed", "7", "--as-of", AS_OF, "--out", str(out),
                  "--flaw-rate", "0.01", "--txns-per-customer", "10"]) in (0, None)
    assert json.loads((out / "truth" / "manifest.json").read_text())
    return out


def _use_home(mp: pytest.MonkeyPatch, home: Path, landing: Path) -> None:
    """Point the settings at ``home`` (database, reports, keyring) and ``landing``."""
    from tasks.context import reset

    home.mkdir(parents=True, exist_ok=True)
    keyring = home / "keyring.json"
    if not keyring.exists():
        write_keyring(generate_keyring(development_only=True), keyring)
    mp.setenv("LIFECYCLE_HOME", str(home))
    mp.setenv("LIFECYCLE_KEYRING_FILE", str(keyring))
    mp.setenv("LIFECYCLE_LANDING_DIR", str(landing))
    reset()
    upgrade_stores()  # what `bank-lifecycle db upgrade` does before a first run


@pytest.fixture(scope="session")
def use_home() -> Callable[[pytest.MonkeyPatch, Path, Path], None]:
    """Point the settings at a home folder and a landing zone (for module fixtures)."""
    return _use_home


@pytest.fixture
def lifecycle_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, generated_bank: Path) -> Iterator[Path]:
    """Settings for one test: its own home, database and keyring; the generated landing zone."""
    from tasks.context import reset

    _use_home(monkeypatch, tmp_path / "home", generated_bank / "landing")
    yield tmp_path / "home"
    reset()


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    """One ephemeral Prefect API for the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _run_day(as_of: date, only: list[str] | None = None) -> DayResult:
    """The day's integration without Prefect, on the environment's context."""
    from tasks.context import flow_context

    return run_day(flow_context(), as_of, only=only)


@pytest.fixture(scope="session", name="run_day")
def run_day_fixture() -> Callable[..., DayResult]:
    return _run_day
