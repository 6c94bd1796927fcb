"""Command-line conventions: help on every option, --version, exit codes, one-line errors on stderr.

Exit codes: 0 done, 1 refused or not found, 2 usage. A bad setting, an
unreachable or malformed database URL, or a home that holds no database ends
with one line that names the setting — never a traceback, never the value of a
setting that may hold a password.
"""

from __future__ import annotations

import argparse
import inspect
import io
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lifecycle import cli
from lifecycle.settings import get_settings

SETTINGS = ("LIFECYCLE_HOME", "LIFECYCLE_DATABASE_URL", "LIFECYCLE_KEYSTORE_URL", "LIFECYCLE_CHUNK_ROWS",
            "LIFECYCLE_KEYRING", "LIFECYCLE_KEYRING_FILE")


@pytest.fixture
def clean_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No LIFECYCLE_* setting from the caller; settings read afresh before and after."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LIFECYCLE_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _undocumented(parser: argparse.ArgumentParser, path: str) -> Iterator[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if not choice.help:
                    yield f"{path} {choice.dest}"
            for name, sub in action.choices.items():
                yield from _undocumented(sub, f"{path} {name}")
        elif not action.help:
            yield f"{path} {'/'.join(action.option_strings) or action.dest}"


def _commands(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        yield path, parser
    for action in subparsers:
        for name, sub in action.choices.items():
            yield from _commands(sub, f"{path} {name}")


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bank-lifecycle: error: ") and "Traceback" not in err
    return lines[0]


def test_every_command_and_option_has_help_text() -> None:
    assert list(_undocumented(cli.build_parser(), "bank-lifecycle")) == []


def test_every_command_is_handled_by_a_function() -> None:
    # keys replay-erasures once had its own subparser as handler ('ArgumentParser' object is not callable)
    handlers = {path: parser.get_default("handler") for path, parser in _commands(cli.build_parser(), "bank-lifecycle")}
    assert len(handlers) > 10
    assert {path: h for path, h in handlers.items() if not inspect.isfunction(h)} == {}


def test_version_prints_the_installed_version_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"bank-lifecycle {cli.version()}"
    assert cli.version()[0].isdigit()


def test_a_usage_error_exits_with_two(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["quarantine", "list", "--limit", "0"])
    assert done.value.code == cli.EXIT_USAGE == 2
    assert "--limit" in capsys.readouterr().err


def test_limit_and_all_do_not_go_together(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["quarantine", "list", "--limit", "5", "--all"])
    assert done.value.code == 2 and "not allowed with" in capsys.readouterr().err


@pytest.mark.parametrize(("value", "expected"), [("0", "greater than 0"), ("many", "valid integer")])
def test_a_bad_chunk_size_names_the_setting_and_what_it_must_be(
        clean_settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str, expected: str) -> None:
    clean_settings.setenv("LIFECYCLE_CHUNK_ROWS", value)
    assert cli.main(["quarantine", "list"], io.StringIO()) == cli.EXIT_REFUSED == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "LIFECYCLE_CHUNK_ROWS" in line and expected in line and "rows per chunk" in line


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", [["quarantine", "list"], ["db", "status"], ["db", "upgrade"]])
def test_an_unreachable_database_is_one_line_without_its_password(
        clean_settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    clean_settings.setenv("LIFECYCLE_DATABASE_URL",
                          f"postgresql+psycopg://lifecycle:S3cret-pw@127.0.0.1:{_closed_port()}/lifecycle")
    assert cli.main(command, io.StringIO()) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "cannot reach the database" in line and "LIFECYCLE_DATABASE_URL" in line
    assert "S3cret-pw" not in line and "lifecycle:***@127.0.0.1" in line


def test_a_malformed_database_url_is_named_but_never_quoted(
        clean_settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    clean_settings.setenv("LIFECYCLE_DATABASE_URL", "lifecycle:S3cret-pw at db-host")
    assert cli.main(["db", "status"], io.StringIO()) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "LIFECYCLE_DATABASE_URL" in line and "not a SQLAlchemy URL" in line and "S3cret-pw" not in line


def test_a_driver_that_is_not_installed_is_one_line(
        clean_settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    clean_settings.setenv("LIFECYCLE_DATABASE_URL", "postgresql+nosuchdriver://u:S3cret-pw@host/db")
    assert cli.main(["db", "status"], io.StringIO()) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "postgresql+nosuchdriver" in line and "S3cret-pw" not in line


def test_run_from_another_folder_it_creates_no_var_and_says_where_it_looked(
        clean_settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    clean_settings.delenv("LIFECYCLE_HOME")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean_settings.chdir(elsewhere)
    assert cli.main(["quarantine", "list"], io.StringIO()) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert f"no database at {elsewhere / 'var' / 'lifecycle.db'}" in line and "LIFECYCLE_HOME" in line
    assert list(elsewhere.iterdir()) == []  # no empty ./var left behind


def test_a_home_without_a_database_is_named(clean_settings: pytest.MonkeyPatch, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["customer", "show", "CUS0000000001"], io.StringIO()) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert f"LIFECYCLE_HOME={tmp_path / 'home'}" in line and "db upgrade" in line
    assert not (tmp_path / "home").exists()


def test_the_installed_entry_point_prints_no_traceback_for_a_bad_setting(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFECYCLE_")}
    env.update(LIFECYCLE_HOME=str(tmp_path), LIFECYCLE_CHUNK_ROWS="0",
               PYTHONPATH=os.pathsep.join([str(Path(cli.__file__).parents[2]), env.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", "import sys; from lifecycle.cli import main; sys.exit(main())",
                           "keys", "status"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert "LIFECYCLE_CHUNK_ROWS" in _one_line_error(done.stderr)


def test_a_store_url_naming_a_missing_file_is_named_and_nothing_is_created(
        clean_settings: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["db", "upgrade"], io.StringIO()) == 0
    clean_settings.setenv("LIFECYCLE_KEYSTORE_URL", f"sqlite:///{tmp_path}/elsewhere/keystore.db")
    get_settings.cache_clear()
    assert cli.main(["keys", "status"], io.StringIO()) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert f"no database at {tmp_path / 'elsewhere' / 'keystore.db'} (LIFECYCLE_KEYSTORE_URL names it)" in line
    assert "correct LIFECYCLE_KEYSTORE_URL" in line and not (tmp_path / "elsewhere").exists()


def test_a_bug_exits_70_not_1_and_its_report_is_redacted(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sys
    import types

    module = types.ModuleType("failing_commands_for_test")

    def crash(args: argparse.Namespace, out: object) -> int:
        raise RuntimeError("unexpected state for mobile 13812345678")

    def register(groups: object) -> None:
        group = groups.add_parser("failing", help="a command with a bug")  # type: ignore[attr-defined]
        group.set_defaults(handler=crash)

    module.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(cli, "COMMAND_GROUPS", (*cli.COMMAND_GROUPS, module.__name__))
    assert cli.main(["failing"], io.StringIO()) == cli.EXIT_INTERNAL == 70
    err = capsys.readouterr().err
    assert "RuntimeError" in err and err.strip().splitlines()[-1].startswith("bank-lifecycle: internal error")
    assert "13812345678" not in err


@pytest.mark.parametrize("command", [["db", "upgrade"], ["keys", "status"]])
def test_an_unreachable_key_store_is_one_line_naming_its_own_setting(
        clean_settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    assert cli.main(["db", "upgrade"], io.StringIO()) == 0  # the main database is fine
    clean_settings.setenv("LIFECYCLE_KEYSTORE_URL",
                          f"postgresql+psycopg://keys:K3y-pw@127.0.0.1:{_closed_port()}/keystore")
    get_settings.cache_clear()
    assert cli.main(command, io.StringIO()) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "cannot reach the database" in line and "LIFECYCLE_KEYSTORE_URL" in line and "K3y-pw" not in line
