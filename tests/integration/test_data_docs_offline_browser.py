"""GX Data Docs made offline, opened in Chromium with the network shut: content shown, nothing fetched outside.

The site is built by the quality gate itself (lifecycle.integration.quality.QualityGate), for
a small relationship_managers frame with two failing rows, so the pages are the
ones data stewards get.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.integration.quality import QualityGate
from lifecycle.integration.quality.offline_docs import VENDORED_FILES, make_site_offline, references_in_site
from tests.support.browser import Chromium, chromium

SUITES_DIR = Path(__file__).resolve().parents[2] / "expectations"
SUITE = "relationship_managers"


@dataclass(frozen=True)
class Site:
    root: Path
    index: Path
    validation: Path
    references_before: dict[str, list[str]]


def _frame(rm_ids: list[str]) -> pd.DataFrame:
    n = len(rm_ids)
    return pd.DataFrame(
        {
            "row_id": pd.Series(range(1, n + 1), dtype="int64"),
            "rm_id": rm_ids,
            "rm_name": ["王经理", None, *["李经理"] * (n - 2)],
            "branch_code": ["0101"] * n,
            "branch_name": ["朝阳支行"] * n,
            "city": ["北京"] * n,
            "notify_tag": ["rm-beijing"] * n,
        }
    )


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> QualityGate:
    root = tmp_path_factory.mktemp("gx")
    suites = root / "suites"
    suites.mkdir()
    shutil.copy(SUITES_DIR / f"{SUITE}.json", suites)
    return QualityGate(root / "gx", root / "data-docs", suites)


@pytest.fixture(scope="module")
def site(gate: QualityGate) -> Site:
    outcome = gate.validate(_frame(["RM001", "RM002", "RM002"]), SUITE, run_name="day-2026-06-30", source=SUITE)
    index = gate.build_data_docs(offline=False)
    before = references_in_site(index.parent)
    make_site_offline(index.parent)
    assert outcome.data_docs_page is not None
    return Site(index.parent, index, outcome.data_docs_page, before)


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with chromium() as running:
        yield running


def test_gx_pages_reference_cdns_and_the_s3_logo_before_the_rewrite(site: Site) -> None:
    urls = {url for found in site.references_before.values() for url in found}
    assert "https://code.jquery.com/jquery-3.7.1.min.js" in urls
    assert any("dataContextId=" in url for url in urls)  # the logo beacon
    assert {"index.html", f"expectations/{SUITE}.html"} <= set(site.references_before)


def test_after_the_rewrite_no_page_references_anything_outside(site: Site) -> None:
    assert references_in_site(site.root) == {}
    assert all("amazonaws" not in p.read_text(encoding="utf-8") for p in site.root.rglob("*.html"))


def test_the_index_works_offline(browser: Chromium, site: Site, tmp_path: Path) -> None:
    with browser.open(site.index, screenshot=tmp_path / "index.png") as page:
        assert page.problems() == []
        assert all(url.startswith("file://") for url in page.log.requests)
        assert any("/static/offline/bootstrap@4.3.1/" in url for url in page.log.requests)
        assert page.is_visible(f"a[href='expectations/{SUITE}.html']")
        assert SUITE in page.text("body") and "day-2026-06-30" in page.text("body")  # the run is listed
        assert page.exists(".bootstrap-table")  # bootstrap-table's script ran on the local copy
        assert page.page.evaluate("document.querySelector('nav img').naturalWidth") > 0  # the local logo
    assert (tmp_path / "index.png").stat().st_size > 20_000


def test_a_validation_page_works_offline(browser: Chromium, site: Site, tmp_path: Path) -> None:
    shot = tmp_path / "validation.png"
    with browser.open(site.validation, screenshot=shot) as page:
        assert page.problems() == []
        assert page.blocked == [] and page.failed == []
        assert f"Expectation Suite: {SUITE}" in page.text("body")
        assert page.count(".bootstrap-table") >= 4  # one table of expectations per column section
        assert page.is_visible("table[data-toggle='table']")
        rows = " ".join(page.texts("table[data-toggle='table'] tbody tr"))
        assert "values must be unique" in rows and "values must never be null" in rows
        assert page.is_visible("input.search-input")  # the table's search box, built by its script
        assert page.page.evaluate("document.fonts.check('900 16px \"Font Awesome 6 Free\"')")
        assert page.page.evaluate("typeof window.vegaEmbed") == "function"
    assert shot.stat().st_size > 50_000


def test_rerunning_over_a_partly_rewritten_site_finishes_it(browser: Chromium, gate: QualityGate, site: Site) -> None:
    first_page = site.validation.read_bytes()
    second = gate.validate(_frame(["RM001", "RM003", "RM004", "RM004"]), SUITE, run_name="day-2026-07-01", source=SUITE)
    gate.build_data_docs(offline=False)  # re-renders the index and the suite page with CDN links, adds the run's page
    assert set(references_in_site(site.root)) >= {"index.html", f"expectations/{SUITE}.html"}
    lost = site.root / "static/offline/jquery@3.7.1/dist/jquery.min.js"
    lost.unlink()

    result = make_site_offline(site.root)

    assert result.files_rewritten >= 3 and result.assets_copied == 1
    assert references_in_site(site.root) == {}
    assert site.validation.read_bytes() == first_page  # an offline page is left as it was
    assert hashlib.sha256(lost.read_bytes()).hexdigest() == VENDORED_FILES["jquery@3.7.1/dist/jquery.min.js"]
    assert second.data_docs_page is not None
    with browser.open(second.data_docs_page) as page:
        assert page.problems() == []
        assert "day-2026-07-01" in page.text("body")
    again = make_site_offline(site.root)
    assert (again.files_rewritten, again.assets_copied) == (0, 0)


def test_the_gates_verdict_and_the_way_to_the_rows_show_on_the_page_offline(
        browser: Chromium, site: Site, tmp_path: Path) -> None:
    from datetime import date

    from lifecycle.integration.docs_verdict import annotate_validation_pages
    from lifecycle.integration.report import RuleCount, RunReport, SourceReport

    source = SourceReport(SUITE, "relationship_managers.csv", "utf-8", 3, 1, 2,
                          [RuleCount("source_key_unique", 2, ("rm_id",)), RuleCount("required", 1, ("rm_name",))],
                          rows_failed_checks=2, error_budget=0.0)
    report = RunReport("abcdef12-0000-0000-0000-000000000000", date(2026, 6, 30), "refused", None, [], [source])
    report_file = site.root.parent / "ingestion-2026-06-30-abcdef12.md"
    report_file.write_text("# report\n", encoding="utf-8")
    assert annotate_validation_pages(site.root, "day-2026-06-30", report, report_file) == 1
    assert annotate_validation_pages(site.root, "day-2026-06-30", report, report_file) == 1  # replaced, not added
    assert site.validation.read_text(encoding="utf-8").count('id="lifecycle-verdict"') == 1
    assert references_in_site(site.root) == {}
    with browser.open(site.validation, screenshot=tmp_path / "verdict.png") as page:
        assert page.problems() == [] and page.blocked == [] and page.failed == []
        assert page.is_visible("#lifecycle-verdict")
        box = page.text("#lifecycle-verdict")
        assert f"source {SUITE}: over its error budget" in box and "2 of 3 file rows failed" in box
        assert f"quarantine list --run abcdef12 --source {SUITE} --rule source_key_unique" in box
        href = page.attribute("#lifecycle-verdict a.lifecycle-report", "href")
        assert href is not None and (site.validation.parent / href).resolve() == report_file.resolve()
        verdict, status = page.box("#lifecycle-verdict"), page.box("table[data-toggle='table']")
        assert verdict is not None and status is not None and verdict["y"] < status["y"]  # at the top


def test_a_failed_rule_on_the_page_leads_to_its_quarantined_rows_offline(
        browser: Chromium, site: Site, tmp_path: Path) -> None:
    from datetime import date

    from lifecycle.integration.docs_verdict import annotate_validation_pages
    from lifecycle.integration.quarantine_page import _Row, anchor, render_page
    from lifecycle.integration.report import RuleCount, RunReport, SourceReport

    run_id = "abcdef12-0000-0000-0000-000000000000"
    source = SourceReport(SUITE, "relationship_managers.csv", "utf-8", 3, 1, 2,
                          [RuleCount("source_key_unique", 2, ("rm_id",)), RuleCount("required", 1, ("rm_name",))],
                          rows_failed_checks=2, error_budget=0.0)
    report = RunReport(run_id, date(2026, 6, 30), "refused", None, [], [source])
    report_file = site.root.parent / "ingestion-2026-06-30-abcdef12.md"
    report_file.write_text("# report\n", encoding="utf-8")
    rows_page = site.root.parent / "quarantine-2026-06-30-abcdef12.html"
    rows_page.write_text(render_page(run_id, date(2026, 6, 30), {SUITE: {
        "source_key_unique": [_Row(41, "relationship_managers.csv", 2, "open", ("rm_id",)),
                              _Row(42, "relationship_managers.csv", 3, "open", ("rm_id",))],
        "required": [_Row(41, "relationship_managers.csv", 2, "open", ("rm_name",))]}}), encoding="utf-8")
    annotate_validation_pages(site.root, "day-2026-06-30", report, report_file, rows_page)
    with browser.open(site.validation) as page:
        links = page.page.locator("#lifecycle-verdict a.lifecycle-rows")
        assert links.count() == 2
        assert links.first.inner_text() == "2 row(s)"
        links.first.click()
        page.page.wait_for_load_state()
        assert page.page.url == f"{rows_page.resolve().as_uri()}#{anchor(SUITE, 'source_key_unique')}"
        section = page.text(f"#{anchor(SUITE, 'source_key_unique')}")
        assert "source_key_unique: 2 row(s)" in section and "#41" in section and "#42" in section
        assert "rm_id" in section and "--rule source_key_unique" in section
        assert page.problems() == [] and page.blocked == [] and page.failed == []
