"""Given a bidder whose partner is not on the portal, when they ask for it to be added (a wrong
charity number first), then the network's fund manager approves it and the bidder is told.
Every page visited passes the accessibility check."""

import pytest
from playwright.sync_api import expect

from governance.models import MembershipRole, Notification, Organisation
from tests.e2e.conftest import check_accessibility
from tests.factories.governance import (
    MembershipFactory,
    NetworkFactory,
    OrganisationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_bidder_asks_for_a_missing_charity_and_the_fund_manager_adds_it(page, live_server, sign_in):
    network = NetworkFactory(name="Health Innovation South West", short_name="HISW")
    manager = UserFactory(email="sam@example.com", full_name="Sam Trelawney")
    MembershipFactory(user=manager, organisation=network, role=MembershipRole.FUND_MANAGER)
    bidder = UserFactory(email="alex@example.com", full_name="Alex Morgan")
    MembershipFactory(user=bidder, organisation=OrganisationFactory(network=network))

    sign_in(bidder)
    page.goto(f"{live_server.url}/organisations/request/?name=Devon+Carers+Trust")
    expect(page.locator("h1")).to_have_text("Ask for an organisation to be added")
    check_accessibility(page)
    page.select_option("#id_kind", "charity")
    page.fill("#id_charity_number", "12")
    page.select_option("#id_network", str(network.pk))
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Enter a charity number of 6 to 8 digits")
    check_accessibility(page)
    page.fill("#id_charity_number", "1123456")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("h1")).to_have_text("Your requests for organisations")
    check_accessibility(page)

    page.context.clear_cookies()
    sign_in(manager)
    page.goto(f"{live_server.url}/manage/organisation-requests/")
    page.get_by_role("link", name="Devon Carers Trust").click()
    expect(page.locator("h1")).to_have_text("Add Devon Carers Trust?")
    check_accessibility(page)
    page.get_by_label("Approve: add the organisation").check()
    page.get_by_role("button", name="Save the decision").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Devon Carers Trust has been added")
    check_accessibility(page)
    assert Organisation.objects.get(charity_number="1123456").org_identifier == "GB-CHC-1123456"
    assert Notification.objects.filter(user=bidder, subject="Devon Carers Trust has been added").exists()
