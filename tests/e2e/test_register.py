"""Given the demo data, when a member of the public searches and filters the award register and
opens an award, then they find what the fund paid for and why; every page passes axe."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from reporting.register.selectors import published_awards
from tests.e2e.conftest import check_accessibility

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_data():
    call_command("seed_demo", verbosity=0)


def test_searching_filtering_and_opening_an_award(page, live_server, demo_data):
    falls = published_awards().get(title="Falls prevention exercise programme at home")

    # Given the register
    page.goto(live_server.url + "/")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Award register").click()
    expect(page.locator("h1")).to_have_text("Award register")
    expect(page.locator("main")).to_contain_text(f"{published_awards().count()} awards")
    check_accessibility(page)

    # When they search for falls
    page.get_by_label("Search awards").fill("falls")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"[?&]q=falls"))
    results = page.locator("main table tbody")
    expect(results).to_contain_text("Falls prevention exercise programme at home")
    expect(results).not_to_contain_text("Lipid optimisation in primary care")
    check_accessibility(page)

    # And narrow it to active awards in the South West fund, largest first
    page.get_by_label("Fund", exact=True).select_option(label="South West Innovation Adoption Fund")
    page.get_by_label("Status").select_option(label="Active")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"fund=south-west-adoption-fund"))
    expect(page).to_have_url(re.compile(r"status=active"))
    expect(page.locator("main table tbody tr")).to_have_count(1)
    expect(results).to_contain_text(falls.title)
    expect(results).not_to_contain_text("Community falls response service")  # offered, not active
    # Without the search, the fund's active awards, largest first
    page.get_by_label("Search awards").fill("")
    page.get_by_label("Order").select_option(label="Largest amount first")
    page.get_by_role("button", name="Sort").click()
    expect(page.locator("main table tbody tr")).to_have_count(2)
    expect(page.locator("main table tbody tr").first).to_contain_text(falls.title)
    expect(page.locator("main table tbody tr").last).to_contain_text("Hip protectors and bed sensors")
    # The downloads carry the same filters.
    csv_link = page.get_by_role("link", name="CSV spreadsheet")
    expect(csv_link).to_have_attribute("href", re.compile(r"awards\.csv\?.*fund=south-west-adoption-fund"))
    check_accessibility(page)

    # When an amount cannot be read, the message is next to the field and the page still works
    page.get_by_label("Smallest amount (£)").fill("lots")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter an amount in pounds")
    expect(page.locator("#div_id_min_amount .nhsuk-error-message")).to_be_visible()
    check_accessibility(page)

    # When they open the award
    page.get_by_role("link", name=falls.title).click()
    expect(page.locator("h1")).to_have_text(falls.title)
    main = page.locator("main")
    expect(main).to_contain_text("Royal Devon University Healthcare NHS Foundation Trust")
    expect(main).to_contain_text("GB-NHS-RH8")
    expect(main).to_contain_text("The panel's score on each criterion")
    # The panel's public reason, never its internal rationale
    expect(main).to_contain_text("Ranked first: strong evidence of benefit to patients and of savings.")
    expect(main).not_to_contain_text("Strong evidence of benefit and savings; ranked first.")
    expect(main).to_contain_text("Savings realised")
    expect(page.get_by_role("img", name=re.compile("Amount awarded and paid"))).to_be_visible()
    check_accessibility(page)

    # And the open data API is described for developers
    page.goto(live_server.url + "/api/docs/")
    expect(page.locator("h1")).to_have_text("Open data API")
    check_accessibility(page)


def test_the_register_works_without_javascript(page, browser, live_server, demo_data):
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.goto(live_server.url + "/register/")
    plain.get_by_label("Purpose").select_option(label="Adoption of proven innovation")
    plain.get_by_role("button", name="Apply filters").click()
    expect(plain).to_have_url(re.compile(r"purpose=adoption"))
    expect(plain.locator("main table tbody")).to_contain_text("Falls prevention exercise programme at home")
    expect(plain.locator("main table tbody")).not_to_contain_text("Lipid optimisation in primary care")
    visited = plain.url
    context.close()
    # axe runs in the page, so the same pages are checked in a browser with JavaScript on.
    for url in (live_server.url + "/register/", visited):
        page.goto(url)
        check_accessibility(page)
