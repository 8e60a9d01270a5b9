"""Finding 1 of the sign-in review: the lock-out counts the normalised email (stripped, lower
case) from anywhere, and each client address, on the portal's sign-in and on /admin/login/."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from governance.demo import DEMO_PASSWORD
from governance.signin import EmailBackend, client_address, normalise_identity
from tests.factories.governance import UserFactory

pytestmark = pytest.mark.django_db


def _sign_in(client, email, password, path=None):
    return client.post(path or reverse("login"), {"username": email, "password": password})


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_review_case_and_space_variants_are_refused_once_the_account_is_locked(client, settings):
    UserFactory(email="commissioner.devon@example.com")
    # Five wrong passwords lock the account: the fifth is answered with 429.
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, "commissioner.devon@example.com", "wrong").status_code == 200
    assert _sign_in(client, "commissioner.devon@example.com", "wrong").status_code == 429
    # Further guesses spread over case and space variants are refused, not processed.
    for variant in ["Commissioner.devon@example.com", "cOmmissioner.devon@example.com",
                    "commissioner.devon@example.com ", " COMMISSIONER.DEVON@example.COM"]:
        response = _sign_in(client, variant, "another-guess")
        assert response.status_code == 429, variant
        assert "Too many attempts to sign in" in response.content.decode()
    # The right password with the upper-case email is refused while the account is locked...
    response = _sign_in(client, "COMMISSIONER.DEVON@EXAMPLE.COM", DEMO_PASSWORD)
    assert response.status_code == 429
    assert not _signed_in(client)
    # ...from another address too: the account tier counts failures from anywhere.
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert _sign_in(elsewhere, "commissioner.devon@example.com", DEMO_PASSWORD).status_code == 429
    assert not _signed_in(elsewhere)


def test_variants_count_together_towards_the_limit(client, settings):
    UserFactory(email="manager@example.com")
    variants = ["Manager@example.com", "MANAGER@EXAMPLE.COM", " manager@example.com", "manager@Example.com ", "mAnager@example.com"]
    assert len(variants) == settings.AXES_FAILURE_LIMIT
    for variant in variants:
        _sign_in(client, variant, "wrong")
    assert _sign_in(client, "manager@example.com", DEMO_PASSWORD).status_code == 429


def test_the_account_opens_again_after_the_cool_off(client, settings):
    UserFactory(email="fm@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "fm@example.com", "wrong")
    assert _sign_in(client, "FM@example.com", DEMO_PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        response = _sign_in(client, "FM@example.com", DEMO_PASSWORD)
        assert response.status_code == 302
        assert _signed_in(client)


def test_the_admin_sign_in_is_locked_on_the_same_identity(client, settings):
    UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    admin_login = reverse("admin:login")
    for variant in ["admin@example.com", "Admin@example.com", "ADMIN@example.com ", "admin@EXAMPLE.com"]:
        assert _sign_in(client, variant, "wrong", admin_login).status_code == 200
    assert _sign_in(client, " admin@example.com", "wrong", admin_login).status_code == 429
    response = _sign_in(client, "ADMIN@EXAMPLE.COM", DEMO_PASSWORD, admin_login)
    assert response.status_code == 429
    assert not _signed_in(client)
    # The portal's own sign-in shares the count.
    assert _sign_in(client, "admin@example.com", DEMO_PASSWORD).status_code == 429


def test_failures_on_the_portal_and_the_admin_add_up(client, settings):
    UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    for index in range(settings.AXES_FAILURE_LIMIT):
        path = reverse("admin:login") if index % 2 else reverse("login")
        _sign_in(client, "Admin@Example.com", "wrong", path)
    assert _sign_in(client, "admin@example.com", DEMO_PASSWORD, reverse("admin:login")).status_code == 429


def test_one_address_is_locked_after_many_failures_for_any_accounts(client, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 8
    UserFactory(email="victim@example.com")
    for index in range(8):  # a different account each time: no account reaches its own limit
        _sign_in(client, f"guess{index}@example.com", "wrong")
    assert _sign_in(client, "victim@example.com", DEMO_PASSWORD).status_code == 429
    assert not _signed_in(client)
    # People at other addresses are not affected.
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert _sign_in(elsewhere, "victim@example.com", DEMO_PASSWORD).status_code == 302


def test_signing_in_to_ones_own_account_does_not_clear_the_failures_against_another(client, settings):
    UserFactory(email="victim@example.com")
    UserFactory(email="attacker@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "victim@example.com", "wrong")
    assert _sign_in(client, "attacker@example.com", DEMO_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    _sign_in(client, "victim@example.com", "wrong")
    assert _sign_in(client, "victim@example.com", DEMO_PASSWORD).status_code == 429


def test_a_successful_sign_in_clears_the_accounts_own_failures(client, settings):
    UserFactory(email="fm@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "fm@example.com", "wrong")
    assert _sign_in(client, "FM@example.com", DEMO_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "fm@example.com", "wrong")
    assert _sign_in(client, "fm@example.com", DEMO_PASSWORD).status_code == 302


def test_the_backend_finds_the_person_by_their_normalised_email(rf):
    user = UserFactory(email="fm@example.com")
    request = rf.post("/accounts/login/")
    assert EmailBackend().authenticate(request, username="  FM@Example.COM ", password=DEMO_PASSWORD) == user
    assert EmailBackend().authenticate(request, username="fm@example.com", password="wrong") is None
    assert normalise_identity("\tFM@Example.com \n") == "fm@example.com"


def test_the_client_address_believes_forwarded_headers_only_behind_a_trusted_proxy(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.66, 192.0.2.10")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.2"  # anyone can send the header
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == "192.0.2.10"  # what our proxy saw; the client wrote the rest
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request) == "203.0.113.66"
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_address(request) == "10.0.0.2"
