"""A grantee files a monitoring return and the fund manager approves it.

Given an active award whose last quarter has ended and whose return is open, when the grantee
fills in every section from their dashboard (meeting the variance rule on the way) and submits
it from the check page, then the fund manager finds it on their dashboard, reviews and approves
it, and the instalment waiting on it is released. Every page passes the accessibility check.
"""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from awards.models import InstalmentStatus
from reporting.models import MonitoringReturn, ReturnStatus
from reporting.monitoring import services
from reporting.monitoring.selectors import period_profile
from tests.e2e.conftest import check_accessibility
from tests.reporting.conftest import make_monitoring_world

pytestmark = pytest.mark.django_db(transaction=True)


def _save(page, heading: str):
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"{heading} saved.")
    check_accessibility(page)


def _open_section(page, name: str):
    page.get_by_role("link", name=name, exact=True).click()
    expect(page.locator("h1")).to_have_text(name)
    check_accessibility(page)


def test_a_grantee_files_a_return_and_the_manager_approves_it(page, live_server, sign_in):
    # Given an active award whose last quarter's return is open
    mw = make_monitoring_world()
    services.returns_open_ended()
    ret = mw.ended()[-1]
    ret.refresh_from_db()
    profile = period_profile(ret)
    staff = (profile * Decimal("0.75")).quantize(Decimal("0.01"))

    # When the grantee opens it from their dashboard
    sign_in(mw.member)
    page.goto(live_server.url + "/dashboard/")
    expect(page.get_by_role("heading", name="Your monitoring returns")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name=f"{mw.award.reference} return for {ret.period_label}").click()
    expect(page.locator("h1")).to_have_text(f"Monitoring return for {ret.period_label}")
    check_accessibility(page)

    # Spend: 30% over the profile needs an explanation, shown next to the field
    _open_section(page, "Spend against the profile")
    page.get_by_label("Staff").fill(str((profile * Decimal("1.3")).quantize(Decimal("0.01"))))
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#id_section-explanation-error")).to_contain_text("explain the variance of more than 10%")
    check_accessibility(page)
    page.get_by_label("Staff").fill(str(staff))
    page.get_by_label("Evaluation").fill(str(profile - staff))
    _save(page, "Spend against the profile")

    _open_section(page, "Savings realised")
    row = page.locator("#row-1")
    row.get_by_label("Kind of saving").select_option("cashable")
    row.get_by_label("Whose budget it fell in").select_option(str(mw.lead.pk))
    row.get_by_label("Where on the pathway").select_option("secondary")
    row.get_by_label("Amount realised in the period").fill("12,500")
    _save(page, "Savings realised")

    _open_section(page, "Patient benefits")
    page.locator("#row-1").get_by_label("Actual value at the end of the period").fill("140")
    page.locator("#row-2").get_by_label("Actual value at the end of the period").fill("33.5")
    _save(page, "Patient benefits")

    _open_section(page, "Adoption and spread")
    page.get_by_label("Organisations now using the innovation").fill("3")
    page.get_by_label("Sites now using it").fill("7")
    page.get_by_label("Patients reached so far").fill("420")
    _save(page, "Adoption and spread")

    _open_section(page, "Milestones")
    page.locator("#row-1").get_by_label("Done").check()
    page.locator("#row-2").get_by_label("On track").check()
    _save(page, "Milestones")

    _open_section(page, "Risks and issues")
    page.get_by_label("Risks and issues").fill("Recruitment of a second nurse is slow.")
    _save(page, "Risks and issues")

    _open_section(page, "Savings reinvested locally")
    page.locator("#row-1").get_by_label("Amount reinvested").fill("2000")
    page.locator("#row-1").get_by_label("Where it went").fill("Falls classes in community hubs")
    _save(page, "Savings reinvested locally")

    _open_section(page, "RAG status")
    page.get_by_label("Green").check()
    page.get_by_label("Reason for the status").fill("On track.")
    _save(page, "RAG status")

    _open_section(page, "Narrative and lessons learned")
    page.get_by_label("How the project went in this period").fill("The service went live in two practices.")
    _save(page, "Narrative and lessons learned")

    # And checks the answers and submits
    page.get_by_role("button", name="Check your answers and submit").click()
    expect(page.locator("h1")).to_have_text(f"Check your answers before submitting the return for {ret.period_label}")
    expect(page.locator("body")).to_contain_text("£12,500.00")
    check_accessibility(page)
    page.get_by_label("I confirm the return is accurate and complete").check()
    page.get_by_role("button", name="Submit the return").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Return submitted")
    check_accessibility(page)
    assert MonitoringReturn.objects.get(pk=ret.pk).status == ReturnStatus.SUBMITTED

    # Then the fund manager finds it on their dashboard
    page.context.clear_cookies()
    sign_in(mw.manager)
    page.goto(live_server.url + "/dashboard/")
    expect(page.get_by_role("heading", name="Monitoring returns", exact=True)).to_be_visible()
    check_accessibility(page)
    page.get_by_role("link", name="Returns awaiting your review").click()
    expect(page.locator("h1")).to_have_text("Monitoring returns")
    check_accessibility(page)
    page.get_by_role("link", name=re.compile(f"return for {re.escape(mw.award.reference)}")).click()
    expect(page.get_by_role("button", name="Review this return")).to_be_visible()
    check_accessibility(page)

    # And approves it, which releases the next quarter's instalment
    page.get_by_role("button", name="Review this return").click()
    expect(page.locator("h1")).to_have_text(f"Review the return for {ret.period_label}")
    check_accessibility(page)
    page.get_by_label("Approve the return").check()
    page.get_by_label("Comments for the grantee").fill("Thank you: a clear return.")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"Return approved. The {ret.instalment.label} instalment")
    check_accessibility(page)
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.APPROVED
    assert ret.instalment.status == InstalmentStatus.RELEASED

    # And sees it on the portfolio dashboard
    page.get_by_role("link", name="Monitoring", exact=True).click()
    expect(page.locator("h1")).to_have_text("Monitoring portfolio")
    expect(page.locator("#awards ~ .app-table-wrapper")).to_contain_text(mw.award.reference)
    check_accessibility(page)
    page.get_by_role("combobox", name="Latest RAG status").select_option("green")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("h1")).to_have_text("Monitoring portfolio")
    check_accessibility(page)
