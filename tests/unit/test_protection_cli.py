"""The ``bank-lifecycle`` command line without a database: parser, keyring file, refusals."""

from __future__ import annotations

import argparse
import base64
import io
import logging
import stat
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import pytest

from lifecycle import cli
from lifecycle.privacy.keyring import Keyring, generate_keyring, write_keyring
from lifecycle.privacy.redaction import uninstall_redaction
from lifecycle.settings import get_settings


@pytest.fixture
def without_redaction() -> Iterator[None]:
    """No redaction installed during the test; an earlier installation comes back after it."""
    installed = logging.getLogRecordFactory()
    uninstall_redaction()
    yield
    logging.setLogRecordFactory(installed)


def test_a_command_group_can_be_added_from_its_own_module(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("example_commands_for_test")

    def listing(args: argparse.Namespace, out: TextIO) -> int:
        out.write(f"listing {args.source}\n")
        return 0

    def register(groups: Any) -> None:
        group = groups.add_parser("example").add_subparsers(dest="command", required=True)
        group.add_parser("list").add_argument("--source")
        group.choices["list"].set_defaults(handler=listing)

    module.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(cli, "COMMAND_GROUPS", (*cli.COMMAND_GROUPS, module.__name__))
    out = io.StringIO()
    assert cli.main(["example", "list", "--source", "core_customers"], out) == 0
    assert out.getvalue() == "listing core_customers\n"


def test_keys_new_version_adds_an_active_version_and_keeps_the_old_one(tmp_path: Path) -> None:
    original = generate_keyring()
    keyring_file = write_keyring(original, tmp_path / "keyring.json")
    out = io.StringIO()

    assert cli.main(["keys", "new-version", "--keyring-file", str(keyring_file)], out) == 0

    rotated = Keyring.from_file(keyring_file)
    assert sorted(rotated.master_keys) == [1, 2] and rotated.active_version == 2
    assert rotated.master_keys[1] == original.master_keys[1]
    assert rotated.blind_index_key == original.blind_index_key and rotated.development_only
    assert stat.S_IMODE(keyring_file.stat().st_mode) == 0o600
    assert "version 2 is now active" in out.getvalue()
    secrets_ = [base64.b64encode(k).decode() for k in (*rotated.master_keys.values(), rotated.blind_index_key)]
    assert not [s for s in secrets_ if s in out.getvalue()]


def test_a_reveal_without_a_reason_is_refused_before_any_store_is_opened(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def no_stores() -> None:
        raise AssertionError("the stores were opened")

    monkeypatch.setattr("lifecycle.cli.customer.open_context", no_stores)
    assert cli.main(["customer", "show", "CUS0000000001", "--reveal"], io.StringIO()) == cli.EXIT_USAGE  # usage
    assert "--reveal needs --reason" in capsys.readouterr().err


def test_a_reference_that_looks_like_pii_is_refused_without_echo(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LIFECYCLE_HOME", str(tmp_path))
    monkeypatch.delenv("LIFECYCLE_DATABASE_URL", raising=False)
    monkeypatch.delenv("LIFECYCLE_KEYSTORE_URL", raising=False)
    get_settings.cache_clear()
    try:
        assert cli.main(["customer", "show", "13812345678"], io.StringIO()) == cli.EXIT_REFUSED
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "customer reference" in err and "13812345678" not in err


def test_the_command_line_redacts_pii_from_log_records(without_redaction: None, tmp_path: Path) -> None:
    def logged() -> str:
        record = logging.getLogger("lifecycle.test").makeRecord(
            "lifecycle.test", logging.INFO, __file__, 1, "customer mobile %s", ("13812345678",), None)
        return record.getMessage()

    assert logged() == "customer mobile 13812345678"
    keyring_file = write_keyring(generate_keyring(), tmp_path / "keyring.json")
    cli.main(["keys", "new-version", "--keyring-file", str(keyring_file)], io.StringIO())
    assert logged() == "customer mobile [REDACTED:mobile]"
