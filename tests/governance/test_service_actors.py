"""Governance services check the person acting with the permission their view checks, and refuse
anyone else before changing anything (issue 13, finding 7); auditors stay independent of the
fund's bidders, both ways (finding 6)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from governance import services
from governance.models import (
    AUDITOR_IS_BIDDER,
    MEMBER_AUDITS_FUND_BID_IN,
    AllocationModel,
    AuditEvent,
    Call,
    Criterion,
    CriterionKind,
    Fund,
    FundRole,
    Membership,
    Organisation,
    Panel,
    PanelMember,
    PanelRole,
    Pot,
    PotBudget,
    User,
)
from tests.actor_checks import assert_refused
from tests.factories.applications import BidPartnerFactory, SubmittedBidFactory
from tests.factories.governance import (
    FundFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()
WRONG_ACTORS = ["applicant", "assessor", "chair", "auditor", "other_manager", "partner_manager", None]


def _member(world, user):
    return PanelMember.objects.get(panel=world.panel, user=user)


def _criterion(world):
    return world.call.criteria.order_by("position").first()


def _affiliated(world):
    member = _member(world, world.people.assessor)
    member.affiliations.add(world.trust)
    return member


# (name, build: world -> (service, kwargs, watched rows, counted models), system may act)
ROWS = [
    ("fund_create", lambda w: (services.fund_create, {
        "host_network": w.host, "name": "Another fund", "description": "d", "allocation_model": AllocationModel.NATIONAL,
        "first_year": 2026, "last_year": 2028}, [], [Fund]), False),
    ("fund_update", lambda w: (services.fund_update, {"fund": w.fund, "description": "Changed"}, [w.fund], []), False),
    ("pot_create", lambda w: (services.pot_create, {"fund": w.fund, "name": "North pot", "network": w.other}, [], [Pot]),
     False),
    ("pot_update", lambda w: (services.pot_update, {"pot": w.host_pot, "name": "Renamed", "network": w.host},
                              [w.host_pot], []), False),
    ("pot_budget_set", lambda w: (services.pot_budget_set, {"pot": w.host_pot, "financial_year": 2026, "amount": "5"},
                                  list(PotBudget.objects.filter(pot=w.host_pot)), [PotBudget]), False),
    ("fund_auditor_add", lambda w: (services.fund_auditor_add, {"fund": w.fund, "user": UserFactory()}, [], [FundRole]),
     False),
    ("fund_auditor_remove", lambda w: (services.fund_auditor_remove, {"role": w.fund.roles.get()}, [], [FundRole]),
     False),
    ("panel_create", lambda w: (services.panel_create, {"fund": w.fund, "name": "Second panel"}, [], [Panel]), False),
    ("panel_update", lambda w: (services.panel_update, {"panel": w.panel, "name": "Renamed panel"}, [w.panel], []),
     False),
    ("panel_member_add", lambda w: (services.panel_member_add, {
        "panel": w.panel, "user": UserFactory(), "role": PanelRole.ASSESSOR}, [], [PanelMember]), False),
    ("panel_member_update", lambda w: (services.panel_member_update, {
        "member": _member(w, w.people.assessor), "role": PanelRole.LAY_MEMBER}, [_member(w, w.people.assessor)], []), False),
    ("panel_member_remove", lambda w: (services.panel_member_remove, {"member": _member(w, w.people.assessor)},
                                       [], [PanelMember]), False),
    ("panel_member_affiliation_add", lambda w: (services.panel_member_affiliation_add, {
        "member": _member(w, w.people.assessor), "organisation": w.trust}, [], [PanelMember.affiliations.through]), False),
    ("panel_member_affiliation_remove", lambda w: (services.panel_member_affiliation_remove, {
        "member": _affiliated(w), "organisation": w.trust}, [], [PanelMember.affiliations.through]), False),
    ("call_create", lambda w: (services.call_create, {"fund": w.fund, "pots": [w.host_pot], "title": "Another call"},
                               [], [Call]), False),
    ("call_update", lambda w: (services.call_update, {"call": w.call, "title": "Renamed call"}, [w.call], []), False),
    ("call_copy", lambda w: (services.call_copy, {
        "source": w.call, "title": "Copied call", "opens_at": NOW + dt.timedelta(days=60),
        "closes_at": NOW + dt.timedelta(days=90)}, [], [Call]), False),
    ("call_publish", lambda w: (services.call_publish, {"call": w.call}, [w.call], []), False),
    ("call_unpublish", lambda w: (services.call_unpublish, {"call": w.call, "reason": "Wrong dates"}, [w.call], []),
     False),
    ("call_open", lambda w: (services.call_open, {"call": w.call}, [w.call], []), True),
    ("call_close", lambda w: (services.call_close, {"call": w.call, "reason": "Closing early"}, [w.call], []), True),
    ("call_extend_closing", lambda w: (services.call_extend_closing, {
        "call": w.call, "closes_at": w.call.closes_at + dt.timedelta(days=7), "reason": "More time"}, [w.call], []), False),
    ("call_start_assessment", lambda w: (services.call_start_assessment, {"call": w.call}, [w.call], []), False),
    ("call_mark_decided", lambda w: (services.call_mark_decided, {"call": w.call}, [w.call], []), False),
    ("call_close_out", lambda w: (services.call_close_out, {"call": w.call}, [w.call], []), False),
    ("criterion_add", lambda w: (services.criterion_add, {
        "call": w.call, "kind": CriterionKind.DELIVERABILITY, "title": "Deliverability", "weight": 10}, [], [Criterion]), False),
    ("criterion_update", lambda w: (services.criterion_update, {"criterion": _criterion(w), "title": "Renamed"},
                                    [_criterion(w)], []), False),
    ("criterion_remove", lambda w: (services.criterion_remove, {"criterion": _criterion(w)}, [], [Criterion]), False),
    ("criteria_weights_set", lambda w: (services.criteria_weights_set, {
        "call": w.call, "weights": {c.pk: 50 for c in w.call.criteria.all()}}, list(w.call.criteria.all()), []), False),
]
CASES = [
    pytest.param(build, actor, id=f"{name}-{actor}")
    for name, build, system in ROWS for actor in WRONG_ACTORS if not (system and actor is None)
]


@pytest.mark.parametrize(("build", "actor"), CASES)
def test_a_governance_service_refuses_the_wrong_person_and_changes_nothing(world, build, actor):
    service, kwargs, watch, counted = build(world)
    person = getattr(world.people, actor) if actor else None
    assert_refused(lambda: service(actor=person, **kwargs), watch=watch, counted=counted)


def test_the_fund_s_manager_passes_the_same_check(world):
    """The check is the view's permission: the host network's manager is let through."""
    services.fund_update(actor=world.people.manager, fund=world.fund, description="Changed")
    services.panel_update(actor=world.people.manager, panel=world.panel, name="Renamed panel")
    assert AuditEvent.objects.filter(action__in=["fund.changed", "panel.changed"], actor=world.people.manager).count() == 2


def test_the_system_opens_and_closes_calls_on_time_without_a_person(world):
    services.call_publish(actor=world.people.manager, call=world.call)
    world.call.refresh_from_db()
    services.call_open(actor=None, call=world.call, now=world.call.opens_at)
    services.call_close(actor=None, call=world.call, now=world.call.closes_at)
    assert world.call.status == "closed"


@pytest.mark.parametrize("actor", ["manager", "auditor", "applicant"])
def test_people_and_memberships_are_the_site_admin_s_or_the_system_s(world, actor):
    person = getattr(world.people, actor)
    assert_refused(lambda: services.organisation_create(actor=person, name="A trust", kind="nhs_trust"),
                   counted=[Organisation])
    assert_refused(lambda: services.user_create(actor=person, email="new@example.com", full_name="New"),
                   counted=[User])
    newcomer = UserFactory()
    assert_refused(lambda: services.membership_add(actor=person, user=newcomer, organisation=world.trust),
                   counted=[Membership])
    services.organisation_create(actor=world.people.admin, name="A trust", kind="nhs_trust")
    services.user_create(actor=None, email="new@example.com", full_name="New")


# Finding 6: a member of an organisation bidding in the fund cannot audit it, both ways -------------


@pytest.fixture
def bidder(world):
    """A person at the Devon Trust, which leads a bid on the fund's call."""
    SubmittedBidFactory(call=world.call, lead_organisation=world.trust)
    return MembershipFactory(organisation=world.trust, user=UserFactory(email="bidder@example.com")).user


def test_a_member_of_a_lead_organisation_cannot_be_made_auditor(world, bidder):
    expected = AUDITOR_IS_BIDDER.format(organisations=world.trust.name)
    assert_refused(lambda: services.fund_auditor_add(actor=world.people.manager, fund=world.fund, user=bidder),
                   counted=[FundRole], refusal=ValidationError)
    with pytest.raises(ValidationError) as refused:
        services.fund_auditor_add(actor=world.people.manager, fund=world.fund, user=bidder)
    assert refused.value.message_dict == {"email": [expected]}
    # The site admin's form runs the same rule (the admin calls the model's checks).
    with pytest.raises(ValidationError) as refused:
        FundRole(user=bidder, fund=world.fund).full_clean()
    assert refused.value.message_dict["user"] == [expected]


def test_a_member_of_a_partner_organisation_cannot_be_made_auditor(world):
    partner = OrganisationFactory(name="Devon Partner Trust", network=world.host)
    BidPartnerFactory(bid=SubmittedBidFactory(call=world.call), organisation=partner)
    person = MembershipFactory(organisation=partner).user
    with pytest.raises(ValidationError) as refused:
        services.fund_auditor_add(actor=world.people.manager, fund=world.fund, user=person)
    assert refused.value.message_dict == {"email": [AUDITOR_IS_BIDDER.format(organisations=partner.name)]}
    assert not FundRole.objects.filter(user=person).exists()


def test_a_bidder_in_another_fund_may_audit_this_one(world):
    elsewhere = OrganisationFactory(name="Elsewhere Trust")
    SubmittedBidFactory(call__fund=FundFactory(), lead_organisation=elsewhere)
    person = MembershipFactory(organisation=elsewhere).user
    services.fund_auditor_add(actor=world.people.manager, fund=world.fund, user=person)
    assert FundRole.objects.filter(user=person, fund=world.fund).exists()


def test_an_auditor_cannot_then_join_an_organisation_bidding_in_the_fund(world):
    SubmittedBidFactory(call=world.call, lead_organisation=world.trust)
    auditor = world.people.auditor
    expected = MEMBER_AUDITS_FUND_BID_IN.format(funds=world.fund.name)
    assert_refused(lambda: services.membership_add(actor=world.people.admin, user=auditor, organisation=world.trust),
                   counted=[Membership], refusal=ValidationError)
    with pytest.raises(ValidationError) as refused:
        Membership(user=auditor, organisation=world.trust).full_clean()
    assert refused.value.message_dict["user"] == [expected]
    # An organisation with no bid in the fund is fine.
    services.membership_add(actor=world.people.admin, user=auditor, organisation=world.icb)


def test_the_auditors_page_refuses_a_bidder_and_says_why(client, world, bidder):
    client.force_login(world.people.manager)
    response = client.post(reverse("governance:fund_auditors", args=[world.fund.slug]),
                           {"action": "add", "email": bidder.email})
    assert response.status_code == 200
    assert AUDITOR_IS_BIDDER.format(organisations=world.trust.name) in response.content.decode()
    assert not FundRole.objects.filter(user=bidder).exists()
    assert not AuditEvent.objects.filter(action="fund.auditor_added").exists()


def test_the_admin_refuses_a_bidder_as_auditor(client, world, bidder):
    client.force_login(world.people.admin)
    response = client.post("/admin/governance/fundrole/add/",
                           {"user": bidder.pk, "fund": world.fund.pk, "role": "auditor"})
    assert response.status_code == 200
    assert "a bidder cannot audit the fund" in response.content.decode()
    assert not FundRole.objects.filter(user=bidder).exists()
