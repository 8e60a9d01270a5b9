"""Endorsement that cannot silently stall: a commissioner nobody on the portal can endorse for is
said at once (in the list and on the bid), the fund managers are told when it is asked, and a
fund manager records an endorsement received outside the portal with its evidence (audited)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from applications import selectors, services
from applications.models import Attachment, EndorsementStatus
from governance.models import AuditEvent, Notification
from tests.applications.conftest import EXE_BYTES, PDF_BYTES, upload
from tests.factories.governance import ICBFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lonely_icb(world):
    return ICBFactory(network=world.network, name="NHS Quiet ICB")


@pytest.fixture
def stalled(world, draft, lonely_icb):
    services.bid_partners_save(actor=world.applicant, bid=draft, version=0, commissioner=lonely_icb)
    draft.refresh_from_db()
    return draft


def test_the_commissioner_list_says_which_have_no_one_to_endorse(world, lonely_icb):
    listed = {org.name: org.has_endorser for org in selectors.commissioning_organisations()}
    assert listed["NHS Quiet ICB"] is False
    assert listed["NHS Example ICB"] is True
    assert selectors.has_active_endorser(world.icb.pk)
    assert not selectors.has_active_endorser(lonely_icb.pk)
    world.commissioner.is_active = False
    world.commissioner.save()
    assert not selectors.has_active_endorser(world.icb.pk)


def test_the_partners_page_and_the_bid_warn_at_once(client, world, draft, lonely_icb):
    client.force_login(world.applicant)
    page = client.get(reverse("applications:bid_section", kwargs={"pk": draft.pk, "section": "partners"})).content.decode()
    assert f"{lonely_icb} (no one on the portal can endorse for it yet)" in page
    services.bid_partners_save(actor=world.applicant, bid=draft, version=0, commissioner=lonely_icb)
    page = client.get(draft.get_absolute_url()).content.decode()
    assert "No one at NHS Quiet ICB uses the portal yet" in page
    services.bid_partners_save(actor=world.applicant, bid=draft, version=1, commissioner=world.icb)
    assert "uses the portal yet" not in client.get(draft.get_absolute_url()).content.decode()


def test_asking_a_commissioner_with_no_one_on_the_portal_tells_the_fund_managers(world, stalled):
    services.bid_endorsement_request(actor=world.applicant, bid=stalled)
    told = Notification.objects.filter(user=world.manager, subject__contains="has no one on the portal")
    assert told.count() == 1
    assert told.get().link == reverse("applications:endorsement_record", kwargs={"pk": stalled.pk})
    assert not Notification.objects.filter(user=world.other_manager).exists()


def test_a_fund_manager_records_an_endorsement_received_outside_the_portal(world, stalled):
    services.bid_endorsement_request(actor=world.applicant, bid=stalled)
    bid = services.bid_endorsement_record_offline(
        actor=world.manager, bid=stalled, upload=upload("letter.pdf", PDF_BYTES),
        endorsed_by_name="Jo Smith, Director of Commissioning", comment="Sent by email on Monday.")
    assert bid.endorsement_status == EndorsementStatus.ENDORSED
    assert bid.endorsed_by == world.manager
    assert "Jo Smith" in bid.endorsement_comment
    evidence = Attachment.objects.get(bid=bid)
    assert evidence.description.startswith("Endorsement by NHS Quiet ICB")
    assert evidence.uploaded_by == world.manager
    event = AuditEvent.objects.get(action="bid.endorsement_recorded")
    assert event.before["endorsement_status"] == EndorsementStatus.PENDING
    assert event.after["evidence_sha256"] == evidence.sha256
    assert Notification.objects.filter(user=world.applicant, subject__contains="endorsed bid").exists()
    with pytest.raises(ValidationError) as error:  # once only
        services.bid_endorsement_record_offline(actor=world.manager, bid=bid, upload=upload("again.pdf", PDF_BYTES),
                                                endorsed_by_name="Jo Smith")
    assert services.ENDORSEMENT_ALREADY_RECORDED in error.value.messages


@pytest.mark.parametrize("who", ["applicant", "commissioner", "other_manager", "assessor", "auditor", "nobody"])
def test_only_the_fund_manager_may_record_it(world, stalled, who):
    with pytest.raises(PermissionDenied):
        services.bid_endorsement_record_offline(actor=getattr(world, who), bid=stalled,
                                                upload=upload("letter.pdf", PDF_BYTES), endorsed_by_name="Jo")
    stalled.refresh_from_db()
    assert stalled.endorsement_status != EndorsementStatus.ENDORSED


def test_bad_evidence_or_no_endorser_name_is_refused_next_to_the_field(world, stalled):
    with pytest.raises(ValidationError) as error:
        services.bid_endorsement_record_offline(actor=world.manager, bid=stalled, upload=None, endorsed_by_name=" ")
    assert set(error.value.message_dict) == {"file", "endorsed_by_name"}
    with pytest.raises(ValidationError) as error:
        services.bid_endorsement_record_offline(actor=world.manager, bid=stalled, upload=upload("x.pdf", EXE_BYTES),
                                                endorsed_by_name="Jo")
    assert "file" in error.value.message_dict
    assert not Attachment.objects.filter(bid=stalled).exists()
    stalled.refresh_from_db()
    assert stalled.endorsement_status == EndorsementStatus.NOT_REQUESTED


@pytest.mark.parametrize(("who", "status"), [
    ("manager", 200), ("applicant", 403), ("commissioner", 404), ("other_manager", 404), ("nobody", 404),
])
def test_the_record_page_permissions(client, world, stalled, who, status):
    client.force_login(getattr(world, who))
    response = client.get(reverse("applications:endorsement_record", kwargs={"pk": stalled.pk}))
    assert response.status_code == status


def test_the_record_page_saves_with_its_evidence_and_shows_errors(client, world, stalled):
    client.force_login(world.manager)
    url = reverse("applications:endorsement_record", kwargs={"pk": stalled.pk})
    response = client.post(url, {"endorsed_by_name": ""})
    assert response.status_code == 200
    assert "Enter who endorsed the bid" in response.content.decode()
    response = client.post(url, {"endorsed_by_name": "Jo Smith", "file": upload("letter.pdf", PDF_BYTES)})
    assert response.status_code == 302
    stalled.refresh_from_db()
    assert stalled.endorsement_status == EndorsementStatus.ENDORSED
    bid_page = client.get(stalled.get_absolute_url()).content.decode()
    assert "Record an endorsement received outside the portal" not in bid_page
