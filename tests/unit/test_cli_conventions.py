"""Command-line conventions: help on every option, --version, exit codes, one-line errors on stderr.

Exit codes: 0 done, 1 refused or not found, 2 usage. A bad setting, an
unreachable or malformed database URL, or a home that holds no database ends
with one line that names the setting — never a traceback, never the value of a
setting that may hold a password.
"""

from __future__ import annotations

import pytest

from lifecycle import cli

SETTINGS = ("LIFECYCLE_HOME", "LIFECYCLE_DATABASE_URL", "LIFECYCLE_KEYSTORE_URL", "LIFECYCLE_CHUNK_ROWS",
            "LIFECYCLE_KEYRING", "LIFECYCLE_KEYRING_FILE")


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bank-lifecycle: error: ") and "Traceback" not in err
    return lines[0]


def test_version_prints_the_installed_version_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"bank-lifecycle {cli.version()}"
    assert cli.version()[0].isdigit()


def test_a_usage_error_exits_with_two(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["quarantine", "list", "--status", "bogus"])
    assert done.value.code == cli.EXIT_USAGE == 2
    assert "--status" in capsys.readouterr().err
