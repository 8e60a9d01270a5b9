"""From a panel's decision to an accepted offer.

Given a released decision to fund, when the fund manager issues the award, then the offer
letter is made; when the recipient's authorised signatory downloads and reads the letter and
accepts the offer, then the award is accepted. Every page passes the accessibility check.
"""

import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from awards.models import Award, AwardStatus
from governance import fy
from tests.awards.conftest import first_award_year, make_world
from tests.e2e.conftest import check_accessibility

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_decision_becomes_an_accepted_offer(page, live_server, sign_in, tmp_path):
    # Given a released decision to fund, with a condition set by the panel
    world = make_world()
    world.decision.conditions = ["Commissioner agreement to sustain the service after the award"]
    world.decision.save()
    bid = world.decision.bid
    y = first_award_year()

    # When the fund manager finds it on their dashboard
    sign_in(world.manager)
    page.goto(live_server.url + "/dashboard/")
    expect(page.get_by_role("heading", name="Awards to act on")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Decisions ready for an award").first.click()
    expect(page.locator("h1")).to_have_text("Decisions ready for an award")
    check_accessibility(page)
    page.get_by_role("link", name=re.compile(f"Issue award for {bid.reference}")).click()

    # Then the issue form is pre-filled from the bid; they move some money to the second year
    expect(page.locator("h1")).to_have_text(f"Issue an award for {bid.reference}")
    expect(page.get_by_label(fy.label(y), exact=True)).to_have_value("100000.00")
    check_accessibility(page)
    page.get_by_label(fy.label(y), exact=True).fill("90000")
    page.get_by_role("button", name="Issue the award and make the offer letter").click()
    # A profile that no longer adds up is shown on the profile, and nothing is issued
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#profile-error")).to_contain_text("The profile must add up to the amount awarded")
    check_accessibility(page)
    assert not Award.objects.exists()
    page.get_by_label(fy.label(y + 1), exact=True).fill("110000")
    page.get_by_role("button", name="Issue the award and make the offer letter").click()

    # Then the award is offered and its letter is made
    expect(page.locator("h1")).to_have_text(bid.title)
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"Award {bid.reference} offered")
    expect(page.get_by_role("link", name="Offer letter version 1 (PDF)")).to_be_visible()
    check_accessibility(page)

    # When the recipient's authorised signatory signs in
    page.context.clear_cookies()
    sign_in(world.signatory)
    page.goto(live_server.url + "/dashboard/")
    expect(page.get_by_role("heading", name="Your awards")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name=re.compile(bid.reference)).first.click()
    expect(page.locator("h1")).to_have_text(bid.title)
    check_accessibility(page)

    # And downloads and reads the letter
    with page.expect_download() as download:
        page.get_by_role("link", name="Offer letter version 1 (PDF)").click()
    pdf_path = tmp_path / "letter.pdf"
    download.value.save_as(pdf_path)
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(pdf_path).pages).split())
    award = Award.objects.get()
    assert "Offer of funding" in text
    assert bid.reference in text
    assert "£200,000.00" in text
    assert f"{fy.label(y)} £90,000.00" in text
    assert f"{fy.label(y + 1)} £110,000.00" in text
    assert "Commissioner agreement to sustain the service after the award" in text
    assert f"Accept or decline this offer by {award.offer_deadline:%-d %B %Y}" in text

    # And accepts the offer
    page.get_by_role("button", name="Accept or decline the offer").click()
    expect(page.locator("h1")).to_have_text("Accept or decline the offer")
    check_accessibility(page)
    page.get_by_role("button", name="Accept the offer").click()
    # Accepting needs the signatory's confirmation, shown next to the box
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#id_accept-confirm-error")).to_contain_text("Confirm that you are authorised")
    check_accessibility(page)
    page.get_by_label(re.compile("I am an authorised signatory")).check()
    page.get_by_role("button", name="Accept the offer").click()

    # Then the award is accepted
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"You accepted the offer for {bid.reference}")
    expect(page.locator("main .nhsuk-tag").first).to_have_text("Accepted")
    check_accessibility(page)
    award.refresh_from_db()
    assert award.status == AwardStatus.ACCEPTED
    assert award.accepted_by == world.signatory


def test_every_other_awards_page_passes_the_accessibility_check(page, live_server, sign_in):
    # Given an accepted award with evidence waiting for review and a variation requested
    from awards import services
    from awards.models import VariationKind
    from tests.awards.conftest import accept, issue, pdf_upload

    world = make_world()
    world.decision.conditions = ["Data protection impact assessment (DPIA) completed"]
    world.decision.save()
    award = accept(world, issue(world))
    condition = award.conditions.get()
    services.condition_evidence_submit(actor=world.member, condition=condition, upload=pdf_upload())
    ref = award.reference

    # When the grantee opens their pages, then each passes
    sign_in(world.member)
    for path, heading in [
        (f"/awards/{ref}/conditions/{condition.pk}/evidence/", "Send evidence for a condition"),
        (f"/awards/{ref}/variations/new/", "Ask for a variation"),
        ("/awards/", "Your awards"),
    ]:
        page.goto(live_server.url + path)
        expect(page.locator("h1")).to_have_text(heading)
        check_accessibility(page)
    variation = services.variation_request(actor=world.member, award=award, kind=VariationKind.REPROFILE,
                                           reasons="Recruitment slipped.",
                                           proposed_profile={first_award_year(): 80000, first_award_year() + 1: 120000})
    # With a request waiting, asking again leads to the request
    page.goto(live_server.url + f"/awards/{ref}/variations/new/")
    expect(page.locator("h1")).to_have_text("Re-profile across years")
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("A variation is already waiting")
    check_accessibility(page)

    # And the fund manager's pages
    page.context.clear_cookies()
    sign_in(world.manager)
    for path, heading in [
        (f"/awards/{ref}/conditions/{condition.pk}/review/", "Review a condition"),
        (f"/awards/{ref}/variations/{variation.pk}/", "Re-profile across years"),
        (f"/awards/{ref}/status/withdraw/", "Withdraw the award"),
        (f"/awards/funds/{world.fund.slug}/conditions/", "Standard conditions"),
        (world.fund.get_absolute_url(), world.fund.name),
        ("/awards/?status=accepted", "Awards"),
    ]:
        page.goto(live_server.url + path)
        expect(page.locator("h1")).to_have_text(heading)
        check_accessibility(page)
    # A form sent back with errors passes too
    page.goto(live_server.url + f"/awards/{ref}/variations/{variation.pk}/")
    page.get_by_role("button", name="Save the decision").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    check_accessibility(page)


def test_evidence_with_macros_is_refused_next_to_the_field_and_a_file_awaiting_its_scan_says_why(
        page, live_server, sign_in, tmp_path, settings):
    # Given an accepted award with a condition, and a virus scanner set up (never reached here)
    from awards.models import AwardCondition
    from tests.awards.conftest import accept, issue
    from tests.upload_cases import DOCM, PDF

    settings.CLAMD_ADDRESS = "/nonexistent/clamd.sock"
    world = make_world()
    world.decision.conditions = ["Data protection impact assessment (DPIA) completed"]
    world.decision.save()
    award = accept(world, issue(world))
    condition = award.conditions.get()
    sign_in(world.member)
    page.goto(live_server.url + f"/awards/{award.reference}/conditions/{condition.pk}/evidence/")

    # When the grantee sends nothing, then the file field says a file is needed
    page.get_by_role("button", name="Send evidence").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#id_file-error")).to_contain_text("Select a file to upload")
    check_accessibility(page)

    # When they send a macro-enabled document named .docx, then it is refused next to the field
    macro = tmp_path / "dpia.docx"
    macro.write_bytes(DOCM)
    page.get_by_label("Upload evidence").set_input_files(str(macro))
    page.get_by_role("button", name="Send evidence").click()
    expect(page.locator("#id_file-error")).to_contain_text("contains macros")
    check_accessibility(page)

    # When they send a PDF, then it waits for its virus scan and cannot be opened yet
    report = tmp_path / "dpia.pdf"
    report.write_bytes(PDF)
    page.get_by_label("Upload evidence").set_input_files(str(report))
    page.get_by_role("button", name="Send evidence").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("being checked for viruses")
    expect(page.locator("main")).to_contain_text("dpia.pdf (being checked for viruses)")
    check_accessibility(page)
    page.goto(live_server.url + f"/awards/{award.reference}/conditions/{condition.pk}/evidence/file/")
    expect(page.locator("main")).to_contain_text("This file is being checked for viruses")
    check_accessibility(page)
    assert AwardCondition.objects.get(pk=condition.pk).evidence_scan_status == "awaiting_scan"


def test_a_manager_records_a_payment_and_finds_it_on_the_audit_trail(page, live_server, sign_in):
    # Given an active award whose first instalment is released and whose second waits for its return
    from awards import services
    from tests.awards.conftest import accept_and_start, issue

    world = make_world()
    world.decision.conditions = ["DPIA completed"]
    world.decision.save()
    award = accept_and_start(world, issue(world))
    first, second = award.instalments.order_by("financial_year", "quarter")[:2]
    services.instalment_release(actor=world.manager, instalment=first)

    # When the fund manager opens the award
    sign_in(world.manager)
    page.goto(live_server.url + award.get_absolute_url())
    # Then the next step is to record the payment, and the second instalment says what it waits for
    expect(page.locator("#next-step")).to_contain_text(f"The {first.label} instalment is released")
    expect(page.get_by_role("button", name=f"Release {second.label}")).to_have_count(0)
    expect(page.locator(".app-waits-for").first).to_contain_text(re.compile("waits for (its|a) monitoring return"))
    check_accessibility(page)

    # When they record the payment with the finance system's reference
    page.get_by_role("button", name=f"Record payment of {first.label}").click()
    expect(page.locator("h1")).to_have_text(f"Record the payment of the {first.label} instalment")
    check_accessibility(page)
    page.get_by_label("Finance system payment reference").fill("=1+1")
    page.get_by_role("button", name="Record the payment").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    check_accessibility(page)
    page.get_by_label("Finance system payment reference").fill("AP-2026-004512")
    page.get_by_role("button", name="Record the payment").click()

    # Then the schedule shows the remittance
    expect(page.locator(".app-remittance").first).to_contain_text("reference AP-2026-004512")

    # And the audit trail, filtered by the award's reference, shows it in plain words
    page.goto(live_server.url + f"/manage/funds/{world.fund.slug}/audit/?reference={award.reference}")
    expect(page.get_by_role("heading", name="Payment recorded")).to_be_visible()
    expect(page.get_by_role("heading", name="Condition signed off as met")).to_be_visible()
    check_accessibility(page)
