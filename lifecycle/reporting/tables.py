"""The report's figures as tables: markdown for Prefect markdown artifacts, records for table artifacts.

One :class:`Table` per figure, built from the same dataclasses the HTML page
draws, so the artifacts and the page cannot disagree. Cells are display
strings (``12,345``, ``+5.0%``, ``—`` for "no value"): what the markdown shows
is what a table artifact shows.

Escaping: group names are free text. In markdown a ``|`` would split a cell, a
newline would end the table, and ``<``/``[``/``*`` could become markup in the
Prefect UI; every cell is escaped by :func:`escape_markdown` (ASCII punctuation
that markdown interprets gets a backslash, line breaks become spaces).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lifecycle.reporting.figures import (
    ComplaintBacklog,
    CustomerGroups,
    LifecycleFunnel,
    ManagementReport,
    StageTransitionMatrix,
    ValueTierDistribution,
)

NO_VALUE = "—"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|&#~!])")
_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")


def count(value: int) -> str:
    """A count with thousands separators: 12,345."""
    return f"{value:,}"


def share(part: int, whole: int) -> str:
    """``part`` as a percentage of ``whole`` with one decimal; the no-value mark if whole is 0."""
    return f"{part / whole:.1%}" if whole else NO_VALUE


def signed(value: int | None) -> str:
    """A change with its sign (+12, −3, 0); the no-value mark for None."""
    if value is None:
        return NO_VALUE
    return f"+{value:,}" if value > 0 else (f"−{-value:,}" if value < 0 else "0")


def signed_share(value: float | None) -> str:
    """A relative change with its sign (+5.0%); the no-value mark for None."""
    if value is None:
        return NO_VALUE
    text = f"{abs(value):.1%}"
    return f"+{text}" if value > 0 else (f"−{text}" if value < 0 else text)


def escape_markdown(text: str) -> str:
    """``text`` safe inside a markdown table cell: one line, no markup, no cell breaks."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", text)).strip()


@dataclass(frozen=True)
class Table:
    """A titled table of display strings; the first column names the row."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.headers):
                raise ValueError(f"table {self.title!r}: a row has {len(row)} cells for {len(self.headers)} headers")

    def records(self) -> list[dict[str, str]]:
        """One dict per row, keyed by header (the shape Prefect's table artifact takes)."""
        return [dict(zip(self.headers, row, strict=True)) for row in self.rows]

    def to_markdown(self) -> str:
        """A heading and a GitHub-flavoured markdown table; numbers right-aligned."""
        aligns = ["---", *("---:" for _ in self.headers[1:])]
        lines = [
            f"### {escape_markdown(self.title)}",
            "",
            _markdown_row(self.headers),
            "| " + " | ".join(aligns) + " |",
            *(_markdown_row(row) for row in self.rows),
        ]
        return "\n".join(lines) + "\n"


def _markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(escape_markdown(c) or " " for c in cells) + " |"


def value_tier_table(figure: ValueTierDistribution) -> Table:
    total = figure.total
    rows = [(t.display, count(t.customers), share(t.customers, total)) for t in figure.tiers]
    rows.append(("合计 Total", count(total), share(total, total)))
    return Table("价值层级分布 Value tiers", ("价值层级 Tier", "客户数 Customers", "占比 Share"), tuple(rows))


def funnel_table(figure: LifecycleFunnel) -> Table:
    widest = max((s.customers for s in figure.stages), default=0)
    rows = []
    previous: int | None = None
    for stage in figure.stages:
        vs_previous = share(stage.customers, previous) if previous is not None else NO_VALUE
        rows.append((stage.display, count(stage.customers), share(stage.customers, widest), vs_previous))
        previous = stage.customers
    headers = ("阶段 Stage", "客户数 Customers", "占最大阶段 Of widest", "较上一阶段 Of previous stage")
    return Table("生命周期漏斗 Lifecycle funnel", headers, tuple(rows))


def transition_table(figure: StageTransitionMatrix) -> Table:
    labels = figure.display_labels
    headers = ("上次 ＼ 本次 From ＼ To", *labels, "合计 Total")
    rows = [(labels[i], *(count(v) for v in row), count(sum(row))) for i, row in enumerate(figure.counts)]
    return Table("阶段迁移 Stage transitions", headers, tuple(rows))


def group_table(figure: CustomerGroups) -> Table:
    rows = [
        (
            g.name,
            count(g.customers),
            NO_VALUE if g.previous is None else count(g.previous),
            "新 New" if g.previous is None else signed(g.change),
            signed_share(g.change_share),
        )
        for g in figure.groups
    ]
    headers = ("客户群 Group", "本次 Now", "上次 Previous", "变化 Change", "变化率 Change %")
    return Table("客户群规模 Customer groups", headers, tuple(rows))


def complaint_table(figure: ComplaintBacklog) -> Table:
    rows = [(r.display, *(count(v) for v in r.by_age), count(r.total), count(r.overdue)) for r in figure.rows]
    rows.append(("合计 Total", *(count(v) for v in figure.bucket_totals()), count(figure.total), count(figure.overdue)))
    headers = ("状态 Status", *figure.age_buckets, "合计 Total", "逾期 Overdue")
    return Table("投诉积压 Complaint backlog", headers, tuple(rows))


def report_tables(report: ManagementReport) -> tuple[Table, ...]:
    """The five tables of a report, in the order the page shows the charts."""
    return (
        value_tier_table(report.value_tiers),
        funnel_table(report.funnel),
        transition_table(report.transitions),
        group_table(report.groups),
        complaint_table(report.complaints),
    )


def report_markdown(report: ManagementReport) -> str:
    """The whole report as one markdown document (a Prefect markdown artifact)."""
    previous = f"，上次 previous run {report.previous_as_of.isoformat()}" if report.previous_as_of else ""
    head = [
        f"## {escape_markdown(report.title)}",
        "",
        f"数据日期 As of {report.as_of.isoformat()}{previous}；生成于 generated {report.generated_at.isoformat()}",
        "",
    ]
    return "\n".join(head) + "\n" + "\n".join(t.to_markdown() for t in report_tables(report))
