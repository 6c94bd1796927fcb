"""Command-line conventions: help on every option, --version, exit codes, one-line errors on stderr.

Exit codes: 0 done, 1 refused or not found, 2 usage. A bad setting, an
unreachable or malformed database URL, or a home that holds no database ends
with one line that names the setting — never a traceback, never the value of a
setting that may hold a password.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from lifecycle import cli

SETTINGS = ("LIFECYCLE_HOME", "LIFECYCLE_DATABASE_URL", "LIFECYCLE_KEYSTORE_URL", "LIFECYCLE_CHUNK_ROWS",
            "LIFECYCLE_KEYRING", "LIFECYCLE_KEYRING_FILE")


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


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bank-lifecycle: error: ") and "Traceback" not in err
    return lines[0]


def test_every_command_and_option_has_help_text() -> None:
    assert list(_undocumented(cli.build_parser(), "bank-lifecycle")) == []


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
