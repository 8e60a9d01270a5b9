"""The built files: the PDF's text (pypdf) carries the headline figures, the fund and period on
every page, page numbers and the contents; it is A4, tagged and its charts are vector. The CSV
and XLSX hold the same figures, with formula injection neutralised."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from reporting.impact import services
from reporting.impact.exports import neutralise, report_csv
from reporting.impact.tasks import build_impact_report
from tests.reporting.impact_world import build_world

pytestmark = pytest.mark.django_db

A4 = (595, 842)  # points


@pytest.fixture
def built():
    world = build_world()
    world.x1.title = "=HYPERLINK(\"http://evil.example\",\"Click\")"
    world.x1.save()
    report = world.report(title="Test impact report")
    version = services.impact_report_rebuild(actor=world.manager, report=report, enqueue=False)
    assert build_impact_report.apply(args=[version.pk]).get() == "built"
    version.refresh_from_db()
    return version


def pdf_pages(version):
    with version.pdf.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return reader, [page.extract_text() for page in reader.pages]


def test_the_pdf_carries_the_headline_figures(built):
    _, pages = pdf_pages(built)
    text = "\n".join(pages)
    cover = pages[0]
    assert "Test impact report" in cover
    assert "Test Innovation Fund" in cover
    # Awarded £300,000; committed £160,000; paid £135,000; realised £75,000 (£70,000 cashable);
    # ROI −44.4%; 290 patients; 4 organisations (worked out in test_impact_analytics).
    for figure in ("£300,000", "£160,000", "£135,000", "£75,000", "£70,000", "-44.4%", "290"):
        assert figure in cover, figure
    assert "Data cut-off" in cover
    assert "Generated" in cover
    # The tables inside: remaining £840,000 and the spend variance −£90,000.
    assert "£840,000" in text
    assert "-£90,000" in text
    assert "Start recruiting early." in text


def test_every_page_has_the_fund_the_period_and_its_number(built):
    _, pages = pdf_pages(built)
    count = len(pages)
    assert count > 5
    for number, text in enumerate(pages, start=1):
        assert "Test Innovation Fund" in text, number
        assert "2025/26" in text, number
        assert f"Page {number} of {count}" in text, number
        assert "Generated " in text, number


def test_the_contents_lists_every_section_with_its_page(built):
    _, pages = pdf_pages(built)
    contents = pages[1]
    for title in ("Money", "Economic assessment", "Patient benefit", "Adoption and spread", "Portfolio health",
                  "The process", "Awards and lessons learned"):
        match = re.search(rf"{re.escape(title)}[ .]*?(\d+)\s", contents)
        assert match, title
        page = int(match.group(1))
        assert title in pages[page - 1], (title, page)


def test_the_pdf_is_a4_tagged_with_vector_charts(built):
    reader, _ = pdf_pages(built)
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en-GB"
    assert reader.metadata.title.startswith("Test impact report")
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == A4
        # Charts are drawn as vectors: no bitmap images anywhere.
        assert list(page.images) == []


def test_the_csv_has_the_same_figures_one_per_line(built):
    with built.csv.open("rb") as handle:
        text = handle.read().decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == ["Section", "Table", "Row", "Column", "Value", "Unit"]
    assert ["Money", "Budget, committed, paid and remaining by financial year", "2025/26", "Committed", "160000.00", "GBP"] in lines
    assert ["Money", "Spend against the awards' profile by financial year", "2025/26", "Difference", "-90000.00", "GBP"] in lines
    assert ["Economic assessment", "Return on investment", "All savings realised", "Return on investment (%)", "-44.4", "percent"] in lines
    assert ["Money", "Budget, committed, paid and remaining by pot and year", "2025/26 / National pot", "Remaining", "840000.00", "GBP"] in lines
    # A title that a spreadsheet would run as a formula is written as text.
    titles = [line[4] for line in lines if line[1] == "Every award" and line[3] == "Title"]
    assert "'=HYPERLINK(\"http://evil.example\",\"Click\")" in titles


def test_the_xlsx_has_a_sheet_per_table_with_typed_cells(built):
    with built.xlsx.open("rb") as handle:
        workbook = load_workbook(io.BytesIO(handle.read()))
    assert workbook.sheetnames[0] == "About"
    about = list(workbook["About"].iter_rows(values_only=True))
    assert ("Fund", "Test Innovation Fund") in about
    sheet = workbook["Budget, committed, paid and rem"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Financial year", "Budget", "Committed", "Paid", "Remaining")
    assert rows[1] == ("2025/26", 1000000, 160000, 135000, 840000)
    assert "£" in sheet["C2"].number_format
    awards = workbook["Every award"]
    assert awards["B2"].value == "'=HYPERLINK(\"http://evil.example\",\"Click\")"
    assert awards["B2"].data_type == "s"


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+44 1234", "'+44 1234"), ("-cmd", "'-cmd"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("-90000.00", "-90000.00"), ("Trust A", "Trust A"), ("", ""),
])
def test_formula_injection_is_neutralised_but_numbers_stay_numbers(value, expected):
    assert neutralise(value) == expected


def test_an_empty_report_still_exports():
    snapshot = {"meta": {"fund": "F", "scope_label": "The whole fund", "period_label": "2026/27", "period_start": "2026-04-01",
                         "period_end": "2027-03-31", "data_cutoff": "2026-05-01T12:00:00+00:00", "title": "T"},
                "headline": [], "sections": []}
    assert report_csv(snapshot).decode("utf-8-sig").startswith("Section,Table,Row,Column,Value,Unit")


def test_a_long_detail_table_is_shortened_in_the_document_but_not_in_the_csv():
    from reporting.impact.analytics import table
    from reporting.impact.document import DETAIL_ROWS_SHOWN, table_html

    rows = [(f"A-{i:04d}", 100 * i) for i in range(DETAIL_ROWS_SHOWN + 1)]
    detail = table("t", "Detail", [("award", "Award", "text"), ("amount", "Amount", "money")], rows, detail=True)
    html = str(table_html(detail))
    assert f"A-{DETAIL_ROWS_SHOWN - 1:04d}" in html
    assert f"A-{DETAIL_ROWS_SHOWN:04d}" not in html
    assert f"The first {DETAIL_ROWS_SHOWN} of {DETAIL_ROWS_SHOWN + 1} rows" in html
    snapshot = {"meta": {"fund": "F", "scope_label": "S", "period_label": "P", "period_start": "", "period_end": "",
                         "data_cutoff": "", "title": "T"}, "headline": [],
                "sections": [{"title": "Awards", "tables": [detail]}]}
    assert f"A-{DETAIL_ROWS_SHOWN:04d}" in report_csv(snapshot).decode("utf-8-sig")
    # Every award's own line is never shortened.
    everything = table("t", "Every award", [("award", "Award", "text"), ("amount", "Amount", "money")], rows)
    assert f"A-{DETAIL_ROWS_SHOWN:04d}" in str(table_html(everything))


# Pages carry their weight: no forced break leaves a page almost empty ---------------------------

RUNNING_TEXT = re.compile(r"Page \d+ of \d+|Generated .*|Test Innovation Fund|2025/26")


def test_no_page_but_the_last_is_almost_empty(built):
    """Sections follow on rather than each forcing a new page, so no page (the cover and contents
    apart, which end with a break of their own) holds only a few lines before a break."""
    _, pages = pdf_pages(built)
    body = [len(RUNNING_TEXT.sub("", text).strip()) for text in pages]
    print("characters per page:", body)
    for number, length in enumerate(body[2:-1], start=3):
        assert length >= 400, f"page {number} of {len(pages)} holds only {length} characters"
