"""The assessor pool, yearly declarations and invitations to assess a call, and automatic
assignment drawing only on people who accepted (and can sign in), matching expertise to the
call's themes and never crossing a declared or detected conflict."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from assessment import services
from assessment.models import AssessorInvitation, Assignment, DeclineReason, InvitationStatus
from governance import fy
from governance.models import Notification, PanelMember
from tests.assessment.conftest import make_world
from tests.assessment.pool_scene import expertise, invite, pooled, profile_of
from tests.factories.governance import OrganisationFactory

pytestmark = pytest.mark.django_db


# The yearly declaration ----------------------------------------------------------------------------


@pytest.mark.parametrize(("made", "lapses"), [
    (dt.date(2026, 12, 4), dt.date(2027, 4, 6)),
    (dt.date(2027, 4, 5), dt.date(2027, 4, 6)),
    (dt.date(2027, 4, 6), dt.date(2028, 4, 6)),
    (dt.date(2027, 1, 1), dt.date(2027, 4, 6)),
])
def test_a_declaration_lapses_on_the_next_6_april(made, lapses):
    assert fy.declaration_lapses_on(made) == lapses


def test_a_declaration_made_today_is_current_until_6_april_then_lapses():
    world = make_world(bids=0)
    person = pooled(world, "Dana Declared")
    profile = profile_of(person)
    assert profile.declaration_lapses_on == dt.date(2027, 4, 6)
    assert profile.terms_version
    assert profile.terms_accepted_at is not None
    assert profile.declaration_current(dt.date(2027, 4, 5))
    assert not profile.declaration_current(dt.date(2027, 4, 6))


def test_the_declaration_needs_the_confidentiality_terms_accepted():
    world = make_world(bids=0)
    person = pooled(world, "Terry Terms", declare=False)
    with pytest.raises(ValidationError) as error:
        services.assessor_declaration_make(actor=person, interests="None", accept_terms=False)
    assert error.value.message_dict == {"accept_terms": [services.TERMS_NEEDED]}
    assert profile_of(person).declared_at is None


# The pool --------------------------------------------------------------------------------------------


def test_only_the_networks_fund_managers_keep_its_pool():
    world = make_world(bids=0)
    person = pooled(world, "Pat Pooled", declare=False)
    assert Notification.objects.filter(user=person, subject__contains="assessor pool").exists()
    with pytest.raises(PermissionDenied):
        services.pool_member_add(actor=world.other_manager, network=world.network, email=world.assessor.email)
    with pytest.raises(ValidationError) as error:
        services.pool_member_add(actor=world.manager, network=world.network, email="nobody@example.org")
    assert "email" in error.value.message_dict


def test_a_shared_pool_can_be_invited_from_by_the_other_network():
    world = make_world(bids=0)
    from tests.factories.governance import UserFactory

    theirs = UserFactory(full_name="Sam Shared")
    services.pool_member_add(actor=world.other_manager, network=world.other_network, email=theirs.email)
    with pytest.raises(ValidationError):
        invite(world, theirs)
    services.pool_share(actor=world.other_manager, network=world.other_network, shared_with=world.network)
    assert [i.invitee for i in invite(world, theirs)] == [theirs]


# Invitations -------------------------------------------------------------------------------------------


def test_an_invitee_accepts_and_joins_the_panel_or_declines_with_a_reason():
    world = make_world(bids=0)
    yes, no = pooled(world, "Yara Yes"), pooled(world, "Nico No")
    first, second = invite(world, yes, no)
    services.invitation_respond(actor=yes, token=first.token, accept=True)
    assert PanelMember.objects.filter(panel=world.call.panel, user=yes).exists()
    with pytest.raises(ValidationError) as error:
        services.invitation_respond(actor=no, token=second.token, accept=False, reason="")
    assert error.value.message_dict == {"reason": [services.DECLINE_REASON_NEEDED]}
    second.refresh_from_db()
    assert second.status == InvitationStatus.PENDING
    services.invitation_respond(actor=no, token=second.token, accept=False, reason=DeclineReason.NOT_MY_AREA)
    second.refresh_from_db()
    assert (second.status, second.decline_reason) == (InvitationStatus.DECLINED, DeclineReason.NOT_MY_AREA)
    assert not PanelMember.objects.filter(panel=world.call.panel, user=no).exists()


def test_an_invitation_used_by_another_account_or_expired_is_refused():
    world = make_world(bids=0)
    invited, other = pooled(world, "Ivy Invited"), pooled(world, "Otto Other")
    (invitation,) = invite(world, invited, days=1)
    with pytest.raises(ValidationError) as error:
        services.invitation_respond(actor=other, token=invitation.token, accept=True)
    assert "someone else" in error.value.messages[0]
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)), pytest.raises(ValidationError) as error:
        services.invitation_respond(actor=invited, token=invitation.token, accept=True)
    assert "expired" in error.value.messages[0]
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING
    assert invitation.responded_at is None


def test_accepting_needs_a_current_declaration():
    world = make_world(bids=0)
    person = pooled(world, "Lapsed Lou", declare=False)
    (invitation,) = invite(world, person)
    with pytest.raises(ValidationError) as error:
        services.invitation_respond(actor=person, token=invitation.token, accept=True)
    assert error.value.message_dict == {"decision": [services.DECLARATION_NEEDED]}


def test_the_reminder_goes_once_before_expiry_and_then_the_invitation_expires():
    world = make_world(bids=0)
    person = pooled(world, "Rita Reminded")
    (invitation,) = invite(world, person, days=3)
    assert services.invitations_remind_and_expire() == (0, 0)
    later = timezone.now() + dt.timedelta(days=2)
    assert services.invitations_remind_and_expire(now=later) == (1, 0)
    assert services.invitations_remind_and_expire(now=later) == (0, 0)
    assert Notification.objects.filter(user=person, subject__startswith="Reminder").count() == 1
    assert services.invitations_remind_and_expire(now=timezone.now() + dt.timedelta(days=4)) == (0, 1)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.EXPIRED


# Automatic assignment ------------------------------------------------------------------------------------


def test_automatic_assignment_uses_only_who_accepted_and_can_sign_in_and_respects_declared_interests():
    world = make_world(bids=0, assessors_per_bid=2)
    partner_trust = OrganisationFactory(network=world.network, name="Partner Trust")
    plain, other = world.new_bid(), world.new_bid()
    from tests.factories.applications import BidPartnerFactory

    BidPartnerFactory(bid=other, organisation=partner_trust)
    ann = pooled(world, "Ann Accepts")
    ben = pooled(world, "Ben Interested", interests=[partner_trust])
    gone = pooled(world, "Gil Gone")
    dee = pooled(world, "Dee Declines")
    invitations = {i.invitee_id: i for i in invite(world, ann, ben, gone, dee)}
    for person in (ann, ben, gone):
        services.invitation_respond(actor=person, token=invitations[person.pk].token, accept=True)
    services.invitation_respond(actor=dee, token=invitations[dee.pk].token, accept=False,
                                reason=DeclineReason.NOT_AVAILABLE)
    gone.is_active = False
    gone.save()
    result = services.assignments_auto(actor=world.manager, call=world.call)
    made = {(a.bid_id, a.assessor_id) for a in Assignment.objects.all()}
    assert made == {(plain.pk, ann.pk), (plain.pk, ben.pk), (other.pk, ann.pk)}
    assert result.short == {other.reference: 1}
    # The chair and the panel's old members (never invited) are not used on an invited call.
    assert not Assignment.objects.filter(assessor__in=[world.chair, world.assessor, world.assessor_b]).exists()
    # By hand, an assessor who never accepted is refused next to the field.
    with pytest.raises(ValidationError) as error:
        services.assignment_create(actor=world.manager, bid=other, assessor=world.assessor)
    assert "has not accepted" in error.value.message_dict["assessor"][0]


def test_automatic_assignment_prefers_expertise_matching_the_calls_themes():
    world = make_world(bids=0, assessors_per_bid=1)
    bid = world.new_bid()
    world.call.themes.add(expertise("Frailty"))
    generalist = pooled(world, "Aaron Generalist", skills=["Digital health"])
    specialist = pooled(world, "Zoe Specialist", skills=["Frailty"])
    for invitation in invite(world, generalist, specialist):
        services.invitation_respond(actor=invitation.invitee, token=invitation.token, accept=True)
    services.assignments_auto(actor=world.manager, call=world.call)
    assert list(Assignment.objects.filter(bid=bid).values_list("assessor__full_name", flat=True)) == ["Zoe Specialist"]


def test_a_panel_without_invitations_still_never_assigns_someone_who_cannot_sign_in():
    world = make_world(bids=1, assessors_per_bid=3)
    world.assessor.is_active = False
    world.assessor.save()
    services.assignments_auto(actor=world.manager, call=world.call)
    assert not Assignment.objects.filter(assessor=world.assessor).exists()
    assert AssessorInvitation.objects.count() == 0


def test_the_assign_by_hand_list_says_who_has_not_accepted_on_an_invited_call():
    from assessment import selectors

    world = make_world(bids=1, assessors_per_bid=2)
    ann = pooled(world, "Ann Accepts")
    (invitation,) = invite(world, ann)
    services.invitation_respond(actor=ann, token=invitation.token, accept=True)
    reasons = {c.member.user.full_name: c.conflict for c in selectors.assessor_candidates(world.call, world.bids[0])}
    assert reasons["Ann Accepts"] == ""
    assert reasons["Anna Assessor"] == "Has not accepted an invitation to assess this call"
