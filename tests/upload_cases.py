"""One table of files that every kind of upload is tested against (bid attachments, condition
evidence): what each file is, what it is called when uploaded, and what the portal must do with
it. Every upload uses the same pipeline (governance/uploads.py), so every upload refuses the
same files with the same message next to the file field.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from governance import uploads

WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXCEL_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
WORD_MACRO_MAIN = "application/vnd.ms-word.document.macroEnabled.main+xml"

# The EICAR test file: every virus scanner reports it, and it does no harm. Kept out of the
# source as one literal so nothing scanning this repository flags it.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def package(main_part: str | None = None, *, mimetype: str | None = None, extra: dict | None = None,
            compression: int = zipfile.ZIP_STORED) -> bytes:
    """A minimal Office Open XML or OpenDocument package."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        if mimetype is not None:
            archive.writestr("mimetype", mimetype)
            archive.writestr("content.xml", "<office:document-content/>")
        if main_part is not None:
            archive.writestr("[Content_Types].xml", (
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/main.xml" ContentType="{main_part}"/></Types>'))
            archive.writestr("main.xml", "<document/>")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120 + b"This program cannot be run in DOS mode."
DOCX = package(WORD_MAIN)
XLSX = package(EXCEL_MAIN)
ODT = package(mimetype=uploads.ODT.content_type)
# Macro-enabled Word content (a docm, with its VBA project), named .docx when uploaded.
DOCM = package(WORD_MACRO_MAIN, extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 60})
# A "docx" that declares itself a plain document but carries a VBA project all the same.
DOCX_WITH_VBA = package(WORD_MAIN, extra={"word/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\x00" * 60})
# A PDF header on an HTML page with a script: a browser would run it if it were served as HTML.
HTML_AS_PDF = b"%PDF-1.4\n<html><body><script>alert(document.cookie)</script></body></html>\n%%EOF\n"
PDF_WITH_JAVASCRIPT = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> "
                       b"endobj\ntrailer <<>>\n%%EOF\n")
PLAIN_ZIP = package(extra={"payload.exe": EXE})
# A document holding another archive (which may hold another, and so on).
NESTED_ARCHIVE = package(WORD_MAIN, extra={"word/embeddings/more.zip": package(extra={"inner.zip": PLAIN_ZIP})})
# A document holding a renamed zip (the name says XML, the content is an archive).
RENAMED_NESTED_ARCHIVE = package(WORD_MAIN, extra={"word/media/image1.xml": PLAIN_ZIP})
# A chart's data kept as a workbook inside a Word document: a real document does this.
DOCX_WITH_CHART_WORKBOOK = package(WORD_MAIN, extra={"word/embeddings/Microsoft_Excel_Worksheet.xlsx": XLSX})
# An embedded macro-enabled workbook is as bad as macros in the document itself.
DOCX_WITH_MACRO_WORKBOOK = package(WORD_MAIN, extra={"word/embeddings/Microsoft_Excel_Worksheet.xlsm": XLSX})


def _zip_bomb() -> bytes:
    """A 'docx' whose 12KB unpack to 30MB of nothing (a real bomb goes on to petabytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", f'<Types><Override PartName="/main.xml" ContentType="{WORD_MAIN}"/></Types>')
        archive.writestr("main.xml", b"\x00" * (30 * 1024 * 1024))
    return buffer.getvalue()


ZIP_BOMB = _zip_bomb()
assert len(ZIP_BOMB) < 100_000  # the point: tiny packed, huge unpacked
OVERSIZED = PDF[:-6] + b"0" * (10 * 1024 * 1024) + b"%%EOF\n"
EICAR_IN_PDF = PDF[:-6] + EICAR + b"\n%%EOF\n"


@dataclass(frozen=True)
class Case:
    id: str
    name: str  # as uploaded
    content: bytes
    refused: str | None  # the message next to the file field; None when the file is accepted
    kind: uploads.FileType | None = None  # what an accepted file is (its stored and served type)
    download_name: str = ""  # what an accepted file is downloaded as

    def upload(self, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
        return SimpleUploadedFile(self.name, self.content, content_type=content_type)


CASES = [
    Case("good-pdf", "Evaluation report.pdf", PDF, None, uploads.PDF, "Evaluation report.pdf"),
    Case("good-docx", "letter of support.docx", DOCX, None, uploads.DOCX, "letter of support.docx"),
    Case("good-xlsx", "budget.xlsx", XLSX, None, uploads.XLSX, "budget.xlsx"),
    Case("good-odt", "plan.odt", ODT, None, uploads.ODT, "plan.odt"),
    Case("docx-with-chart-workbook", "chart.docx", DOCX_WITH_CHART_WORKBOOK, None, uploads.DOCX, "chart.docx"),
    # The content decides the type, the stored and the served extension, never the name.
    Case("docx-named-exe", "report.exe", DOCX, None, uploads.DOCX, "report.docx"),
    Case("pdf-named-html", "invoice.html", PDF, None, uploads.PDF, "invoice.pdf"),
    Case("docm-as-docx", "report.docx", DOCM, uploads.FILE_HAS_MACROS),
    Case("docx-with-vba-project", "report.docx", DOCX_WITH_VBA, uploads.FILE_HAS_MACROS),
    Case("docx-with-macro-workbook", "chart.docx", DOCX_WITH_MACRO_WORKBOOK, uploads.FILE_HAS_MACROS),
    Case("exe-as-pdf", "report.pdf", EXE, uploads.FILE_TYPE_NOT_ALLOWED),
    Case("exe", "setup.exe", EXE, uploads.FILE_TYPE_NOT_ALLOWED),
    Case("html-as-pdf", "invoice.html", HTML_AS_PDF, uploads.FILE_TYPE_NOT_ALLOWED),
    Case("html-as-pdf-named-pdf", "invoice.pdf", HTML_AS_PDF, uploads.FILE_TYPE_NOT_ALLOWED),
    Case("pdf-with-javascript", "form.pdf", PDF_WITH_JAVASCRIPT, uploads.FILE_ACTIVE_CONTENT),
    Case("plain-zip", "budget.xlsx", PLAIN_ZIP, uploads.FILE_TYPE_NOT_ALLOWED),
    Case("nested-archive", "report.docx", NESTED_ARCHIVE, uploads.FILE_ARCHIVE_UNSAFE),
    Case("renamed-nested-archive", "report.docx", RENAMED_NESTED_ARCHIVE, uploads.FILE_ARCHIVE_UNSAFE),
    Case("zip-bomb", "report.docx", ZIP_BOMB, uploads.FILE_ARCHIVE_UNSAFE),
    Case("oversized", "big.pdf", OVERSIZED, uploads.FILE_TOO_LARGE),
    Case("empty", "empty.pdf", b"", uploads.FILE_EMPTY),
    Case("eicar", "eicar.com", EICAR, uploads.FILE_TYPE_NOT_ALLOWED),
    # EICAR inside a file that passes every content check: only the virus scanner stops it
    # (tests marked requires_clamd); without a scanner it is accepted like any PDF.
    Case("eicar-in-pdf", "minutes.pdf", EICAR_IN_PDF, None, uploads.PDF, "minutes.pdf"),
]
REFUSED = [case for case in CASES if case.refused]
ACCEPTED = [case for case in CASES if not case.refused]


def ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


def error_next_to_file(response, field_id: str = "id_file") -> str:
    """The NHS.UK error message shown next to the file field (fails if there is none)."""
    body = response.content.decode().replace('<span class="nhsuk-u-visually-hidden">Error: </span>', "")
    match = re.search(rf'id="{field_id}-error">(.*?)</span>', body, re.S)
    assert match, f"no error shown next to {field_id}"
    return html.unescape(" ".join(match.group(1).split()))
