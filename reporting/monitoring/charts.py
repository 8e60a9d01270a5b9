"""Server-rendered bar charts for the monitoring pages.

The shapes are worked out here and drawn by ``templates/reporting/monitoring/_chart.html`` as
inline SVG with presentation attributes only (the CSP forbids style attributes), with a title
for screen readers and the same figures in a table beside it. Money stays Decimal; only pixel
positions are floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from governance.money import format_money

LABEL_WIDTH = 150
BAR_AREA = 200
VALUE_WIDTH = 100
BAR_HEIGHT = 18
BAR_GAP = 4
GROUP_GAP = 14
LEGEND_HEIGHT = 28
SERIES_COLOURS = ["#768692", "#005eb8", "#330072", "#007f3b"]


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: str
    height: int
    colour: str
    value_x: str
    value_y: int
    value_text: str
    series: str


@dataclass(frozen=True)
class Group:
    label: str
    label_y: int
    bars: list[Bar]


@dataclass(frozen=True)
class LegendItem:
    x: int
    text_x: int
    colour: str
    label: str


def bar_chart(rows: list[tuple[str, list]], *, series: list[str] | None = None, colours: list[list[str]] | None = None,
              money: bool = True) -> dict | None:
    """Horizontal grouped bars: one group per row, one bar per value (a series).

    ``rows`` is [(label, [value, ...])]; ``series`` names the values (a legend is drawn when there
    is more than one); ``colours`` optionally gives each row's bar colours. None if there is nothing to draw.
    """
    if not rows:
        return None
    biggest = max((Decimal(value or 0) for _, values in rows for value in values), default=Decimal(0))
    scale = Decimal(BAR_AREA) / biggest if biggest > 0 else Decimal(0)
    series = series or []
    top = LEGEND_HEIGHT if len(series) > 1 else 6
    groups = []
    y = top
    for index, (label, values) in enumerate(rows):
        bars = []
        group_top = y
        for position, value in enumerate(values):
            value = Decimal(value or 0)
            width = float(max(value, Decimal(0)) * scale)
            colour = (colours[index][position] if colours else SERIES_COLOURS[(position + (1 if len(values) == 1 else 0))
                                                                              % len(SERIES_COLOURS)])
            text = format_money(value) if money else f"{value:,.0f}"
            bars.append(Bar(LABEL_WIDTH, y, f"{width:.1f}", BAR_HEIGHT, colour, f"{LABEL_WIDTH + width + 6:.1f}",
                            y + BAR_HEIGHT - 4, text, series[position] if position < len(series) else label))
            y += BAR_HEIGHT + BAR_GAP
        groups.append(Group(label[:22], group_top + (y - group_top - BAR_GAP) // 2 + 5, bars))
        y += GROUP_GAP - BAR_GAP
    legend = []
    if len(series) > 1:
        x = LABEL_WIDTH
        for position, name in enumerate(series):
            legend.append(LegendItem(x, x + 20, SERIES_COLOURS[position % len(SERIES_COLOURS)], name))
            x += 30 + 7 * len(name)
    return {
        "groups": groups, "legend": legend, "width": LABEL_WIDTH + BAR_AREA + VALUE_WIDTH,
        "height": y + 4, "label_width": LABEL_WIDTH,
    }
