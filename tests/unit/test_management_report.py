"""The management report: figures are checked, tables and HTML say the same counts, free text is escaped."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from lifecycle.reporting import (
    CHART_IDS,
    ComplaintBacklog,
    ComplaintStatusRow,
    CustomerGroups,
    GroupSize,
    StageTransitionMatrix,
    TierCount,
    ValueTierDistribution,
    render_report,
    report_markdown,
    report_tables,
)
from lifecycle.reporting.charts import nice_ticks, truncate
from lifecycle.reporting.tables import escape_markdown, group_table, transition_table, value_tier_table
from tests.support.management_report import HOSTILE_GROUP, STAGES, sample_report


class _Elements(HTMLParser):
    """Tags and attributes of a page, to check what it would load."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _elements(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(page)
    return parser.tags


# --- figures refuse what cannot be drawn honestly ---------------------------------------------


def test_a_negative_count_is_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        TierCount("mass", -1)


def test_a_boolean_is_not_a_count() -> None:
    with pytest.raises(ValueError, match="non-negative integer"):
        GroupSize("代发工资客户", True)  # type: ignore[arg-type]


def test_a_duplicated_tier_is_refused() -> None:
    with pytest.raises(ValueError, match="appears twice"):
        ValueTierDistribution((TierCount("mass", 1), TierCount("mass", 2)))


def test_a_transition_matrix_must_be_square() -> None:
    with pytest.raises(ValueError, match="2x2"):
        StageTransitionMatrix(("new", "mature"), ((1, 2), (3,)))


def test_transitions_from_an_unknown_stage_are_refused() -> None:
    with pytest.raises(ValueError, match="churned"):
        StageTransitionMatrix.from_pairs(("new", "mature"), {("churned", "new"): 3})


def test_more_overdue_than_open_complaints_is_refused() -> None:
    with pytest.raises(ValueError, match="5 overdue of 4 open"):
        ComplaintStatusRow("open", (1, 3), overdue=5)


def test_complaint_rows_need_one_count_per_age_bucket() -> None:
    with pytest.raises(ValueError, match="2 counts for 3 age buckets"):
        ComplaintBacklog(("a", "b", "c"), (ComplaintStatusRow("open", (1, 2), overdue=0),))


def test_transition_totals_count_who_moved() -> None:
    matrix = sample_report().transitions
    assert matrix.count("new", "growing") == 447
    assert matrix.count("growing", "new") == 0
    assert matrix.total == 14_937
    assert matrix.moved == 447 + 609 + 88 + 76 + 12


def test_a_group_change_is_relative_to_the_previous_run() -> None:
    assert GroupSize("x", 110, 100).change == 10
    assert GroupSize("x", 110, 100).change_share == pytest.approx(0.1)
    assert GroupSize("x", 5, None).change is None  # a new group has no change, not +5
    assert GroupSize("x", 5, 0).change_share is None  # no division by an empty group


# --- the tables --------------------------------------------------------------------------------


def test_value_tier_table_has_counts_shares_and_a_total() -> None:
    table = value_tier_table(sample_report().value_tiers)
    assert table.records()[0] == {"价值层级 Tier": "大众客户", "客户数 Customers": "12,480", "占比 Share": "70.4%"}
    assert table.rows[-1] == ("合计 Total", "17,734", "100.0%")


def test_transition_table_reads_from_rows_to_columns() -> None:
    table = transition_table(sample_report().transitions)
    assert table.headers == ("上次 ＼ 本次 From ＼ To", "新客户", "成长期", "成熟期", "衰退期", "沉睡", "合计 Total")
    dormant = dict(zip(table.headers, table.rows[STAGES.index("dormant")], strict=True))
    assert dormant["成长期"] == "12" and dormant["沉睡"] == "324" and dormant["合计 Total"] == "336"


def test_group_table_marks_new_groups_and_signs_changes() -> None:
    rows = {row[0]: row for row in group_table(sample_report().groups).rows}
    assert rows["代发工资客户"][1:] == ("3,210", "3,050", "+160", "+5.2%")
    assert rows["高净值理财意向"][3:] == ("−55", "−4.4%")
    assert rows["睡眠唤醒名单"][2:] == ("—", "新 New", "—")


def test_markdown_tables_are_well_formed() -> None:
    markdown = report_markdown(sample_report(extra_group=HOSTILE_GROUP))
    tables = report_tables(sample_report(extra_group=HOSTILE_GROUP))
    assert markdown.count("\n### ") == len(tables) == len(CHART_IDS)
    for table in tables:
        text = table.to_markdown()
        rows = [line for line in text.splitlines() if line.startswith("|")]
        assert len(rows) == len(table.rows) + 2  # header, alignment, data
        for line in rows:  # an unescaped "|" in a cell would add a column
            assert len(re.findall(r"(?<!\\)\|", line)) == len(table.headers) + 1, line


def test_markdown_escapes_a_hostile_group_name() -> None:
    markdown = report_markdown(sample_report(extra_group=HOSTILE_GROUP))
    assert "<script>" not in markdown
    assert r"\<script\>alert(\"x\")" not in markdown  # quotes are not markup: left alone
    assert r"\<script\>alert(" in markdown
    assert r"\| 高潜 \& \*\*粗体\*\*" in markdown


def test_markdown_cells_stay_on_one_line() -> None:
    assert escape_markdown("第一行\n第二行\r\n| x") == r"第一行 第二行 \| x"


# --- the HTML page -----------------------------------------------------------------------------


def test_every_chart_has_its_id_and_an_accessible_name() -> None:
    page = render_report(sample_report())
    for chart_id in CHART_IDS:
        assert page.count(f'id="{chart_id}"') == 1
        assert f'aria-labelledby="{chart_id}-caption"' in page
    # each SVG names itself through a <title> and lists its numbers in a <desc>
    assert page.count('role="img"') == 4
    assert page.count("<title id=") == 4 and page.count("<desc id=") == 4


def test_html_escapes_a_hostile_group_name() -> None:
    page = render_report(sample_report(extra_group=HOSTILE_GROUP))
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; | 高潜 &amp; **粗体**" in page
    assert [tag for tag, _ in _elements(page) if tag == "script"] == []


def test_html_loads_nothing_from_outside() -> None:
    page = render_report(sample_report())
    for tag, attrs in _elements(page):
        assert tag not in {"script", "link", "img", "iframe", "object", "embed"}, tag
        assert not any(k in attrs for k in ("src", "srcset", "href")), (tag, attrs)
    assert "@import" not in page and "url(" not in page and "@font-face" not in page
    assert "default-src 'none'" in page  # the browser enforces it too


def test_html_uses_a_local_chinese_font_stack() -> None:
    page = render_report(sample_report())
    stack = re.search(r"font-family:([^;]+);", page)
    assert stack is not None
    assert '"PingFang SC"' in stack.group(1) and '"Noto Sans CJK SC"' in stack.group(1)
    assert stack.group(1).strip().endswith("sans-serif")


def test_html_shows_the_counts_of_the_tables() -> None:
    report = sample_report()
    page = render_report(report)
    tiers, funnel, transitions, groups, complaints = report_tables(report)
    for label, customers, share in tiers.rows[:-1]:  # the total row is a tile, not a bar
        assert f"{label}: {customers} ({share})" in page
    for row in funnel.rows:
        assert f"{row[0]}: {row[1]} ({row[2]})" in page
    for row in transitions.rows:
        for column, cell in zip(transitions.headers[1:-1], row[1:-1], strict=True):
            assert f"{row[0]} → {column}: {cell}" in page
    for name, now, previous, change, change_share in groups.rows:
        assert f"{name} 本次 now: {now}" in page
        assert previous == "—" or f"{name} 上次 previous: {previous}" in page
        assert f"{change} ({change_share})" in page or change == "新 New"
    section = page[page.index('id="chart-complaints"') :]
    cells = [html.unescape(c) for c in re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", section)]
    assert cells == [*complaints.headers, *(cell for row in complaints.rows for cell in row)]
    assert section.count('class="overdue"') == 4  # three statuses with overdue complaints, and the total


def test_rendering_is_pure() -> None:
    assert render_report(sample_report()) == render_report(sample_report())
    later = replace(sample_report(), groups=CustomerGroups((GroupSize("代发工资客户", 1, 1),)))
    assert render_report(later) != render_report(sample_report())


def test_empty_figures_still_render() -> None:
    report = replace(
        sample_report(),
        value_tiers=ValueTierDistribution(()),
        groups=CustomerGroups(()),
        transitions=StageTransitionMatrix((), ()),
    )
    page = render_report(report)
    assert all(f'id="{chart_id}"' in page for chart_id in CHART_IDS)


# --- chart helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("largest", "ticks"),
    [(0, [0, 1]), (7, [0, 2, 4, 6, 8]), (12_480, [0, 5_000, 10_000, 15_000]), (4_000, [0, 1_000, 2_000, 3_000, 4_000])],
)
def test_nice_ticks_cover_the_largest_value(largest: int, ticks: list[int]) -> None:
    assert nice_ticks(largest) == ticks


def test_truncate_counts_chinese_characters_as_two_columns() -> None:
    assert truncate("代发工资客户", 12) == "代发工资客户"
    assert truncate("代发工资客户", 8) == "代发工资…"
    assert truncate("payroll", 8) == "payroll"
