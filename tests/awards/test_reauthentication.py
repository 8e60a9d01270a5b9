"""Money and decisions need a recent sign-in: password and code within the last 15 minutes before
issuing an award, releasing or paying instalments, approving variations and releasing decisions.

``client.force_login`` signs in with both factors just now (tests/conftest.py); these tests move
the clock on past the 15 minutes and check the person is sent to sign in again, and back."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from awards import services
from awards.models import Award, InstalmentStatus, VariationKind, VariationStatus
from governance.demo import DEMO_PASSWORD
from governance.second_factor import PASSWORD_WRONG, current_code
from tests.awards.conftest import accept_and_start, issue

pytestmark = pytest.mark.django_db

LATER = dt.timedelta(minutes=16)


def _later():
    return time_machine.travel(timezone.now() + LATER, tick=True)


def _sent_to_confirm(response, back_to: str) -> None:
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("reauthenticate")
    assert parse_qs(location.query)["next"] == [back_to]


def test_a_manager_who_signed_in_just_now_issues_without_being_asked_again(client, world):
    client.force_login(world.manager)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=14), tick=True):
        assert client.get(reverse("awards:award_issue", args=[world.decision.pk])).status_code == 200


def test_after_15_minutes_issuing_an_award_asks_for_password_and_code_then_returns(client, world):
    client.force_login(world.manager)
    url = reverse("awards:award_issue", args=[world.decision.pk])
    with _later():
        _sent_to_confirm(client.get(url), url)
        _sent_to_confirm(client.post(url, {}), url)
        assert not Award.objects.exists()
        confirm = reverse("reauthenticate") + "?next=" + url
        page = client.get(confirm)
        assert page.status_code == 200
        assert "Confirm it is you" in page.content.decode()
        # A wrong password is refused, even with the right code.
        wrong = client.post(confirm, {"password": "not-it", "code": current_code(world.manager), "next": url})
        assert wrong.status_code == 200
        assert PASSWORD_WRONG in wrong.content.decode()
    with time_machine.travel(timezone.now() + LATER + dt.timedelta(seconds=40), tick=True):
        # The right password and the code the app shows now return to the page.
        done = client.post(confirm, {"password": DEMO_PASSWORD, "code": current_code(world.manager), "next": url})
        assert done.status_code == 302
        assert done["Location"] == url
        assert client.get(url).status_code == 200


def test_the_confirm_page_returns_only_to_this_site(client, world):
    client.force_login(world.manager)
    with _later():
        done = client.post(reverse("reauthenticate"), {"password": DEMO_PASSWORD, "code": current_code(world.manager),
                                                       "next": "https://evil.example/phish"})
    assert done.status_code == 302
    assert done["Location"] == reverse("dashboard")


def test_releasing_and_paying_instalments_and_deciding_variations_need_a_recent_sign_in(client, world):
    award = accept_and_start(world, issue(world))
    instalment = award.instalments.order_by("quarter").first()
    status = instalment.status
    variation = services.variation_request(actor=world.member, award=award, kind=VariationKind.SCOPE,
                                           reasons="Two more practices.", proposed_scope="Eight practices.")
    client.force_login(world.manager)
    with _later():
        for name in ("awards:instalment_release", "awards:instalment_pay"):
            response = client.post(reverse(name, args=[award.reference, instalment.pk]))
            _sent_to_confirm(response, award.get_absolute_url() + "#schedule")
        detail = reverse("awards:variation_detail", args=[award.reference, variation.pk])
        assert client.get(detail).status_code == 200  # reading it needs no fresh sign-in
        _sent_to_confirm(client.post(detail, {"decision": "approve", "note": "Fine"}), detail)
    instalment.refresh_from_db()
    variation.refresh_from_db()
    assert instalment.status == status != InstalmentStatus.PAID
    assert variation.status == VariationStatus.REQUESTED


def test_releasing_decisions_needs_a_recent_sign_in(client, world):
    call = world.decision.bid.call
    released_at = call.decisions_released_at
    client.force_login(world.manager)
    url = reverse("assessment:release", args=[call.slug])
    with _later():
        _sent_to_confirm(client.get(url), url)
        _sent_to_confirm(client.post(url), url)
    call.refresh_from_db()
    assert call.decisions_released_at == released_at
