import pytest

from governance.exports import safe_cell


@pytest.mark.parametrize("text", ["=cmd|' /C calc'!A0", "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_text_a_spreadsheet_would_run_gets_a_leading_apostrophe(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Falls prevention", "-12.50", "12", "", 12, None, 3.5])
def test_plain_text_numbers_and_non_text_pass_unchanged(value):
    assert safe_cell(value) == value
