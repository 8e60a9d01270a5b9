"""``bid_visible_to`` lets the members of a bid's lead organisation in without building the rule's
query (the deadline rush: every page a writer opens finds the bid this way). The shortcut must
never say yes where the one rule (``bids_visible_to``) says no, and the page's answer must be the
rule's (or a later stage's) for everyone: asked here for every role and several bids."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from applications import services
from applications.extensions import read_by_later_stage
from applications.models import BidCollaborator, InvitationState, TeamRole
from applications.visibility import _lead_member_sees, bid_visible_to, bids_visible_to
from tests.factories.governance import MembershipFactory, PotFactory, UserFactory

from .conftest import fill_bid, start_bid

pytestmark = pytest.mark.django_db

ROLES = [
    "applicant",
    "colleague",
    "other_applicant",
    "commissioner",
    "other_commissioner",
    "gp_member",
    "assessor",
    "chair",
    "manager",
    "other_manager",
    "auditor",
    "nobody",
    "superuser",
    "inactive_lead",
    "team_reader",
    "lead_and_commissioner",
]


@pytest.fixture
def people(world):
    team_reader = UserFactory(full_name="Tess Team")
    people = {role: getattr(world, role) for role in ROLES if hasattr(world, role)}
    people["superuser"] = UserFactory(full_name="Site Admin", is_superuser=True, is_staff=True)
    people["inactive_lead"] = MembershipFactory(
        organisation=world.lead, user=UserFactory(is_active=False)
    ).user
    people["team_reader"] = team_reader
    both = MembershipFactory(organisation=world.lead, user=UserFactory(full_name="Both Sides")).user
    MembershipFactory(organisation=world.icb, user=both)
    people["lead_and_commissioner"] = both
    return people


@pytest.fixture
def bids(world, people):
    ready = fill_bid(world, start_bid(world, "Ready"))  # endorsed: the commissioner sees it
    draft = start_bid(world, "Draft")  # no commissioner asked yet
    theirs = services.bid_start(
        actor=world.other_applicant, call=world.call, organisation=world.other_org, title="Theirs"
    )
    regional = services.bid_start(
        actor=world.applicant, call=world.call, organisation=world.lead, title="Regional"
    )
    regional.pot = PotFactory(
        fund=world.call.fund, network=world.other_manager.memberships.get().organisation
    )
    regional.save()
    BidCollaborator.objects.create(
        bid=theirs,
        email=people["team_reader"].email,
        role=TeamRole.READ,
        organisation=world.other_org,
        state=InvitationState.ACCEPTED,
        user=people["team_reader"],
        invited_by=world.other_applicant,
        accepted_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=14),
    )
    return [ready, draft, theirs, regional]


@pytest.mark.parametrize("role", ROLES)
def test_the_lead_member_shortcut_agrees_with_the_rule(people, bids, role):
    user = people[role]
    for bid in bids:
        by_rule = bids_visible_to(user).filter(pk=bid.pk).exists()
        fresh = type(bid).objects.get(pk=bid.pk)
        if _lead_member_sees(user, fresh):
            assert by_rule, (role, bid.title)
        found = bid_visible_to(user, bid.pk)
        assert (found is not None) == (by_rule or read_by_later_stage(user, fresh)), (
            role,
            bid.title,
        )
        if found is not None:
            assert found.pk == bid.pk


def test_every_kind_of_answer_is_covered(people, bids):
    """The cases above include people let in by the shortcut, by the rule only, and not at all."""
    ready, draft, theirs, regional = bids
    assert _lead_member_sees(people["applicant"], ready)
    assert not _lead_member_sees(people["commissioner"], ready)
    assert bid_visible_to(people["commissioner"], ready.pk)
    assert not _lead_member_sees(people["team_reader"], theirs)
    assert bid_visible_to(people["team_reader"], theirs.pk)
    assert bid_visible_to(people["superuser"], theirs.pk)
    assert bid_visible_to(people["other_manager"], regional.pk)
    assert bid_visible_to(people["commissioner"], draft.pk) is None
    assert bid_visible_to(people["inactive_lead"], ready.pk) is None
    assert bid_visible_to(people["nobody"], ready.pk) is None


def test_a_writer_is_let_in_without_the_rules_query(people, bids):
    ready = bids[0]
    with CaptureQueriesContext(connection) as captured:
        found = bid_visible_to(people["applicant"], ready.pk)
    assert found is not None
    sql = [query["sql"] for query in captured.captured_queries]
    assert len(sql) == 2  # the bid, and the memberships the permission checks read anyway
    assert not any("governance_fundrole" in each for each in sql)  # the rule's query was not built
