"""Spreadsheet cells never run as formulas; download names never carry a path or a lie."""

import pytest

from applications.exports import csv_text, safe_cell
from governance import uploads as filetypes


@pytest.mark.parametrize(("value", "expected"), [
    ('=cmd|" /C calc"!A0', '\'=cmd|" /C calc"!A0'),
    ("+SUM(A1:A2)", "'+SUM(A1:A2)"),
    ("-2+3", "'-2+3"),
    ("@SUM(1)", "'@SUM(1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("Frailty at home", "Frailty at home"),
    (None, ""),
    (12, "12"),
])
def test_cells_that_a_spreadsheet_would_run_are_made_text(value, expected):
    assert safe_cell(value) == expected


def test_the_header_and_every_row_are_made_safe():
    text = csv_text(["=Title"], [["=1+1"], ["plain"]])
    assert text.splitlines() == ["'=Title", "'=1+1", "plain"]


@pytest.mark.parametrize(("name", "kind", "expected"), [
    ("../../etc/passwd", filetypes.PDF, "passwd.pdf"),
    ("C:\\Users\\me\\report.exe", filetypes.PDF, "report.pdf"),
    ('evil"; filename="x.html', filetypes.PNG, "evil- filename-x.png"),
    ("", filetypes.JPEG, "attachment.jpg"),
    ("budget.final.xlsx", filetypes.XLSX, "budget.final.xlsx"),
])
def test_download_names_are_plain_and_end_in_what_the_file_is(name, kind, expected):
    assert filetypes.safe_download_name(name, kind) == expected
