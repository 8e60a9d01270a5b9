"""Finding 3 of the sign-in review and "Sessions": idle timeouts by role, an absolute lifetime,
the timeout warning's two requests, and signing out everywhere."""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.access import is_staff_role
from governance.account_views import SIGNED_OUT_EVERYWHERE
from governance.demo import DEMO_PASSWORD
from governance.models import AuditEvent, MembershipRole, PanelRole, User
from tests.factories.governance import (
    FundManagerFactory,
    FundRoleFactory,
    ICBFactory,
    MembershipFactory,
    PanelMemberFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LATER = dt.timedelta


def _at(offset: dt.timedelta):
    """Travel to ``offset`` after the test's start (the clock keeps running from there)."""
    return time_machine.travel(_at.start + offset)


@pytest.fixture(autouse=True)
def _start():
    _at.start = timezone.now()


def _fresh(user):
    return User.objects.get(pk=user.pk)


def _signed_in(client) -> bool:
    response = client.get(reverse("dashboard"))
    return response.status_code == 200


# Who is in a staff role ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    pytest.param(lambda: FundManagerFactory().user, id="fund manager"),
    pytest.param(lambda: PanelMemberFactory(role=PanelRole.CHAIR).user, id="panel chair"),
    pytest.param(lambda: PanelMemberFactory(role=PanelRole.DEPUTY_CHAIR).user, id="deputy chair"),
    pytest.param(lambda: PanelMemberFactory(role=PanelRole.ASSESSOR).user, id="assessor"),
    pytest.param(lambda: PanelMemberFactory(role=PanelRole.LAY_MEMBER).user, id="lay member"),
    pytest.param(lambda: PanelMemberFactory(role=PanelRole.OBSERVER).user, id="observer"),
    pytest.param(lambda: FundRoleFactory().user, id="auditor"),
    pytest.param(lambda: UserFactory(is_superuser=True, is_staff=True), id="site admin"),
    pytest.param(lambda: UserFactory(is_staff=True), id="Django admin user"),
])
def test_staff_roles_are_those_that_change_money_scores_or_decisions_or_read_confidential_data(make):
    assert is_staff_role(_fresh(make())) is True


@pytest.mark.parametrize("make", [
    pytest.param(lambda: MembershipFactory(role=MembershipRole.MEMBER).user, id="applicant"),
    pytest.param(lambda: MembershipFactory(organisation=ICBFactory()).user, id="commissioner"),
    pytest.param(lambda: UserFactory(), id="no role yet"),
])
def test_applicants_commissioners_and_people_without_a_role_are_not_staff(make):
    assert is_staff_role(_fresh(make())) is False
    assert is_staff_role(AnonymousUser()) is False


def test_the_staff_role_check_is_one_query_and_remembered_for_the_request(django_assert_num_queries):
    user = _fresh(PanelMemberFactory(role=PanelRole.ASSESSOR).user)
    with django_assert_num_queries(1):
        assert is_staff_role(user)
        assert is_staff_role(user)
    admin = _fresh(UserFactory(is_superuser=True))
    with django_assert_num_queries(0):
        assert is_staff_role(admin)


# Idle timeout and absolute lifetime ----------------------------------------------------------------


def test_staff_are_signed_out_after_30_minutes_without_a_request(client):
    client.force_login(FundManagerFactory().user)
    with _at(LATER(minutes=29)):
        assert _signed_in(client)  # activity: the clock starts again
    with _at(LATER(minutes=29 + 29)):
        assert _signed_in(client)
    with _at(LATER(minutes=29 + 29 + 31)):
        response = client.get(reverse("dashboard"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        page = client.get(response["Location"]).content.decode()
        assert "you did nothing on the portal for 30 minutes" in page
        assert "_auth_user_id" not in client.session


def test_others_have_two_hours(client):
    client.force_login(MembershipFactory().user)
    with _at(LATER(minutes=119)):
        assert _signed_in(client)
    with _at(LATER(minutes=119 + 121)):
        assert not _signed_in(client)


def test_the_timeout_is_checked_on_every_request_not_only_pages(client):
    client.force_login(FundManagerFactory().user)
    with _at(LATER(minutes=31)):
        response = client.post(reverse("governance:notifications_mark_read"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_session_ends_twelve_hours_after_signing_in_even_if_used(client):
    client.force_login(MembershipFactory().user)
    for hour in range(1, 12):
        with _at(LATER(hours=hour)):
            assert _signed_in(client), hour
    with _at(LATER(hours=12, minutes=1)):
        response = client.get(reverse("dashboard"))
        assert response.status_code == 302
        assert "you signed in more than 12 hours ago" in client.get(response["Location"]).content.decode()


def test_signing_in_through_the_sign_in_page_starts_the_clocks(client):
    FundManagerFactory(user=UserFactory(email="fm@example.com"))
    client.post(reverse("login"), {"username": "fm@example.com", "password": DEMO_PASSWORD})
    with _at(LATER(minutes=31)):
        assert not _signed_in(client)


# The warning's two requests -----------------------------------------------------------------------


def test_asking_how_long_is_left_is_not_activity(client):
    client.force_login(FundManagerFactory().user)
    with _at(LATER(minutes=20)):
        state = client.get(reverse("governance:session_status")).json()
        assert state["signed_in"] is True
        assert 9 * 60 - 5 <= state["remaining"] <= 10 * 60
        assert state["warning"] == 120
        assert state["extendable"] is True
    with _at(LATER(minutes=31)):
        assert client.get(reverse("governance:session_status")).json()["signed_in"] is False
        assert not _signed_in(client)


def test_stay_signed_in_restarts_the_idle_clock(client):
    client.force_login(FundManagerFactory().user)
    with _at(LATER(minutes=29)):
        state = client.post(reverse("governance:session_extend"), HTTP_ACCEPT="application/json").json()
        assert state["signed_in"] is True
        assert state["remaining"] >= 30 * 60 - 5
    with _at(LATER(minutes=29 + 29)):
        assert _signed_in(client)


def test_stay_signed_in_works_without_javascript(client):
    client.force_login(FundManagerFactory().user)
    response = client.post(reverse("governance:session_extend"), {"next": "/manage/funds/"})
    assert response["Location"] == "/manage/funds/"
    response = client.post(reverse("governance:session_extend"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("dashboard")


def test_stay_signed_in_cannot_pass_the_absolute_lifetime(client):
    user = MembershipFactory().user
    with _at(LATER()):  # signed in at the start itself, however slow the set-up was
        client.force_login(user)
    for hour in range(1, 12):
        with _at(LATER(hours=hour)):
            client.get(reverse("dashboard"))
    with _at(LATER(hours=11, minutes=59)):
        state = client.post(reverse("governance:session_extend"), HTTP_ACCEPT="application/json").json()
        assert state["remaining"] <= 60
        assert state["extendable"] is False


def test_signed_in_pages_carry_the_warning_with_the_time_left(client):
    client.force_login(FundManagerFactory().user)
    body = client.get(reverse("dashboard")).content.decode()
    assert "data-session-timeout" in body
    assert 'data-session-warning="120"' in body
    assert "Stay signed in" in body
    assert "data-session-timeout" not in Client().get("/").content.decode()


# Sign out everywhere ----------------------------------------------------------------------------


def test_sign_out_everywhere_ends_every_session_of_the_person_and_is_audited():
    user = UserFactory(email="fm@example.com")
    other = UserFactory(email="other@example.com")
    laptop, phone, someone_else = Client(), Client(), Client()
    laptop.force_login(user)
    phone.force_login(user)
    someone_else.force_login(other)
    page = laptop.get(reverse("governance:account")).content.decode()
    assert "Sign out everywhere" in page
    response = laptop.post(reverse("governance:account_sign_out_everywhere"))
    assert response["Location"] == reverse("login")
    assert SIGNED_OUT_EVERYWHERE in laptop.get(reverse("login")).content.decode()
    assert not _signed_in(laptop)
    assert not _signed_in(phone)
    assert _signed_in(someone_else)
    event = AuditEvent.objects.get(action="user.signed_out_everywhere")
    assert event.actor == user
    assert event.target_id == str(user.pk)
    # Signing in again works, and the new session is not ended by the old sign-out.
    phone.post(reverse("login"), {"username": "fm@example.com", "password": DEMO_PASSWORD})
    assert _signed_in(phone)


def test_sign_out_everywhere_needs_a_post(client):
    client.force_login(UserFactory())
    assert client.get(reverse("governance:account_sign_out_everywhere")).status_code == 405
    assert _signed_in(client)


def test_the_account_page_says_how_long_sessions_last_for_the_role(client):
    client.force_login(FundManagerFactory().user)
    assert "signed out after 30 minutes" in client.get(reverse("governance:account")).content.decode()
    client.force_login(MembershipFactory().user)
    assert "signed out after 2 hours" in client.get(reverse("governance:account")).content.decode()
