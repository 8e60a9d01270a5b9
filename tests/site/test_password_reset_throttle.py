"""Finding 2 of the sign-in review: the password-reset form is throttled per account and per
client address, and answers every request the same way (no account enumeration)."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories.governance import UserFactory

pytestmark = pytest.mark.django_db


def _ask(client, email):
    return client.post(reverse("password_reset"), {"email": email})


def test_eight_requests_for_one_address_send_at_most_the_allowed_emails(client, mailoutbox, settings):
    UserFactory(email="fm@example.com")
    responses = [_ask(client, "fm@example.com") for _ in range(8)]
    assert len(mailoutbox) == settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT == 3
    # Every request gets the same calm answer, whether or not it sent an email.
    assert {(r.status_code, r["Location"]) for r in responses} == {(302, reverse("password_reset_done"))}


def test_variants_of_an_email_count_as_one_account_even_from_several_addresses(mailoutbox, settings):
    UserFactory(email="fm@example.com")
    for index, variant in enumerate(["FM@example.com", " fm@example.com", "fm@EXAMPLE.com ", "Fm@Example.Com", "fm@example.com"]):
        _ask(Client(REMOTE_ADDR=f"198.51.100.{index + 1}"), variant)
    assert len(mailoutbox) == settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT


def test_one_client_address_is_throttled_across_accounts(client, mailoutbox, settings):
    emails = [f"person{index}@example.com" for index in range(14)]
    for email in emails:
        UserFactory(email=email)
    for email in emails:
        assert _ask(client, email)["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == settings.PASSWORD_RESET_LIMIT_PER_ADDRESS == 10
    # Someone at another address is still sent their link.
    _ask(Client(REMOTE_ADDR="198.51.100.7"), "person13@example.com")
    assert len(mailoutbox) == 11


def test_addresses_with_no_account_get_the_same_answer_and_count_the_same(client, mailoutbox, settings):
    UserFactory(email="fm@example.com")
    known = _ask(client, "fm@example.com")
    unknown = _ask(client, "nobody@example.com")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    page = client.get(reverse("password_reset_done")).content.decode()
    assert "If an account uses that address" in page
    assert len(mailoutbox) == 1
    # Requests for addresses without an account use up the address's allowance too.
    for index in range(settings.PASSWORD_RESET_LIMIT_PER_ADDRESS):
        _ask(client, f"nobody{index}@example.com")
    _ask(client, "fm@example.com")
    assert len(mailoutbox) == 1


def test_the_allowance_comes_back_after_an_hour(client, mailoutbox, settings):
    UserFactory(email="fm@example.com")
    for _ in range(settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT + 2):
        _ask(client, "fm@example.com")
    assert len(mailoutbox) == settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=61)):
        _ask(client, "fm@example.com")
    assert len(mailoutbox) == settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT + 1
