"""Condition evidence goes through the same upload pipeline as bid attachments: the same table
of files (tests/upload_cases.py) is refused or accepted the same way, with the same message next
to the file field; replaced files are deleted once the change commits; downloads carry the same
headers; with a virus scanner set up, evidence waits for its scan and a quarantined file is
neither served nor signed off."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.urls import reverse

from awards import services
from awards.models import AwardCondition, ConditionStatus
from governance import uploads
from governance.models import AuditEvent, Notification, OutboxMessage
from tests import upload_cases
from tests.awards.conftest import PDF_BYTES, accept, issue, pdf_upload
from tests.upload_cases import ACCEPTED, CASES, Case

pytestmark = pytest.mark.django_db

PRIVATE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
    "Content-Security-Policy": "default-src 'none'; sandbox",
}


@pytest.fixture
def conditioned(world):
    world.decision.conditions = ["Data protection impact assessment (DPIA) completed"]
    world.decision.save()
    award = accept(world, issue(world))
    return award, award.conditions.get()


def evidence_url(award, condition) -> str:
    return reverse("awards:condition_evidence", args=[award.reference, condition.pk])


def file_url(award, condition) -> str:
    return reverse("awards:condition_evidence_file", args=[award.reference, condition.pk])


def stored_files(award) -> list[str]:
    folder = f"awards/{award.pk}/conditions"
    return sorted(default_storage.listdir(folder)[1]) if default_storage.exists(folder) else []


def test_evidence_messages_are_the_pipelines():
    assert services.EVIDENCE_WRONG_TYPE == uploads.FILE_TYPE_NOT_ALLOWED
    assert services.EVIDENCE_MISSING == uploads.FILE_NEEDED
    assert services.EVIDENCE_TOO_LARGE == uploads.FILE_TOO_LARGE


@pytest.mark.parametrize("case", CASES, ids=upload_cases.ids(CASES))
def test_every_file_in_the_table_is_accepted_or_refused_by_the_service(world, conditioned, case: Case):
    award, condition = conditioned
    if case.refused:
        with pytest.raises(ValidationError) as error:
            services.condition_evidence_submit(actor=world.member, condition=condition, upload=case.upload())
        assert error.value.message_dict["file"] == [case.refused]
        condition.refresh_from_db()
        assert condition.status == ConditionStatus.OPEN
        assert not condition.evidence
        assert stored_files(award) == []
        return
    condition = services.condition_evidence_submit(actor=world.member, condition=condition, upload=case.upload("text/html"))
    assert condition.evidence_content_type == case.kind.content_type
    assert condition.evidence.name.endswith(f".{case.kind.extension}")  # stored as what it is
    assert condition.evidence_scan_status == uploads.ScanStatus.AVAILABLE  # no scanner set up


@pytest.mark.parametrize("case", CASES, ids=upload_cases.ids(CASES))
def test_every_file_in_the_table_through_the_page(client, world, conditioned, case: Case):
    award, condition = conditioned
    client.force_login(world.member)
    response = client.post(evidence_url(award, condition), {"file": case.upload("application/pdf"), "note": "DPIA"})
    if case.refused:
        assert response.status_code == 200
        assert upload_cases.error_next_to_file(response) == case.refused
        assert "<title>Error: " in response.content.decode()
        assert stored_files(award) == []
        return
    assert response.status_code == 302
    download = client.get(file_url(award, condition))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == case.content
    assert download["Content-Type"] == case.kind.content_type
    assert download["Content-Disposition"] == f'attachment; filename="{case.download_name}"'
    for header, value in PRIVATE_HEADERS.items():
        assert download[header] == value


def test_the_form_asks_for_the_file_as_the_service_does(client, world, conditioned):
    award, condition = conditioned
    client.force_login(world.member)
    page = client.get(evidence_url(award, condition)).content.decode()
    assert "Upload evidence (optional)" not in page
    response = client.post(evidence_url(award, condition), {"note": "Signed by the DPO"})
    assert response.status_code == 200
    assert upload_cases.error_next_to_file(response) == services.EVIDENCE_MISSING
    condition.refresh_from_db()
    assert condition.status == ConditionStatus.OPEN


def test_an_oversized_upload_is_stopped_while_it_streams_and_never_stored(client, world, conditioned, monkeypatch,
                                                                            settings):
    def never(**kwargs):
        raise AssertionError("the oversized file reached the service")

    monkeypatch.setattr(services, "condition_evidence_submit", never)
    award, condition = conditioned
    client.force_login(world.member)
    big = pdf_upload("big.pdf", PDF_BYTES + b"0" * (3 * settings.MAX_UPLOAD_BYTES))
    response = client.post(evidence_url(award, condition), {"file": big, "note": ""})
    assert response.status_code == 200
    assert upload_cases.error_next_to_file(response) == services.EVIDENCE_TOO_LARGE
    assert stored_files(award) == []


def test_replacing_evidence_four_times_leaves_one_file(world, conditioned, django_capture_on_commit_callbacks):
    award, condition = conditioned
    for number in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            condition = services.condition_evidence_submit(
                actor=world.member, condition=condition, upload=pdf_upload(f"dpia-v{number}.pdf"))
    assert stored_files(award) == [condition.evidence.name.rsplit("/", 1)[-1]]
    assert condition.evidence_name == "dpia-v4.pdf"
    assert AuditEvent.objects.filter(action="condition.evidence_submitted", target_id=str(condition.pk)).count() == 5


def test_a_refused_replacement_keeps_the_evidence_already_sent(world, conditioned, django_capture_on_commit_callbacks):
    award, condition = conditioned
    with django_capture_on_commit_callbacks(execute=True):
        condition = services.condition_evidence_submit(actor=world.member, condition=condition, upload=pdf_upload())
    kept = condition.evidence.name
    with pytest.raises(ValidationError):
        services.condition_evidence_submit(actor=world.member, condition=condition,
                                           upload=pdf_upload("report.docx", upload_cases.DOCM))
    assert stored_files(award) == [kept.rsplit("/", 1)[-1]]


def test_offer_letters_are_sent_with_the_same_private_headers(client, world):
    award = accept(world, issue(world))
    letter = award.letters.first()
    client.force_login(world.signatory)
    response = client.get(reverse("awards:letter_download", args=[award.reference, letter.version]))
    assert response.status_code == 200
    for header, value in PRIVATE_HEADERS.items():
        assert response[header] == value


# Malware scanning ---------------------------------------------------------------------------------


def test_with_a_scanner_set_up_evidence_awaits_its_scan(client, world, conditioned, settings,
                                                        django_capture_on_commit_callbacks):
    # The scanner cannot be reached (nothing listens on port 9): the scan task (run in-process
    # here) leaves the evidence awaiting its scan, and sending it still answers normally.
    settings.CLAMD_ADDRESS = "127.0.0.1:9"
    award, condition = conditioned
    client.force_login(world.member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(evidence_url(award, condition), {"file": pdf_upload(), "note": ""})
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert "It is being checked for viruses" in response.content.decode()
    condition.refresh_from_db()
    assert condition.evidence_scan_status == uploads.ScanStatus.AWAITING
    client.force_login(world.manager)
    download = client.get(file_url(award, condition))
    assert download.status_code == 409
    assert uploads.FILE_AWAITING_SCAN in download.content.decode()
    with pytest.raises(ValidationError) as error:
        services.condition_sign_off(actor=world.manager, condition=condition)
    assert error.value.messages == [services.EVIDENCE_NOT_SCANNED]


@pytest.mark.requires_clamd
def test_clamd_quarantines_eicar_evidence_until_a_clean_copy_is_sent(client, world, conditioned, clamd_scanner,
                                                                     django_capture_on_commit_callbacks):
    award, condition = conditioned
    eicar = next(case for case in CASES if case.id == "eicar-in-pdf")
    client.force_login(world.member)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(evidence_url(award, condition), {"file": eicar.upload(), "note": ""})
    condition = AwardCondition.objects.get(pk=condition.pk)
    assert condition.evidence_scan_status == uploads.ScanStatus.QUARANTINED
    assert condition.evidence_scan_signature.startswith("Eicar-Test-Signature")
    assert AuditEvent.objects.filter(action="condition.evidence_quarantined", target_id=str(condition.pk)).count() == 1
    assert Notification.objects.filter(subject__startswith="A virus was found in your evidence").exists()
    download = client.get(file_url(award, condition))
    assert download.status_code == 409
    assert uploads.FILE_QUARANTINED in download.content.decode()
    assert "a virus was found in it" in client.get(award.get_absolute_url()).content.decode()
    with pytest.raises(ValidationError) as error:
        services.condition_sign_off(actor=world.manager, condition=condition)
    assert error.value.messages == [services.EVIDENCE_QUARANTINED]

    infected = condition.evidence.name
    with django_capture_on_commit_callbacks(execute=True):
        client.post(evidence_url(award, condition), {"file": pdf_upload("clean.pdf"), "note": ""})
    condition.refresh_from_db()
    assert condition.evidence_scan_status == uploads.ScanStatus.AVAILABLE
    assert not default_storage.exists(infected)
    assert client.get(file_url(award, condition)).status_code == 200
    services.condition_sign_off(actor=world.manager, condition=condition)


@pytest.mark.requires_clamd
@pytest.mark.parametrize("case", ACCEPTED, ids=upload_cases.ids(ACCEPTED))
def test_clamd_scans_every_accepted_file_in_the_table(world, conditioned, clamd_scanner, case: Case,
                                                      django_capture_on_commit_callbacks):
    _, condition = conditioned
    with django_capture_on_commit_callbacks(execute=True):
        services.condition_evidence_submit(actor=world.member, condition=condition, upload=case.upload())
    condition.refresh_from_db()
    expected = uploads.ScanStatus.QUARANTINED if case.id.startswith("eicar") else uploads.ScanStatus.AVAILABLE
    assert condition.evidence_scan_status == expected


def test_the_beat_sends_evidence_still_awaiting_its_scan_to_be_scanned_again(world, conditioned, settings, monkeypatch):
    import datetime as dt

    from awards import tasks

    settings.CLAMD_ADDRESS = "/nonexistent/clamd.sock"
    _, condition = conditioned
    condition = services.condition_evidence_submit(actor=world.member, condition=condition, upload=pdf_upload())
    def sent():
        return [m.args[0] for m in OutboxMessage.objects.filter(task_name=tasks.scan_condition_evidence.name)]

    already = sent()  # the upload's own scan
    assert tasks.rescan_awaiting_evidence() == 0  # just sent: its own task is on the way
    AwardCondition.objects.filter(pk=condition.pk).update(
        evidence_submitted_at=condition.evidence_submitted_at - dt.timedelta(seconds=settings.UPLOAD_RESCAN_AFTER_SECONDS + 60))
    assert tasks.rescan_awaiting_evidence() == 1
    assert sent()[len(already):] == [condition.pk]
    assert settings.CELERY_BEAT_SCHEDULE["awards-rescan-awaiting-evidence"]["task"] == tasks.rescan_awaiting_evidence.name
