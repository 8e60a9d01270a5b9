"""Spreadsheet exports that are safe to open: no cell is ever read as a formula."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from io import StringIO

from governance.exports import safe_cell as _safe_cell


def safe_cell(value) -> str:
    """The value as text; text a spreadsheet would run as a formula gets a leading apostrophe."""
    return _safe_cell("" if value is None else str(value))


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    buffer = StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()
