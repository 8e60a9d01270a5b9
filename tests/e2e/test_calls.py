"""Given a fund manager, when they create a fund, a pot with a three-year budget, a panel and a
call with criteria and rubric and open it, then an anonymous visitor finds the call on /calls/
and reads its criteria. Every page visited passes the accessibility check."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from governance import fy
from governance.models import Call, CallStatus, MembershipRole
from tests.e2e.conftest import check_accessibility
from tests.factories.governance import MembershipFactory, NetworkFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _fill_moment(page, field: str, moment: dt.datetime) -> None:
    local = timezone.localtime(moment)
    page.fill(f"#id_{field}_0", str(local.day))
    page.fill(f"#id_{field}_1", str(local.month))
    page.fill(f"#id_{field}_2", str(local.year))
    page.fill(f"#id_{field}_3", local.strftime("%H:%M"))


def _add_criterion(page, kind: str, title: str, weight: int, gateway: str = "") -> None:
    page.get_by_role("button", name="Add a criterion").or_(page.get_by_role("link", name="Add a criterion")).first.click()
    expect(page.locator("h1")).to_have_text("Add a criterion")
    check_accessibility(page)
    page.select_option("#id_kind", kind)
    page.fill("#id_title", title)
    page.fill("#id_guidance_for_applicants", f"Show the evidence for {title.lower()}.")
    page.fill("#id_guidance_for_assessors", f"Score {title.lower()} against the rubric.")
    page.fill("#id_weight", str(weight))
    page.fill("#id_gateway_min_score", gateway)
    for score, words in enumerate(["No evidence", "Weak", "Adequate", "Good", "Excellent"]):
        page.fill(f"#id_descriptor_{score}", f"{words} {title.lower()}")
    page.get_by_role("button", name="Add the criterion").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("and its rubric are saved")
    check_accessibility(page)


def test_a_fund_manager_opens_a_call_and_the_public_reads_its_criteria(page, live_server, sign_in):
    network = NetworkFactory(name="Health Innovation South West", short_name="HISW")
    manager = UserFactory(email="sam@example.com", full_name="Sam Trelawney")
    MembershipFactory(user=manager, organisation=network, role=MembershipRole.FUND_MANAGER)
    assessor = UserFactory(email="hannah@example.com", full_name="Dr Hannah Clarke")
    this_year = fy.FinancialYear.of(timezone.localdate()).start_year
    years = [fy.label(this_year + n) for n in range(3)]

    # Given a fund manager signed in
    sign_in(manager)
    page.goto(live_server.url + "/manage/funds/")
    check_accessibility(page)

    # When they create a national fund over three financial years
    page.get_by_role("button", name="Create a fund").click()
    check_accessibility(page)
    page.fill("#id_name", "Frailty Innovation Fund")
    page.fill("#id_description", "Money to adopt proven frailty innovations.")
    page.fill("#id_priorities", "Falls prevention\nCare closer to home")
    page.get_by_label("National competitive: one pot, all bids ranked together").check()
    page.fill("#id_first_year", years[0])
    page.fill("#id_last_year", years[2])
    page.get_by_role("button", name="Create the fund").click()
    expect(page.locator("h1")).to_have_text("Frailty Innovation Fund")
    check_accessibility(page)

    # And add its pot, with a budget for each of the three years
    page.get_by_role("button", name="Add a pot").click()
    check_accessibility(page)
    expect(page.locator("#id_name")).to_have_value("National pot")
    page.get_by_role("button", name="Add the pot").click()
    expect(page.locator("h1")).to_have_text("National pot")
    check_accessibility(page)
    # A bad amount is refused with a message next to the field
    page.fill("#id_amount", "12.345")
    page.get_by_role("button", name="Save the budget").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#id_amount-error")).to_contain_text("no more than 2 decimal places")
    check_accessibility(page)
    for year, amount in zip(years, ["500,000", "750000", "250000.50"], strict=True):
        expect(page.locator("#id_financial_year")).to_have_value(year)
        page.fill("#id_amount", amount)
        page.get_by_role("button", name="Save the budget").click()
        expect(page.locator(".nhsuk-notification-banner")).to_contain_text(f"The budget for {year} has been saved")
        check_accessibility(page)
    expect(page.locator("table")).to_contain_text("£1,500,000.50")

    # And a panel with an assessor
    page.get_by_role("link", name="Back to the fund").click()
    expect(page.locator("main")).to_contain_text("£1,500,000.50")  # the pots' totals table
    page.get_by_role("button", name="Create a panel").click()
    check_accessibility(page)
    page.fill("#id_name", "Frailty panel")
    page.get_by_role("button", name="Create the panel").click()
    expect(page.locator("h1")).to_have_text("Frailty panel")
    check_accessibility(page)
    page.fill("#id_email", "hannah@example.com")
    page.get_by_label("Assessor", exact=True).check()
    page.get_by_role("button", name="Add the member").click()
    expect(page.locator("h1")).to_have_text(assessor.full_name)
    check_accessibility(page)

    # And create a call that opens now and closes in a month
    page.get_by_role("link", name="Frailty Innovation Fund").first.click()
    page.get_by_role("button", name="Create a call").click()
    check_accessibility(page)
    page.fill("#id_title", "Falls detection at home")
    page.fill("#id_summary", "Adopt proven falls detection for people living with frailty.")
    page.get_by_label("Adoption of proven innovation").check()
    page.get_by_label("Digital technology").check()
    page.get_by_label("Medical device").check()
    _fill_moment(page, "opens_at", timezone.now() - dt.timedelta(hours=1))
    _fill_moment(page, "closes_at", timezone.now() + dt.timedelta(days=30))
    page.get_by_label("NHS trust", exact=True).check()
    page.get_by_label("Integrated care board (ICB)").check()
    page.fill("#id_max_amount", "300000")
    page.fill("#id_max_duration_years", "2")
    page.get_by_label("Commissioner", exact=True).check()
    page.get_by_role("button", name="Create the draft call").click()
    expect(page.locator("h1")).to_have_text("Falls detection at home")
    expect(page.locator(".nhsuk-task-list")).to_contain_text("Add the criteria bids will be scored against")
    check_accessibility(page)

    # With a cost-saving and a patient-benefit criterion, each with its rubric
    _add_criterion(page, "cost_saving", "Cost saving", 60)
    _add_criterion(page, "patient_benefit", "Benefit to patients", 40, gateway="2")
    expect(page.locator("main")).to_contain_text("Everything is in place")

    # And open it
    page.get_by_role("button", name="Publish the call").click()
    check_accessibility(page)
    page.get_by_role("button", name="Publish and open the call").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("published and open for bids")
    check_accessibility(page)
    assert Call.objects.get(slug="falls-detection-at-home").status == CallStatus.OPEN

    # And, when trusts ask for more time, extends the closing time with a reason (a reason is required)
    page.get_by_role("button", name="Extend the closing time").click()
    check_accessibility(page)
    _fill_moment(page, "closes_at", timezone.now() + dt.timedelta(days=44))
    page.get_by_role("button", name="Extend the closing time").click()
    expect(page.locator("#id_reason-error")).to_contain_text("Give the reason for the extension")
    check_accessibility(page)
    page.fill("#id_reason", "Trusts asked for two more weeks after the winter pressures.")
    page.get_by_role("button", name="Extend the closing time").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("The closing time has moved")
    expect(page.locator("main")).to_contain_text("Extended from")

    # Then an anonymous visitor finds it on /calls/
    page.context.clear_cookies()
    page.goto(live_server.url + "/calls/")
    check_accessibility(page)
    page.select_option("#id_status", "open")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("main")).to_contain_text("1 call match your filters")
    check_accessibility(page)
    page.get_by_role("link", name="Falls detection at home").click()

    # And reads its criteria, weights and rubric, the money and how decisions are made
    expect(page.locator("h1")).to_have_text("Falls detection at home")
    check_accessibility(page)
    expect(page.locator("main")).to_contain_text("after the winter pressures")
    criteria = page.get_by_role("table", name="Criteria and their weights")
    expect(criteria).to_contain_text("Cost saving")
    expect(criteria).to_contain_text("60%")
    expect(criteria).to_contain_text("Benefit to patients")
    expect(criteria).to_contain_text("At least 2 out of 4")
    expect(page.get_by_role("table", name="What each score means for “Benefit to patients”")).to_contain_text(
        "Excellent benefit to patients")
    expect(page.locator("main")).to_contain_text("Show the evidence for cost saving.")
    expect(page.locator("main")).not_to_contain_text("against the rubric")  # assessors' guidance stays internal
    expect(page.locator("main")).to_contain_text("£250,000.50")
    expect(page.locator("#decisions")).to_be_visible()
    expect(page.locator("#decisions + ol")).to_contain_text("The funding line falls where the pot's remaining budget runs out")


def _demo_pages():
    from governance.models import Fund

    fund = Fund.objects.get(slug="south-west-adoption-fund")
    joint = Fund.objects.get(slug="national-innovation-spread-fund")
    pot = fund.pots.first()
    panel = fund.panels.first()
    member = panel.members.first()
    draft = Call.objects.get(slug="mental-health-crisis-spread")
    open_call = Call.objects.get(slug="frailty-at-home-adoption")
    criterion = open_call.criteria.first()
    draft_criterion = draft.criteria.first()
    return {
        "manager.southwest@example.com": [
            "/manage/funds/", "/manage/funds/new/", f"/manage/funds/{fund.slug}/", f"/manage/funds/{fund.slug}/edit/",
            f"/manage/funds/{fund.slug}/audit/", f"/manage/funds/{fund.slug}/audit/?action=call.opened",
            f"/manage/funds/{fund.slug}/auditors/",
            f"/manage/funds/{fund.slug}/pots/{pot.pk}/", f"/manage/funds/{fund.slug}/pots/{pot.pk}/edit/",
            f"/manage/funds/{fund.slug}/panels/new/", f"/manage/funds/{fund.slug}/panels/{panel.pk}/",
            f"/manage/funds/{fund.slug}/panels/{panel.pk}/edit/",
            f"/manage/funds/{fund.slug}/panels/{panel.pk}/members/{member.pk}/?q=trust",
            f"/manage/funds/{fund.slug}/calls/new/", f"/manage/calls/{open_call.slug}/",
            f"/manage/calls/{open_call.slug}/edit/", f"/manage/calls/{open_call.slug}/copy/",
            f"/manage/calls/{open_call.slug}/close/", f"/manage/calls/{open_call.slug}/extend/",
            "/manage/calls/community-diagnostics-pump-priming/unpublish/", f"/manage/calls/{open_call.slug}/criteria/{criterion.pk}/",
            f"/manage/calls/{open_call.slug}/criteria/weights/", "/manage/calls/virtual-wards-adoption/",
            "/manage/calls/falls-prevention-adoption/", f"/manage/funds/{joint.slug}/", "/dashboard/",
        ],
        "manager.london@example.com": [
            f"/manage/calls/{draft.slug}/", f"/manage/calls/{draft.slug}/edit/", f"/manage/calls/{draft.slug}/publish/",
            f"/manage/calls/{draft.slug}/criteria/new/", f"/manage/calls/{draft.slug}/criteria/{draft_criterion.pk}/",
            f"/manage/calls/{draft.slug}/criteria/{draft_criterion.pk}/remove/",
            f"/manage/calls/{draft.slug}/criteria/weights/",
        ],
        "auditor@example.com": [f"/manage/funds/{fund.slug}/", f"/manage/funds/{fund.slug}/audit/",
                                f"/manage/funds/{fund.slug}/auditors/",
                                f"/manage/calls/{draft.slug}/"],
        None: ["/calls/?status=closed", "/calls/community-diagnostics-pump-priming/", "/calls/virtual-wards-adoption/",
               "/calls/cvd-prevention-spread/"],
    }


# Some sixty pages, each checked by axe: on a busy machine, with two test processes, this takes
# longer than the suite's five-minute limit for one test.
@pytest.mark.timeout(600)
def test_every_fund_and_call_page_is_accessible_to_the_people_who_use_it(page, live_server, sign_in):
    from django.core.management import call_command

    from governance.models import User

    call_command("seed_demo", verbosity=0)
    for email, paths in _demo_pages().items():
        page.context.clear_cookies()
        if email:
            sign_in(User.objects.get(email=email))
        for path in paths:
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            expect(page.locator("h1")).to_be_visible()
            check_accessibility(page)
