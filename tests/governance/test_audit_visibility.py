"""The audit trail's one rule: a fund's managers, its auditors and site admins read every event of
the fund; everyone else reads none, through the page or the selector it is built from."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from governance.audit import audit_record
from governance.selectors import fund_audit_events
from governance.visibility import audit_events_visible_to

pytestmark = pytest.mark.django_db

READERS = ["manager", "auditor", "admin"]
NOT_READERS = ["partner_manager", "other_manager", "applicant", "other_applicant", "commissioner", "assessor", "chair"]


@pytest.fixture
def trail(world):
    audit_record(actor=world.people.manager, action="fund.updated", target=world.fund, message="Fund renamed")
    audit_record(actor=world.people.manager, action="call.updated", target=world.call, message="Call edited")
    return world


@pytest.mark.parametrize("role", READERS)
def test_the_funds_managers_auditors_and_admins_read_every_event(trail, client, role):
    person = getattr(trail.people, role)
    expected = {"Fund renamed", "Call edited"}
    assert set(audit_events_visible_to(person, trail.fund).values_list("message", flat=True)) >= expected
    assert set(fund_audit_events(person, trail.fund).values_list("message", flat=True)) >= expected
    client.force_login(person)
    page = client.get(reverse("governance:fund_audit", args=[trail.fund.slug]))
    assert page.status_code == 200
    assert "Fund renamed" in page.content.decode()


@pytest.mark.parametrize("role", NOT_READERS)
def test_everyone_else_reads_none_and_the_page_is_refused(trail, client, role):
    person = getattr(trail.people, role)
    assert not audit_events_visible_to(person, trail.fund).exists()
    assert not fund_audit_events(person, trail.fund, action="fund.updated").exists()
    client.force_login(person)
    page = client.get(reverse("governance:fund_audit", args=[trail.fund.slug]))
    assert page.status_code in (403, 404)
    assert "Fund renamed" not in page.content.decode()


def test_the_public_reads_none(trail):
    assert not audit_events_visible_to(AnonymousUser(), trail.fund).exists()
