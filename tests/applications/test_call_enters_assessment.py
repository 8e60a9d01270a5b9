"""When a call enters assessment from governance's own page, its submitted bids go with it."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from applications.models import BidStatus
from governance.models import AuditEvent, CallStatus
from governance.services import call_start_assessment
from tests.factories.applications import BidFactory, SubmittedBidFactory
from tests.factories.governance import CallFactory, FundManagerFactory

pytestmark = pytest.mark.django_db


def test_submitted_bids_enter_assessment_with_their_call_and_drafts_stay():
    now = timezone.now()
    call = CallFactory(status=CallStatus.CLOSED, opens_at=now - dt.timedelta(days=30), closes_at=now - dt.timedelta(days=1))
    submitted = SubmittedBidFactory.create_batch(2, call=call)
    draft = BidFactory(call=call)
    manager = FundManagerFactory(organisation=call.host_network).user

    call_start_assessment(actor=manager, call=call)

    for bid in submitted:
        bid.refresh_from_db()
        assert bid.status == BidStatus.IN_ASSESSMENT
        assert AuditEvent.objects.filter(action="bid.assessment_started", target_id=str(bid.pk), actor=manager).exists()
    draft.refresh_from_db()
    assert draft.status == BidStatus.DRAFT


def test_a_refused_transition_moves_no_bid():
    call = CallFactory()  # still open: cannot enter assessment
    bid = SubmittedBidFactory(call=call)
    with pytest.raises(ValidationError):
        call_start_assessment(actor=FundManagerFactory(organisation=call.host_network).user, call=call)
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED
