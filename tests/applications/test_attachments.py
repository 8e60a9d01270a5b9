"""Attachments: checked by content, 10MB at most, stored outside the web root, served only to
those who may see the bid."""

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from applications import filetypes, services
from applications.models import Attachment, BidSection
from governance.models import AuditEvent
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
