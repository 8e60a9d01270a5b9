"""Catalogue messages of the assessment stage: the chair hears once when every score is in; an
assessor's reminder goes once: in the person's chosen way, in the fund's wording."""

import datetime as dt

import pytest
from django.utils import timezone

from assessment import services
from governance.models import Notification, User
from tests.notification_checks import assert_sent_once, reword

from .conftest import assign, declare_none, scored, scores_for

pytestmark = pytest.mark.django_db


def test_the_chair_hears_once_when_all_scores_are_in(world):
    world.chair.notification_delivery = User.DELIVERY_DIGEST
    world.chair.save()
    reword(world.fund, "scores_all_in")
    first, second = world.bids
    scored(world, first, world.assessor, [3, 2])
    pending = declare_none(assign(world, second, world.assessor_b))
    assert not Notification.objects.filter(kind="scores_all_in").exists()  # one sheet still to come
    services.score_sheet_submit(actor=world.assessor_b, assignment=pending, scores=scores_for(world, [2, 2]))
    assert_sent_once("scores_all_in", world.chair, digest=True, marker="FUND WORDING")
    # Reopened and submitted again: the chair is not told twice.
    services.score_sheet_reopen(actor=world.manager, assignment=pending, reason="Check the comment")
    services.score_sheet_submit(actor=world.assessor_b, assignment=pending, scores=scores_for(world, [3, 2]))
    assert Notification.objects.filter(kind="scores_all_in").count() == 1


def test_an_assessor_is_reminded_once_in_the_funds_wording(world):
    reword(world.fund, "scores_due")
    assignment = assign(world, world.bids[0], world.assessor,
                        due_date=timezone.localdate() + dt.timedelta(days=2))
    assert services.assignment_reminders_send() == 1
    assert services.assignment_reminders_send() == 0
    note = assert_sent_once("scores_due", world.assessor, marker="FUND WORDING")
    assert assignment.bid.reference in note.body
