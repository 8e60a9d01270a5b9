"""One rule for every spreadsheet the portal writes: no cell is ever run as a formula.

A text cell starting with = + - @ tab or carriage return gets a leading apostrophe, so
Excel, LibreOffice and Google Sheets show it as text. Plain numbers (including negative
ones) and non-text values pass through unchanged.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value
