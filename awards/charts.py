"""Server-rendered SVG charts for awards pages: shapes are computed here, drawn by templates
with presentation attributes (no inline styles), always beside a table of the same figures."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .selectors import PotLedgerRow

LABEL_WIDTH = 210
BAR_WIDTH = 440
ROW_HEIGHT = 34
TOP = 34


@dataclass(frozen=True)
class Segment:
    x: str
    width: str


@dataclass(frozen=True)
class LedgerBar:
    label: str
    y: int
    text_y: int
    paid: Segment
    outstanding: Segment
    remaining: Segment


def _segments(x: float, scale: Decimal, *amounts: Decimal) -> list[Segment]:
    """Consecutive segments from ``x``; coordinates as plain text (no locale)."""
    segments = []
    for amount in amounts:
        width = float(max(amount, Decimal(0)) * scale)
        segments.append(Segment(f"{x:.1f}", f"{width:.1f}"))
        x += width
    return segments


def ledger_chart(rows: list[PotLedgerRow]) -> dict:
    """Horizontal bars, one per pot and year, each as long as its budget: paid, committed but
    unpaid, and remaining."""
    biggest = max((max(row.budget, row.committed) for row in rows), default=Decimal(0))
    scale = Decimal(BAR_WIDTH) / biggest if biggest > 0 else Decimal(0)
    bars = []
    for index, row in enumerate(rows):
        y = TOP + index * ROW_HEIGHT
        label = f"{row.pot_name[:22]} {row.year_label}"
        paid, outstanding, remaining = _segments(LABEL_WIDTH, scale, row.paid, row.outstanding, row.remaining)
        bars.append(LedgerBar(label, y, y + 15, paid, outstanding, remaining))
    return {
        "bars": bars,
        "label_width": LABEL_WIDTH,
        "width": LABEL_WIDTH + BAR_WIDTH + 10,
        "height": TOP + len(rows) * ROW_HEIGHT + 4,
        "bar_x": LABEL_WIDTH,
    }
