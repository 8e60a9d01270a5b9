"""Exports: cells that a spreadsheet would read as a formula get a leading apostrophe."""

from governance.exports import safe_cell as csv_safe  # noqa: F401 - the awards exports' name for it
