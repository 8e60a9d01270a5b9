"""Who sees which bids, and the sums later stages rely on."""

from decimal import Decimal

import pytest

from applications import services
from applications.models import BidStatus
from applications.selectors import (
    bid_projected_return,
    bid_requested_by_year,
    bid_status_counts,
    bid_total_requested,
    bids_awaiting_endorsement,
    bids_for_call,
    bids_of_my_organisations,
    with_totals,
)
from applications.visibility import bids_visible_to
from tests.applications.conftest import fill_bid, start_bid
from tests.factories.governance import CallFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_bids(world):
    mine = fill_bid(world, start_bid(world, "Ours"))
    theirs = services.bid_start(actor=world.other_applicant, call=world.call, organisation=world.other_org,
                                title="Theirs")
    return mine, theirs


@pytest.mark.parametrize(("role", "sees"), [
    ("applicant", {"Ours"}), ("colleague", {"Ours"}), ("other_applicant", {"Theirs"}),
    ("commissioner", {"Ours"}),  # asked to endorse "Ours" only
    ("other_commissioner", set()), ("assessor", set()), ("chair", set()),
    ("manager", {"Ours", "Theirs"}), ("other_manager", set()), ("auditor", {"Ours", "Theirs"}), ("nobody", set()),
])
def test_each_role_sees_exactly_the_bids_it_may(world, two_bids, role, sees):
    assert {bid.title for bid in bids_visible_to(getattr(world, role))} == sees


def test_site_admins_see_every_bid_and_anonymous_visitors_none(world, two_bids):
    from django.contrib.auth.models import AnonymousUser

    assert bids_visible_to(UserFactory(is_superuser=True)).count() == 2
    assert not bids_visible_to(AnonymousUser()).exists()


def test_a_bid_is_listed_once_even_when_several_routes_lead_to_it(world, two_bids):
    from governance.models import FundRole, FundRoleKind
    from tests.factories.governance import MembershipFactory

    MembershipFactory(user=world.manager, organisation=world.lead)
    FundRole.objects.create(user=world.manager, fund=world.call.fund, role=FundRoleKind.AUDITOR)
    assert bids_visible_to(world.manager).count() == 2


def test_bids_for_call_lists_every_bid_of_that_call_only(world, two_bids):
    other_call = CallFactory(fund=world.call.fund)
    services.bid_start(actor=world.applicant, call=other_call, organisation=world.lead, title="Elsewhere")
    assert {bid.title for bid in bids_for_call(world.call)} == {"Ours", "Theirs"}
    assert {bid.title for bid in bids_for_call(world.call).filter(status=BidStatus.DRAFT)} == {"Ours", "Theirs"}


def test_totals_counts_and_return(world, two_bids):
    mine, theirs = two_bids
    assert bid_requested_by_year(mine) == {2027: Decimal("60000.00"), 2028: Decimal("40000.00")}
    assert bid_total_requested(mine) == Decimal("100000.00")
    assert bid_total_requested(theirs) == Decimal("0.00")
    assert bid_requested_by_year(theirs) == {}
    assert bid_projected_return(mine) == Decimal("1.85")
    assert bid_projected_return(theirs) is None
    annotated = {bid.title: bid for bid in with_totals(bids_for_call(world.call))}
    assert annotated["Ours"].total_requested == Decimal("100000.00")
    assert annotated["Ours"].total_savings == Decimal("185000.00")
    assert annotated["Theirs"].total_requested == Decimal("0.00")
    services.bid_submit(actor=world.applicant, bid=mine, declarations_confirmed=True)
    counts = bid_status_counts(bids_for_call(world.call))
    assert counts[BidStatus.SUBMITTED] == 1
    assert counts[BidStatus.DRAFT] == 1
    assert counts[BidStatus.FUNDED] == 0


def test_the_applicants_dashboard_and_commissioners_queue(world, two_bids):
    assert [bid.title for bid in bids_of_my_organisations(world.applicant)] == ["Ours"]
    assert not bids_awaiting_endorsement(world.commissioner).exists()  # already endorsed
    services.bid_partners_save(actor=world.other_applicant, bid=two_bids[1], version=0, commissioner=world.icb)
    services.bid_endorsement_request(actor=world.other_applicant, bid=two_bids[1])
    assert [bid.title for bid in bids_awaiting_endorsement(world.commissioner)] == ["Theirs"]


@pytest.mark.parametrize("role", ["applicant", "colleague", "other_applicant", "commissioner", "other_commissioner",
                                  "assessor", "chair", "manager", "other_manager", "auditor", "nobody"])
def test_one_bids_visibility_agrees_with_the_list(world, two_bids, role):
    from applications.visibility import bid_visible_to
    from tests.factories.governance import PotFactory

    user = getattr(world, role)
    # A third bid in a regional pot managed by the other network's fund manager.
    regional = services.bid_start(actor=world.applicant, call=world.call, organisation=world.lead, title="Regional")
    regional.pot = PotFactory(fund=world.call.fund, network=world.other_manager.memberships.get().organisation)
    regional.save()
    listed = set(bids_visible_to(user).values_list("pk", flat=True))
    one_by_one = {bid.pk for bid in [*two_bids, regional] if bid_visible_to(user, bid.pk) is not None}
    assert listed == one_by_one
