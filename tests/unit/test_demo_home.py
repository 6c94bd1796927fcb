"""The demo keeps one synthetic bank per home and tells a newcomer how to reach it."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from flows.demo import MARKER, HomeInUse, claim_home, newcomer_line


def _never() -> bool:
    raise AssertionError("the database was consulted although the marker decides")


def test_a_new_home_is_claimed_for_its_bank(tmp_path: Path) -> None:
    home = tmp_path / "var"
    assert claim_home(home, "n2000-s42-2026-06-30", lambda: False) is False
    assert json.loads((home / MARKER).read_text(encoding="utf-8")) == {"bank": "n2000-s42-2026-06-30"}


def test_the_same_bank_again_reuses_the_home(tmp_path: Path) -> None:
    claim_home(tmp_path, "n2000-s42-2026-06-30", lambda: False)
    assert claim_home(tmp_path, "n2000-s42-2026-06-30", _never) is True


def test_another_bank_is_refused_instead_of_loaded_on_top(tmp_path: Path) -> None:
    claim_home(tmp_path, "n2000-s42-2026-06-30", lambda: False)
    with pytest.raises(HomeInUse, match="holds the demo bank n2000-s42-2026-06-30.*make clean"):
        claim_home(tmp_path, "n300-s42-2026-06-30", _never)
    assert json.loads((tmp_path / MARKER).read_text(encoding="utf-8"))["bank"] == "n2000-s42-2026-06-30"


def test_a_database_with_runs_the_demo_did_not_record_is_refused(tmp_path: Path) -> None:
    with pytest.raises(HomeInUse, match="runs the demo did not record"):
        claim_home(tmp_path, "n300-s42-2026-06-30", lambda: True)
    assert not (tmp_path / MARKER).exists()


def test_the_newcomer_line_names_the_home_and_the_keyring_file(tmp_path: Path) -> None:
    home, keyring = tmp_path / "my var", tmp_path / "my var" / "dev-keyring.json"
    line = newcomer_line(home, {"LIFECYCLE_HOME": str(home), "LIFECYCLE_KEYRING_FILE": str(keyring)})
    assert shlex.split(line) == ["export", f"LIFECYCLE_HOME={home}", f"LIFECYCLE_KEYRING_FILE={keyring}"]


def test_a_keyring_given_as_json_is_named_but_never_printed(tmp_path: Path) -> None:
    line = newcomer_line(tmp_path, {"LIFECYCLE_KEYRING": '{"secret": "key material"}'})
    assert line.startswith(f"export LIFECYCLE_HOME={tmp_path}") and "LIFECYCLE_KEYRING" in line
    assert "key material" not in line
