"""The upload pipeline's own parts (governance/uploads.py): real documents made by real tools
are accepted, the archive limits, the streaming size limit, names, and the scanner address.
The table of files every upload is tested against is in tests/upload_cases.py."""

import io
import os
import zipfile

import clamd
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import SkipFile
from django.test import RequestFactory

from governance import uploads
from tests.upload_cases import DOCX, WORD_MAIN, package


def test_a_pdf_made_by_weasyprint_and_a_workbook_made_by_openpyxl_are_accepted():
    import openpyxl
    from weasyprint import HTML

    pdf = HTML(string="<h1>Evaluation</h1><p>See <a href='https://example.org'>the data</a>.</p>").write_pdf()
    assert uploads.detect(io.BytesIO(pdf)) == uploads.PDF
    workbook = openpyxl.Workbook()
    for row in range(3000):
        workbook.active.append([row, f"ward {row}", row * 1.5])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert uploads.detect(buffer) == uploads.XLSX


def test_compressed_pdf_content_is_not_mistaken_for_html_or_scripts():
    for _ in range(5):
        body = b"%PDF-1.7\n1 0 obj <<>> stream\n" + os.urandom(2 * 1024 * 1024) + b"\nendstream\n%%EOF\n"
        assert uploads.detect(io.BytesIO(body)) == uploads.PDF


def test_a_pdf_header_without_the_end_of_a_pdf_is_not_a_pdf():
    assert uploads.detect(io.BytesIO(b"%PDF-1.4\nnothing else")) is None


@pytest.mark.parametrize(("content", "code"), [
    (package(WORD_MAIN, extra={f"word/media/image{n}.png": b"\x89PNG" for n in range(uploads.MAX_ENTRIES)}), "archive"),
    (package(WORD_MAIN, extra={"../../evil.xml": b"<x/>"}), "archive"),
    (package(WORD_MAIN, extra={"word/activeX/activeX1.xml": b"<ax/>"}), "macros"),
    (package(WORD_MAIN, extra={"word/embeddings/data.7z": b"7z\xbc\xaf"}), "archive"),
])
def test_packages_that_are_not_safe_to_open_are_refused(content, code):
    with pytest.raises(uploads.Refused) as refused:
        uploads.inspect(io.BytesIO(content))
    assert refused.value.code == code


def test_an_encrypted_package_is_refused():
    raw = bytearray(DOCX)
    # Set the "encrypted" flag on every entry, in the local headers and the central directory.
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := raw.find(signature, start)) != -1:
            raw[start + offset] |= 0x1
            start += 4
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        assert all(info.flag_bits & 0x1 for info in archive.infolist())
    with pytest.raises(uploads.Refused) as refused:
        uploads.inspect(io.BytesIO(bytes(raw)))
    assert refused.value.code == "archive"


def test_the_streaming_handler_stops_taking_a_file_at_the_limit():
    request = RequestFactory().post("/")
    handler = uploads.SizeLimitedUploadHandler(request, limit=100)
    handler.new_file("file", "big.pdf", "application/pdf", None)
    assert handler.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    with pytest.raises(SkipFile):
        handler.receive_data_chunk(b"x" * 60, 60)
    assert handler.too_large == {"file"}


def test_the_service_check_stops_reading_at_the_limit_whatever_size_the_file_claims(settings):
    class Lying(SimpleUploadedFile):
        size = 10  # claims to be small

        def chunks(self, chunk_size=None):
            self.read_chunks = 0
            for _ in range(1000):
                self.read_chunks += 1
                yield b"0" * (1024 * 1024)

    upload = Lying("big.pdf", b"%PDF-1.4\n")
    with pytest.raises(ValidationError) as error:
        uploads.check(upload, policy=uploads.UploadPolicy("test", max_bytes=5 * 1024 * 1024))
    assert error.value.message_dict["file"] == [uploads.FILE_TOO_LARGE]
    assert upload.read_chunks == 6  # stopped as soon as it passed 5MB


@pytest.mark.parametrize(("name", "kind", "expected"), [
    ("report.exe", uploads.DOCX, "report.docx"),
    ("invoice.html", uploads.PDF, "invoice.pdf"),
    ("../../etc/passwd", uploads.PDF, "passwd.pdf"),
    ('evil"; filename="x.html', uploads.PNG, "evil- filename-x.png"),
    ("", uploads.ODS, "attachment.ods"),
])
def test_download_names_end_in_what_the_file_is(name, kind, expected):
    assert uploads.safe_download_name(name, kind) == expected


def test_the_stored_extension_is_only_ever_one_of_ours():
    assert uploads.stored_extension("upload.docx") == ".docx"
    assert uploads.stored_extension("upload.html") == ""
    assert uploads.stored_extension("upload") == ""


def test_the_scanner_address_is_a_unix_socket_or_host_and_port(settings):
    settings.CLAMD_ADDRESS = "/run/clamav/clamd.ctl"
    scanner = uploads.scanner()
    assert isinstance(scanner, clamd.ClamdUnixSocket)
    assert scanner.unix_socket == "/run/clamav/clamd.ctl"
    settings.CLAMD_ADDRESS = "clamav:3310"
    scanner = uploads.scanner()
    assert isinstance(scanner, clamd.ClamdNetworkSocket)
    assert (scanner.host, scanner.port) == ("clamav", 3310)
    settings.CLAMD_ADDRESS = "tcp://127.0.0.1:3311"
    assert (uploads.scanner().host, uploads.scanner().port) == ("127.0.0.1", 3311)
    settings.CLAMD_ADDRESS = ""
    assert not uploads.scanning_enabled()
    assert uploads.initial_scan_status() == uploads.ScanStatus.AVAILABLE


@pytest.mark.requires_clamd
def test_the_test_clamd_finds_eicar_and_nothing_else(clamd_scanner, tmp_path):
    from django.core.files.base import ContentFile
    from django.core.files.storage import FileSystemStorage

    from tests.upload_cases import EICAR, EICAR_IN_PDF, PDF

    storage = FileSystemStorage(location=tmp_path)
    for name, content, found in (("eicar.com", EICAR, True), ("eicar.pdf", EICAR_IN_PDF, True), ("clean.pdf", PDF, False)):
        storage.save(name, ContentFile(content))
        signature = uploads.scan_file(_Stored(storage, name))
        assert bool(signature) is found, name


class _Stored:
    """What a FileField gives the scanner: a storage and a name."""

    def __init__(self, storage, name):
        self.storage, self.name = storage, name
