"""Every ``bank-lifecycle`` command the README shows is one the command line accepts, as written.

Copied from the README, a command must parse: same groups, commands and
options (values aside). What each command then does is tested with its
module; this keeps the README from drifting away from the parser.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from lifecycle import cli

README = Path(__file__).resolve().parents[2] / "README.md"
PROGRAM = ".venv/bin/bank-lifecycle "


def readme_commands() -> list[str]:
    commands = []
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith(PROGRAM):
            commands.append(line.removeprefix(PROGRAM).split("  #", 1)[0].strip())
    return commands


def test_the_readme_shows_commands_of_every_group() -> None:
    groups = {shlex.split(command)[0] for command in readme_commands()}
    assert {"db", "customer", "keys", "quarantine", "decision", "retention"} <= groups


@pytest.mark.parametrize("command", readme_commands())
def test_a_readme_command_parses_as_written(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        args = cli.build_parser().parse_args(shlex.split(command))
    except SystemExit:
        pytest.fail(f"the README's `bank-lifecycle {command}` is refused: {capsys.readouterr().err.strip()}")
    assert callable(args.handler)
