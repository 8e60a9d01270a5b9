"""Finding 4 of the sign-in review: nothing sent to a signed-in person is stored by a browser or
proxy cache (pages and private downloads); public pages and open data keep their own caching."""

import pytest
from django.urls import reverse

from tests.factories.governance import FundFactory, FundManagerFactory, UserFactory
from tests.site.test_access import ALL_PATTERNS, _is_public, _sample_path

pytestmark = pytest.mark.django_db


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "") and response.get("Pragma") == "no-cache"


def test_signed_in_pages_are_not_stored(client):
    client.force_login(UserFactory())
    for path in [reverse("dashboard"), reverse("governance:account"), reverse("governance:notifications")]:
        response = client.get(path)
        assert response.status_code == 200
        assert _no_store(response), path


def test_public_pages_seen_signed_in_are_not_stored_either(client):
    """Their header names the person and counts their notifications."""
    client.force_login(UserFactory())
    assert _no_store(client.get("/"))
    register_csv = client.get(reverse("reporting:register_csv"))
    assert _no_store(register_csv)
    assert "public" not in register_csv["Cache-Control"]


def test_public_pages_stay_cacheable_for_visitors(client):
    assert "no-store" not in client.get("/").get("Cache-Control", "")
    assert "no-store" not in client.get("/calls/").get("Cache-Control", "")
    register_csv = client.get(reverse("reporting:register_csv"))
    assert "public" in register_csv["Cache-Control"]
    assert "Pragma" not in register_csv


def test_the_pot_ledger_csv_is_not_stored(client):
    manager = FundManagerFactory()
    fund = FundFactory(host_network=manager.organisation)
    client.force_login(manager.user)
    response = client.get(reverse("awards:pot_ledger_csv", kwargs={"slug": fund.slug}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert _no_store(response)


def test_the_response_that_signs_someone_in_is_not_stored(client):
    UserFactory(email="fm@example.com")
    response = client.post(reverse("login"), {"username": "fm@example.com", "password": "fundportal-demo-2026"})
    assert response.status_code == 302
    assert _no_store(response)


PRIVATE = [(route, pattern) for route, pattern in ALL_PATTERNS if not _is_public(pattern.callback)]


def test_every_private_address_answers_a_signed_in_person_with_no_store(client):
    """Every private page and download (offer letters, condition evidence, bid attachments,
    report drafts, the ledger CSV...), whatever it answers: found or not, allowed or not."""
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    assert len(PRIVATE) > 50
    for route, _ in PRIVATE:
        response = client.get(_sample_path(route))
        assert _no_store(response), (route, response.status_code, response.get("Cache-Control"))
