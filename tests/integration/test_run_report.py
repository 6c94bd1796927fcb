"""The stewards' run report tells the whole story: status, every rule, counts that agree with the store.

One report file per run (``ingestion-<date>-<run>.md``), so a refused run's
report survives the retry that loads the day; ``ingestion-<date>.md`` is the
latest run of the date and lists the others.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from lifecycle.integration.report import render_text, run_report
from lifecycle.integration.service import DayResult, QualityGateError
from lifecycle.store.models import IngestedFile, IngestionRun, QuarantinedRow

AS_OF = date(2026, 6, 30)
ONLY = ["core_customers", "core_corporates", "accounts", "balances", "transactions"]


@dataclass
class Day:
    reports: Path
    refused_run: str
    loaded: DayResult


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory, generated_bank: Path,
        use_home: Callable[[pytest.MonkeyPatch, Path, Path], None],
        run_day: Callable[..., DayResult]) -> Iterator[Day]:
    """A day refused by a strict budget on accounts, then loaded once the budget is restored."""
    from tasks.context import flow_context, reset

    tmp = tmp_path_factory.mktemp("report")
    config = yaml.safe_load(Path("lifecycle/config/sources.yaml").read_text(encoding="utf-8"))
    config["sources"]["accounts"]["error_budget"] = 0.0001
    strict = tmp / "sources-strict.yaml"
    strict.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    landing = tmp / "landing"
    shutil.copytree(generated_bank / "landing" / str(AS_OF), landing / str(AS_OF))
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, tmp / "home", landing)
        mp.setenv("LIFECYCLE_SOURCES_FILE", str(strict))
        reset()
        with pytest.raises(QualityGateError):
            run_day(AS_OF, ONLY)
        with flow_context().engine.connect() as conn:
            refused = conn.execute(select(IngestionRun.run_id)).scalar_one()
        mp.delenv("LIFECYCLE_SOURCES_FILE")
        reset()
        loaded = run_day(AS_OF, ONLY)
        yield Day(tmp / "home" / "reports", refused, loaded)
    reset()


def _store_counts(run_id: str) -> tuple[dict[str, int], dict[str, Counter[str]]]:
    from tasks.context import flow_context

    rows: dict[str, int] = Counter()
    rules: dict[str, Counter[str]] = {}
    with flow_context().engine.connect() as conn:
        for source, failures in conn.execute(select(QuarantinedRow.source, QuarantinedRow.failures)
                                             .where(QuarantinedRow.run_id == run_id)):
            rows[source] += 1
            rules.setdefault(source, Counter()).update({f["rule"] for f in failures})
    return rows, rules


def _table(markdown: str) -> dict[str, list[str]]:
    lines = [line for line in markdown.splitlines() if line.startswith("| ") and not line.startswith("| source")]
    return {cells[0]: cells for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines)}


def test_each_run_keeps_its_own_report_and_the_refused_one_survives_the_retry(day: Day) -> None:
    refused = day.reports / f"ingestion-{AS_OF}-{day.refused_run[:8]}.md"
    loaded = day.reports / f"ingestion-{AS_OF}-{day.loaded.run_id[:8]}.md"
    assert refused.is_file() and loaded.is_file()
    refused_text = refused.read_text(encoding="utf-8")
    assert "Status: **refused**" in refused_text and "source accounts" in refused_text
    assert "over budget" in _table(refused_text)["accounts"][6]
    latest = (day.reports / f"ingestion-{AS_OF}.md").read_text(encoding="utf-8")
    assert "Status: **succeeded**" in latest
    assert f"ingestion-{AS_OF}-{day.refused_run[:8]}.md" in latest and "refused" in latest


def test_quarantined_rows_and_every_rule_agree_with_the_store(day: Day) -> None:
    rows, rules = _store_counts(day.loaded.run_id)
    assert any("owner_known" in counted for counted in rules.values())  # orphans of quarantined owners
    markdown = day.reports.joinpath(f"ingestion-{AS_OF}.md").read_text(encoding="utf-8")
    assert "chk_" not in markdown  # derived check flags are named by the column they check
    table = _table(markdown)
    for source in ONLY:
        assert int(table[source][5].replace(",", "")) == rows.get(source, 0), source
        shown = dict(re.findall(r"(\w+) (\d+)", table[source][7]))
        assert {rule: int(n) for rule, n in shown.items()} == dict(rules.get(source, {})), source


def test_the_report_counts_are_those_recorded_for_the_files(day: Day) -> None:
    from tasks.context import flow_context

    with flow_context().engine.connect() as conn:
        recorded = dict(conn.execute(select(IngestedFile.source, IngestedFile.rows_quarantined)
                                     .where(IngestedFile.run_id == day.loaded.run_id)).tuples().all())
        report = run_report(conn, day.loaded.run_id)
    assert {s.source: s.rows_quarantined for s in report.sources} == recorded


def test_the_console_table_shows_the_report_counts(day: Day) -> None:
    from tasks.context import flow_context

    with flow_context().engine.connect() as conn:
        report = run_report(conn, day.loaded.run_id)
    text = render_text(report)
    assert text.splitlines()[0].startswith(f"run {day.loaded.run_id[:8]} of {AS_OF}: succeeded")
    header = text.splitlines()[1].split()
    assert header[:5] == ["source", "read", "loaded", "quarantined", "budget"]
    for s in report.sources:
        line = next(line for line in text.splitlines() if line.split()[0] == s.source)
        assert line.split()[1:4] == [f"{s.rows_read:,}", f"{s.rows_loaded:,}", f"{s.rows_quarantined:,}"]
    assert "{" not in text  # a table, not a dict


def test_the_report_says_how_to_list_its_rows_and_that_listing_finds_them(day: Day) -> None:
    import io
    import json

    from lifecycle.cli import main

    rows, rules = _store_counts(day.loaded.run_id)
    markdown = day.reports.joinpath(f"ingestion-{AS_OF}.md").read_text(encoding="utf-8")
    assert f"quarantine list --run {day.loaded.run_id[:8]} --source SOURCE --rule RULE" in markdown
    source = next(s for s, counted in rules.items() if "owner_known" in counted)
    out = io.StringIO()
    assert main(["quarantine", "list", "--run", day.loaded.run_id[:8], "--source", source, "--rule",
                 "owner_known", "--json", "--all"], out) == 0
    listed = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(listed) == rules[source]["owner_known"]
    assert {r["run_id"] for r in listed} == {day.loaded.run_id} and all("owner_known" in r["rules"] for r in listed)


def _pages(day: Day, run_id: str, source: str) -> list[Path]:
    return sorted((day.reports / "data-docs" / "validations").glob(f"*/{AS_OF}-{run_id[:8]}*/*/*-{source}.html"))


def test_each_validation_page_carries_the_gates_verdict_and_the_way_to_its_rows(day: Day) -> None:
    from lifecycle.integration.quality.offline_docs import references_in_site

    rows, rules = _store_counts(day.loaded.run_id)
    pages = _pages(day, day.loaded.run_id, "transactions")
    assert pages
    text = pages[0].read_text(encoding="utf-8")
    assert text.count('id="lifecycle-verdict"') == 1
    box = text[text.index("lifecycle-verdict:begin"):text.index("lifecycle-verdict:end")]
    assert "source transactions: passed within its error budget" in box
    assert f"{rows['transactions']:,} row(s) of this run are in the quarantine" in box
    for rule, n in rules["transactions"].items():
        link = re.search(rf'<code>{rule}</code>: <a class="lifecycle-rows" href="([^"#]+)#([^"]+)">{n:,} row\(s\)</a>',
                         box)
        assert link is not None, rule
        target = (pages[0].parent / link.group(1)).resolve()  # the run's quarantine page: every row of the rule
        assert target.name == f"quarantine-{day.loaded.as_of}-{day.loaded.run_id[:8]}.html"
        listed = target.read_text(encoding="utf-8")
        section = listed[listed.index(f"id='{link.group(2)}'"):]
        assert section[: section.index("</section>")].count("<tr><td>#") == n
        assert f"quarantine list --run {day.loaded.run_id[:8]} --source transactions --rule {rule}" in box
    assert "columns (source → canonical" in box or "codes (source → canonical)" in box
    core = _pages(day, day.loaded.run_id, "core_customers")
    assert core and "codes (source → canonical): <code>id_type</code>: 01 → RIC" in core[0].read_text(encoding="utf-8")
    refused = _pages(day, day.refused_run, "accounts")
    assert refused and "source accounts: over its error budget" in refused[0].read_text(encoding="utf-8")
    assert references_in_site(day.reports / "data-docs") == {}  # still nothing fetched from outside
