"""Charts for impact reports: vector SVG drawn with matplotlib from the snapshot's tables.

Each chart spec in the snapshot names the table it is drawn from, so every chart has the same
figures in a table beside it. Text stays text in the SVG (``svg.fonttype: none``): it is smaller,
sharp at any zoom, and found by a PDF's text search. Pages embed the SVG as an ``<img>`` (the
Content Security Policy forbids the inline styles matplotlib writes); the PDF does the same.
"""

from __future__ import annotations

import base64
import io
import textwrap
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .analytics import find_table

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

# NHS identity colours: blue, light blue, dark blue, warm yellow, green, grey.
PALETTE = ["#005eb8", "#41b6e6", "#003087", "#ffb81c", "#009639", "#768692"]
RAG_COLOURS = {"Red": "#d5281b", "Amber": "#ffb81c", "Green": "#007f3b"}
OTHER_COLOUR = "#768692"
MAX_CATEGORIES = 12
RC: dict[RcKeyType, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "fund-portal-impact",
    "font.family": ["Liberation Sans", "DejaVu Sans"],
    "font.size": 9,
    "axes.edgecolor": "#4c6272",
    "axes.labelcolor": "#212b32",
    "xtick.color": "#212b32",
    "ytick.color": "#212b32",
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _number(value) -> float:
    """Plot value (matplotlib needs floats; the figures themselves stay exact in the tables)."""
    if value is None or value == "":
        return 0.0
    return float(Decimal(str(value)))


def _money_axis(value: float, _position=None) -> str:
    size = abs(value)
    if size >= 1_000_000:
        return f"£{value / 1_000_000:.1f}m"
    if size >= 1_000:
        return f"£{value / 1_000:.0f}k"
    return f"£{value:.0f}"


def _axis_formatter(unit: str) -> FuncFormatter:
    if unit == "money":
        return FuncFormatter(_money_axis)
    if unit == "percent":
        return FuncFormatter(lambda value, _p=None: f"{value:.0f}%")
    return FuncFormatter(lambda value, _p=None: f"{value:,.0f}")


def _wrap(label: str, width: int = 22) -> str:
    return "\n".join(textwrap.wrap(str(label), width)[:3]) or "—"


def _columns(spec: dict, data: dict) -> tuple[list[str], dict[str, list[float]], dict[str, str], bool]:
    """The categories and series of a chart, from its table; trimmed to the largest categories."""
    keys = [column["key"] for column in data["columns"]]
    labels = {column["key"]: column["label"] for column in data["columns"]}
    x = keys.index(spec["x"])
    rows = data["rows"]
    trimmed = False
    if spec["type"] == "barh" and len(rows) > MAX_CATEGORIES:
        first = keys.index(spec["series"][0])
        rows = sorted(rows, key=lambda row: _number(row[first]), reverse=True)[:MAX_CATEGORIES]
        trimmed = True
    categories = [str(row[x]) for row in rows]
    series = {name: [_number(row[keys.index(name)]) for row in rows] for name in spec["series"]}
    return categories, series, labels, trimmed


def chart_svg(spec: dict, snapshot: dict) -> str:
    """One chart as an SVG document (text)."""
    data = find_table(snapshot, spec["table"])
    categories, series, labels, trimmed = _columns(spec, data)
    with matplotlib.rc_context(RC):
        height = 2.9 if spec["type"] != "barh" else max(1.8, 0.42 * max(len(categories), 1) + 0.9)
        figure = Figure(figsize=(6.7, height), layout="constrained")
        axes = figure.subplots()
        kind = spec["type"]
        if not categories:
            axes.text(0.5, 0.5, "No data in this period", ha="center", va="center", transform=axes.transAxes)
            axes.set_axis_off()
        elif kind == "bar":
            _bars(axes, categories, series, labels)
        elif kind == "stacked_pairs":
            _stacked_pairs(axes, categories, series, labels)
        elif kind == "barh":
            _barh(axes, categories, series, labels, spec)
        elif kind == "line":
            _lines(axes, categories, series, labels)
        else:  # pragma: no cover - specs come from analytics
            raise ValueError(f"Unknown chart type {kind!r}")
        if categories:
            axis = axes.xaxis if kind == "barh" else axes.yaxis
            axis.set_major_formatter(_axis_formatter(spec["unit"]))
            axis.set_major_locator(MaxNLocator(nbins=5, integer=spec["unit"] == "count"))
            axes.grid(axis="x" if kind == "barh" else "y", color="#d8dde0", linewidth=0.6)
            axes.set_axisbelow(True)
        if trimmed:
            figure.suptitle(f"The {MAX_CATEGORIES} largest; every row is in the table", fontsize=8, color="#4c6272")
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "Fund Portal"})
    return buffer.getvalue()


def _legend(axes, count: int) -> None:
    if count > 1:
        axes.legend(frameon=False, fontsize=8, ncols=min(count, 4), loc="upper left", bbox_to_anchor=(0, 1.16))


def _bars(axes, categories, series, labels) -> None:
    count = len(series)
    width = 0.8 / count
    positions = range(len(categories))
    for index, (name, values) in enumerate(series.items()):
        axes.bar([p + (index - (count - 1) / 2) * width for p in positions], values, width,
                 label=labels[name], color=PALETTE[index % len(PALETTE)])
    axes.set_xticks(list(positions), [_wrap(c, 18) for c in categories])
    _legend(axes, count)


def _stacked_pairs(axes, categories, series, labels) -> None:
    """Projected (cashable + non-cashable) beside realised (cashable + non-cashable)."""
    names = list(series)
    width = 0.38
    positions = list(range(len(categories)))
    for offset, (first, second), colours in ((-0.2, names[0:2], PALETTE[2:4]), (0.2, names[2:4], PALETTE[0:2])):
        bottom = series[first]
        axes.bar([p + offset for p in positions], bottom, width, label=labels[first], color=colours[0])
        axes.bar([p + offset for p in positions], series[second], width, bottom=bottom, label=labels[second], color=colours[1])
    axes.set_xticks(positions, categories)
    _legend(axes, 4)


def _barh(axes, categories, series, labels, spec) -> None:
    positions = list(range(len(categories)))
    stacked = spec.get("stacked", False)
    count = len(series)
    left = [0.0] * len(categories)
    height = 0.7 if stacked or count == 1 else 0.8 / count
    for index, (name, values) in enumerate(series.items()):
        if spec.get("colours") == "rag":
            colour: str | list[str] = [RAG_COLOURS.get(category, OTHER_COLOUR) for category in categories]
        else:
            colour = PALETTE[index % len(PALETTE)]
        if stacked:
            axes.barh(positions, values, height, left=left, label=labels[name], color=colour)
            left = [a + b for a, b in zip(left, values, strict=True)]
        else:
            shift = 0 if count == 1 else (index - (count - 1) / 2) * height
            axes.barh([p + shift for p in positions], values, height, label=labels[name], color=colour)
    axes.set_yticks(positions, [_wrap(c, 28) for c in categories])
    axes.invert_yaxis()
    _legend(axes, count)


def _lines(axes, categories, series, labels) -> None:
    positions = list(range(len(categories)))
    for index, (name, values) in enumerate(series.items()):
        axes.plot(positions, values, marker="o", markersize=3, linewidth=1.8, label=labels[name],
                  color=PALETTE[(index * 3) % len(PALETTE)], linestyle="-" if index == 0 else "--")
    step = max(1, len(categories) // 8)
    axes.set_xticks(positions[::step], [_wrap(c, 10) for c in categories[::step]])
    _legend(axes, len(series))


def chart_alt(spec: dict) -> str:
    return f"Chart: {spec['title']}. The figures are in the table that follows."


def draw_charts(snapshot: dict) -> dict[str, str]:
    """Every chart of a snapshot as SVG text, by chart key."""
    return {spec["key"]: chart_svg(spec, snapshot) for part in snapshot["sections"] for spec in part["charts"]}


def svg_data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
