"""The management report opened in headless Chromium: offline, clean, every chart shown with its numbers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lifecycle.reporting import CHART_IDS, write_report
from tests.support.browser import OpenPage, chromium
from tests.support.management_report import HOSTILE_GROUP, sample_report

# A blank page of this viewport as PNG is a few kB; the charts and Chinese text make it far larger.
MIN_SCREENSHOT_BYTES = 60_000


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OpenPage, Path]]:
    folder = tmp_path_factory.mktemp("report")
    report = write_report(sample_report(extra_group=HOSTILE_GROUP), folder / "management-report.html")
    shot = folder / "management-report.png"
    with chromium() as browser, browser.open(report, screenshot=shot) as page:
        yield page, shot


@pytest.fixture(scope="module")
def page(report_page: tuple[OpenPage, Path]) -> OpenPage:
    return report_page[0]


def test_the_report_loads_nothing_and_logs_no_error(page: OpenPage) -> None:
    assert page.problems() == []
    assert len(page.log.requests) == 1 and page.log.requests[0].endswith("/management-report.html")


def test_a_screenshot_of_the_whole_report_is_written(report_page: tuple[OpenPage, Path]) -> None:
    page, shot = report_page
    content = shot.read_bytes()
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(content) > MIN_SCREENSHOT_BYTES
    height = int.from_bytes(content[20:24], "big")  # PNG IHDR: width at 16, height at 20
    assert height > 1_500  # the full page, all five charts, not just the first screen


@pytest.mark.parametrize("chart_id", CHART_IDS)
def test_every_chart_is_visible_with_a_title(page: OpenPage, chart_id: str) -> None:
    assert page.is_visible(f"#{chart_id}")
    box = page.box(f"#{chart_id}")
    assert box is not None and box["width"] > 400 and box["height"] > 150
    assert page.text(f"#{chart_id} figcaption h2")


def test_value_tier_bars_show_labels_counts_and_shares(page: OpenPage) -> None:
    texts = page.texts("#chart-value-tiers svg text")
    for expected in ("大众客户", "12,480", "70.4%", "私人银行客户", "37", "0.2%", "客户数 Customers"):
        assert expected in texts
    assert page.count("#chart-value-tiers rect") == 4
    # bar heights follow the counts: the mass tier is the tallest bar
    heights = [page.page.locator("#chart-value-tiers g.bar rect").nth(i).bounding_box()["height"] for i in range(4)]
    assert heights == sorted(heights, reverse=True) and heights[0] > 10 * heights[2]


def test_the_funnel_shows_every_stage_with_its_count(page: OpenPage) -> None:
    text = page.text("#chart-lifecycle-funnel")
    for expected in ("潜在客户", "2,200 (30.0%)", "成熟期", "7,340 (100.0%)", "沉睡", "400 (5.4%)"):
        assert expected in text
    assert page.count("#chart-lifecycle-funnel g.stage") == 6


def test_the_transition_matrix_shows_a_count_in_every_cell(page: OpenPage) -> None:
    assert page.count("#chart-stage-transitions g.cell") == 25
    cells = page.texts("#chart-stage-transitions g.cell text")
    assert cells[0] == "1,203" and cells[1] == "447"  # new -> new, new -> growing
    assert cells[4 * 5 + 1] == "12"  # dormant -> growing
    labels = page.texts("#chart-stage-transitions text.axis-title")
    assert labels == ["本次阶段 Stage now →", "上次阶段 Stage before"]


def test_groups_show_now_previous_and_change(page: OpenPage) -> None:
    text = page.text("#chart-groups")
    for expected in ("代发工资客户", "3,210", "3,050", "+160 (+5.2%)", "睡眠唤醒名单", "新 New", "−55 (−4.4%)"):
        assert expected in text


def test_the_complaint_table_has_status_age_and_overdue(page: OpenPage) -> None:
    headers = page.texts("#chart-complaints thead th")
    assert headers == ["状态 Status", "0–7 天", "8–30 天", ">30 天", "合计 Total", "逾期 Overdue"]
    total_row = page.texts("#chart-complaints tbody tr.total > *")
    assert total_row == ["合计 Total", "24", "19", "11", "54", "15"]
    assert page.texts("#chart-complaints td.overdue") == ["3", "7", "5", "15"]


def test_a_hostile_group_name_is_shown_as_text_not_run(page: OpenPage) -> None:
    assert page.count("script") == 0
    names = page.texts("#chart-groups g.group text.label title")
    assert HOSTILE_GROUP in names  # the markup arrived as text content


def test_charts_are_named_for_assistive_technology(page: OpenPage) -> None:
    for chart_id in ("chart-value-tiers", "chart-lifecycle-funnel", "chart-stage-transitions", "chart-groups"):
        svg = f"#{chart_id} svg"
        assert page.attribute(svg, "role") == "img"
        title_id, desc_id = (page.attribute(svg, "aria-labelledby") or "").split()
        assert page.texts(f"#{title_id}") and page.texts(f"#{desc_id}")[0].count(":") >= 3


def test_chinese_text_renders_in_a_font_of_the_local_stack(page: OpenPage) -> None:
    family = page.page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.startswith('"PingFang SC"')
    stack = {name.strip().strip('"') for name in family.split(",")}
    cdp = page.page.context.new_cdp_session(page.page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    heading = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "header.report h1"})["nodeId"]
    used = {font["familyName"] for font in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": heading})["fonts"]}
    assert used & stack, (
        f"the Chinese heading is drawn with {sorted(used)}, none of the report's font stack: install a CJK font "
        "(apt-get install -y fonts-wqy-microhei) or the screenshots show missing-glyph boxes"
    )
