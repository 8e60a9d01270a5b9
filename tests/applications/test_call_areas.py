"""Area eligibility: a call may be open only to organisations in some NHS regions or networks'
areas. The lead organisation is checked when a bid starts (with the reason) and again on the
server at submission; the public call page says where bids must come from."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from applications import checks, services
from applications.models import BidStatus
from governance.models import CallStatus, Region
from tests.applications.conftest import fill_bid, start_bid
from tests.factories.governance import NetworkFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def test_a_call_with_no_area_is_open_to_all_of_england(world):
    london = OrganisationFactory(region=Region.LONDON, name="London Trust")
    assert world.call.area_allows(london)
    assert checks.lead_eligibility_problem(world.call, london) is None


def test_a_london_trust_cannot_lead_a_bid_on_a_call_for_the_south_west(world):
    world.call.eligible_regions = [Region.SOUTH_WEST]
    world.call.save()
    london = OrganisationFactory(region=Region.LONDON, name="London Trust", network=None)
    devon = OrganisationFactory(region=Region.SOUTH_WEST, name="Devon Trust")
    assert world.call.area_allows(devon)
    assert not world.call.area_allows(london)
    assert checks.lead_eligibility_problem(world.call, london) == checks.LEAD_OUTSIDE_AREA.format(
        areas="the South West region", organisation="London Trust", where="in the London region")


def test_a_network_s_area_admits_its_organisations(world):
    elsewhere = NetworkFactory(name="Health Innovation Elsewhere")
    world.call.eligible_networks = [world.network.pk]
    world.call.save()
    assert world.call.area_allows(world.lead)
    outsider = OrganisationFactory(network=elsewhere, name="Far Trust")
    assert f"the area of {world.network.name}" in checks.lead_eligibility_problem(world.call, outsider)


def test_starting_a_bid_outside_the_area_is_refused_with_the_reason(world, client):
    world.call.eligible_regions = [Region.SOUTH_WEST]
    world.call.save()
    world.lead.region = Region.LONDON
    world.lead.save()
    with pytest.raises(ValidationError) as exc:
        services.bid_start(actor=world.applicant, call=world.call, organisation=world.lead, title="Mine")
    assert "South West region" in exc.value.message_dict["organisation"][0]
    client.force_login(world.applicant)
    page = client.get(f"/bids/start/{world.call.slug}/").content.decode()
    assert "in the South West region" in page
    assert "is in the London region" in page


def test_the_server_refuses_the_submission_of_a_bid_whose_lead_is_outside_the_area(world):
    bid = fill_bid(world, start_bid(world))
    world.call.eligible_regions = [Region.SOUTH_WEST]
    world.call.save()
    world.lead.region = Region.LONDON
    world.lead.save()
    with pytest.raises(ValidationError):
        services.bid_submit(actor=world.applicant, bid=bid, declarations_confirmed=True)
    bid.refresh_from_db()
    assert bid.status == BidStatus.DRAFT


def test_the_public_call_page_says_where_bids_must_come_from(world, client):
    world.call.eligible_regions = [Region.SOUTH_WEST]
    world.call.eligible_networks = [world.network.pk]
    world.call.save()
    assert world.call.status == CallStatus.OPEN
    page = client.get(reverse("governance:call_public", args=[world.call.slug])).content.decode()
    assert "Where the lead organisation must be" in page
    assert f"In the South West region or the area of {world.network.name}" in page
