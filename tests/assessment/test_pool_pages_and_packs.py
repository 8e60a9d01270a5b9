"""The new assessment pages for every role (pool, declaration, invitations, panel packs), the
bad input they answer next to the field, and panel packs honouring conflicts exactly as the
panel's pages do."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.base import ContentFile

from applications.models import Attachment, BidSectionComment
from assessment import services
from assessment.models import PackStatus, PanelPack, PoolEntry
from governance.models import MembershipRole
from tests.assessment.conftest import make_world
from tests.assessment.pool_scene import invite, pooled
from tests.conftest import SignedInClient
from tests.factories.governance import MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(db):
    w = make_world(bids=0, assessors_per_bid=2)
    chair_trust = OrganisationFactory(network=w.network, name="Chair's Own NHS Trust")
    MembershipFactory(user=w.chair, organisation=chair_trust, role=MembershipRole.MEMBER)
    w.plain = w.new_bid(title="A plain bid")
    w.conflicted = w.new_bid(title="The chair's own bid", lead=chair_trust)
    Attachment.objects.create(bid=w.plain, file=ContentFile(b"%PDF-1.4 evaluation", name="eval.pdf"),
                              original_name="Evaluation report.pdf", content_type="application/pdf", size=19,
                              sha256="a" * 64, uploaded_by=w.applicant)
    BidSectionComment.objects.create(bid=w.plain, section="summary", author=w.applicant,
                                     body="TEAM-ONLY: tighten the summary before we submit")
    w.pooled = pooled(w, "Polly Pooled")
    (w.invitation,) = invite(w, w.pooled)
    w.entry = PoolEntry.objects.get(profile__user=w.pooled)
    return w


def _client(user):
    client = SignedInClient()
    if user is not None:
        client.force_login(user)
    return client


def test_a_chairs_pack_leaves_out_the_bid_they_are_conflicted_on_and_a_managers_has_both(scene):
    chair_pack = services.panel_pack_request(actor=scene.chair, call=scene.call)
    assert chair_pack.references == [scene.plain.reference]
    services.panel_pack_build(pack_id=chair_pack.pk)
    chair_pack.refresh_from_db()
    assert (chair_pack.status, chair_pack.done, chair_pack.total) == (PackStatus.READY, 1, 1)
    with chair_pack.file.open("rb") as handle:
        names = zipfile.ZipFile(io.BytesIO(handle.read())).namelist()
    ref = scene.plain.reference
    assert sorted(names) == sorted([f"{ref}/{ref}.pdf", f"{ref}/attachments/Evaluation report.pdf"])
    assert not any(scene.conflicted.reference in name for name in names)

    manager_pack = services.panel_pack_request(actor=scene.manager, call=scene.call)
    assert set(manager_pack.references) == {scene.plain.reference, scene.conflicted.reference}
    with pytest.raises(Exception):  # noqa: B017  an assessor may not ask for packs
        services.panel_pack_request(actor=scene.assessor, call=scene.call)


def test_the_bid_pdf_never_carries_the_bid_teams_comments(scene):
    from pypdf import PdfReader

    from applications.documents import render_bid_pdf

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(render_bid_pdf(scene.plain, scene.chair))).pages)
    assert scene.plain.reference in text
    assert "TEAM-ONLY" not in text


def test_the_pack_is_downloaded_only_by_who_asked_for_it(scene):
    pack = services.panel_pack_request(actor=scene.chair, call=scene.call)
    services.panel_pack_build(pack_id=pack.pk)
    url = f"/assessment/packs/{pack.pk}/download/"
    response = _client(scene.chair).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content)[:2] == b"PK"
    for other in (scene.manager, scene.assessor, scene.applicant):
        assert _client(other).get(url).status_code == 404
        assert _client(other).get(f"/assessment/packs/{pack.pk}/").status_code == 404


def test_the_pack_status_page_shows_progress(scene):
    pack = services.panel_pack_request(actor=scene.manager, call=scene.call)
    page = _client(scene.manager).get(f"/assessment/packs/{pack.pk}/")
    assert b"0 of 2 bids done" in page.content
    assert b"Waiting to be built" in page.content
    services.panel_pack_build(pack_id=pack.pk)
    page = _client(scene.manager).get(f"/assessment/packs/{pack.pk}/")
    assert b"2 of 2 bids done" in page.content
    assert b"Download" in page.content


def test_asking_for_a_pack_from_the_page_queues_it_for_the_worker(scene, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(scene.chair).post(f"/assessment/calls/{scene.call.slug}/packs/")
    pack = PanelPack.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/assessment/packs/{pack.pk}/"
    pack.refresh_from_db()
    assert pack.status == PackStatus.READY
    assert pack.references == [scene.plain.reference]
    # One bid the chair is conflicted on cannot be asked for by id either.
    response = _client(scene.chair).post(f"/assessment/calls/{scene.call.slug}/packs/", {"bid": scene.conflicted.pk})
    assert response.status_code == 404


# Permission matrix ---------------------------------------------------------------------------------------

ROLES = ["anonymous", "applicant", "assessor", "chair", "manager", "other_manager", "pooled"]


def _user(scene, role):
    return None if role == "anonymous" else getattr(scene, role)


def expect(**overrides):
    found = {"anonymous": 302, "applicant": 403, "assessor": 403, "chair": 403, "manager": 403, "other_manager": 403,
             "pooled": 403}
    found.update(overrides)
    return found


PAGES = [
    ("pool", "get", "/assessment/pool/{network}/", expect(manager=200)),
    ("pool_entry", "get", "/assessment/pool/{network}/people/{entry}/", expect(manager=200)),
    ("pool_add", "post", "/assessment/pool/{network}/", expect(manager=400)),
    ("declaration", "get", "/assessment/declaration/", expect(pooled=200)),
    ("invitations", "get", "/assessment/calls/{call}/invitations/", expect(manager=200)),
    ("invitation", "get", "/assessment/invitations/{token}/", expect(pooled=200, applicant=403, assessor=403, chair=403,
                                                                      manager=403, other_manager=403)),
    ("packs", "get", "/assessment/calls/{call}/packs/", expect(manager=200, chair=200)),
    ("hub", "get", "/assessment/", expect(assessor=200, chair=200, manager=200, other_manager=200, pooled=200)),
]


@pytest.mark.parametrize(("name", "method", "template", "expected"), PAGES, ids=[p[0] for p in PAGES])
def test_new_assessment_pages_for_every_role(scene, name, method, template, expected):
    url = template.format(network=scene.network.pk, entry=scene.entry.pk, call=scene.call.slug,
                          token=scene.invitation.token)
    for role in ROLES:
        response = getattr(_client(_user(scene, role)), method)(url)
        assert response.status_code == expected[role], (name, role, response.status_code)


# Bad input answered next to its field --------------------------------------------------------------------


def test_declining_without_a_reason_is_answered_next_to_the_field(scene):
    client = _client(scene.pooled)
    response = client.post(f"/assessment/invitations/{scene.invitation.token}/", {"decision": "decline"})
    assert response.status_code == 400
    assert response.content.decode().count(services.DECLINE_REASON_NEEDED) >= 2  # the summary and the field
    assert b'id="id_reason-error"' in response.content or b"nhsuk-error-message" in response.content
    assert "<title>Error: " in response.content.decode()
    scene.invitation.refresh_from_db()
    assert scene.invitation.status == "pending"


def test_an_invitation_opened_by_another_account_is_refused_with_a_clear_message(scene):
    response = _client(scene.assessor).get(f"/assessment/invitations/{scene.invitation.token}/")
    assert response.status_code == 403
    assert "This invitation is for someone else" in response.content.decode()
    assert scene.call.title not in response.content.decode().split("<main")[1]


def test_an_expired_invitation_is_refused(scene):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        response = _client(scene.pooled).post(f"/assessment/invitations/{scene.invitation.token}/",
                                              {"decision": "accept"})
    assert response.status_code == 403
    assert "This invitation expired on" in response.content.decode()


def test_the_dashboard_shows_an_invitee_what_is_asked_of_them_and_by_when(scene):
    page = _client(scene.pooled).get("/dashboard/").content.decode()
    assert "Asked of you as an assessor" in page
    assert f"Will you assess {scene.call.title}?" in page
    assert f"/assessment/invitations/{scene.invitation.token}/" in page
