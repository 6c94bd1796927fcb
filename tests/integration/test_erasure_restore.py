"""An erased customer stays erased when both databases are restored from a backup made before the erasure.

The erasure log (lifecycle/protection/erasure_log.py) lives beside the keyring,
outside both databases; opening a context replays it before anything is read.
A control case shows what the restore does without the log: the PII comes back.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from lifecycle.bootstrap import build_context, erasure_log
from lifecycle.errors import ConfigError, LifecycleError
from lifecycle.privacy.keyring import Keyring
from lifecycle.protection.erasure import erase_customer
from lifecycle.protection.reveal import reveal
from lifecycle.settings import Settings
from lifecycle.store.models import Customer, Erasure

AS_OF = date(2026, 6, 30)
NOW = datetime(2026, 7, 1, 10)
DATABASES = ("lifecycle.db", "keystore.db")
pytestmark = [pytest.mark.slow, pytest.mark.reliability]


@pytest.fixture(scope="module")
def integrated(tmp_path_factory: pytest.TempPathFactory, generated_bank: Path,
               use_home: Callable[[pytest.MonkeyPatch, Path, Path], None]) -> Iterator[Path]:
    from lifecycle.integration.service import run_day
    from tasks.context import flow_context, reset

    home = tmp_path_factory.mktemp("restore") / "home"
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home, generated_bank / "landing")
        assert str(run_day(flow_context(), AS_OF).status) == "succeeded"
        flow_context().dispose()
        reset()
    yield home


@pytest.fixture
def settings(integrated: Path, tmp_path: Path) -> Settings:
    home = tmp_path / "home"
    shutil.copytree(integrated, home)
    return Settings(home=home, landing_dir=tmp_path, keyring_file=home / "keyring.json")


def _backup(settings: Settings, folder: Path) -> None:
    folder.mkdir()
    for name in DATABASES:  # the contexts are disposed: each database is whole in its main file
        shutil.copy2(settings.home / name, folder / name)


def _restore(settings: Settings, folder: Path) -> None:
    for name in DATABASES:
        for suffix in ("-wal", "-shm"):
            Path(f"{settings.home / name}{suffix}").unlink(missing_ok=True)
        shutil.copy2(folder / name, settings.home / name)


def _customer(settings: Settings) -> str:
    ctx = build_context(settings)
    try:
        with ctx.engine.connect() as conn:
            return str(conn.execute(select(Customer.customer_ref).where(
                Customer.customer_type == "individual", Customer.name_enc.is_not(None))
                .order_by(Customer.customer_id).limit(1)).scalar_one())
    finally:
        ctx.dispose()


def _erase(settings: Settings, ref: str, *, logged: bool = True) -> None:
    ctx = build_context(settings)
    try:
        erase_customer(ctx.engine, ctx.keystore, ref, "dpo", "PIPL art. 47 request", NOW,
                       log=erasure_log(settings) if logged else None)
    finally:
        ctx.dispose()


def _reveal(settings: Settings, ref: str) -> list[tuple[str, str | None]]:
    ctx = build_context(settings, keyring=Keyring.from_file(settings.home / "keyring.json"))
    try:
        return reveal(ctx.engine, ctx.keystore, ctx.keyring, ref, ["name"], actor="steward", reason="restore check",
                      now=NOW)
    finally:
        ctx.dispose()


def test_an_erased_customer_cannot_be_revealed_after_both_databases_are_restored(
        settings: Settings, tmp_path: Path) -> None:
    ref = _customer(settings)
    assert _reveal(settings, ref)[0][1]  # before: the name decrypts
    _backup(settings, tmp_path / "backup")
    _erase(settings, ref)
    assert settings.resolved_erasure_log_file.parent == settings.home  # beside the keyring file
    _restore(settings, tmp_path / "backup")  # both databases from before the erasure
    with pytest.raises(LifecycleError, match="erased|no data key"):
        _reveal(settings, ref)
    ctx = build_context(settings)
    try:
        with ctx.engine.connect() as conn:
            row = conn.execute(select(Customer.customer_id, Customer.name_enc, Customer.erased_at)
                               .where(Customer.customer_ref == ref)).one()
            replayed = conn.execute(select(Erasure.requested_by)).scalars().all()
        assert row.name_enc is None and row.erased_at is not None and replayed == ["erasure-log"]
        assert ctx.keystore.customer_keys([int(row.customer_id)]).empty
    finally:
        ctx.dispose()


def test_control_without_the_erasure_log_a_restore_brings_the_pii_back(settings: Settings, tmp_path: Path) -> None:
    ref = _customer(settings)
    before = _reveal(settings, ref)
    _backup(settings, tmp_path / "backup")
    _erase(settings, ref, logged=False)
    _restore(settings, tmp_path / "backup")
    assert _reveal(settings, ref) == before  # what the log exists to prevent


def test_a_torn_last_line_is_ignored_and_a_corrupt_line_refuses_to_start(settings: Settings) -> None:
    ref = _customer(settings)
    _erase(settings, ref)
    log = settings.resolved_erasure_log_file
    with log.open("a", encoding="ascii") as fh:
        fh.write('{"customer_ref": "CUS')  # a crash while appending
    build_context(settings).dispose()
    log.write_text("not json\n" + log.read_text(encoding="ascii"), encoding="ascii")
    with pytest.raises(ConfigError, match=r"erasure log .*line 1"):
        build_context(settings)
