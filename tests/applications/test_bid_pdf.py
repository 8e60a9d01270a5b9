"""A PDF copy of a bid: asked for by anyone who may read the bid, made by a worker through the
outbox, tagged, stored through Django's storage, and downloaded only by those who may read it."""

import io

import pytest
from pypdf import PdfReader

from applications import services
from applications.models import BidPdf, PdfStatus
from governance.models import OutboxMessage
from tests.conftest import SignedInClient as Client

pytestmark = pytest.mark.django_db


def test_the_copy_is_made_by_the_worker_tagged_and_downloaded_by_readers_only(world, ready,
                                                                             django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(world.applicant)
    assert b"Make a PDF of the bid" in client.get(f"/bids/{ready.pk}/").content
    with django_capture_on_commit_callbacks(execute=False):
        client.post(f"/bids/{ready.pk}/pdf/")
    pdf = BidPdf.objects.get()
    # Until the worker has made it, the page says it is being prepared and there is nothing to download.
    assert pdf.status == PdfStatus.QUEUED
    assert OutboxMessage.objects.filter(task_name="applications.tasks.generate_bid_pdf", args=[pdf.pk]).exists()
    assert b"Being prepared" in client.get(f"/bids/{ready.pk}/").content
    assert client.get(f"/bids/{ready.pk}/pdf/").status_code == 404

    from applications.tasks import generate_bid_pdf

    assert generate_bid_pdf(pdf.pk) == PdfStatus.READY
    assert b"Download the bid as a PDF" in client.get(f"/bids/{ready.pk}/").content
    response = client.get(f"/bids/{ready.pk}/pdf/")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root
    assert bool(root["/MarkInfo"]["/Marked"])
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert ready.reference in text
    assert "Remote monitoring at home." in text
    # Running the task again changes nothing; asking again for the same version gives the same copy.
    assert generate_bid_pdf(pdf.pk) == PdfStatus.READY
    assert services.bid_pdf_request(actor=world.applicant, bid=ready).pk == pdf.pk
    # Someone who may not read the bid gets nothing.
    outsider = Client()
    outsider.force_login(world.other_applicant)
    assert outsider.get(f"/bids/{ready.pk}/pdf/").status_code == 404
    assert outsider.post(f"/bids/{ready.pk}/pdf/").status_code == 404
    # The fund's auditor reads the same copy.
    auditor = Client()
    auditor.force_login(world.auditor)
    assert auditor.get(f"/bids/{ready.pk}/pdf/").status_code == 200


def test_a_changed_bid_needs_a_new_copy_and_a_failed_one_can_be_asked_for_again(world, ready, monkeypatch,
                                                                               django_capture_on_commit_callbacks):
    def broken(bid):
        raise RuntimeError("fonts missing")

    monkeypatch.setattr("applications.documents.render_bid_pdf", broken)
    with django_capture_on_commit_callbacks(execute=True):
        pdf = services.bid_pdf_request(actor=world.applicant, bid=ready)
    pdf.refresh_from_db()
    assert (pdf.status, "fonts missing" in pdf.error) == (PdfStatus.FAILED, True)
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        again = services.bid_pdf_request(actor=world.applicant, bid=ready)
    again.refresh_from_db()
    assert (again.pk, again.status) == (pdf.pk, PdfStatus.READY)
    services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    ready.refresh_from_db()
    assert services.bid_pdf_current(ready) is None


def test_the_service_refuses_someone_who_may_not_read_the_bid(world, ready):
    from django.core.exceptions import PermissionDenied

    for who in (world.other_applicant, world.assessor, world.other_manager):
        with pytest.raises(PermissionDenied):
            services.bid_pdf_request(actor=who, bid=ready)
    assert not BidPdf.objects.exists()
