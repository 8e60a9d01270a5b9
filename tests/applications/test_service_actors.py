"""Bid transitions a fund manager makes check the person acting with the view's permission
(issue 13, findings 4 and 7), and an organisation whose member audits the fund cannot bid in it
(finding 6)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from applications import services
from applications.models import Bid, BidPartner, BidStatus
from governance.models import AllocationModel, AuditEvent, FundRole, FundRoleKind, PartnerKind
from tests.actor_checks import assert_refused
from tests.factories.applications import SubmittedBidFactory
from tests.factories.governance import (
    CallFactory,
    FundFactory,
    FundManagerFactory,
    MembershipFactory,
    NetworkFactory,
    OrganisationFactory,
    PanelMemberFactory,
    PotFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    """A ring-fenced fund hosted by one network, whose call also carries a second network's pot,
    and a submitted bid from that second network's region: its managers may read the bid, not
    change it."""
    host, pot_network = NetworkFactory(name="Host network"), NetworkFactory(name="Pot-only network")
    fund = FundFactory(host_network=host, allocation_model=AllocationModel.RING_FENCED)
    host_pot = PotFactory(fund=fund, network=host, name="Host pot")
    their_pot = PotFactory(fund=fund, network=pot_network, name="Their pot")
    call = CallFactory(fund=fund, pots=[host_pot, their_pot])
    lead = OrganisationFactory(network=pot_network, name="Northern Trust")
    bid = SubmittedBidFactory(call=call, lead_organisation=lead, pot=their_pot)
    auditor = MembershipFactory().user
    FundRole.objects.create(user=auditor, fund=fund, role=FundRoleKind.AUDITOR)
    people = {
        "manager": FundManagerFactory(organisation=host).user,
        "pot_manager": FundManagerFactory(organisation=pot_network).user,
        "other_manager": FundManagerFactory(organisation=NetworkFactory()).user,
        "applicant": MembershipFactory(organisation=lead).user,
        "assessor": PanelMemberFactory(panel=call.panel).user,
        "auditor": auditor,
        None: None,
    }
    return call, bid, people


WRONG = ["pot_manager", "other_manager", "applicant", "assessor", "auditor", None]


def _in_assessment(bid):
    Bid.objects.filter(pk=bid.pk).update(status=BidStatus.IN_ASSESSMENT)
    bid.refresh_from_db()
    return bid


ROWS = [
    ("bid_mark_ineligible", lambda call, bid: (services.bid_mark_ineligible, {"bid": bid, "reason": "Out of scope"})),
    ("bid_start_assessment", lambda call, bid: (services.bid_start_assessment, {"bid": bid})),
    ("bids_start_assessment_for_call", lambda call, bid: (services.bids_start_assessment_for_call, {"call": call})),
    ("bid_mark_funded", lambda call, bid: (services.bid_mark_funded, {"bid": _in_assessment(bid)})),
    ("bid_mark_not_funded", lambda call, bid: (services.bid_mark_not_funded, {"bid": _in_assessment(bid)})),
]


@pytest.mark.parametrize(("build", "actor"), [
    pytest.param(build, actor, id=f"{name}-{actor}") for name, build in ROWS for actor in WRONG
])
def test_a_bid_transition_refuses_the_wrong_person_and_changes_nothing(scene, build, actor):
    call, bid, people = scene
    service, kwargs = build(call, bid)
    assert_refused(lambda: service(actor=people[actor], **kwargs), watch=[bid])


def test_the_call_s_manager_marks_the_bid_ineligible(scene):
    call, bid, people = scene
    services.bid_mark_ineligible(actor=people["manager"], bid=bid, reason="Out of scope")
    assert bid.status == BidStatus.INELIGIBLE
    assert AuditEvent.objects.get(action="bid.marked_ineligible").actor == people["manager"]


# Finding 4: the ineligible page -----------------------------------------------------------------


@pytest.mark.parametrize(("actor", "status"), [
    ("pot_manager", 403),  # reads the bid, may not change it
    ("applicant", 403),
    ("auditor", 403),
    ("other_manager", 404),  # may not even see it
    ("assessor", 404),
])
def test_only_the_call_s_managers_may_mark_a_bid_ineligible_from_its_page(client, scene, actor, status):
    call, bid, people = scene
    client.force_login(people[actor])
    url = reverse("applications:bid_ineligible", args=[bid.pk])
    assert client.get(url).status_code == status
    assert client.post(url, {"reason": "Out of scope"}).status_code == status
    bid.refresh_from_db()
    assert bid.status == BidStatus.SUBMITTED
    assert bid.ineligible_reason == ""
    assert not AuditEvent.objects.filter(action="bid.marked_ineligible").exists()


def test_the_pot_only_manager_is_not_offered_the_ineligible_button(client, scene):
    call, bid, people = scene
    client.force_login(people["pot_manager"])
    page = client.get(reverse("applications:bid_detail", args=[bid.pk]))
    assert page.status_code == 200
    assert reverse("applications:bid_ineligible", args=[bid.pk]) not in page.content.decode()


def test_the_call_s_manager_marks_a_bid_ineligible_from_its_page(client, scene):
    call, bid, people = scene
    client.force_login(people["manager"])
    response = client.post(reverse("applications:bid_ineligible", args=[bid.pk]), {"reason": "Out of scope"})
    assert response.status_code == 302
    bid.refresh_from_db()
    assert bid.status == BidStatus.INELIGIBLE


# Finding 6: no bids from an auditor's organisation -------------------------------------------------


def _audit_from(world, organisation):
    auditor = MembershipFactory(organisation=organisation).user
    FundRole.objects.create(user=auditor, fund=world.call.fund, role=FundRoleKind.AUDITOR)
    return auditor


def test_an_organisation_whose_member_audits_the_fund_cannot_start_a_bid(world):
    _audit_from(world, world.lead)
    expected = services.AUDITOR_IN_ORGANISATION.format(organisation=world.lead.name)
    assert_refused(lambda: services.bid_start(actor=world.applicant, call=world.call, organisation=world.lead,
                                              title="Remote monitoring"), counted=[Bid], refusal=ValidationError)
    with pytest.raises(ValidationError) as refused:
        services.bid_start(actor=world.applicant, call=world.call, organisation=world.lead, title="Remote monitoring")
    assert refused.value.message_dict == {"organisation": [expected]}


def test_an_organisation_whose_member_audits_the_fund_cannot_partner_a_bid(world, draft):
    _audit_from(world, world.icb)
    with pytest.raises(ValidationError) as refused:
        services.bid_partner_add(actor=world.applicant, bid=draft, organisation=world.icb,
                                 role=PartnerKind.COMMISSIONER, contribution="Data")
    assert refused.value.message_dict["organisation"] == [
        services.AUDITOR_IN_ORGANISATION.format(organisation=world.icb.name)]
    assert not BidPartner.objects.filter(bid=draft).exists()
    # Another organisation still can.
    services.bid_partner_add(actor=world.applicant, bid=draft, organisation=world.other_icb,
                             role=PartnerKind.COMMISSIONER, contribution="Data")


def test_an_auditor_of_another_fund_does_not_stop_the_bid(world):
    auditor = MembershipFactory(organisation=world.lead).user
    FundRole.objects.create(user=auditor, fund=FundFactory(), role=FundRoleKind.AUDITOR)
    bid = services.bid_start(actor=world.applicant, call=world.call, organisation=world.lead, title="Remote monitoring")
    assert bid.status == BidStatus.DRAFT
