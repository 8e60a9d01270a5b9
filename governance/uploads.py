"""One pipeline for every file a person uploads: bid attachments, condition evidence, and any
file added later.

- **What a file is** is read from its content, never from its name or the browser's content
  type. PDF, PNG and JPEG by their first bytes (a PDF must also end like one and carry no HTML
  or scripts); DOCX, XLSX, ODT and ODS are zip packages, recognised by their
  ``[Content_Types].xml`` or ``mimetype`` entry.
- **Macros and archives**: a package carrying macros or ActiveX (``vbaProject.bin``, a
  macro-enabled main part, an embedded ``.xlsm``) is refused whatever it is called; so is a
  package that is encrypted, has too many entries, unpacks to too much (a zip bomb), or holds
  another archive. Office packages embedded in a document (a chart's workbook) are checked the
  same way, one level deep.
- **Size** is enforced while the request streams in (``limit_upload_size`` installs an upload
  handler that stops taking the file at the limit) and again while the service reads it.
- **Names**: a file is stored under a name of the portal's own with the extension of what it
  is, and downloaded under a cleaned version of the uploader's name with that same extension.
- **Downloads** of private files all get the same headers (``private_file_response``).
- **Malware**: with ``CLAMD_ADDRESS`` set, a new file is "awaiting scan" until a Celery task
  has clamd scan it, then "available" or "quarantined"; only available files are served.
"""

from __future__ import annotations

import hashlib
import io
import logging
import posixpath
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, BinaryIO

import clamd
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import models, transaction
from django.http import FileResponse, Http404
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from .status_tags import status_tags

logger = logging.getLogger(__name__)

# Types ---------------------------------------------------------------------------------------


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
ODS = FileType("ODS", "application/vnd.oasis.opendocument.spreadsheet", "ods")
KNOWN = (PDF, DOCX, XLSX, ODT, ODS, PNG, JPEG)
# The documents a person may send us, for every use so far.
DOCUMENTS = (PDF, DOCX, XLSX, ODT, ODS, PNG, JPEG)


def labels(kinds: tuple[FileType, ...]) -> str:
    names = [kind.label for kind in kinds]
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]


# Messages (shown next to the file field) ---------------------------------------------------------

FILE_NEEDED = "Select a file to upload"
FILE_EMPTY = "The selected file is empty"
FILE_TOO_LARGE = "The selected file must be smaller than 10MB"
FILE_TYPE_NOT_ALLOWED = f"The selected file must be a {labels(DOCUMENTS)}"
FILE_HAS_MACROS = ("The selected file contains macros or other code that runs when it is opened: "
                   "save it as a plain document (for example .docx or .xlsx) and upload that")
FILE_ARCHIVE_UNSAFE = ("The selected file holds other archives, is encrypted or unpacks to far more than its "
                       "size: upload each document on its own, without a password")
FILE_ACTIVE_CONTENT = ("The selected PDF contains scripts or actions that run when it is opened: "
                       "print or save it again as a plain PDF and upload that")
FILE_AWAITING_SCAN = "This file is being checked for viruses. Try again in a minute."
FILE_QUARANTINED = ("A virus was found in this file, so it cannot be opened. "
                    "Remove it and upload a clean copy.")

_MESSAGES = {
    "required": FILE_NEEDED, "empty": FILE_EMPTY, "too_large": FILE_TOO_LARGE, "type": FILE_TYPE_NOT_ALLOWED,
    "macros": FILE_HAS_MACROS, "archive": FILE_ARCHIVE_UNSAFE, "active": FILE_ACTIVE_CONTENT,
}


@dataclass(frozen=True)
class UploadPolicy:
    """What one use accepts: which types, and how big."""

    use: str
    allowed: tuple[FileType, ...] = DOCUMENTS
    max_bytes: int | None = None  # None: settings.MAX_UPLOAD_BYTES

    @property
    def limit(self) -> int:
        return self.max_bytes if self.max_bytes is not None else settings.MAX_UPLOAD_BYTES

    @property
    def type_message(self) -> str:
        return f"The selected file must be a {labels(self.allowed)}"

    @property
    def accept(self) -> str:
        """For the file input's ``accept`` attribute (a hint only; the content decides)."""
        extensions = {f".{kind.extension}" for kind in self.allowed} | ({".jpeg"} if JPEG in self.allowed else set())
        return ",".join(sorted(extensions))

    @property
    def hint(self) -> str:
        return f"{labels(self.allowed)}, smaller than {self.limit // (1024 * 1024)}MB."


BID_ATTACHMENT = UploadPolicy("bid attachment")
CONDITION_EVIDENCE = UploadPolicy("condition evidence")


class Refused(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


# Detection -----------------------------------------------------------------------------------

# A PDF has no business holding HTML. Browsers sniff the start of a file, so the start is read
# for any tag; the rest only for tags long enough never to turn up by chance in compressed data.
_HTML_AT_START = re.compile(rb"<(?:!doctype|html|head|body|script|iframe|object|embed|svg|meta)\b", re.I)
_HTML_ANYWHERE = re.compile(rb"<(?:!doctype\s+html|html\b|script\b|iframe\b)", re.I)
# PDF actions that run on opening. Best effort (object streams are compressed): clamd looks too.
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|Launch|RichMedia)\b")
_CHUNK = 64 * 1024


def _scan_stream(stream: BinaryIO, pattern: re.Pattern, overlap: int = 32) -> bool:
    stream.seek(0)
    tail = b""
    while chunk := stream.read(_CHUNK):
        if pattern.search(tail + chunk):
            return True
        tail = chunk[-overlap:]
    return False


def _check_pdf(stream: BinaryIO, size: int) -> FileType:
    stream.seek(0)
    head = stream.read(1024)
    if not re.match(rb"%PDF-[12]\.\d", head):
        raise Refused("type")
    stream.seek(max(0, size - 1024))
    if b"%%EOF" not in stream.read():
        raise Refused("type")
    # A PDF header on an HTML page ("invoice.html") is not a PDF.
    if _HTML_AT_START.search(head) or _scan_stream(stream, _HTML_ANYWHERE):
        raise Refused("type")
    if _scan_stream(stream, _PDF_ACTIVE):
        raise Refused("active")
    return PDF


# Packages (zip files): limits that a real document never reaches.
MAX_ENTRIES = 2000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_RATIO = 200  # unpacked / packed, for entries over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
_MACRO_NAMES = {"vbaproject.bin", "vbadata.xml", "vbaprojectsignature.bin"}
_MACRO_EXTENSIONS = (".docm", ".dotm", ".xlsm", ".xltm", ".xlam", ".xlsb", ".pptm", ".potm", ".ppsm", ".ppam")
_ARCHIVE_EXTENSIONS = (".zip", ".jar", ".rar", ".7z", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".cab", ".iso", ".arj", ".lzh")
# Office packages that documents embed (a chart keeps its data in a workbook), checked in turn.
_EMBEDDABLE_PACKAGES = (".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp")
_OOXML_MAIN_PARTS = {
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": DOCX,
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": XLSX,
}
_ODF_TYPES = {ODT.content_type.encode(): ODT, ODS.content_type.encode(): ODS}
_CONTENT_TYPE_RE = re.compile(rb'ContentType\s*=\s*"([^"]+)"')
_MAX_MANIFEST_BYTES = 1_000_000


def _check_package(stream: BinaryIO, *, depth: int = 0) -> FileType | None:
    """The package's type (None for a package that is not a document we know); Refused if it
    carries macros or is not safe to open."""
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ENTRIES or sum(info.file_size for info in infos) > MAX_UNPACKED_BYTES:
                raise Refused("archive")
            for info in infos:
                name = info.filename.replace("\\", "/")
                lowered = name.lower()
                if info.flag_bits & 0x1 or name.startswith("/") or ".." in name.split("/"):
                    raise Refused("archive")
                if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                    raise Refused("archive")
                if posixpath.basename(lowered) in _MACRO_NAMES or "/activex/" in f"/{lowered}" \
                        or lowered.endswith(_MACRO_EXTENSIONS):
                    raise Refused("macros")
                if lowered.endswith(_ARCHIVE_EXTENSIONS):
                    raise Refused("archive")
                if info.is_dir() or info.file_size < 4:
                    continue
                with archive.open(info) as member:
                    starts_zip = member.read(4) == b"PK\x03\x04"
                if starts_zip:
                    if depth > 0 or not lowered.endswith(_EMBEDDABLE_PACKAGES):
                        raise Refused("archive")
                    with archive.open(info) as member:
                        _check_package(io.BytesIO(member.read(MAX_UNPACKED_BYTES + 1)), depth=depth + 1)
            names = {info.filename for info in infos}
            if "mimetype" in names:
                if archive.getinfo("mimetype").file_size > 200:
                    return None
                return _ODF_TYPES.get(archive.read("mimetype").strip())
            if "[Content_Types].xml" in names:
                if archive.getinfo("[Content_Types].xml").file_size > _MAX_MANIFEST_BYTES:
                    raise Refused("archive")
                declared = set(_CONTENT_TYPE_RE.findall(archive.read("[Content_Types].xml")))
                if any(b"macroenabled" in part.lower() or b"vbaproject" in part.lower() for part in declared):
                    raise Refused("macros")
                matches = {kind for part, kind in _OOXML_MAIN_PARTS.items() if part in declared}
                if len(matches) == 1:
                    return matches.pop()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, RuntimeError, NotImplementedError,
            EOFError, ValueError):
        raise Refused("type") from None
    return None


def inspect(stream: BinaryIO, size: int | None = None) -> FileType:
    """What the file is, from its content; ``Refused`` with a reason code when we do not take it.
    Leaves the stream at its start."""
    if size is None:
        stream.seek(0, 2)
        size = stream.tell()
    stream.seek(0)
    head = stream.read(16)
    try:
        if head.startswith(b"%PDF-"):
            return _check_pdf(stream, size)
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return PNG
        if head.startswith(b"\xff\xd8\xff"):
            return JPEG
        if head.startswith(b"PK\x03\x04"):
            stream.seek(0)
            kind = _check_package(stream)
            if kind is None:
                raise Refused("type")
            return kind
        raise Refused("type")
    finally:
        stream.seek(0)


def detect(stream: BinaryIO) -> FileType | None:
    """The file's type, or None if it is not one we take. Leaves the stream at its start."""
    try:
        return inspect(stream)
    except Refused:
        return None


def by_content_type(content_type: str) -> FileType | None:
    return next((kind for kind in KNOWN if kind.content_type == content_type), None)


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9 ._()-]+")


def clean_original_name(name: str | None, default: str = "attachment") -> str:
    """The uploader's file name without any folders, for display and the audit trail."""
    return (name or "").replace("\\", "/").rsplit("/", 1)[-1][:200] or default


def safe_download_name(original_name: str, file_type: FileType | None, default: str = "attachment") -> str:
    """A plain file name for the download, ending in the extension of what the file is."""
    stem = clean_original_name(original_name, default)
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = _UNSAFE_NAME.sub("-", stem).strip(" .-")[:80] or default
    extension = file_type.extension if file_type else "bin"
    return f"{stem}.{extension}"


def stored_extension(filename: str) -> str:
    """For ``upload_to``: the extension the service chose from the content (never the uploader's)."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return f".{extension}" if extension in {kind.extension for kind in KNOWN} else ""


# Checking an upload --------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedUpload:
    file_type: FileType
    size: int
    sha256: str
    original_name: str
    upload: File[Any] = field(compare=False, repr=False)  # the file that was checked

    @property
    def storage_name(self) -> str:
        return f"upload.{self.file_type.extension}"

    @property
    def download_name(self) -> str:
        return safe_download_name(self.original_name, self.file_type)


def _refusal(code: str, policy: UploadPolicy, field: str) -> ValidationError:
    message = policy.type_message if code == "type" else _MESSAGES[code]
    return ValidationError({field: ValidationError(message, code=code)})


def check(upload, *, policy: UploadPolicy, field: str = "file") -> CheckedUpload:
    """The upload's real type, size and hash, or a ValidationError on ``field`` saying why not.

    The file is read chunk by chunk and reading stops as soon as it passes the limit, whatever
    its declared size.
    """
    if upload is None:
        raise _refusal("required", policy, field)
    declared = getattr(upload, "size", None)
    if declared is not None and declared > policy.limit:
        raise _refusal("too_large", policy, field)
    digest, size = hashlib.sha256(), 0
    upload.seek(0)
    for chunk in upload.chunks():
        size += len(chunk)
        if size > policy.limit:
            raise _refusal("too_large", policy, field)
        digest.update(chunk)
    upload.seek(0)
    if size == 0:
        raise _refusal("empty", policy, field)
    try:
        kind = inspect(upload, size)
    except Refused as refused:
        raise _refusal(refused.code, policy, field) from None
    if kind not in policy.allowed:
        raise _refusal("type", policy, field)
    return CheckedUpload(kind, size, digest.hexdigest(), clean_original_name(getattr(upload, "name", "")), upload)


# Size while streaming ------------------------------------------------------------------------


class SizeLimitedUploadHandler(FileUploadHandler):
    """Stops taking a file once it passes the limit, so an oversized upload never reaches the
    disk or memory; the view then says the file is too large."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.too_large: set[str] = set()

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.too_large.add(self.field_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def limit_upload_size(policy: UploadPolicy) -> Callable:
    """Decorate a view that takes uploads: the limit is in place before anything reads the body
    (including the CSRF check, which is why CSRF protection is applied inside)."""

    def decorator(view):
        protected = csrf_protect(view)

        @csrf_exempt
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            handler = SizeLimitedUploadHandler(request, policy.limit)
            request.upload_handlers.insert(0, handler)
            request.upload_limit_handler = handler
            return protected(request, *args, **kwargs)

        return wrapped

    return decorator


def too_large_fields(request) -> set[str]:
    """The file fields whose upload was stopped at the limit."""
    handler = getattr(request, "upload_limit_handler", None)
    if handler is None or request.method != "POST":
        return set()
    request.FILES  # noqa: B018  (parse the body so the handler has seen it)
    return set(handler.too_large)


# Malware scanning ----------------------------------------------------------------------------


class ScanStatus(models.TextChoices):
    AWAITING = "awaiting_scan", "Awaiting virus scan"
    AVAILABLE = "available", "Available"
    QUARANTINED = "quarantined", "Quarantined: a virus was found"


status_tags("scan", ScanStatus, colours={ScanStatus.AWAITING: "grey", ScanStatus.AVAILABLE: "green", ScanStatus.QUARANTINED: "red"})


class ScanFailed(Exception):
    """clamd answered with an error (not "clean", not "found")."""


# What makes a scan worth trying again later: clamd unreachable, slow, or answering an error.
SCAN_ERRORS = (clamd.ClamdError, ScanFailed, OSError)


def scan_in_task(task, scan: Callable[[], str | None], *, what: str) -> str | None:
    """Run a scan service inside a bound Celery task. If clamd cannot scan now, the file stays
    awaiting its scan: a queued task tries again later with backoff (and the beat sweeps up
    whatever is left); a task run in-process (no broker) gives up quietly rather than turn the
    upload that started it into an error page."""
    try:
        return scan()
    except SCAN_ERRORS as exc:
        if task.request.is_eager:
            logger.warning("%s stays awaiting its virus scan: %s", what, exc)
            return None
        raise task.retry(exc=exc, countdown=min(15 * 2 ** task.request.retries, 900)) from exc


def scanning_enabled() -> bool:
    return bool(getattr(settings, "CLAMD_ADDRESS", ""))


def initial_scan_status() -> str:
    return ScanStatus.AWAITING if scanning_enabled() else ScanStatus.AVAILABLE


def scanner():
    """A clamd client for ``CLAMD_ADDRESS``: a unix socket path, or host:port."""
    address = settings.CLAMD_ADDRESS
    timeout = getattr(settings, "CLAMD_TIMEOUT", 120)
    for prefix in ("unix://", "tcp://"):
        address = address.removeprefix(prefix)
    if address.startswith("/"):
        return clamd.ClamdUnixSocket(path=address, timeout=timeout)
    host, _, port = address.rpartition(":")
    return clamd.ClamdNetworkSocket(host=host or "127.0.0.1", port=int(port or 3310), timeout=timeout)


def scan_file(field_file) -> str | None:
    """Scan a stored file with clamd: the signature found, or None when it is clean. Raises
    ``ScanFailed`` or clamd's ``ClamdError`` when it could not be scanned (try again later)."""
    with field_file.storage.open(field_file.name, "rb") as handle:
        result = scanner().instream(handle)
    status, detail = (result or {}).get("stream", ("ERROR", "no answer"))
    if status == "FOUND":
        return detail or "unknown"
    if status == "OK":
        return None
    raise ScanFailed(detail or status)


def unavailable_message(status: str) -> str | None:
    """Why a file cannot be downloaded yet, or None when it can."""
    if status == ScanStatus.AVAILABLE:
        return None
    return FILE_QUARANTINED if status == ScanStatus.QUARANTINED else FILE_AWAITING_SCAN


# Downloads -----------------------------------------------------------------------------------

DOWNLOAD_CSP = "default-src 'none'; sandbox"


def with_private_headers(response):
    """The headers every private file is sent with."""
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


def private_file_response(field_file, *, content_type: str, filename: str) -> FileResponse:
    """A stored private file as a download (never shown inline), or 404 if it has gone."""
    if not field_file:
        raise Http404("No file")
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("The file is missing") from None
    response = FileResponse(handle, as_attachment=True, filename=filename,
                            content_type=content_type or "application/octet-stream")
    return with_private_headers(response)


def delete_after_commit(storage, name: str | None) -> None:
    """Delete a superseded or removed file once the change that dropped it is committed."""
    if name:
        transaction.on_commit(lambda: storage.delete(name))
