"""The quarantine command lists rejected rows masked, pages explicitly, exports, refuses unknown names."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.cli import main

AS_OF = date(2026, 6, 30)
ONLY = ["core_customers", "core_corporates", "card_customers", "accounts", "transactions"]


@pytest.fixture(scope="module")
def quarantined(tmp_path_factory: pytest.TempPathFactory, generated_bank: Path,
                use_home: Callable[[pytest.MonkeyPatch, Path, Path], None],
                run_day: Callable[..., object]) -> Iterator[Path]:
    """One day of three sources integrated into a home of this module's own; its settings in force."""
    from tasks.context import reset

    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, tmp_path_factory.mktemp("quarantine") / "home", generated_bank / "landing")
        run_day(AS_OF, ONLY)
        yield generated_bank
    reset()


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out), out.getvalue()


def test_list_shows_rules_and_masks_pii_then_release_marks_rows(quarantined: Path) -> None:
    code, listing = _run("quarantine", "list", "--source", "core_customers", "--all")
    assert code == 0
    flaws = pd.read_csv(quarantined / "truth" / "flaws.csv", dtype=str)
    planted = flaws[flaws["source"] == "core_customers"]
    assert len(planted) and all(rule in listing for rule in planted["rule"].unique())
    raw = pd.read_csv(quarantined / "landing" / str(AS_OF) / "core_customers.csv", dtype=str)
    rejected = raw.iloc[planted["row"].astype(int).unique() - 1]
    for value in [*rejected["id_no"].dropna(), *rejected["mobile"].dropna(), *rejected["email"].dropna()]:
        assert value not in listing
    assert f"of {AS_OF}" in listing  # the run's business date
    assert "chk_" not in listing  # derived check flags are named by the column they check
    first_id = int(listing.split()[0].lstrip("#"))
    code, released = _run("quarantine", "release", str(first_id), "--note", "checked with the branch")
    assert code == 0 and "released 1 of 1" in released
    code, listing = _run("quarantine", "list", "--status", "released")
    assert code == 0 and f"#{first_id} " in listing


def test_the_listing_says_how_many_it_left_out(quarantined: Path) -> None:
    code, everything = _run("quarantine", "list", "--all")
    total = everything.count("\n#") + everything.startswith("#")
    assert code == 0 and total > 2
    assert everything.splitlines()[-1] == f"showing {total:,} of {total:,} open quarantined row(s)"
    code, some = _run("quarantine", "list", "--limit", "2")
    assert code == 0 and some.count("      {") == 2
    assert some.splitlines()[-1] == f"showing 2 of {total:,} open quarantined row(s) (--limit N or --all for more)"


def test_json_is_one_object_per_line_and_the_paging_line_goes_to_stderr(
        quarantined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = _run("quarantine", "list", "--json", "--limit", "3")
    records = [json.loads(line) for line in text.splitlines()]
    assert code == 0 and len(records) == 3
    assert {"id", "source", "file", "row_number", "rules", "run_id", "as_of", "row"} <= set(records[0])
    assert records[0]["as_of"] == str(AS_OF) and isinstance(records[0]["row"], dict)
    assert capsys.readouterr().err.startswith("showing 3 of ")


def test_csv_has_a_header_and_one_line_per_row(quarantined: Path) -> None:
    code, text = _run("quarantine", "list", "--csv", "--source", "transactions", "--all")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert code == 0 and rows and {r["source"] for r in rows} == {"transactions"}
    assert all(json.loads(r["row"]) for r in rows) and all(r["rules"] for r in rows)


def test_an_unknown_source_is_refused(quarantined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = _run("quarantine", "list", "--source", "core_customer")
    err = capsys.readouterr().err
    assert code == 1 and text == ""
    assert "unknown source 'core_customer'" in err and "core_customers" in err


def test_unknown_or_closed_ids_are_refused_and_nothing_is_released(
        quarantined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, listing = _run("quarantine", "list", "--json", "--limit", "2")
    open_ids = [json.loads(line)["id"] for line in listing.splitlines()]
    code, _ = _run("quarantine", "release", str(open_ids[0]), "99999999", "--note", "typo in the second id")
    assert code == 1 and "no quarantined row #99999999" in capsys.readouterr().err
    _, released = _run("quarantine", "list", "--status", "released", "--json", "--all")
    assert open_ids[0] not in [json.loads(line)["id"] for line in released.splitlines()]
    assert _run("quarantine", "release", str(open_ids[1]), "--note", "fixed")[0] == 0
    code, _ = _run("quarantine", "release", str(open_ids[1]), "--note", "again")
    assert code == 1 and f"#{open_ids[1]} is released" in capsys.readouterr().err
