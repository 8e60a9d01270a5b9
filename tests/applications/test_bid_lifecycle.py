"""Every (state, action, role) of the bid's and the expression of interest's lifecycle tables:
the lead organisation's members submit and withdraw, the call's fund managers do the rest,
and nobody else changes anything; nothing happens from a state the table does not allow."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from applications.lifecycle import BID_LIFECYCLE, EOI_LIFECYCLE
from applications.models import Bid, BidStatus, EoiStatus, ExpressionOfInterest
from governance.lifecycle import Transition
from governance.models import AuditEvent
from tests.factories.applications import BidFactory
from tests.factories.governance import (
    CallFactory,
    FundFactory,
    FundManagerFactory,
    MembershipFactory,
    OrganisationFactory,
    PanelMemberFactory,
    UserFactory,
)
from tests.lifecycle_walk import check_step, walk_cases

pytestmark = pytest.mark.django_db


def _call_of(obj):
    return obj.call


ROLES = {
    "fund_manager": lambda obj: FundManagerFactory(organisation=_call_of(obj).fund.host_network).user,
    "other_fund_manager": lambda obj: FundManagerFactory(organisation=FundFactory().host_network).user,
    "applicant": lambda obj: MembershipFactory(organisation=obj.lead_organisation).user,
    "assessor": lambda obj: PanelMemberFactory(panel=_call_of(obj).panel).user,
    "public": lambda obj: UserFactory(),
    "portal": lambda obj: None,
}

# Who holds each permission the tables use, among the roles above.
HOLDERS = {
    "applications.submit_bid": {"applicant"},
    "applications.manage_bid": {"fund_manager"},
    "applications.shortlist_eois": {"fund_manager"},
}


def may(row: Transition, role: str) -> bool:
    return role in HOLDERS[row.permission]


def make_bid(status: str) -> Bid:
    return BidFactory(status=status)


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(BID_LIFECYCLE, ROLES))
def test_every_bid_transition_for_every_role(state, action, role):
    check_step(BID_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, make=make_bid, may=may)


def make_eoi(status: str) -> ExpressionOfInterest:
    call = CallFactory()
    organisation = OrganisationFactory(network=call.host_network)
    return ExpressionOfInterest.objects.create(
        call=call, lead_organisation=organisation, title="Virtual wards", summary="An idea.", problem="A problem.",
        estimated_cost=Decimal("100000.00"), status=status, submitted_by=UserFactory())


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(EOI_LIFECYCLE, ROLES))
def test_every_shortlisting_transition_for_every_role(state, action, role):
    check_step(EOI_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, make=make_eoi, may=may)


def test_the_bid_table_ends_where_the_bid_can_go_no_further():
    assert BID_LIFECYCLE.final_states() == [
        BidStatus.WITHDRAWN, BidStatus.INELIGIBLE, BidStatus.FUNDED, BidStatus.NOT_FUNDED]
    assert EOI_LIFECYCLE.final_states() == [EoiStatus.INVITED, EoiStatus.NOT_INVITED]


def test_a_bid_refused_by_its_state_is_told_in_the_bids_words():
    bid = BidFactory(status=BidStatus.DRAFT)
    manager = ROLES["fund_manager"](bid)
    with pytest.raises(ValidationError) as error:
        BID_LIFECYCLE.apply(bid, "fund", actor=manager)
    assert list(error.value.messages) == ["A bid that is draft cannot be marked funded"]
    assert error.value.code == "transition"


def test_a_bid_change_records_every_state_field_of_the_bid():
    bid = BidFactory(status=BidStatus.SUBMITTED)
    BID_LIFECYCLE.apply(bid, "mark_ineligible", actor=ROLES["fund_manager"](bid), changes={"ineligible_reason": "Late"})
    event = AuditEvent.objects.get(action="bid.marked_ineligible")
    assert set(event.before) == {"status", "endorsement_status", "submitted_at", "withdrawn_at", "ineligible_reason"}
    assert (event.before["ineligible_reason"], event.after["ineligible_reason"]) == ("", "Late")


def test_shortlisting_is_asked_of_the_call_not_the_expression_of_interest():
    eoi = make_eoi(EoiStatus.SUBMITTED)
    manager = ROLES["fund_manager"](eoi)
    assert manager.has_perm("applications.shortlist_eois", eoi.call)
    assert EOI_LIFECYCLE.can(eoi, "invite", manager)
    assert not EOI_LIFECYCLE.can(eoi, "invite", ROLES["other_fund_manager"](eoi))
