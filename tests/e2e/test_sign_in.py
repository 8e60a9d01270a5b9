"""Given the demo data, when each demo account signs in, then they see their own dashboard."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from governance.demo import ACCOUNTS, DEMO_PASSWORD, SITE_ADMIN
from governance.models import User
from governance.second_factor import current_code
from tests.e2e.conftest import check_accessibility

pytestmark = pytest.mark.django_db(transaction=True)

# The role each demo account's dashboard names, and a menu link only that role has.
EXPECTED = {
    "manager.southwest@example.com": ("Fund manager", "Funds"),
    "manager.london@example.com": ("Fund manager", "Funds"),
    "manager.northeast@example.com": ("Fund manager", "Funds"),
    "applicant.devon@example.com": ("Applicant", None),
    "applicant.barts@example.com": ("Applicant", None),
    "commissioner.devon@example.com": ("Commissioner", None),
    "assessor@example.com": ("Assessor", None),
    "chair@example.com": ("Panel chair", None),
    "auditor@example.com": ("Auditor", "Funds"),
    SITE_ADMIN[0]: ("Site admin", "Funds"),
}


@pytest.fixture
def demo_data():
    call_command("seed_demo", verbosity=0)


def test_public_pages_are_accessible_to_an_anonymous_visitor(page, live_server, demo_data):
    for path in ["/", "/calls/", "/register/", "/reports/", "/accessibility/", "/privacy/", "/how-it-works/lifecycles/", "/accounts/login/", "/no-such-page/"]:
        page.goto(live_server.url + path)
        expect(page.locator("h1")).to_be_visible()
        check_accessibility(page)


def test_a_fund_manager_signs_in_through_the_sign_in_page(page, live_server, demo_data):
    # Given the sign-in page
    page.goto(live_server.url + "/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/dashboard/"))
    check_accessibility(page)
    # When a wrong password is entered, the error is shown next to the form
    page.fill("#id_username", "manager.southwest@example.com")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter a correct email address and password")
    check_accessibility(page)
    # When the right password is entered, then the dashboard shows the funds they manage
    page.fill("#id_username", "manager.southwest@example.com")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    # Then a fund manager gives the code from their authenticator app (the demo's: demo_code)
    expect(page.locator("h1")).to_have_text("Enter the code from your authenticator app")
    check_accessibility(page)
    page.fill("#id_code", current_code(User.objects.get(email="manager.southwest@example.com")))
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Your dashboard")
    expect(page.get_by_role("heading", name="Funds you manage")).to_be_visible()
    check_accessibility(page)
    # And signing out returns to the home page
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()


def test_each_demo_account_sees_the_dashboard_for_their_role(page, live_server, sign_in, demo_data):
    # One pass over every account: the demo is seeded once rather than once per account.
    accounts = [email for email, *_ in ACCOUNTS] + [SITE_ADMIN[0]]
    assert sorted(accounts) == sorted(EXPECTED)
    for email in accounts:
        role, menu_link = EXPECTED[email]
        sign_in(User.objects.get(email=email))
        page.goto(live_server.url + "/dashboard/")
        expect(page.locator("h1"), email).to_have_text("Your dashboard")
        expect(page.locator("main"), email).to_contain_text(role)
        menu = page.get_by_role("navigation", name="Menu")
        if menu_link:
            expect(menu.get_by_role("link", name=menu_link, exact=True), email).to_be_visible()
        else:  # the fund pages are for the fund's managers, auditors and the site admin only
            expect(menu.get_by_role("link", name="Funds", exact=True), email).to_have_count(0)
        check_accessibility(page)
