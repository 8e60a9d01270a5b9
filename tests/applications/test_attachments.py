"""Attachments: checked by content, 10MB at most, stored outside the web root, served only to
those who may see the bid. The upload pipeline is governance/uploads.py; the table of files in
tests/upload_cases.py is applied here and to condition evidence alike."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from applications import services
from applications.models import Attachment, BidSection
from governance import uploads, uploads as filetypes
from governance.models import AuditEvent, Notification, OutboxMessage
from tests import upload_cases
from tests.applications.conftest import (
    DOCM_BYTES,
    DOCX_BYTES,
    EXE_BYTES,
    JPEG_BYTES,
    ODT_BYTES,
    PDF_BYTES,
    PLAIN_ZIP_BYTES,
    PNG_BYTES,
    XLSX_BYTES,
    upload,
    version,
)
from tests.upload_cases import ACCEPTED, CASES, REFUSED, Case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("report.pdf", PDF_BYTES, filetypes.PDF),
    ("letter.docx", DOCX_BYTES, filetypes.DOCX),
    ("budget.xlsx", XLSX_BYTES, filetypes.XLSX),
    ("plan.odt", ODT_BYTES, filetypes.ODT),
    ("chart.png", PNG_BYTES, filetypes.PNG),
    ("photo.jpg", JPEG_BYTES, filetypes.JPEG),
    ("named-wrongly.txt", PDF_BYTES, filetypes.PDF),  # the content decides, not the name
])
def test_each_allowed_type_is_recognised_by_its_content(name, content, kind):
    assert filetypes.detect(upload(name, content)) == kind


@pytest.mark.parametrize(("name", "content"), [
    ("report.pdf", EXE_BYTES),  # an executable renamed
    ("letter.docx", DOCM_BYTES),  # a macro-enabled document
    ("budget.xlsx", PLAIN_ZIP_BYTES),  # a zip of something else
    ("notes.pdf", b"<script>alert(1)</script>"),
    ("broken.docx", b"PK\x03\x04 not really a zip"),
])
def test_anything_else_is_not_recognised(name, content):
    assert filetypes.detect(upload(name, content)) is None


def test_a_file_is_stored_under_a_name_of_our_own_with_its_hash_and_an_audit_event(world, draft):
    attachment = services.bid_attachment_add(actor=world.applicant, bid=draft,
                                             upload=upload("../../etc/Report <final>.pdf", PDF_BYTES),
                                             description="Evaluation")
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF_BYTES)
    assert attachment.original_name == "Report <final>.pdf"
    assert attachment.file.name.startswith(f"bids/{draft.pk}/")
    assert ".." not in attachment.file.name
    assert default_storage.exists(attachment.file.name)
    assert str(settings.MEDIA_ROOT) not in str(settings.STATICFILES_DIRS)
    assert services.attachment_download_name(attachment) == "Report -final.pdf"
    assert AuditEvent.objects.filter(action="bid.attachment_added", target_id=str(draft.pk)).exists()
    assert version(draft, BidSection.ATTACHMENTS) == 1


def test_a_renamed_executable_is_refused_and_nothing_is_stored(world, draft):
    with pytest.raises(ValidationError) as error:
        services.bid_attachment_add(actor=world.applicant, bid=draft, upload=upload("report.pdf", EXE_BYTES))
    assert error.value.message_dict["file"] == [services.FILE_TYPE_NOT_ALLOWED]
    assert not Attachment.objects.exists()
    assert not default_storage.exists(f"bids/{draft.pk}")


def test_a_file_over_10mb_is_refused(world, draft):
    big = upload("huge.pdf", PDF_BYTES + b"0" * (50 * 1024 * 1024))
    with pytest.raises(ValidationError) as error:
        services.bid_attachment_add(actor=world.applicant, bid=draft, upload=big)
    assert error.value.message_dict["file"] == [services.FILE_TOO_LARGE]
    assert not Attachment.objects.exists()


def test_an_empty_or_missing_file_is_refused(world, draft):
    for bad, message in ((upload("empty.pdf", b""), services.FILE_EMPTY), (None, services.FILE_NEEDED)):
        with pytest.raises(ValidationError) as error:
            services.bid_attachment_add(actor=world.applicant, bid=draft, upload=bad)
        assert error.value.message_dict["file"] == [message]


def test_removing_a_file_deletes_it_from_storage_once_committed(world, draft, django_capture_on_commit_callbacks):
    attachment = services.bid_attachment_add(actor=world.applicant, bid=draft, upload=upload("a.png", PNG_BYTES))
    name = attachment.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.bid_attachment_remove(actor=world.applicant, bid=draft, attachment=attachment)
    assert not Attachment.objects.exists()
    assert not default_storage.exists(name)


# Through the pages --------------------------------------------------------------------------------


def url(bid):
    return f"/bids/{bid.pk}/sections/attachments/"


def test_uploading_through_the_page_and_downloading_it_back(client, world, draft):
    client.force_login(world.applicant)
    response = client.post(url(draft), {"upload": "", "description": "Plan", "file": upload("plan.odt", ODT_BYTES)})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    response = client.get(f"/bids/{draft.pk}/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == ODT_BYTES
    assert response["Content-Type"] == "application/vnd.oasis.opendocument.text"
    assert response["Content-Disposition"] == 'attachment; filename="plan.odt"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_renamed_executable_gets_a_clear_message_next_to_the_field(client, world, draft):
    client.force_login(world.applicant)
    response = client.post(url(draft), {"upload": "", "file": upload("report.pdf", EXE_BYTES, "application/pdf")})
    assert response.status_code == 200
    body = response.content.decode()
    assert '<span class="nhsuk-error-message" id="id_file-error">' in body
    assert services.FILE_TYPE_NOT_ALLOWED in body
    assert "<title>Error: " in body
    assert not Attachment.objects.exists()


def test_a_50mb_upload_is_stopped_at_10mb_and_never_stored(client, world, draft, settings, monkeypatch):
    def never(**kwargs):
        raise AssertionError("the oversized file reached the service")

    monkeypatch.setattr(services, "bid_attachment_add", never)
    client.force_login(world.applicant)
    big = upload("big.pdf", PDF_BYTES + b"0" * (50 * 1024 * 1024))
    response = client.post(url(draft), {"upload": "", "file": big})
    assert response.status_code == 200
    body = response.content.decode()
    assert '<span class="nhsuk-error-message" id="id_file-error">' in body
    assert services.FILE_TOO_LARGE in body
    assert not Attachment.objects.exists()
    assert not (settings.MEDIA_ROOT / "bids").exists()


# The shared table of files (tests/upload_cases.py) ---------------------------------------------


def test_the_table_covers_every_refusal_the_pipeline_has():
    assert {case.refused for case in REFUSED} == {
        uploads.FILE_TYPE_NOT_ALLOWED, uploads.FILE_HAS_MACROS, uploads.FILE_ARCHIVE_UNSAFE, uploads.FILE_ACTIVE_CONTENT,
        uploads.FILE_TOO_LARGE, uploads.FILE_EMPTY}
    assert services.FILE_TYPE_NOT_ALLOWED == uploads.FILE_TYPE_NOT_ALLOWED


@pytest.mark.parametrize("case", CASES, ids=upload_cases.ids(CASES))
def test_every_file_in_the_table_is_accepted_or_refused_by_the_service(world, draft, case: Case):
    if case.refused:
        with pytest.raises(ValidationError) as error:
            services.bid_attachment_add(actor=world.applicant, bid=draft, upload=case.upload())
        assert error.value.message_dict["file"] == [case.refused]
        assert not Attachment.objects.exists()
        assert not default_storage.exists(f"bids/{draft.pk}")
        return
    attachment = services.bid_attachment_add(actor=world.applicant, bid=draft, upload=case.upload("text/html"))
    assert attachment.content_type == case.kind.content_type
    assert attachment.file.name.endswith(f".{case.kind.extension}")  # stored as what it is
    assert services.attachment_download_name(attachment) == case.download_name
    assert attachment.scan_status == uploads.ScanStatus.AVAILABLE  # no scanner set up


@pytest.mark.parametrize("case", CASES, ids=upload_cases.ids(CASES))
def test_every_file_in_the_table_through_the_page(client, world, draft, case: Case):
    client.force_login(world.applicant)
    response = client.post(url(draft), {"upload": "", "file": case.upload("application/pdf")})
    if case.refused:
        assert response.status_code == 200
        assert upload_cases.error_next_to_file(response) == case.refused
        assert "<title>Error: " in response.content.decode()
        assert not Attachment.objects.exists()
        return
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    download = client.get(f"/bids/{draft.pk}/attachments/{attachment.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == case.content
    assert download["Content-Type"] == case.kind.content_type
    assert download["Content-Disposition"] == f'attachment; filename="{case.download_name}"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Cache-Control"] == "private, no-store"
    assert download["Content-Security-Policy"] == "default-src 'none'; sandbox"


# Malware scanning ---------------------------------------------------------------------------------


def test_with_a_scanner_set_up_a_new_file_awaits_its_scan_and_cannot_be_downloaded(
        client, world, draft, settings, django_capture_on_commit_callbacks):
    # The scanner cannot be reached: the scan task (run in-process here) leaves the file
    # awaiting its scan, and the upload still answers normally.
    settings.CLAMD_ADDRESS = "/nonexistent/clamd.sock"
    client.force_login(world.applicant)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(url(draft), {"upload": "", "file": upload("plan.pdf", PDF_BYTES)})
    assert response.status_code == 302
    assert callbacks  # the scan was sent
    response = client.get(response["Location"])
    assert "It is being checked for viruses" in response.content.decode()
    attachment = Attachment.objects.get()
    assert attachment.scan_status == uploads.ScanStatus.AWAITING
    download = client.get(f"/bids/{draft.pk}/attachments/{attachment.pk}/")
    assert download.status_code == 409
    assert uploads.FILE_AWAITING_SCAN in download.content.decode()
    assert PDF_BYTES not in download.content


def test_a_scanner_that_cannot_be_reached_leaves_the_file_awaiting_for_the_task_to_try_again(world, draft, settings):
    import clamd

    settings.CLAMD_ADDRESS = "/nonexistent/clamd.sock"
    attachment = services.bid_attachment_add(actor=world.applicant, bid=draft, upload=upload("plan.pdf", PDF_BYTES))
    with pytest.raises(clamd.ClamdError):
        services.attachment_scan(attachment_id=attachment.pk)
    attachment.refresh_from_db()
    assert attachment.scan_status == uploads.ScanStatus.AWAITING


@pytest.mark.requires_clamd
def test_clamd_quarantines_eicar_and_passes_a_clean_file(client, world, draft, clamd_scanner,
                                                          django_capture_on_commit_callbacks):
    from tests.conftest import EICAR_SIGNATURE_HEX

    assert upload_cases.EICAR.hex() == EICAR_SIGNATURE_HEX
    client.force_login(world.applicant)
    eicar = next(case for case in CASES if case.id == "eicar-in-pdf")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(draft), {"upload": "", "file": eicar.upload()})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(draft), {"upload": "", "file": upload("clean.pdf", PDF_BYTES)})
    infected, clean = Attachment.objects.order_by("pk")
    assert (infected.scan_status, clean.scan_status) == (uploads.ScanStatus.QUARANTINED, uploads.ScanStatus.AVAILABLE)
    assert infected.scan_signature.startswith("Eicar-Test-Signature")
    download = client.get(f"/bids/{draft.pk}/attachments/{infected.pk}/")
    assert download.status_code == 409
    assert uploads.FILE_QUARANTINED in download.content.decode()
    assert client.get(f"/bids/{draft.pk}/attachments/{clean.pk}/").status_code == 200
    page = client.get(url(draft)).content.decode()
    assert "A virus was found in this file" in page
    assert AuditEvent.objects.filter(action="bid.attachment_quarantined", target_id=str(draft.pk)).count() == 1
    assert AuditEvent.objects.filter(action="bid.attachment_scanned", target_id=str(draft.pk)).count() == 1
    assert Notification.objects.filter(user=world.applicant, subject__startswith="A virus was found").count() == 1
    # Scanning again changes nothing and records nothing.
    assert services.attachment_scan(attachment_id=infected.pk) is None
    assert AuditEvent.objects.filter(action="bid.attachment_quarantined").count() == 1


@pytest.mark.requires_clamd
@pytest.mark.parametrize("case", ACCEPTED, ids=upload_cases.ids(ACCEPTED))
def test_clamd_scans_every_accepted_file_in_the_table(world, draft, clamd_scanner, case: Case,
                                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        attachment = services.bid_attachment_add(actor=world.applicant, bid=draft, upload=case.upload())
    attachment.refresh_from_db()
    expected = uploads.ScanStatus.QUARANTINED if case.id.startswith("eicar") else uploads.ScanStatus.AVAILABLE
    assert attachment.scan_status == expected


def test_a_file_not_cleared_by_the_scan_stops_the_bid_being_submitted(world, draft, settings):
    from applications import checks

    settings.CLAMD_ADDRESS = "/nonexistent/clamd.sock"
    attachment = services.bid_attachment_add(actor=world.applicant, bid=draft, upload=upload("plan.pdf", PDF_BYTES))
    messages = [problem.message for problem in checks.bid_problems(draft)]
    assert checks.ATTACHMENT_AWAITING_SCAN.format(name="plan.pdf") in messages
    Attachment.objects.filter(pk=attachment.pk).update(scan_status=uploads.ScanStatus.QUARANTINED)
    messages = [problem.message for problem in checks.bid_problems(draft)]
    assert checks.ATTACHMENT_QUARANTINED.format(name="plan.pdf") in messages
    Attachment.objects.filter(pk=attachment.pk).update(scan_status=uploads.ScanStatus.AVAILABLE)
    assert checks.problems_in_section(draft, BidSection.ATTACHMENTS) == []


def test_the_beat_sends_files_still_awaiting_their_scan_to_be_scanned_again(world, draft, settings, monkeypatch):
    import datetime as dt

    from applications import tasks

    settings.CLAMD_ADDRESS = "/nonexistent/clamd.sock"
    waiting = services.bid_attachment_add(actor=world.applicant, bid=draft, upload=upload("old.pdf", PDF_BYTES))
    recent = services.bid_attachment_add(actor=world.applicant, bid=draft, upload=upload("new.pdf", PDF_BYTES))
    Attachment.objects.filter(pk=waiting.pk).update(
        uploaded_at=waiting.uploaded_at - dt.timedelta(seconds=settings.UPLOAD_RESCAN_AFTER_SECONDS + 60))
    def sent():
        return [message.args[0] for message in OutboxMessage.objects.filter(task_name=tasks.scan_attachment.name)]

    already = sent()  # each upload's own scan
    assert tasks.rescan_awaiting_attachments() == 1
    assert sent()[len(already):] == [waiting.pk]
    Attachment.objects.filter(pk=waiting.pk).update(scan_status=uploads.ScanStatus.AVAILABLE)
    assert tasks.rescan_awaiting_attachments() == 0
    assert recent.pk not in sent()[len(already):]
    schedule = settings.CELERY_BEAT_SCHEDULE["applications-rescan-awaiting-attachments"]
    assert schedule["task"] == tasks.rescan_awaiting_attachments.name
