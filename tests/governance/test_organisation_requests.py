"""Requests for a missing organisation: by its register number (validated next to the field),
decided by a fund manager of the network asked (audited, the person told), and who may see what."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from governance.models import (
    AuditEvent,
    Notification,
    Organisation,
    OrganisationKind,
    OrganisationRequest,
    OrganisationRequestStatus,
)
from governance.organisation_requests import (
    ALREADY_DECIDED,
    ALREADY_REGISTERED,
    REJECTION_NOTE_MISSING,
    organisation_request_approve,
    organisation_request_reject,
    organisation_request_submit,
)
from tests.factories.governance import OrganisationFactory

pytestmark = pytest.mark.django_db


def ask(world, **fields):
    values = {"name": "Devon Carers Trust", "kind": OrganisationKind.CHARITY, "charity_number": "1123456",
              "network": world.fund.host_network}
    values.update(fields)
    return organisation_request_submit(actor=world.people.applicant, **values)


def test_a_request_goes_to_the_networks_fund_managers(world):
    request = ask(world)
    assert request.status == OrganisationRequestStatus.PENDING
    assert Notification.objects.filter(user=world.people.manager, subject__contains="Devon Carers Trust").exists()
    assert not Notification.objects.filter(user=world.people.other_manager).exists()
    assert AuditEvent.objects.filter(action="organisation_request.submitted", target_id=str(request.pk)).exists()


@pytest.mark.parametrize(("fields", "field"), [
    ({"charity_number": "12"}, "charity_number"),
    ({"charity_number": ""}, "charity_number"),
    ({"kind": OrganisationKind.COMPANY, "charity_number": "", "company_number": "ABC"}, "company_number"),
    ({"kind": OrganisationKind.COMPANY, "charity_number": ""}, "company_number"),
    ({"kind": OrganisationKind.UNIVERSITY, "charity_number": "", "ukprn": "2000"}, "ukprn"),
    ({"kind": OrganisationKind.UNIVERSITY, "charity_number": "", "edu_urn": "12"}, "edu_urn"),
    ({"kind": OrganisationKind.GP_PRACTICE, "charity_number": ""}, "ods_code"),
    ({"kind": OrganisationKind.PRIMARY_CARE_NETWORK, "charity_number": "", "ods_code": "Q12"}, "ods_code"),
    ({"kind": OrganisationKind.HEALTH_INNOVATION_NETWORK}, "kind"),
    ({"postcode": "not a postcode"}, "postcode"),
    ({"name": "  "}, "name"),
])
def test_bad_numbers_are_refused_next_to_their_field(world, fields, field):
    with pytest.raises(ValidationError) as caught:
        ask(world, **fields)
    assert field in caught.value.message_dict
    assert not OrganisationRequest.objects.exists()


def test_a_registered_organisation_is_not_asked_for_again(world):
    OrganisationFactory(name="Devon Carers", kind=OrganisationKind.CHARITY, ods_code=None, charity_number="1123456")
    with pytest.raises(ValidationError) as caught:
        ask(world)
    assert caught.value.message_dict["name"] == [ALREADY_REGISTERED % {"name": "Devon Carers"}]


def test_approving_creates_the_organisation_by_its_register_number_and_tells_the_person(world):
    request = ask(world, kind=OrganisationKind.UNIVERSITY, charity_number="", ukprn="10007798", name="University of Exeter")
    organisation = organisation_request_approve(actor=world.people.manager, request=request, note="Checked on UKRLP.")
    assert organisation.org_identifier == "GB-UKPRN-10007798"
    assert organisation.network == world.fund.host_network
    request.refresh_from_db()
    assert (request.status, request.organisation, request.decided_by) == (
        OrganisationRequestStatus.APPROVED, organisation, world.people.manager)
    assert Notification.objects.filter(user=world.people.applicant, subject="University of Exeter has been added").exists()
    assert AuditEvent.objects.filter(action="organisation_request.approved").exists()
    with pytest.raises(ValidationError) as caught:
        organisation_request_reject(actor=world.people.manager, request=request, note="too late")
    assert caught.value.messages == [ALREADY_DECIDED % {"status": "approved"}]


def test_rejecting_needs_a_reason_which_the_person_is_told(world):
    request = ask(world)
    with pytest.raises(ValidationError) as caught:
        organisation_request_reject(actor=world.people.manager, request=request, note=" ")
    assert caught.value.message_dict["note"] == [REJECTION_NOTE_MISSING]
    organisation_request_reject(actor=world.people.manager, request=request, note="It is registered as Devon Carers.")
    request.refresh_from_db()
    assert request.status == OrganisationRequestStatus.REJECTED
    told = Notification.objects.get(user=world.people.applicant)
    assert told.body == "It is registered as Devon Carers."
    assert not Organisation.objects.filter(name="Devon Carers Trust").exists()


@pytest.mark.parametrize("role", ["applicant", "other_manager", "partner_manager", "auditor", "commissioner"])
def test_only_the_networks_fund_managers_decide(world, role):
    request = ask(world)
    with pytest.raises(PermissionDenied):
        organisation_request_approve(actor=getattr(world.people, role), request=request)
    with pytest.raises(PermissionDenied):
        organisation_request_reject(actor=getattr(world.people, role), request=request, note="no")
    request.refresh_from_db()
    assert request.status == OrganisationRequestStatus.PENDING


ROLES = ["anonymous", "applicant", "commissioner", "assessor", "manager", "partner_manager", "other_manager",
         "auditor", "admin"]


@pytest.mark.parametrize("role", ROLES)
def test_the_pages_answer_each_role_as_expected(client, world, role):
    request = ask(world)
    if role != "anonymous":
        client.force_login(getattr(world.people, role))
    managers = {"manager", "partner_manager", "other_manager", "admin"}
    expected = {
        "governance:organisation_request_new": ([], 302 if role == "anonymous" else 200),
        "governance:organisation_requests_mine": ([], 302 if role == "anonymous" else 200),
        "governance:organisation_requests": ([], 302 if role == "anonymous" else 200 if role in managers else 403),
        "governance:organisation_request_decide": (
            [request.pk], 302 if role == "anonymous" else 200 if role in {"manager", "admin"} else 404),
    }
    got = {name: client.get(reverse(name, args=args)).status_code for name, (args, _) in expected.items()}
    assert got == {name: status for name, (_, status) in expected.items()}


def test_the_request_form_and_the_decision_page(client, world):
    client.force_login(world.people.applicant)
    url = reverse("governance:organisation_request_new")
    assert "Devon Carers" in client.get(url, {"name": "Devon Carers"}).content.decode()
    response = client.post(url, {"name": "Devon Carers Trust", "kind": "charity", "charity_number": "12",
                                 "network": world.fund.host_network.pk})
    assert response.status_code == 200
    assert "Enter a charity number of 6 to 8 digits" in response.content.decode()
    response = client.post(url, {"name": "Devon Carers Trust", "kind": "charity", "charity_number": "1123456",
                                 "network": world.fund.host_network.pk})
    assert response.status_code == 302
    request = OrganisationRequest.objects.get()
    assert "Devon Carers Trust" in client.get(reverse("governance:organisation_requests_mine")).content.decode()
    client.force_login(world.people.manager)
    decide = reverse("governance:organisation_request_decide", args=[request.pk])
    assert "check the register" in client.get(decide).content.decode()
    response = client.post(decide, {"decision": "reject", "note": ""})
    assert REJECTION_NOTE_MISSING in response.content.decode()
    assert client.post(decide, {"decision": "approve", "note": ""}).status_code == 302
    assert Organisation.objects.get(charity_number="1123456").org_identifier == "GB-CHC-1123456"


def test_the_fund_managers_dashboard_lists_what_waits_for_them(client, world):
    ask(world)
    client.force_login(world.people.manager)
    assert "Devon Carers Trust" in client.get(reverse("dashboard")).content.decode()
    client.force_login(world.people.other_manager)
    assert "Devon Carers Trust" not in client.get(reverse("dashboard")).content.decode()
