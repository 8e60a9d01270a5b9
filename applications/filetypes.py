"""What an uploaded file really is, read from its content rather than its name.

PDF, PNG and JPEG are recognised by their first bytes. DOCX, XLSX and ODT are zip files:
they are recognised by the zip's ``[Content_Types].xml`` (Office Open XML) or its
``mimetype`` entry (OpenDocument), read without extracting anything else. Anything else
(an executable renamed ``report.pdf``, a macro-enabled document, a zip of other files) is
refused.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extension: str


PDF = FileType("PDF", "application/pdf", "pdf")
PNG = FileType("PNG", "image/png", "png")
JPEG = FileType("JPEG", "image/jpeg", "jpg")
DOCX = FileType("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = FileType("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
ODT = FileType("ODT", "application/vnd.oasis.opendocument.text", "odt")
ALLOWED = (PDF, DOCX, XLSX, ODT, PNG, JPEG)
ALLOWED_LABELS = "PDF, DOCX, XLSX, ODT, PNG or JPEG"

# The main part's content type in [Content_Types].xml for each Office Open XML format.
_OOXML_MAIN_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
_CONTENT_TYPE_RE = re.compile(rb'ContentType\s*=\s*"([^"]+)"')
# A part listing is small; a larger one is not a document we accept.
_MAX_MANIFEST_BYTES = 1_000_000


def _zip_type(stream: BinaryIO) -> FileType | None:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size > 200:
                    return None
                if archive.read("mimetype").strip() == ODT.content_type.encode():
                    return ODT
                return None
            if "[Content_Types].xml" in names:
                info = archive.getinfo("[Content_Types].xml")
                if info.file_size > _MAX_MANIFEST_BYTES:
                    return None
                declared = set(_CONTENT_TYPE_RE.findall(archive.read("[Content_Types].xml")))
                # A macro-enabled document declares a different main part, so it is not matched.
                matches = {kind for part, kind in _OOXML_MAIN_PARTS.items() if part.encode() in declared}
                if len(matches) == 1:
                    return matches.pop()
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError, EOFError):
        return None
    return None


def detect(stream: BinaryIO) -> FileType | None:
    """The file's type, or None if it is not one we accept. Leaves the stream at its start."""
    stream.seek(0)
    head = stream.read(16)
    stream.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return PDF
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return PNG
        if head.startswith(b"\xff\xd8\xff"):
            return JPEG
        if head.startswith(b"PK\x03\x04"):
            return _zip_type(stream)
        return None
    finally:
        stream.seek(0)


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9 ._()-]+")


def safe_download_name(original_name: str, file_type: FileType | None) -> str:
    """A plain file name for the download, ending in the extension of what the file is."""
    stem = original_name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = _UNSAFE_NAME.sub("-", stem).strip(" .-")[:80] or "attachment"
    extension = file_type.extension if file_type else "bin"
    return f"{stem}.{extension}"


def by_content_type(content_type: str) -> FileType | None:
    return next((kind for kind in ALLOWED if kind.content_type == content_type), None)
