"""The report as a document: the snapshot laid out as HTML (for the preview page and the PDF)
and the PDF itself, rendered by WeasyPrint.

Tables are written here rather than in template loops: a fund with 10,000 awards has tables of
10,000 rows, and building escaped HTML directly keeps that step a small fraction of the PDF's.
Every value is escaped with Django's ``escape``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from governance.money import format_money

from .charts import chart_alt, svg_data_uri

STYLESHEET = Path(__file__).with_name("report.css")
# WeasyPrint logs every layout step at INFO; a worker's log wants only its warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
NUMERIC_KINDS = {"money", "int", "percent", "number", "score"}
# Detail tables (a row per award and measure...) show this many rows in the PDF and the preview;
# the CSV and XLSX always have them all. Every award's own line is always shown.
DETAIL_ROWS_SHOWN = 300
EMPTY = "—"


def format_value(value, kind: str) -> str:
    """A snapshot value as people read it: £1,234.50, 1,234, 12.5%, 1,200 (a measure)."""
    if value is None or value == "":
        return EMPTY if kind in NUMERIC_KINDS else ""
    if kind == "money":
        return format_money(Decimal(value))
    if kind == "int":
        return f"{int(value):,}"
    if kind == "percent":
        return f"{float(value):,.1f}%"
    if kind == "score":
        return f"{float(value):.1f}"
    if kind == "number":
        number = Decimal(value)
        return f"{number:,.2f}".rstrip("0").rstrip(".") if number != number.to_integral_value() else f"{number:,.0f}"
    return str(value)


def table_html(data: dict, heading_level: int = 3) -> SafeString:
    columns = data["columns"]
    kinds = [column["kind"] for column in columns]
    numeric = [kind in NUMERIC_KINDS for kind in kinds]
    head_cells = "".join(
        f'<th class="nhsuk-table__header{" app-table__cell--numeric" if n else ""}" scope="col">{escape(c["label"])}</th>'
        for c, n in zip(columns, numeric, strict=True)
    )

    def row_html(values, total: bool = False) -> str:
        cells = []
        for index, (value, kind, is_number) in enumerate(zip(values, kinds, numeric, strict=True)):
            text = escape(format_value(value, kind))
            if index == 0:
                cells.append(f'<th class="nhsuk-table__header" scope="row">{text}</th>')
            else:
                cls = "nhsuk-table__cell app-table__cell--numeric" if is_number else "nhsuk-table__cell"
                cells.append(f'<td class="{cls}">{text}</td>')
        css = "nhsuk-table__row app-table__row--total" if total else "nhsuk-table__row"
        return f'<tr class="{css}">{"".join(cells)}</tr>'

    rows = data["rows"]
    shortened = data.get("detail") and len(rows) > DETAIL_ROWS_SHOWN
    body = "".join(row_html(values) for values in (rows[:DETAIL_ROWS_SHOWN] if shortened else rows))
    if shortened:
        body += (f'<tr class="nhsuk-table__row"><td class="nhsuk-table__cell" colspan="{len(columns)}">'
                 f"The first {DETAIL_ROWS_SHOWN:,} of {len(rows):,} rows: every row is in the CSV and spreadsheet "
                 "downloads.</td></tr>")
    if not rows:
        body = (f'<tr class="nhsuk-table__row"><td class="nhsuk-table__cell" colspan="{len(columns)}">'
                "Nothing to show for this period.</td></tr>")
    foot = f'<tfoot class="nhsuk-table__body">{row_html(data["total"], total=True)}</tfoot>' if data.get("total") else ""
    html = (
        f'<table class="nhsuk-table app-report-table" id="table-{escape(data["key"])}">'
        f'<caption class="nhsuk-table__caption nhsuk-table__caption--s">{escape(data["title"])}</caption>'
        f'<thead class="nhsuk-table__head"><tr class="nhsuk-table__row">{head_cells}</tr></thead>'
        f'<tbody class="nhsuk-table__body">{body}</tbody>{foot}</table>'
    )
    return mark_safe(html)  # noqa: S308 - every value above is escaped


@dataclass
class Block:
    """A table, with the chart drawn from it when there is one."""

    table: SafeString
    title: str
    note: str
    chart_title: str = ""
    chart_src: str = ""
    chart_alt: str = ""


def document_sections(snapshot: dict, charts: dict[str, str]) -> list[dict]:
    sections = []
    for part in snapshot["sections"]:
        by_table = {spec["table"]: spec for spec in part["charts"]}
        blocks = []
        for data in part["tables"]:
            spec = by_table.get(data["key"])
            block = Block(table=table_html(data), title=data["title"], note=data.get("note", ""))
            if spec and spec["key"] in charts:
                block.chart_title = spec["title"]
                block.chart_src = svg_data_uri(charts[spec["key"]])
                block.chart_alt = chart_alt(spec)
            blocks.append(block)
        # Notes that repeat a paragraph of the section are left out of the table.
        for block in blocks:
            if block.note in part["paragraphs"]:
                block.note = ""
        sections.append({"key": part["key"], "title": part["title"], "paragraphs": part["paragraphs"], "blocks": blocks})
    return sections


def headline_items(snapshot: dict) -> list[tuple[str, str]]:
    return [(item["label"], format_value(item["value"], item["kind"])) for item in snapshot["headline"]]


def document_context(snapshot: dict, charts: dict[str, str], *, generated_at: dt.datetime, version_number: int | None) -> dict:
    meta = snapshot["meta"]
    return {
        "meta": meta,
        "headline": headline_items(snapshot),
        "sections": document_sections(snapshot, charts),
        "generated_at": timezone.localtime(generated_at),
        "data_cutoff": timezone.localtime(dt.datetime.fromisoformat(meta["data_cutoff"])),
        "version_number": version_number,
        "period_start": dt.date.fromisoformat(meta["period_start"]),
        "period_end": dt.date.fromisoformat(meta["period_end"]),
        "portal_name": settings.PORTAL_NAME,
    }


def render_document_html(snapshot: dict, charts: dict[str, str], *, generated_at: dt.datetime,
                         version_number: int | None = None) -> str:
    """The standalone HTML that WeasyPrint turns into the PDF."""
    context = document_context(snapshot, charts, generated_at=generated_at, version_number=version_number)
    return render_to_string("reporting/reports/document.html", context)


# The PDF ----------------------------------------------------------------------------------------

PDF_OPTIONS = {"pdf_variant": "pdf/ua-1", "pdf_tags": True}


def render_pdf(html: str) -> bytes:
    """The PDF of a report's HTML: A4, tagged for accessibility (PDF/UA-1 as far as WeasyPrint goes)."""
    from weasyprint import CSS, HTML

    stylesheet = CSS(filename=str(STYLESHEET))
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(stylesheets=[stylesheet], **PDF_OPTIONS)
