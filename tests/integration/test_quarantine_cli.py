"""The quarantine command lists rejected rows masked, pages explicitly, exports, refuses unknown names."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

from lifecycle.cli import main
from lifecycle.store.models import QuarantinedRow

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


def _ids(*argv: str) -> list[int]:
    code, text = _run("quarantine", "list", "--json", "--all", *argv)
    assert code == 0
    return [json.loads(line)["id"] for line in text.splitlines()]


def test_a_dry_run_shows_what_would_be_reprocessed_and_releases_nothing(quarantined: Path) -> None:
    chosen = _ids("--source", "transactions")
    code, text = _run("quarantine", "release", "--source", "transactions", "--rule", "amount_non_negative",
                      "--dry-run")
    assert code == 0 and "dry run: nothing released" in text
    line = next(line for line in text.splitlines() if "amount_non_negative" in line)
    assert line.split() == ["transactions", "amount_non_negative", "transactions.csv:", line.split()[3], "row(s)"]
    assert int(line.split()[3]) > 0
    assert _ids("--source", "transactions") == chosen


def test_release_by_rule_and_file_then_undo_until_the_next_run(quarantined: Path) -> None:
    from tasks.context import flow_context

    before = set(_ids("--source", "transactions"))
    code, text = _run("quarantine", "release", "--rule", "amount_non_negative", "--file", "transactions.csv",
                      "--note", "sign convention fixed upstream")
    assert code == 0 and "will reprocess" in text and "undo-release" in text
    released = set(_ids("--status", "released"))
    moved = before - set(_ids("--source", "transactions"))
    assert moved and moved <= released
    with flow_context().engine.connect() as conn:
        rules = [f["rule"] for (failures,) in conn.execute(
            select(QuarantinedRow.failures).where(QuarantinedRow.id.in_(moved))) for f in failures]
    assert set(rules) >= {"amount_non_negative"}

    code, text = _run("quarantine", "undo-release", "--rule", "amount_non_negative")
    assert code == 0 and f"{len(moved):,} released row(s) are open again" in text
    assert set(_ids("--source", "transactions")) == before
    with flow_context().engine.connect() as conn:
        notes = conn.execute(select(QuarantinedRow.release_note, QuarantinedRow.released_by)
                             .where(QuarantinedRow.id.in_(moved))).all()
    assert all(note.startswith("sign convention fixed upstream [release undone by ") and by is None
               for note, by in notes)


def test_a_release_must_say_which_rows_and_why(quarantined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("quarantine", "release", "--note", "fixed")[0] == 2
    assert "say which rows" in capsys.readouterr().err
    assert _run("quarantine", "release", "--source", "transactions")[0] == 2
    assert '--note "what was fixed"' in capsys.readouterr().err
    assert _run("quarantine", "release", "--rule", "no_such_rule", "--note", "x")[0] == 1
    assert "no open quarantined row matches rule no_such_rule" in capsys.readouterr().err


def test_the_listing_narrows_by_rule_and_file_and_says_so(quarantined: Path) -> None:
    every = _ids("--rule", "source_key_unique")
    assert len(every) > 2 and _ids("--rule", "source_key_unique", "--file", "transactions.csv") != every
    code, text = _run("quarantine", "list", "--rule", "source_key_unique", "--limit", "2")
    assert code == 0 and text.count("source_key_unique") >= 2
    assert text.splitlines()[-1].startswith(f"showing 2 of {len(every):,} open quarantined row(s) matching rule "
                                            "source_key_unique")
    assert _run("quarantine", "list", "--rule", "no_such_rule")[1].endswith("showing 0 of 0 open quarantined "
                                                                              "row(s) matching rule no_such_rule\n")


def _planted_row(quarantined: Path, rule: str) -> tuple[int, str, str]:
    """A core_customers row planted to break ``rule``: its quarantine id, the failing column and its raw value."""
    flaws = pd.read_csv(quarantined / "truth" / "flaws.csv", dtype=str)
    raw = pd.read_csv(quarantined / "landing" / str(AS_OF) / "core_customers.csv", dtype=str)
    planted = flaws[(flaws["source"] == "core_customers") & (flaws["rule"] == rule)]
    once = raw["cust_no"].value_counts()
    flaw = planted[planted["source_key"].map(once).eq(1)].iloc[0]
    from tasks.context import flow_context

    with flow_context().engine.connect() as conn:
        ids = conn.execute(select(QuarantinedRow.id, QuarantinedRow.failures).where(
            QuarantinedRow.source == "core_customers", QuarantinedRow.source_key == flaw["source_key"])).all()
    qid = next(int(i) for i, failures in ids if any(f["rule"] == rule for f in failures))
    value = raw.loc[raw["cust_no"] == flaw["source_key"], flaw["column"]].iloc[0]
    return qid, str(flaw["column"]), str(value)


def test_reveal_shows_the_failing_pii_value_after_recording_who_and_why(quarantined: Path) -> None:
    from lifecycle.store.models import QuarantineRevealAudit
    from tasks.context import flow_context

    qid, column, value = _planted_row(quarantined, "mobile_format")
    code, listing = _run("quarantine", "list", "--source", "core_customers", "--all")
    assert code == 0 and value not in listing  # masked in the listing
    code, shown = _run("quarantine", "reveal", str(qid), "--reason", "ticket DQ-7: mobile format", "--actor", "li.na")
    assert code == 0
    assert f"  {column}: {json.dumps(value, ensure_ascii=False)}  [mobile_format" in shown
    assert "id_no:" not in shown  # only the columns its rules name, unless asked
    with flow_context().engine.connect() as conn:
        audit = conn.execute(select(QuarantineRevealAudit).where(QuarantineRevealAudit.quarantine_id == qid)).one()
    assert (audit.actor, audit.source, audit.columns, audit.reason) == (
        "li.na", "core_customers", [column], "ticket DQ-7: mobile format")
    assert value not in json.dumps([audit.columns, audit.reason])


def test_reveal_of_a_chosen_column_and_the_refusals(quarantined: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lifecycle.store.models import QuarantineRevealAudit
    from tasks.context import flow_context

    qid, _, _ = _planted_row(quarantined, "mobile_format")
    raw = pd.read_csv(quarantined / "landing" / str(AS_OF) / "core_customers.csv", dtype=str)
    code, shown = _run("quarantine", "reveal", str(qid), "--reason", "DQ-8", "--column", "birth_date",
                       "--column", "cust_name")
    assert code == 0 and "  birth_date: " in shown and "  cust_name: " in shown
    names = set(raw["cust_name"].dropna())
    assert any(line.split(": ", 1)[1].strip('"') in names for line in shown.splitlines() if "cust_name:" in line)

    def audits() -> int:
        with flow_context().engine.connect() as conn:
            return len(conn.execute(select(QuarantineRevealAudit.id)).all())

    before = audits()
    assert _run("quarantine", "reveal", str(qid))[0] == 2  # no reason: a usage error
    assert "--reason" in capsys.readouterr().err
    assert _run("quarantine", "reveal", "999999", "--reason", "x")[0] == 1
    assert "no quarantined row #999999" in capsys.readouterr().err
    assert _run("quarantine", "reveal", str(qid), "--reason", "x", "--column", "no_such_column")[0] == 1
    assert "no column no_such_column" in capsys.readouterr().err
    assert audits() == before  # refusals decrypt and record nothing


def test_the_runs_quarantine_page_lists_every_row_by_rule_without_values(quarantined: Path) -> None:
    from lifecycle.integration.quarantine_page import anchor
    from tasks.context import flow_context

    ctx = flow_context()
    qid, column, value = _planted_row(quarantined, "mobile_format")
    with ctx.engine.connect() as conn:
        run_id = conn.execute(select(QuarantinedRow.run_id).where(QuarantinedRow.id == qid)).scalar_one()
        total = len(conn.execute(select(QuarantinedRow.id).where(QuarantinedRow.run_id == run_id)).all())
    pages = list(ctx.settings.resolved_reports_dir.glob(f"quarantine-{AS_OF}-{run_id[:8]}.html"))
    assert len(pages) == 1
    text = pages[0].read_text(encoding="utf-8")
    section = text[text.index(f"id='{anchor('core_customers', 'mobile_format')}'"):]
    section = section[: section.index("</section>")]
    assert f"<td>#{qid}</td>" in section and f"<td>{column}</td>" in section
    assert value not in text
    assert len(set(re.findall(r"<td>#(\d+)</td>", text))) == total  # every row of the run, under its rules
    raw = pd.read_csv(quarantined / "landing" / str(AS_OF) / "core_customers.csv", dtype=str)
    for pii in [*raw["id_no"].dropna(), *raw["mobile"].dropna(), *raw["cust_name"].dropna()]:
        assert pii not in text
