"""Chart geometry: the figures laid out as plain shapes, for the template to draw as SVG.

Layout is computed here, in Python, and drawn by Jinja with autoescape, so that
every piece of text reaches the page escaped and the template holds no
arithmetic. Each chart is a small frozen dataclass of rectangles and texts in
SVG user units (``viewBox`` coordinates; the page scales them to its width).

Axes start at zero and use "nice" ticks (1, 2 or 5 times a power of ten), so
bar lengths compare honestly. Counts are printed on every bar and cell: the
chart is readable without hovering, and the same numbers are in the ``<title>``
of each shape for screen readers and tooltips.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from lifecycle.reporting.figures import CustomerGroups, LifecycleFunnel, StageTransitionMatrix, ValueTierDistribution
from lifecycle.reporting.tables import count, share, signed, signed_share

BAR_COLOURS = ("#9ecae1", "#4292c6", "#2171b5", "#08306b")
FUNNEL_COLOUR = "#9ecae1"  # light enough for dark count labels on every bar
NOW_COLOUR = "#2171b5"
PREVIOUS_COLOUR = "#c6dbef"
HEAT_LOW = (239, 245, 252)
HEAT_HIGH = (8, 69, 148)


@dataclass(frozen=True)
class Tick:
    position: float
    text: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    fill: str
    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class BarChart:
    """Vertical bars over category labels, with a y axis of counts."""

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    x_title: str
    y_title: str


@dataclass(frozen=True)
class FunnelChart:
    """Centred bars, one per stage, as wide as the stage's share of the widest."""

    width: int
    height: int
    centre: float
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class HeatCell:
    x: float
    y: float
    size: float
    fill: str
    text: str
    text_fill: str
    title: str


@dataclass(frozen=True)
class Heatmap:
    """A square matrix of shaded cells with their counts; rows "from", columns "to"."""

    width: int
    height: int
    left: int
    top: int
    cell: int
    rows: tuple[Tick, ...]
    columns: tuple[Tick, ...]
    cells: tuple[HeatCell, ...]
    x_title: str
    y_title: str


@dataclass(frozen=True)
class GroupBars:
    """One group: its label and two horizontal bars, previous run above, now below."""

    label: str
    full_name: str
    y: float
    previous: Bar | None
    now: Bar
    change: str


@dataclass(frozen=True)
class GroupChart:
    width: int
    height: int
    left: int
    plot_width: int
    axis_y: float
    groups: tuple[GroupBars, ...]
    ticks: tuple[Tick, ...]
    x_title: str


def nice_ticks(largest: int, target: int = 5) -> list[int]:
    """Tick values from 0 to at least ``largest``, a step of 1, 2 or 5 times a power of ten."""
    if largest <= 0:
        return [0, 1]
    raw = largest / target
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    top = math.ceil(largest / step) * step
    return list(range(0, top + 1, step))


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` display columns (CJK characters count two), with an ellipsis."""
    columns = 0
    for i, char in enumerate(text):
        columns += 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if columns > width:
            return text[:i] + "…"
    return text


def value_tier_chart(figure: ValueTierDistribution) -> BarChart:
    width, height, left, top, right, bottom = 720, 340, 84, 36, 24, 64
    ticks = nice_ticks(max((t.customers for t in figure.tiers), default=0))
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(len(figure.tiers), 1)
    bars = []
    for i, tier in enumerate(figure.tiers):
        h = plot_h * tier.customers / ticks[-1]
        bars.append(
            Bar(
                x=left + i * slot + slot * 0.2,
                y=top + plot_h - h,
                width=slot * 0.6,
                height=h,
                fill=BAR_COLOURS[min(i, len(BAR_COLOURS) - 1)],
                label=tier.display,
                value=count(tier.customers),
                note=share(tier.customers, figure.total),
            )
        )
    return BarChart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        bars=tuple(bars),
        ticks=tuple(Tick(top + plot_h - plot_h * v / ticks[-1], count(v)) for v in ticks),
        x_title="价值层级 Value tier",
        y_title="客户数 Customers",
    )


def funnel_chart(figure: LifecycleFunnel) -> FunnelChart:
    width, row_h, gap, top = 720, 40, 10, 12
    widest = max((s.customers for s in figure.stages), default=0)
    centre, full = 430.0, 500.0
    bars = []
    for i, stage in enumerate(figure.stages):
        w = max(full * stage.customers / widest, 2.0) if widest else 2.0
        bars.append(
            Bar(
                x=centre - w / 2,
                y=top + i * (row_h + gap),
                width=w,
                height=row_h,
                fill=FUNNEL_COLOUR,
                label=stage.display,
                value=count(stage.customers),
                note=share(stage.customers, widest),
            )
        )
    height = top * 2 + len(figure.stages) * (row_h + gap)
    return FunnelChart(width, height, centre, tuple(bars))


def _heat(intensity: float) -> str:
    r, g, b = (round(lo + (hi - lo) * intensity) for lo, hi in zip(HEAT_LOW, HEAT_HIGH, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def transition_heatmap(figure: StageTransitionMatrix) -> Heatmap:
    n, cell, left, top = len(figure.stages), 64, 120, 72
    labels = figure.display_labels
    largest = figure.largest
    cells = []
    for i, row in enumerate(figure.counts):
        for j, value in enumerate(row):
            intensity = value / largest if largest else 0.0
            cells.append(
                HeatCell(
                    x=left + j * cell,
                    y=top + i * cell,
                    size=cell - 2,
                    fill=_heat(intensity),
                    text=count(value),
                    text_fill="#ffffff" if intensity > 0.55 else "#1a1a1a",
                    title=f"{labels[i]} → {labels[j]}: {count(value)}",
                )
            )
    return Heatmap(
        width=left + n * cell + 16,
        height=top + n * cell + 16,
        left=left,
        top=top,
        cell=cell,
        rows=tuple(Tick(top + i * cell + cell / 2, truncate(label, 12)) for i, label in enumerate(labels)),
        columns=tuple(Tick(left + j * cell + cell / 2, truncate(label, 8)) for j, label in enumerate(labels)),
        cells=tuple(cells),
        x_title="本次阶段 Stage now →",
        y_title="上次阶段 Stage before",
    )


def _group_bar(x: float, y: float, length: float, fill: str, label: str, customers: int) -> Bar:
    # at least one unit long: an empty group still shows where its bar starts
    return Bar(x, y, max(length, 1.0), 14, fill, label, count(customers))


def group_chart(figure: CustomerGroups) -> GroupChart:
    width, left, right, top, row_h = 720, 200, 150, 16, 44
    plot_w = width - left - right
    ticks = nice_ticks(figure.largest)
    scale = plot_w / ticks[-1]
    groups = []
    for i, g in enumerate(figure.groups):
        y = top + i * row_h
        previous = None
        if g.previous is not None:
            previous = _group_bar(left, y, g.previous * scale, PREVIOUS_COLOUR, "上次 previous", g.previous)
        now = _group_bar(left, y + 16, g.customers * scale, NOW_COLOUR, "本次 now", g.customers)
        change = "新 New" if g.change is None else f"{signed(g.change)} ({signed_share(g.change_share)})"
        groups.append(GroupBars(truncate(g.name, 24), g.name, y, previous, now, change))
    axis_y = top + len(figure.groups) * row_h
    return GroupChart(
        width=width,
        height=axis_y + 44,
        left=left,
        plot_width=plot_w,
        axis_y=axis_y,
        groups=tuple(groups),
        ticks=tuple(Tick(left + v * scale, count(v)) for v in ticks),
        x_title="客户数 Customers",
    )
