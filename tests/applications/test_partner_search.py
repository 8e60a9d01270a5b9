"""A bidder finds a council, a primary care network and a GP practice by name or code in the
partner search (the demo carries one of each), and a missing one leads to the request form."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from applications.models import Bid
from governance.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def search(client):
    call_command("seed_demo", verbosity=0)
    client.force_login(User.objects.get(email="applicant.devon@example.com"))
    bid = Bid.objects.filter(lead_organisation__ods_code="RH8", status="draft").first()
    url = reverse("applications:partner_search", kwargs={"pk": bid.pk})
    return lambda q: client.get(url, {"q": q}).content.decode()


def test_a_bidder_finds_a_council_a_pcn_and_a_gp_practice_and_is_never_left_at_a_dead_end(search):
    # One demo seed for every query: seeding is the slow part.
    for query, name in [
        ("Devon County", "Devon County Council"), ("878", "Devon County Council"),
        ("Exeter City", "Exeter City Primary Care Network"), ("U48915", "Exeter City Primary Care Network"),
        ("St Thomas", "St Thomas Medical Group"), ("l83016", "St Thomas Medical Group"),
    ]:
        page = search(query)
        assert name in page, query
        assert "Ask for the organisation to be added" in page
    page = search("Devon Carers Trust")
    assert "0 organisations found" in page
    assert "ask the fund manager to add it" not in page
    assert reverse("governance:organisation_request_new") + "?name=Devon%20Carers%20Trust" in page
