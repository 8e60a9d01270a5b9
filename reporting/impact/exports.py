"""The report's figures as CSV and XLSX, from the same snapshot as the PDF.

- CSV: one figure per line (Section, Table, Row, Column, Value, Unit), so it loads straight
  into a spreadsheet's pivot table or pandas; money in pounds with pence ("1234.56").
- XLSX: an "About" sheet (fund, scope, period, cut-off and the list of sheets), then one sheet
  per table with typed cells: money as numbers formatted in pounds, counts as whole numbers.

Text that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) is written with a leading apostrophe. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from governance.exports import safe_cell

UNITS = {"money": "GBP", "int": "count", "percent": "percent", "score": "score out of 100", "number": "", "text": ""}
MONEY_FORMAT = '"£"#,##0.00;-"£"#,##0.00'
SHEET_NAME_LIMIT = 31


def neutralise(value: str) -> str:
    """Text that a spreadsheet would treat as a formula gets a leading apostrophe."""
    return safe_cell(value)


def _cell_text(value) -> str:
    if value is None:
        return ""
    return neutralise(str(value))


def _row_key(data: dict, values: list) -> tuple[str, int]:
    """A row's name: its key columns joined (a year and a pot: "2025/26 / National pot")."""
    count = data.get("keys", 1)
    return " / ".join(str(v) for v in values[:count] if v not in (None, "")), count


def report_csv(snapshot: dict) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["Section", "Table", "Row", "Column", "Value", "Unit"])
    meta = snapshot["meta"]
    for label, value in (("Fund", meta["fund"]), ("Covers", meta["scope_label"]), ("Period", meta["period_label"]),
                         ("Period start", meta["period_start"]), ("Period end", meta["period_end"]),
                         ("Data cut-off", meta["data_cutoff"]), ("Title", meta["title"])):
        writer.writerow(["About this report", "Report", _cell_text(label), "", _cell_text(value), ""])
    for item in snapshot["headline"]:
        writer.writerow(["Headline figures", "Headline figures", _cell_text(item["label"]), "",
                         "" if item["value"] is None else item["value"], UNITS[item["kind"]]])
    for part in snapshot["sections"]:
        for data in part["tables"]:
            columns = data["columns"]
            rows = list(data["rows"]) + ([data["total"]] if data.get("total") else [])
            for values in rows:
                key, skip = _row_key(data, values)
                for column, value in zip(columns[skip:], values[skip:], strict=True):
                    if column["kind"] == "text":
                        value = _cell_text(value)
                    elif value is None:
                        value = ""
                    writer.writerow([_cell_text(part["title"]), _cell_text(data["title"]), _cell_text(key),
                                     _cell_text(column["label"]), value, UNITS[column["kind"]]])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8 (£, –)


def _sheet_names(snapshot: dict) -> dict[str, str]:
    names: dict[str, str] = {}
    used = {"About"}
    for part in snapshot["sections"]:
        for data in part["tables"]:
            base = re.sub(r"[\[\]\*\?/\\:']", "", data["title"])[:SHEET_NAME_LIMIT].strip()
            name, n = base, 2
            while name.lower() in {u.lower() for u in used}:
                suffix = f" ({n})"
                name = base[: SHEET_NAME_LIMIT - len(suffix)] + suffix
                n += 1
            used.add(name)
            names[data["key"]] = name
    return names


def report_xlsx(snapshot: dict) -> bytes:
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    names = _sheet_names(snapshot)

    def header(sheet, labels):
        cells = []
        for label in labels:
            cell = WriteOnlyCell(sheet, value=_cell_text(label))
            cell.font = bold
            cells.append(cell)
        sheet.append(cells)

    about = workbook.create_sheet("About")
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 70
    meta = snapshot["meta"]
    header(about, [meta["title"]])
    for label, value in (("Fund", meta["fund"]), ("Covers", meta["scope_label"]), ("Period", meta["period_label"]),
                         ("Data cut-off", meta["data_cutoff"])):
        about.append([label, _cell_text(value)])
    about.append([])
    header(about, ["Headline figure", "Value"])
    for item in snapshot["headline"]:
        about.append([_cell_text(item["label"]), _typed(about, item["value"], item["kind"])])
    about.append([])
    header(about, ["Sheet", "Section"])
    for part in snapshot["sections"]:
        for data in part["tables"]:
            about.append([names[data["key"]], _cell_text(part["title"])])

    for part in snapshot["sections"]:
        for data in part["tables"]:
            sheet = workbook.create_sheet(names[data["key"]])
            sheet.freeze_panes = "A2"
            for index, column in enumerate(data["columns"]):
                letter = chr(ord("A") + index) if index < 26 else "Z"
                sheet.column_dimensions[letter].width = 40 if column["kind"] == "text" else 18
            header(sheet, [column["label"] for column in data["columns"]])
            kinds = [column["kind"] for column in data["columns"]]
            rows = list(data["rows"]) + ([data["total"]] if data.get("total") else [])
            for values in rows:
                sheet.append([_typed(sheet, value, kind) for value, kind in zip(values, kinds, strict=True)])
            if data.get("note"):
                sheet.append([])
                sheet.append([_cell_text(data["note"])])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _typed(sheet, value, kind: str):
    if value is None or value == "":
        return None
    if kind == "money":
        cell = WriteOnlyCell(sheet, value=Decimal(value))  # type: ignore[arg-type]  # openpyxl writes Decimal as a number; its stubs list float only
        cell.number_format = MONEY_FORMAT
        return cell
    if kind == "number":
        return Decimal(value)
    if kind == "int":
        return int(value)
    if kind in ("percent", "score"):
        return float(value)
    return _cell_text(value)
