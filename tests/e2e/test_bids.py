"""A bid written, endorsed and submitted end to end, in a real browser.

Given an open call that needs a commissioner's endorsement, when an applicant fills in every
section, the commissioner endorses the bid and the applicant submits it, then the applicant
sees the reference. Every page visited passes the axe accessibility check.
"""

import re

import pytest
from playwright.sync_api import expect

from applications.models import Bid, BidStatus
from governance.models import AuditEvent
from tests.applications import conftest as bid_fixtures
from tests.e2e.conftest import check_accessibility

pytestmark = pytest.mark.django_db(transaction=True)
world = bid_fixtures.world  # the call and everyone around it


def save_section(page):
    page.get_by_role("button", name="Save and return to the task list").click()
    expect(page.locator(".nhsuk-notification-banner--success")).to_contain_text("saved")
    check_accessibility(page)


def open_task(page, name):
    page.locator(".nhsuk-task-list").get_by_role("link", name=name, exact=True).click()
    check_accessibility(page)


def fill_date(page, field_id, day, month, year):
    page.fill(f"#{field_id}_0", day)
    page.fill(f"#{field_id}_1", month)
    page.fill(f"#{field_id}_2", year)


def test_a_bid_is_written_endorsed_and_submitted(page, live_server, sign_in, world, tmp_path):
    call = world.call
    # Given the applicant on their bids page
    sign_in(world.applicant)
    page.goto(f"{live_server.url}/bids/")
    check_accessibility(page)
    # When they start a bid on the open call
    page.get_by_role("link", name=f"Start a bid for {call.title}").click()
    check_accessibility(page)
    page.get_by_label("Title of the bid").fill("Remote monitoring for frailty in North Devon")
    page.get_by_label(re.compile("Example Hospitals NHS Trust")).check()
    page.get_by_role("button", name="Start the bid").click()
    expect(page.locator("h1")).to_have_text("Remote monitoring for frailty in North Devon")
    expect(page.locator("main")).to_contain_text("You have completed 0 of 10 sections")
    check_accessibility(page)

    # And fills in the project summary
    open_task(page, "Project summary")
    page.get_by_label("Summary of the project").fill("Remote monitoring at home for people living with frailty.")
    page.get_by_label("The problem it solves").fill("Avoidable emergency admissions.")
    fill_date(page, "id_start_date", "1", "4", "2027")
    fill_date(page, "id_end_date", "31", "3", "2029")
    save_section(page)
    # The innovation
    open_task(page, "The innovation")
    page.get_by_label("Digital technology").check()
    page.get_by_label("Describe the innovation").fill("Wearable sensors and a monitoring hub.")
    page.get_by_label("Evidence base").fill("Evaluated in two regions.")
    save_section(page)
    # The care pathway
    open_task(page, "Care pathway")
    page.get_by_label("Community care").check()
    page.get_by_label("Patients at home").check()
    page.get_by_label("Describe the care pathway").fill("GP referral, community assessment, monitoring at home.")
    save_section(page)
    # Partners: the ICB found by name, added as commissioner, and named to endorse the bid
    open_task(page, "Partners")
    page.get_by_label("Organisation name or ODS code").fill("Example ICB")
    page.get_by_role("button", name="Find an organisation").click()
    check_accessibility(page)
    page.get_by_role("link", name="Add NHS Example ICB as a partner").click()
    check_accessibility(page)
    page.get_by_label("Commissioner", exact=True).check()
    page.get_by_label("What will they contribute?").fill("Commissioning support and data.")
    page.get_by_role("button", name="Add the partner").click()
    expect(page.locator("main")).to_contain_text("NHS Example ICB added as a partner")
    check_accessibility(page)
    page.get_by_label("Commissioning organisation that will endorse the bid").select_option(label=str(world.icb))
    save_section(page)
    # Costs, with the total shown as they type
    open_task(page, "Costs")
    for index, (year, category, amount) in enumerate([("2027/28", "Staff", "60,000"), ("2028/29", "Evaluation", "40000")]):
        page.select_option(f"#id_costs-{index}-financial_year", label=year)
        page.select_option(f"#id_costs-{index}-category", label=category)
        page.select_option(f"#id_costs-{index}-nature", label="Revenue")
        page.fill(f"#id_costs-{index}-amount", amount)
    expect(page.locator('[data-total="cost"]')).to_have_text("£100,000")
    save_section(page)
    # Savings, with the projected return shown as they type, as the server works it out
    open_task(page, "Projected savings")
    for index, (year, kind, amount) in enumerate([("2027/28", "Cashable", "50000"), ("2028/29", "Non-cashable", "135000")]):
        page.select_option(f"#id_savings-{index}-financial_year", label=year)
        page.select_option(f"#id_savings-{index}-kind", label=kind)
        page.select_option(f"#id_savings-{index}-realised_by", index=1)
        page.select_option(f"#id_savings-{index}-care_setting", label="Secondary care")
        page.fill(f"#id_savings-{index}-amount", amount)
        page.fill(f"#id_savings-{index}-assumptions", "Fewer admissions at £3,200 each.")
    expect(page.locator("[data-return]")).to_have_text("1.85")
    save_section(page)
    # Patient benefits
    open_task(page, "Patient benefits")
    page.fill("#id_measures-0-name", "Bed days avoided")
    page.fill("#id_measures-0-unit", "days")
    page.fill("#id_measures-0-baseline", "0")
    page.fill("#id_measures-0-target", "900")
    fill_date(page, "id_measures-0-target_date", "31", "3", "2029")
    save_section(page)
    # Delivery plan and a milestone
    open_task(page, "Delivery plan and milestones")
    page.get_by_label("Delivery plan").fill("Mobilise in quarter 1, live in quarter 2.")
    page.fill("#id_milestones-0-title", "Service live")
    fill_date(page, "id_milestones-0-due_date", "1", "9", "2027")
    save_section(page)
    # Risks
    open_task(page, "Risks")
    page.fill("#id_risks-0-description", "Slow recruitment of nurses.")
    page.select_option("#id_risks-0-likelihood", label="Medium")
    page.select_option("#id_risks-0-impact", label="High")
    page.fill("#id_risks-0-mitigation", "Bank staff meanwhile.")
    save_section(page)
    # Attachments: a PDF uploaded, then the section saved
    open_task(page, "Attachments")
    report = tmp_path / "evaluation.pdf"
    report.write_bytes(bid_fixtures.PDF_BYTES)
    page.get_by_label("Upload a file").set_input_files(str(report))
    page.get_by_role("button", name="Upload the file").click()
    expect(page.get_by_role("link", name="evaluation.pdf")).to_be_visible()
    check_accessibility(page)
    save_section(page)
    expect(page.locator("main")).to_contain_text("You have completed 10 of 10 sections")

    # Then the check page says it still needs the endorsement
    page.get_by_role("link", name="Check your answers, make the declarations and submit").click()
    expect(page.locator("main")).to_contain_text("The commissioner must endorse the bid")
    check_accessibility(page)
    page.goto(f"{live_server.url}{Bid.objects.get().get_absolute_url()}")
    # When they ask the commissioner to endorse it
    page.get_by_role("button", name="Ask NHS Example ICB to endorse the bid").click()
    expect(page.locator("main")).to_contain_text("has been asked to endorse the bid")
    check_accessibility(page)

    # And the commissioner reads the bid from their dashboard and endorses it
    page.context.clear_cookies()
    sign_in(world.commissioner)
    page.goto(f"{live_server.url}/dashboard/")
    check_accessibility(page)
    page.get_by_role("link", name="Remote monitoring for frailty in North Devon").click()
    expect(page.locator("main")).to_contain_text("Remote monitoring at home for people living with frailty.")
    check_accessibility(page)
    page.get_by_label("Yes, we endorse it").check()
    page.get_by_label("Comment for the bid's writers").fill("We will sustain the service if it succeeds.")
    page.get_by_role("button", name="Send the decision").click()
    expect(page.locator("main")).to_contain_text("the bid's writers have been told your decision")
    check_accessibility(page)

    # And the applicant checks their answers, makes the declarations and submits
    page.context.clear_cookies()
    sign_in(world.applicant)
    page.goto(f"{live_server.url}/bids/{Bid.objects.get().pk}/check/")
    expect(page.locator("main")).not_to_contain_text("cannot be submitted yet")
    check_accessibility(page)
    for checkbox in page.locator("input[name=declarations]").all():
        checkbox.check()
    page.get_by_role("button", name="Submit the bid").click()

    # Then they see the reference
    bid = Bid.objects.get()
    expect(page.locator("h1")).to_have_text("Bid submitted")
    expect(page.locator("#bid-reference")).to_have_text(bid.reference)
    assert re.fullmatch(rf"{world.network.short_name}-2627-0001", bid.reference)
    check_accessibility(page)
    assert bid.status == BidStatus.SUBMITTED
    assert AuditEvent.objects.filter(action="bid.submitted", target_id=str(bid.pk)).count() == 1
    # And the submitted bid can be read but no longer changed
    page.goto(f"{live_server.url}{bid.get_absolute_url()}")
    expect(page.locator("main")).to_contain_text("Submitted")
    expect(page.get_by_role("button", name="Withdraw this bid")).to_be_visible()
    check_accessibility(page)
