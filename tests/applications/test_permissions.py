"""Every bid page and file download, for every role: who gets in, who is refused, and how.

404 for anyone who may not see the bid at all (its existence stays private); 403 for those
who may see it but not do this; 302 to sign in for anonymous visitors.
"""

import pytest

from applications import services
from applications.models import BidStatus
from governance.models import PartnerKind
from tests.applications.conftest import PNG_BYTES, upload
from tests.conftest import SignedInClient as Client

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "applicant", "other_applicant", "commissioner", "other_commissioner", "assessor", "chair",
         "manager", "other_manager", "auditor"]


def expect(applicant, commissioner, manager, auditor, outsiders=404):
    """Expected statuses by role: outsiders are the other applicant, the other ICB's
    commissioner, the assessor, the panel chair and the other network's fund manager."""
    return {"anonymous": 302, "applicant": applicant, "commissioner": commissioner, "manager": manager,
            "auditor": auditor, "other_applicant": outsiders, "other_commissioner": outsiders, "assessor": outsiders,
            "chair": outsiders, "other_manager": outsiders}


WRITE = expect(200, 403, 403, 403)
READ = expect(200, 200, 200, 200)

# (name, method, path template, expected on a draft bid waiting for endorsement)
DRAFT_PAGES = [
    ("bid_detail", "get", "/bids/{bid}/", READ),
    ("section_summary", "get", "/bids/{bid}/sections/summary/", WRITE),
    ("section_costs", "get", "/bids/{bid}/sections/costs/", WRITE),
    ("section_savings", "get", "/bids/{bid}/sections/savings/", WRITE),
    ("section_benefits", "get", "/bids/{bid}/sections/benefits/", WRITE),
    ("section_delivery", "get", "/bids/{bid}/sections/delivery/", WRITE),
    ("section_risks", "get", "/bids/{bid}/sections/risks/", WRITE),
    ("section_pathway", "get", "/bids/{bid}/sections/pathway/", WRITE),
    ("section_innovation", "get", "/bids/{bid}/sections/innovation/", WRITE),
    ("section_partners", "get", "/bids/{bid}/sections/partners/", WRITE),
    ("section_summary_save", "post", "/bids/{bid}/sections/summary/", expect(302, 403, 403, 403)),
    ("attachments", "get", "/bids/{bid}/sections/attachments/", WRITE),
    ("attachment_download", "get", "/bids/{bid}/attachments/{attachment}/", READ),
    ("attachment_remove", "post", "/bids/{bid}/attachments/{attachment}/remove/", expect(302, 403, 403, 403)),
    ("partner_search", "get", "/bids/{bid}/partners/search/?q=Trust", WRITE),
    ("partner_add", "get", "/bids/{bid}/partners/add/{organisation}/", WRITE),
    ("partner_change", "get", "/bids/{bid}/partners/{partner}/", WRITE),
    ("partner_remove", "post", "/bids/{bid}/partners/{partner}/remove/", expect(302, 403, 403, 403)),
    ("endorsement_request", "post", "/bids/{bid}/endorsement/request/", expect(302, 403, 403, 403)),
    ("bid_endorse", "get", "/bids/{bid}/endorsement/", expect(403, 200, 403, 403)),
    ("bid_check", "get", "/bids/{bid}/check/", WRITE),
    ("bid_submit", "post", "/bids/{bid}/check/", expect(200, 403, 403, 403)),
    ("bid_submitted", "get", "/bids/{bid}/submitted/", expect(302, 403, 403, 403)),
    ("bid_withdraw", "get", "/bids/{bid}/withdraw/", expect(302, 403, 403, 403)),
    ("bid_ineligible", "get", "/bids/{bid}/ineligible/", expect(403, 403, 200, 403)),
    ("bid_pdf_request", "post", "/bids/{bid}/pdf/", expect(302, 302, 302, 302)),
]
SUBMITTED_PAGES = [
    ("bid_detail", "get", "/bids/{bid}/", READ),
    ("attachment_download", "get", "/bids/{bid}/attachments/{attachment}/", READ),
    ("section_summary", "get", "/bids/{bid}/sections/summary/", expect(302, 403, 403, 403)),
    ("bid_submitted", "get", "/bids/{bid}/submitted/", expect(200, 403, 403, 403)),
    ("bid_withdraw", "get", "/bids/{bid}/withdraw/", expect(200, 403, 403, 403)),
    ("bid_withdraw_post", "post", "/bids/{bid}/withdraw/", expect(302, 403, 403, 403)),
    ("bid_endorse", "get", "/bids/{bid}/endorsement/", expect(403, 200, 403, 403)),
    ("bid_ineligible", "get", "/bids/{bid}/ineligible/", expect(403, 403, 200, 403)),
    ("bid_ineligible_post", "post", "/bids/{bid}/ineligible/", expect(403, 403, 302, 403)),
    ("bid_pdf_request", "post", "/bids/{bid}/pdf/", expect(302, 302, 302, 302)),
]
CALL_PAGES = [
    ("call_bids", "/bids/calls/{call}/", expect(403, 403, 200, 200, outsiders=403)),
    ("call_bids_export", "/bids/calls/{call}/export.csv", expect(403, 403, 200, 200, outsiders=403)),
    ("bid_start", "/bids/start/{call}/", expect(200, 200, 200, 200, outsiders=200)),
    ("bid_list", "/bids/", expect(200, 200, 200, 200, outsiders=200)),
]


@pytest.fixture
def scene(world, ready):
    """The ready (endorsed) bid, with a file and a second partner."""
    services.bid_attachment_add(actor=world.applicant, bid=ready, upload=upload("chart.png", PNG_BYTES))
    services.bid_partner_add(actor=world.applicant, bid=ready, organisation=world.other_org,
                             role=PartnerKind.SECONDARY_CARE, contribution="Beds")
    return ready


def _path(template, world, bid):
    return template.format(bid=bid.pk, attachment=bid.attachments.get().pk, organisation=world.other_icb.pk,
                           partner=bid.partners.filter(organisation=world.other_org).get().pk, call=world.call.slug)


def _statuses(world, method, path, expected, data=None, after=None) -> dict[str, int]:
    """Each role's status for the request. Roles that may act go last, so a refused request
    by anyone else is seen to change nothing before the allowed one changes the bid."""
    acting = [role for role in ROLES if role != "anonymous" and expected[role] in (200, 302)]
    got = {}
    for role in [r for r in ROLES if r not in acting] + acting:
        client = Client()
        if role != "anonymous":
            client.force_login(getattr(world, role))
        response = getattr(client, method)(path, data or {})
        got[role] = response.status_code
        if role == "anonymous" and response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")
        if after:
            after(role, response)
    return got


@pytest.mark.parametrize(("name", "method", "template", "expected"), DRAFT_PAGES, ids=[p[0] for p in DRAFT_PAGES])
def test_pages_of_a_draft_bid(world, scene, name, method, template, expected):
    data = {"version": "1", "title": "Changed"} if name == "section_summary_save" else None
    title = scene.title

    def after(role, response):
        if response.status_code == 404:
            assert title not in response.content.decode()
        if name == "section_summary_save":
            scene.refresh_from_db()
            assert (scene.title == "Changed") == (role == "applicant"), role

    assert _statuses(world, method, _path(template, world, scene), expected, data, after) == expected


@pytest.mark.parametrize(("name", "method", "template", "expected"), SUBMITTED_PAGES,
                         ids=[p[0] for p in SUBMITTED_PAGES])
def test_pages_of_a_submitted_bid(world, scene, name, method, template, expected):
    services.bid_submit(actor=world.applicant, bid=scene, declarations_confirmed=True)
    data = {"reason": "Not in the region"} if name == "bid_ineligible_post" else None
    changed = {"bid_withdraw_post": BidStatus.WITHDRAWN, "bid_ineligible_post": BidStatus.INELIGIBLE}.get(name)

    def after(role, response):
        scene.refresh_from_db()
        if changed:
            assert (scene.status == changed) == (response.status_code == 302 and role != "anonymous"), role
        else:
            assert scene.status == BidStatus.SUBMITTED

    assert _statuses(world, method, _path(template, world, scene), expected, data, after) == expected


@pytest.mark.parametrize(("name", "template", "expected"), CALL_PAGES, ids=[p[0] for p in CALL_PAGES])
def test_pages_about_a_call(world, scene, name, template, expected):
    assert _statuses(world, "get", template.format(call=world.call.slug), expected) == expected


def test_the_commissioner_sees_nothing_before_endorsement_is_asked(client, world, draft):
    services.bid_partners_save(actor=world.applicant, bid=draft, version=0, commissioner=world.icb)
    client.force_login(world.commissioner)
    assert client.get(f"/bids/{draft.pk}/").status_code == 404
    services.bid_endorsement_request(actor=world.applicant, bid=draft)
    assert client.get(f"/bids/{draft.pk}/").status_code == 200


def test_a_fund_manager_of_the_pots_network_sees_bids_in_that_pot_only(client, world, draft):
    from tests.factories.governance import FundManagerFactory, NetworkFactory, PotFactory

    region = NetworkFactory()
    regional_manager = FundManagerFactory(organisation=region).user
    client.force_login(regional_manager)
    assert client.get(f"/bids/{draft.pk}/").status_code == 404
    draft.pot = PotFactory(fund=world.call.fund, network=region)
    draft.save()
    assert client.get(f"/bids/{draft.pk}/").status_code == 200
    assert client.get(f"/bids/{draft.pk}/sections/summary/").status_code == 403


def test_a_later_stage_can_let_an_assigned_assessor_read_the_bid_and_its_files(client, world, scene):
    from applications.extensions import register_bid_reader, unregister_bid_reader

    def assigned(user, bid):
        return user == world.assessor and bid.pk == scene.pk

    client.force_login(world.assessor)
    attachment = scene.attachments.get()
    assert client.get(f"/bids/{scene.pk}/").status_code == 404
    register_bid_reader(assigned)
    try:
        assert client.get(f"/bids/{scene.pk}/").status_code == 200
        assert client.get(f"/bids/{scene.pk}/attachments/{attachment.pk}/").status_code == 200
        assert client.get(f"/bids/{scene.pk}/sections/summary/").status_code == 403
        client.force_login(world.chair)
        assert client.get(f"/bids/{scene.pk}/").status_code == 404
    finally:
        unregister_bid_reader(assigned)
