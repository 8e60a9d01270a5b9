"""The offer letter made by a real Celery worker through the broker."""

import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from awards.models import DocumentStatus
from tests.awards.conftest import issue, make_world

pytestmark = [pytest.mark.requires_broker, pytest.mark.django_db(transaction=True)]


def test_the_real_worker_makes_and_stores_the_offer_letter(real_celery):
    world = make_world()
    award = issue(world)  # the task is sent to the broker when the service's transaction commits
    letter = award.letters.get()
    deadline = time.monotonic() + 90
    while letter.status not in (DocumentStatus.READY, DocumentStatus.FAILED) and time.monotonic() < deadline:
        time.sleep(0.5)
        letter.refresh_from_db()
    assert letter.status == DocumentStatus.READY, letter.error
    # The worker stores through its own default storage (its MEDIA_ROOT).
    stored = Path(real_celery.env["MEDIA_ROOT"]) / letter.file.name
    try:
        text = " ".join(" ".join(page.extract_text() for page in PdfReader(stored).pages).split())
        assert award.reference in text
        assert "£200,000.00" in text
        assert world.lead.name in text
    finally:
        stored.unlink(missing_ok=True)
