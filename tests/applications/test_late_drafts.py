"""A draft left when its call closed can never be submitted: it is counted and shown as "Not
submitted (call closed)", not as a draft, on the call's bids, the bid and the export."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from applications.models import NOT_SUBMITTED_LABEL, BidStatus
from tests.applications.conftest import start_bid

pytestmark = pytest.mark.django_db


def test_a_late_draft_is_not_submitted_once_the_call_closes(client, world):
    bid = start_bid(world)
    assert bid.status_label() == "Draft"
    client.force_login(world.manager)
    url = reverse("applications:call_bids", kwargs={"slug": world.call.slug})
    open_page = client.get(url).content.decode()
    assert '<th class="nhsuk-table__header app-table__cell--numeric" scope="col">Draft</th>' in open_page

    world.call.closes_at = timezone.now() - dt.timedelta(minutes=1)
    world.call.save(update_fields=["closes_at"])
    bid.refresh_from_db()
    assert bid.status == BidStatus.DRAFT
    assert bid.status_label() == NOT_SUBMITTED_LABEL
    closed_page = client.get(url).content.decode()
    assert f'scope="col">{NOT_SUBMITTED_LABEL}</th>' in closed_page
    assert 'scope="col">Draft</th>' not in closed_page
    export = client.get(reverse("applications:call_bids_export", kwargs={"slug": world.call.slug})).content.decode()
    assert NOT_SUBMITTED_LABEL in export

    client.force_login(world.applicant)
    assert NOT_SUBMITTED_LABEL in client.get(reverse("applications:bids")).content.decode()
