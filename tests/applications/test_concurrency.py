"""Under real concurrency (PostgreSQL row locks): a double submit yields one submission, and
references stay unique when many bids start at once."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from applications import services
from applications.models import Bid, BidSection, BidStatus
from governance.models import AuditEvent, Notification
from tests.applications.conftest import fill_bid, start_bid, version

pytestmark = [pytest.mark.requires_postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _race(attempt, count: int = THREADS) -> list:
    """Run ``attempt`` in ``count`` threads released at the same moment; each thread uses
    (and closes) its own database connection."""
    barrier = threading.Barrier(count)

    def run(index):
        try:
            barrier.wait(timeout=30)
            return attempt(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_submitting_from_many_tabs_at_once_yields_one_submission(world):
    bid = fill_bid(world, start_bid(world))

    def submit(index):
        try:
            services.bid_submit(actor=world.applicant if index % 2 else world.colleague,
                                bid=Bid.objects.get(pk=bid.pk), declarations_confirmed=True)
        except ValidationError as error:
            return error.code
        return "submitted"

    results = _race(submit)
    assert results.count("submitted") == 1
    assert results.count("already_submitted") == THREADS - 1
    assert Bid.objects.get(pk=bid.pk).status == BidStatus.SUBMITTED
    assert AuditEvent.objects.filter(action="bid.submitted", target_id=str(bid.pk)).count() == 1
    assert Notification.objects.filter(subject__startswith="Bid submitted").count() == 1


def test_a_save_racing_a_submission_never_changes_the_submitted_bid(world):
    bid = fill_bid(world, start_bid(world))
    opened = version(bid, BidSection.SUMMARY)

    def act(index):
        try:
            if index == 0:
                services.bid_submit(actor=world.applicant, bid=Bid.objects.get(pk=bid.pk), declarations_confirmed=True)
                return "submitted"
            services.bid_summary_save(actor=world.colleague, bid=Bid.objects.get(pk=bid.pk), version=opened,
                                      title=f"Late change {index}", summary="x", problem="y",
                                      start_date=bid.start_date, end_date=bid.end_date)
            return "saved"
        except ValidationError as error:
            return error.code

    results = _race(act, 4)
    final = Bid.objects.get(pk=bid.pk)
    # At most one save wins the version race, and only if it came before the submission,
    # which then submitted what that save wrote; nothing changes a submitted bid afterwards.
    saved = results.count("saved")
    assert saved <= 1
    assert results[0] in ("submitted", "incomplete")
    if results[0] == "submitted":
        submitted_event = AuditEvent.objects.get(action="bid.submitted", target_id=str(bid.pk))
        later_saves = AuditEvent.objects.filter(action="bid.section_saved", target_id=str(bid.pk),
                                                pk__gt=submitted_event.pk)
        assert not later_saves.exists()
        assert final.status == BidStatus.SUBMITTED


def test_references_stay_unique_and_consecutive_when_bids_start_at_once(world):
    results = _race(lambda index: start_bid(world, f"Bid {index}").reference)
    numbers = sorted(int(reference.rsplit("-", 1)[1]) for reference in results)
    assert numbers == list(range(1, THREADS + 1))
    assert Bid.objects.count() == THREADS
