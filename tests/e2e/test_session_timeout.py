"""Given a signed-in fund manager, when they leave the portal alone, then a warning lets them
stay signed in, and without an answer the server signs them out and they land on sign-in.

The idle timeout is shortened to seconds for the test; the rule is the one every page uses."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_accessibility
from tests.factories.governance import FundManagerFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_timeout_warning_offers_to_stay_signed_in_then_signs_out(page, live_server, sign_in, settings):
    settings.SESSION_IDLE_TIMEOUT_STAFF = 14
    settings.SESSION_TIMEOUT_WARNING = 7
    # Given a fund manager signed in on their dashboard
    sign_in(FundManagerFactory().user)
    page.goto(live_server.url + "/dashboard/")
    expect(page.locator("h1")).to_have_text("Your dashboard")
    dialog = page.get_by_role("dialog", name="You're about to be signed out")
    expect(dialog).to_be_hidden()
    check_accessibility(page)
    # When they do nothing, then the warning opens before the session ends, with the focus in it
    expect(dialog).to_be_visible(timeout=15_000)
    expect(dialog).to_contain_text("we will sign you out in")
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    check_accessibility(page)
    # When they choose to stay signed in, then the warning closes and the session carries on
    stay.click()
    expect(dialog).to_be_hidden()
    state = page.evaluate("fetch('/accounts/session/').then((r) => r.json())")
    assert state["signed_in"] is True
    assert state["remaining"] > 7
    # When they do nothing again, then the warning comes back and, unanswered, they are signed out
    expect(dialog).to_be_visible(timeout=15_000)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2Fdashboard%2F"), timeout=20_000)
    expect(page.locator("main")).to_contain_text("you did nothing on the portal for 14 seconds")
    check_accessibility(page)
    # And the dashboard now asks them to sign in
    page.goto(live_server.url + "/dashboard/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
