"""The management report as one self-contained HTML file.

Contract: :func:`render_report` takes a :class:`~lifecycle.reporting.figures.ManagementReport`
and returns the page as text; it reads no database, clock or network, so the
same figures always give the same bytes. :func:`write_report` writes that text
as UTF-8.

Why self-contained: the page is mailed, archived and opened on machines without
internet access (bank desktops). It has no script at all; its style is inline;
every chart is inline SVG; text uses a local font stack with Chinese faces
first and no web font. A Content-Security-Policy ``<meta>`` forbids every fetch
except inline styles and ``data:`` images, so even a page edited later cannot
pull anything from a CDN.

Escaping: the Jinja environment autoescapes everything it prints, group names
included; the template never marks text as safe. Each chart sits in a
``<figure>`` with a stable id (:data:`CHART_IDS`), a visible caption, and an SVG
``<title>``/``<desc>`` that lists its numbers for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined

from lifecycle.reporting.charts import (
    NOW_COLOUR,
    PREVIOUS_COLOUR,
    funnel_chart,
    group_chart,
    transition_heatmap,
    value_tier_chart,
)
from lifecycle.reporting.figures import ManagementReport
from lifecycle.reporting.tables import complaint_table, count

CHART_IDS = (
    "chart-value-tiers",
    "chart-lifecycle-funnel",
    "chart-stage-transitions",
    "chart-groups",
    "chart-complaints",
)
TEMPLATE = "report.html.j2"


@dataclass(frozen=True)
class _Tile:
    value: str
    label: str


def _number(value: float) -> str:
    """An SVG coordinate: at most one decimal, no trailing ".0" (smaller, stable output)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("lifecycle.reporting", "templates"),
        autoescape=True,  # every template, whatever its file name ends with
        undefined=StrictUndefined,  # a misspelt field fails the render instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["n"] = _number
    return env


_ENV = _environment()


def render_report(report: ManagementReport) -> str:
    """The report as one HTML document (text); pure: no I/O besides reading the packaged template."""
    tiles = (
        _Tile(count(report.value_tiers.total), "客户总数 Customers"),
        _Tile(count(report.transitions.moved), "阶段变动 Changed stage"),
        _Tile(count(len(report.groups.groups)), "客户群 Groups"),
        _Tile(count(report.complaints.total), "未结投诉 Open complaints"),
        _Tile(count(report.complaints.overdue), "逾期投诉 Overdue complaints"),
    )
    return _ENV.get_template(TEMPLATE).render(
        report=report,
        tiles=tiles,
        tiers=value_tier_chart(report.value_tiers),
        tiers_total=count(report.value_tiers.total),
        funnel=funnel_chart(report.funnel),
        heat=transition_heatmap(report.transitions),
        moved=count(report.transitions.moved),
        transitions_total=count(report.transitions.total),
        groups=group_chart(report.groups),
        previous_colour=PREVIOUS_COLOUR,
        now_colour=NOW_COLOUR,
        complaints=complaint_table(report.complaints),
        complaints_total=count(report.complaints.total),
        complaints_overdue=count(report.complaints.overdue),
    )


def write_report(report: ManagementReport, path: Path) -> Path:
    """Render ``report`` and write it to ``path`` (UTF-8, parent folders created); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(report), encoding="utf-8")
    return path
