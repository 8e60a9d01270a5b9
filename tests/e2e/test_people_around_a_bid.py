"""The people around a bid: the assessor pool and invitations, the bid team, and panel packs.

Given a call in assessment and three people in the network's assessor pool (one with a declared
interest in a partner on one bid), when the fund manager invites all three, two accept and one
declines (first without a reason, which is answered next to the field), then automatic
assignment uses only the two who accepted and never gives the interested one the bid they
declared. Given a draft bid with a partner, when the bid lead invites the partner's contact to
edit one section, then the contact joins, completes the section and signs off; the task list
says who completed it. Given a chair conflicted on one bid, when they build a panel pack, then
the zip holds every other bid, by reference, and not theirs. Every page passes axe.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from playwright.sync_api import expect

from applications.models import BidCollaborator, PartnerSignOff
from assessment.models import AssessorInvitation, Assignment
from governance.models import CallStatus, MembershipRole, PartnerKind
from tests.assessment.conftest import make_world
from tests.assessment.pool_scene import pooled
from tests.e2e.conftest import check_accessibility
from tests.factories.applications import BidFactory, BidPartnerFactory
from tests.factories.governance import CallFactory, MembershipFactory, OrganisationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _as(page, sign_in, user):
    page.context.clear_cookies()
    sign_in(user)


def _answer(page, base, person, *, accept: bool, reason: str = ""):
    page.goto(base + "/assessment/")
    check_accessibility(page)
    page.get_by_role("link", name=re.compile("Frailty challenge")).click()
    expect(page.locator("h1")).to_have_text("Invitation to assess")
    check_accessibility(page)
    page.get_by_label("Yes, I will assess the bids on this call" if accept else "No, I cannot").check()
    if reason:
        page.get_by_label(reason).check()
    page.get_by_role("button", name="Send my answer").click()


def test_pool_invitations_bid_team_and_panel_pack(page, live_server, sign_in):
    base = live_server.url
    world = make_world(bids=0, assessors_per_bid=2, status=CallStatus.ASSESSMENT)
    world.call.title = "Frailty challenge"
    world.call.save()
    interest = OrganisationFactory(network=world.network, name="Interested Partner Trust")
    plain = world.new_bid(title="Plain bid")
    partnered = world.new_bid(title="Partnered bid")
    BidPartnerFactory(bid=partnered, organisation=interest, role=PartnerKind.SECONDARY_CARE)
    chair_trust = OrganisationFactory(network=world.network, name="Chair's Own NHS Trust")
    MembershipFactory(user=world.chair, organisation=chair_trust)
    chairs = world.new_bid(title="The chair's own bid", lead=chair_trust)
    ann = pooled(world, "Ann Accepts", declare=False)
    ben = pooled(world, "Ben Interested", interests=[interest])
    dee = pooled(world, "Dee Declines")

    # Given the fund manager's pool page
    sign_in(world.manager)
    page.goto(base + f"/assessment/pool/{world.network.pk}/")
    expect(page.locator("#main-content, main").first).to_contain_text("Ben Interested")
    check_accessibility(page)
    # When they invite all three to the call
    page.goto(base + f"/assessment/calls/{world.call.slug}/invitations/")
    check_accessibility(page)
    for person in ("Ann Accepts", "Ben Interested", "Dee Declines"):
        page.get_by_label(re.compile(f"^{person}")).check()
    page.get_by_role("button", name="Send the invitations").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("3 people invited.")
    check_accessibility(page)

    # Ann makes her yearly declaration, then accepts
    _as(page, sign_in, ann)
    page.goto(base + "/assessment/declaration/")
    check_accessibility(page)
    page.get_by_label("Your interests").fill("None")
    page.get_by_label("I accept the confidentiality terms").check()
    page.get_by_role("button", name="Make the declaration").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("It lapses on 6 April 2027")
    _answer(page, base, ann, accept=True)
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("you will assess bids")
    # Ben accepts
    _as(page, sign_in, ben)
    _answer(page, base, ben, accept=True)
    # Dee declines without a reason: answered next to the field, then with one
    _as(page, sign_in, dee)
    _answer(page, base, dee, accept=False)
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#id_reason-error")).to_contain_text("Choose why you cannot assess")
    check_accessibility(page)
    page.get_by_label("No, I cannot").check()
    page.get_by_label("Not available").check()
    page.get_by_role("button", name="Send my answer").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("your answer is recorded")
    assert dict(AssessorInvitation.objects.values_list("invitee__full_name", "status")) == {
        "Ann Accepts": "accepted", "Ben Interested": "accepted", "Dee Declines": "declined"}

    # When the fund manager assigns automatically
    _as(page, sign_in, world.manager)
    page.goto(base + f"/assessment/calls/{world.call.slug}/")
    page.get_by_role("button", name="Assign assessors automatically").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("5 assignments made.")
    check_accessibility(page)
    made = {(a.bid_id, a.assessor.full_name) for a in Assignment.objects.select_related("assessor")}
    # Then only the two who accepted, and never Ben on the bid he declared an interest in
    assert made == {(plain.pk, "Ann Accepts"), (plain.pk, "Ben Interested"), (partnered.pk, "Ann Accepts"),
                    (chairs.pk, "Ann Accepts"), (chairs.pk, "Ben Interested")}

    # Given a draft bid with a partner, on an open call
    open_call = CallFactory(fund=world.fund, pots=[world.pot], title="Open call", partner_sign_off_required=True)
    partner_org = OrganisationFactory(network=world.network, name="Partner Community Trust")
    bid = BidFactory(call=open_call, lead_organisation=world.lead, created_by=world.applicant, title="Team bid")
    BidPartnerFactory(bid=bid, organisation=partner_org, role=PartnerKind.COMMUNITY)
    pat = MembershipFactory(organisation=partner_org, role=MembershipRole.MEMBER,
                            user__full_name="Pat Partner", user__email="pat@partner.nhs.uk").user
    # When the bid lead invites the partner's contact to edit the innovation section
    _as(page, sign_in, world.applicant)
    page.goto(base + f"/bids/{bid.pk}/team/")
    check_accessibility(page)
    page.get_by_label("Their email address").fill("pat@partner.nhs.uk")
    page.get_by_label("Who they speak for").select_option(label="Partner Community Trust")
    page.get_by_label("Edit sections").check()
    page.get_by_label("The innovation").check()
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("pat@partner.nhs.uk is invited")
    check_accessibility(page)
    token = BidCollaborator.objects.get(bid=bid).token

    # Then the partner joins, completes the section and signs off
    _as(page, sign_in, pat)
    page.goto(base + f"/bids/team/join/{token}/")
    check_accessibility(page)
    page.get_by_role("button", name="Join the bid team").click()
    expect(page.locator("h1")).to_have_text("Team bid")
    page.get_by_role("link", name="The innovation", exact=True).click()
    page.get_by_label("Describe the innovation").fill("A community frailty hub.")
    page.get_by_label("Evidence base").fill("Two evaluations in the region.")
    check_accessibility(page)
    page.get_by_role("button", name="Save and return to the task list").click()
    expect(page.locator("#task-innovation-hint")).to_contain_text("Completed by Pat Partner")
    check_accessibility(page)
    page.get_by_role("link", name="Sign off for your organisation").click()
    check_accessibility(page)
    page.get_by_label("I confirm my organisation agrees to its part of this bid as written").check()
    page.get_by_role("button", name="Sign off").click()
    expect(page.locator("#sign-offs")).to_contain_text("Signed off by Pat Partner")
    check_accessibility(page)
    assert PartnerSignOff.objects.filter(bid=bid, organisation=partner_org).exists()

    # Given the chair, conflicted on their own trust's bid: when they build a panel pack
    _as(page, sign_in, world.chair)
    page.goto(base + f"/assessment/calls/{world.call.slug}/packs/")
    check_accessibility(page)
    expect(page.locator("main")).not_to_contain_text("The chair's own bid")
    page.get_by_role("button", name=re.compile("Build a pack of every bid")).click()
    expect(page.locator("#pack-status")).to_contain_text("Ready to download", timeout=60000)
    expect(page.locator("#pack-status")).to_contain_text("2 of 2 bids done")
    check_accessibility(page)
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("^Download")).click()
    names = zipfile.ZipFile(io.BytesIO(open(info.value.path(), "rb").read())).namelist()  # noqa: SIM115
    # Then the pack holds every bid they may see, by reference, and not the one they are conflicted on
    assert sorted(names) == sorted([f"{plain.reference}/{plain.reference}.pdf",
                                    f"{partnered.reference}/{partnered.reference}.pdf"])
    assert not any(chairs.reference in name for name in names)
