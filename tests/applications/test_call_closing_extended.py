"""When a call's closing time moves later, the people writing its draft bids are told once each."""

import datetime as dt

import pytest

from governance.models import Notification
from governance.services import call_extend_closing
from tests.factories.applications import BidFactory, SubmittedBidFactory
from tests.factories.governance import (
    CallFactory,
    FundManagerFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_the_writers_of_draft_bids_hear_of_the_extension_once_each_and_others_do_not(
        django_capture_on_commit_callbacks, mailoutbox):
    call = CallFactory(assessment_due_date=None, panel_meeting_date=None, decisions_expected_date=None)
    first_draft = BidFactory(call=call)
    second_draft = BidFactory(call=call, lead_organisation=first_draft.lead_organisation)
    other_draft = BidFactory(call=call)
    submitted = SubmittedBidFactory(call=call)
    writer, colleague, other_writer, finished = UserFactory.create_batch(4)
    MembershipFactory(user=writer, organisation=first_draft.lead_organisation)
    MembershipFactory(user=colleague, organisation=first_draft.lead_organisation)
    MembershipFactory(user=other_writer, organisation=other_draft.lead_organisation)
    MembershipFactory(user=finished, organisation=submitted.lead_organisation)
    unrelated_call_writer = UserFactory()
    MembershipFactory(user=unrelated_call_writer, organisation=BidFactory().lead_organisation)

    manager = FundManagerFactory(organisation=call.host_network).user
    with django_capture_on_commit_callbacks(execute=True):
        call_extend_closing(actor=manager, call=call, closes_at=call.closes_at + dt.timedelta(days=7),
                            reason="Trusts asked for more time")

    told = Notification.objects.filter(subject=f"More time to bid: {call.title}")
    assert sorted(told.values_list("user__email", flat=True)) == sorted(
        [writer.email, colleague.email, other_writer.email])
    note = told.get(user=writer)
    assert "Trusts asked for more time" in note.body
    assert note.link in (f"/bids/{first_draft.pk}/", f"/bids/{second_draft.pk}/")
    assert sorted(m.to[0] for m in mailoutbox) == sorted([writer.email, colleague.email, other_writer.email])
