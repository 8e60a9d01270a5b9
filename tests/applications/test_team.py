"""The bid team: invitations by email with a role and sections, partners' sign-off before
submission, who completed each section, and section comments that never leave the team."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from applications import services
from applications.models import BidSection, BidStatus, TeamRole
from governance.models import PartnerKind
from tests.applications.conftest import version
from tests.conftest import SignedInClient as Client
from tests.factories.governance import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(world, ready):
    """The ready bid on a call that asks partners to sign off, with a second partner whose
    contact is invited to edit the delivery plan."""
    world.call.partner_sign_off_required = True
    world.call.save()
    services.bid_partner_add(actor=world.applicant, bid=ready, organisation=world.other_org,
                             role=PartnerKind.SECONDARY_CARE, contribution="Beds")
    world.partner = MembershipFactory(organisation=world.other_org, user=UserFactory(full_name="Pat Partner",
                                                                                      email="pat@other.nhs.uk")).user
    world.invitation = services.bid_team_invite(actor=world.applicant, bid=ready, email="Pat@Other.nhs.uk",
                                                organisation=world.other_org, role=TeamRole.EDIT,
                                                sections=[BidSection.DELIVERY])
    return ready


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_partner_joins_edits_their_section_and_only_theirs(world, team):
    member = services.bid_team_join(actor=world.partner, token=world.invitation.token)
    assert member.user == world.partner
    services.bid_delivery_save(actor=world.partner, bid=team, version=version(team, BidSection.DELIVERY),
                               delivery_plan="Our ward goes live in quarter 3.", sustainability_plan="Kept on.",
                               milestones=[{"title": "Ward live", "due_date": dt.date(2027, 10, 1), "description": ""}])
    team.refresh_from_db()
    assert team.delivery_plan == "Our ward goes live in quarter 3."
    with pytest.raises(ValidationError) as error:
        services.bid_summary_save(actor=world.partner, bid=team, version=version(team, BidSection.SUMMARY),
                                  title="Hijacked")
    assert "not responsible for the Project summary" in error.value.messages[0]
    # The task list says who completed each section.
    page = _client(world.applicant).get(f"/bids/{team.pk}/").content.decode()
    assert "Completed by Pat Partner" in page
    assert "Completed by Alex Applicant" in page


def test_an_invitation_used_by_another_account_or_expired_is_refused(world, team):
    with pytest.raises(ValidationError) as error:
        services.bid_team_join(actor=world.other_applicant, token=world.invitation.token)
    assert "sent to another email address" in error.value.messages[0]
    response = _client(world.other_applicant).get(f"/bids/team/join/{world.invitation.token}/")
    assert response.status_code == 403
    assert "sent to another email address" in response.content.decode()
    assert team.title not in response.content.decode()
    with time_machine.travel(timezone.now() + dt.timedelta(days=15)):
        response = _client(world.partner).post(f"/bids/team/join/{world.invitation.token}/")
        assert response.status_code == 403
        assert "This invitation has expired" in response.content.decode()
    world.invitation.refresh_from_db()
    assert world.invitation.user is None


def test_bad_invitations_are_answered_next_to_the_field(world, team):
    response = _client(world.applicant).post(f"/bids/{team.pk}/team/", {"email": "", "role": "", "organisation": ""})
    assert response.status_code == 400
    page = response.content.decode()
    for message in (services.TEAM_EMAIL_NEEDED, services.TEAM_ROLE_NEEDED, services.TEAM_ORGANISATION_NEEDED):
        assert message in page
    with pytest.raises(PermissionDenied):
        services.bid_team_invite(actor=world.commissioner, bid=team, email="x@example.org", organisation=world.icb,
                                 role=TeamRole.READ)


def test_submission_waits_for_every_partner_to_sign_off(world, team):
    with pytest.raises(ValidationError) as error:
        services.bid_submit(actor=world.applicant, bid=team, declarations_confirmed=True)
    assert error.value.messages == [services.PARTNERS_NOT_SIGNED_OFF.format(names="NHS Example ICB, Another NHS Trust")]
    services.bid_team_join(actor=world.partner, token=world.invitation.token)
    with pytest.raises(ValidationError):  # a partner signs off only its own organisation
        services.bid_partner_sign_off(actor=world.partner, bid=team, organisation=world.icb)
    services.bid_partner_sign_off(actor=world.partner, bid=team, organisation=world.other_org)
    icb_contact = services.bid_team_invite(actor=world.applicant, bid=team, email=world.commissioner.email,
                                           organisation=world.icb, role=TeamRole.READ)
    services.bid_team_join(actor=world.commissioner, token=icb_contact.token)
    response = _client(world.commissioner).post(f"/bids/{team.pk}/sign-off/", {"organisation": world.icb.pk})
    assert response.status_code == 400
    assert "Confirm your organisation agrees to its part" in response.content.decode()
    response = _client(world.commissioner).post(f"/bids/{team.pk}/sign-off/",
                                                {"organisation": world.icb.pk, "confirm": "on"})
    assert response.status_code == 302
    services.bid_submit(actor=world.applicant, bid=team, declarations_confirmed=True)
    team.refresh_from_db()
    assert team.status == BidStatus.SUBMITTED


def test_section_comments_stay_with_the_team(world, team):
    services.bid_team_join(actor=world.partner, token=world.invitation.token)
    services.bid_comment_add(actor=world.partner, bid=team, section=BidSection.DELIVERY,
                             body="TEAM-ONLY: our go-live date is optimistic")
    with pytest.raises(ValidationError) as error:
        services.bid_comment_add(actor=world.applicant, bid=team, section=BidSection.DELIVERY, body="  ")
    assert error.value.message_dict == {"body": [services.COMMENT_NEEDED]}
    assert "TEAM-ONLY" in _client(world.applicant).get(f"/bids/{team.pk}/comments/delivery/").content.decode()
    for outsider in (world.manager, world.auditor, world.commissioner):
        assert _client(outsider).get(f"/bids/{team.pk}/comments/delivery/").status_code == 403
        assert "TEAM-ONLY" not in _client(outsider).get(f"/bids/{team.pk}/").content.decode()
    assert "TEAM-ONLY" not in _client(world.manager).get(f"/bids/calls/{world.call.slug}/export.csv").content.decode()
    for outsider in (world.assessor, world.chair, world.other_applicant):
        assert _client(outsider).get(f"/bids/{team.pk}/comments/delivery/").status_code == 404


# Permission matrix ----------------------------------------------------------------------------------

ROLES = ["applicant", "partner", "commissioner", "manager", "auditor", "assessor", "other_applicant"]


def _expect(**kwargs):
    return {"applicant": 200, "partner": 403, "commissioner": 403, "manager": 403, "auditor": 403, "assessor": 404,
            "other_applicant": 404, **kwargs}


TEAM_PAGES = [
    ("team", "/bids/{bid}/team/", _expect()),
    ("comments", "/bids/{bid}/comments/summary/", _expect(partner=200)),
    ("sign_off", "/bids/{bid}/sign-off/", _expect(partner=200)),
    ("bid_detail", "/bids/{bid}/", _expect(partner=200, commissioner=200, manager=200, auditor=200)),
]


@pytest.mark.parametrize(("name", "template", "expected"), TEAM_PAGES, ids=[p[0] for p in TEAM_PAGES])
def test_team_pages_for_every_role(world, team, name, template, expected):
    services.bid_team_join(actor=world.partner, token=world.invitation.token)
    got = {role: _client(getattr(world, role)).get(template.format(bid=team.pk)).status_code for role in ROLES}
    assert got == expected
    assert Client().get(template.format(bid=team.pk)).status_code == 302


def test_the_check_page_lists_who_has_not_signed_off_and_refuses_the_submission(world, team):
    client = _client(world.applicant)
    page = client.get(f"/bids/{team.pk}/check/").content.decode()
    assert "Not signed off yet: NHS Example ICB, Another NHS Trust" in page
    response = client.post(f"/bids/{team.pk}/check/",
                           {"declarations": ["accurate", "authority", "partners", "conflicts"]})
    assert response.status_code == 200
    assert services.PARTNERS_NOT_SIGNED_OFF.format(names="NHS Example ICB, Another NHS Trust") in response.content.decode()
    team.refresh_from_db()
    assert team.status == BidStatus.DRAFT
