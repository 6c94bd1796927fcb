"""`bank-lifecycle sources scaffold|suite|check`: drafts that load and agree with their suites, guesses
marked for review, nothing overwritten without --force, no personal data in the drafts."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from lifecycle import cli
from lifecycle.integration.quality.agreement import check_sources
from lifecycle.integration.sources import load_sources
from lifecycle.settings import get_settings

EXTRACTS = {
    "churn_clients.csv": ["CustomerId;Surname;Email;Geography;Balance;Joined;Exited",
                          *(f"{15600000 + i};{['Hargrave', 'Hill', 'Onio', 'Boni'][i % 4]};c{i}@mail.example;"
                            f"{['France', 'Spain', 'Germany'][i % 3]};{i * 1000},5{i % 10};"
                            f"{1 + i % 28:02d}.0{1 + i % 9}.2019;{i % 2}" for i in range(50))],
    "client_accounts.csv": ["account_id;client_id;opened;kind",
                            *(f"A{i:04d};{15600000 + i % 50};2020-0{1 + i % 9}-1{i % 10};"
                              f"{['OWNER', 'DISPONENT'][i % 2]}" for i in range(80))],
}


@pytest.fixture
def extracts(tmp_path: Path) -> list[Path]:
    paths = []
    for name, lines in EXTRACTS.items():
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(tmp_path / name)
    return paths


def _cli(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = cli.main(args, out)
    return code, out.getvalue()


def test_the_drafts_load_and_every_drafted_suite_agrees_with_its_entry(extracts: list[Path], tmp_path: Path) -> None:
    code, text = _cli(["sources", "scaffold", *map(str, extracts), "--out", str(tmp_path / "out")])
    assert code == 0 and "churn_clients: churn_clients.csv, utf-8, 50 rows" in text
    # what only the steward knows (the accounts' owner, a product code) is named, not guessed
    assert "before the first load: sources.client_accounts.columns: a account row belongs to a customer" in text
    drafted = (tmp_path / "out" / "sources.yaml").read_text(encoding="utf-8")
    assert "# REVIEW before the first load: sources.client_accounts.columns: the store's accounts.product_code" \
        in drafted
    config = load_sources(tmp_path / "out" / "sources.yaml", loader_check=False)
    assert sorted(config.sources) == ["churn_clients", "client_accounts"]
    assert check_sources(config, tmp_path / "out" / "expectations") == []
    churn = config["churn_clients"]
    assert (churn.delimiter, churn.decimal_separator, churn.key, churn.entity) == (";", ",", ["CustomerId"],
                                                                                    "individual")
    assert churn.columns["Surname"].to == "name" and churn.columns["Surname"].pii
    assert churn.columns["Email"].to == "email" and churn.columns["Email"].pii
    assert churn.columns["Joined"].format == ["%d.%m.%Y"]
    assert churn.columns["Geography"].codes == {"France": "France", "Germany": "Germany", "Spain": "Spain"}


def test_every_guess_a_steward_must_check_is_marked_for_review(extracts: list[Path], tmp_path: Path) -> None:
    assert _cli(["sources", "scaffold", *map(str, extracts), "--out", str(tmp_path / "out")])[0] == 0
    text = (tmp_path / "out" / "sources.yaml").read_text(encoding="utf-8")
    entry = text[text.index("  client_accounts:"):]
    for mark in ("REVIEW entity: guessed 'account'", "REVIEW owners", "REVIEW system", "REVIEW key",
                 "REVIEW required", "kind: REVIEW codes", "account_id: REVIEW to: canonical name guessed as "
                 "'account_no'", "opened: REVIEW to: canonical name guessed as 'open_date'"):
        assert mark in entry, mark
    assert "Surname: REVIEW pii" in text and "Surname: REVIEW to: canonical name guessed as 'name'" in text


def test_no_personal_value_reaches_the_drafts(extracts: list[Path], tmp_path: Path) -> None:
    assert _cli(["sources", "scaffold", *map(str, extracts), "--out", str(tmp_path / "out")])[0] == 0
    written = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "out").rglob("*") if p.is_file())
    for value in ("Hargrave", "Onio", "c1@mail.example", "15600001"):
        assert value not in written


def test_drafts_are_never_overwritten_without_force(extracts: list[Path], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert _cli(["sources", "scaffold", str(extracts[0]), "--out", str(out)])[0] == 0
    (out / "sources.yaml").write_text("# the steward's edits\n", encoding="utf-8")
    code, _ = _cli(["sources", "scaffold", str(extracts[0]), "--out", str(out)])
    assert code == cli.EXIT_REFUSED
    err = capsys.readouterr().err.strip()
    assert err.startswith("bank-lifecycle: error: ") and "--force" in err and str(out / "sources.yaml") in err
    assert (out / "sources.yaml").read_text(encoding="utf-8") == "# the steward's edits\n"
    assert _cli(["sources", "scaffold", str(extracts[0]), "--out", str(out), "--force"])[0] == 0
    assert "REVIEW entity" in (out / "sources.yaml").read_text(encoding="utf-8")


def test_json_output_is_one_object_per_drafted_source(extracts: list[Path], tmp_path: Path) -> None:
    code, text = _cli(["sources", "scaffold", *map(str, extracts), "--out", str(tmp_path / "o"), "--json"])
    records = [json.loads(line) for line in text.splitlines()]
    assert code == 0 and [r["source"] for r in records] == ["churn_clients", "client_accounts"]
    assert records[1]["rows"] == 80 and records[1]["key"] == "account_id" and records[1]["to_review"] > 0


def test_a_missing_extract_is_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _cli(["sources", "scaffold", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and "nope.csv" in err and len(err.strip().splitlines()) == 1


def test_suite_derives_writes_and_refuses_to_replace_without_force(extracts: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert _cli(["sources", "scaffold", *map(str, extracts), "--out", str(out)])[0] == 0
    sources_file, suites = out / "sources.yaml", out / "expectations"
    config = yaml.safe_load(sources_file.read_text(encoding="utf-8"))
    config["sources"]["churn_clients"]["columns"]["Geography"]["codes"] = {"France": "FR", "Spain": "ES",
                                                                          "Germany": "DE"}
    sources_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    where = ["--sources-file", str(sources_file), "--suites-dir", str(suites)]
    assert _cli(["sources", "check", *where])[0] == 1  # the suite still holds the drafted codes
    code, printed = _cli(["sources", "suite", "churn_clients", *where])
    assert code == 0 and '"FR"' in printed
    assert _cli(["sources", "suite", "churn_clients", *where, "--write"])[0] == 1
    assert _cli(["sources", "suite", "churn_clients", *where, "--write", "--force"])[0] == 0
    assert _cli(["sources", "check", *where]) == (0, f"2 source(s), 0 disagreement(s) with their suites in {suites}\n")


@pytest.mark.parametrize("args", [[], ["a", "b"], ["--all"], ["a", "--all", "--write"]])
def test_suite_needs_one_source_to_print_or_sources_to_write(args: list[str],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(["sources", "suite", *args])[0] == cli.EXIT_USAGE
    assert capsys.readouterr().err.startswith("bank-lifecycle: error: ")


def test_suite_all_writes_every_configured_source(tmp_path: Path) -> None:
    code, text = _cli(["sources", "suite", "--all", "--suites-dir", str(tmp_path), "--write"])
    assert code == 0 and len(text.splitlines()) == len(load_sources().sources)
    assert all((tmp_path / p.name).read_bytes() == p.read_bytes() for p in Path("expectations").glob("*.json"))


def test_check_lists_each_disagreement_as_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    suites = tmp_path / "suites"
    suites.mkdir()
    for path in Path("expectations").glob("*.json"):
        (suites / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    document = json.loads((suites / "feedback.json").read_text(encoding="utf-8"))
    document["expectations"] = [e for e in document["expectations"] if e["kwargs"].get("column") != "severity"]
    (suites / "feedback.json").write_text(json.dumps(document), encoding="utf-8")
    monkeypatch.setenv("LIFECYCLE_SUITES_DIR", str(suites))
    get_settings.cache_clear()
    try:
        code, text = _cli(["sources", "check", "--json"])
    finally:
        get_settings.cache_clear()
    (record,) = [json.loads(line) for line in text.splitlines()]
    assert code == 1 and record["column"] == "severity" and record["suite_file"] == str(suites / "feedback.json")
    assert "code_in_set" in record["problem"]


def _guide_commands() -> list[str]:
    guide = (Path(__file__).resolve().parents[2] / "docs" / "onboarding.md").read_text(encoding="utf-8")
    return [line.removeprefix("bank-lifecycle ") for line in guide.splitlines() if line.startswith("bank-lifecycle ")
            and not line.startswith("bank-lifecycle: ")]


def test_every_command_the_onboarding_guide_shows_parses_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    import shlex

    from flows.cli import build_parser

    commands = _guide_commands()
    assert {shlex.split(c)[1] for c in commands if c.startswith("sources")} == {"scaffold", "suite", "check"}
    for command in commands:
        try:
            build_parser().parse_args(shlex.split(command))
        except SystemExit:
            pytest.fail(f"docs/onboarding.md's `bank-lifecycle {command}` is refused: {capsys.readouterr().err}")


def test_two_columns_that_look_alike_never_map_to_one_canonical_column(tmp_path: Path) -> None:
    lines = ["cust_id,cust_name,name,open_date,account_opened,Amount,amount",
             *(f"{i},Ann Lee {i},Bo Wu {i},2020-01-0{1 + i % 9},2020-02-0{1 + i % 9},{i}.5,{i}.25" for i in range(30))]
    (tmp_path / "clients.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _cli(["sources", "scaffold", str(tmp_path / "clients.csv"), "--out", str(tmp_path / "out")])[0] == 0
    targets = [c.to for c in load_sources(tmp_path / "out" / "sources.yaml")["clients"].columns.values()]
    assert len(set(targets)) == len(targets) == 7
    assert targets[1:5] == ["name", "name_2", "open_date", "account_opened"]


def test_chinese_column_names_are_read_for_their_meaning(tmp_path: Path) -> None:
    names = ["王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊"]
    lines = ["客户编号,客户名称,性别,开户日期",
             *(f"K{i:04d},{names[i % 6]},{'男女'[i % 2]},2020-01-{1 + i % 28:02d}" for i in range(30))]
    (tmp_path / "客户.csv").write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    assert _cli(["sources", "scaffold", str(tmp_path / "客户.csv"), "--out", str(tmp_path / "out")])[0] == 0
    (spec,) = load_sources(tmp_path / "out" / "sources.yaml").sources.values()
    assert spec.encoding == "gbk" and spec.entity == "individual"
    assert {k: (c.to, c.pii) for k, c in spec.columns.items()} == {
        "客户编号": ("source_key", False), "客户名称": ("name", True), "性别": ("gender", False),
        "开户日期": ("open_date", False)}
