"""Catalogue messages of the applications stage: draft bids reminded 14, 3 and 1 days before the
call closes (calendar days, once each), the fund manager told of each submitted bid and of the
call closing: each once, in the person's chosen way, in the fund's wording."""

import datetime as dt

import pytest
from django.utils import timezone

from applications import services
from applications.tasks import send_draft_bid_reminders
from governance.models import CallStatus, Notification, User
from governance.services import calls_advance
from tests.notification_checks import assert_sent_once, reword

pytestmark = pytest.mark.django_db


def _closing_in(call, days: int):
    """The call closes at 5pm UK time, ``days`` calendar days after today (the pinned clock)."""
    day = timezone.localdate() + dt.timedelta(days=days)
    call.closes_at = timezone.make_aware(dt.datetime.combine(day, dt.time(17, 0)))
    call.save(update_fields=["closes_at"])


def test_draft_bids_are_reminded_at_14_3_and_1_days_once_each(world, draft, time_machine):
    world.colleague.notification_delivery = User.DELIVERY_DIGEST
    world.colleague.save()
    reword(world.call.fund, "bid_draft_closing")
    _closing_in(world.call, 20)
    assert send_draft_bid_reminders() == 0  # more than 14 days to go
    time_machine.move_to(timezone.now() + dt.timedelta(days=6))  # 14 days to go
    assert services.draft_bid_reminders_send() == 2
    assert services.draft_bid_reminders_send() == 0  # run again the same day
    time_machine.move_to(timezone.now() + dt.timedelta(days=5))  # 9 days: still the 14-day window
    assert services.draft_bid_reminders_send() == 0
    assert_sent_once("bid_draft_closing", world.applicant, marker="FUND WORDING")
    assert_sent_once("bid_draft_closing", world.colleague, digest=True, marker="FUND WORDING")
    time_machine.move_to(timezone.now() + dt.timedelta(days=6))  # 3 days to go
    assert services.draft_bid_reminders_send() == 2
    time_machine.move_to(timezone.now() + dt.timedelta(days=2))  # 1 day to go
    assert services.draft_bid_reminders_send() == 2
    assert services.draft_bid_reminders_send() == 0
    notes = Notification.objects.filter(kind="bid_draft_closing", user=world.applicant)
    assert notes.count() == 3
    assert not Notification.objects.filter(kind="bid_draft_closing", user=world.other_applicant).exists()


def test_a_missed_run_sends_only_the_nearest_reminder(world, draft):
    _closing_in(world.call, 2)
    assert services.draft_bid_reminders_send() == 2  # the 3-day reminder; the 14-day one is not sent late
    assert set(Notification.objects.filter(kind="bid_draft_closing").values_list("idempotency_key", flat=True)) \
        == {k for k in Notification.objects.values_list("idempotency_key", flat=True) if k and "|3d:" in k}


def test_submitted_bids_are_not_reminded(world, ready):
    services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    _closing_in(world.call, 1)
    assert services.draft_bid_reminders_send() == 0


def test_the_fund_manager_is_told_of_each_submitted_bid_once(world, ready):
    reword(world.call.fund, "bid_submitted")
    services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    note = assert_sent_once("bid_submitted", world.manager, marker="FUND WORDING")
    assert ready.reference in note.body
    assert not Notification.objects.filter(kind="bid_submitted", user=world.other_manager).exists()


def test_the_fund_manager_is_told_once_when_the_call_closes(world, ready):
    world.manager.notification_delivery = User.DELIVERY_DIGEST
    world.manager.save()
    services.bid_submit(actor=world.applicant, bid=ready, declarations_confirmed=True)
    reword(world.call.fund, "call_closed")
    world.call.closes_at = timezone.now() - dt.timedelta(minutes=1)
    world.call.save(update_fields=["closes_at"])
    calls_advance()
    calls_advance()
    world.call.refresh_from_db()
    assert world.call.status == CallStatus.CLOSED
    note = assert_sent_once("call_closed", world.manager, digest=True, marker="FUND WORDING")
    assert " 1 " in f" {note.body} "  # one bid submitted
