"""Given an open call with a deadline for questions, when a bidder asks a question on the call
page and the fund manager answers and publishes it, then the public sees the answer on the call
page without the asker's name; and a member of the public subscribes to new calls, confirms by
the emailed link, and the fund manager rewords a message with a preview. Every page visited passes
the accessibility check."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from governance.models import CallAlertSubscription, MembershipRole
from tests.e2e.conftest import check_accessibility
from tests.factories.governance import (
    CallFactory,
    MembershipFactory,
    NetworkFactory,
    OrganisationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_question_is_answered_in_public_and_the_public_subscribes(page, live_server, sign_in, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    network = NetworkFactory(name="Health Innovation South West", short_name="HISW")
    manager = UserFactory(email="sam@example.com", full_name="Sam Trelawney")
    MembershipFactory(user=manager, organisation=network, role=MembershipRole.FUND_MANAGER)
    bidder = UserFactory(email="alex@example.com", full_name="Alex Bidder")
    MembershipFactory(user=bidder, organisation=OrganisationFactory(network=network, name="Devon Trust"))
    call = CallFactory(fund__host_network=network, host_network=network, title="Frailty adoption call",
                       slug="frailty-adoption", questions_close_at=timezone.now() + dt.timedelta(days=5))

    # Given a bidder signed in on the open call's page
    sign_in(bidder)
    page.goto(f"{live_server.url}/calls/{call.slug}/")
    check_accessibility(page)
    # When they ask a question
    page.get_by_role("link", name="Ask a question about this call").click()
    check_accessibility(page)
    page.get_by_role("button", name="Send the question").click()
    expect(page).to_have_title(re.compile("^Error:"))
    check_accessibility(page)
    page.fill("#id_question", "May a primary care network lead a bid?")
    page.get_by_role("button", name="Send the question").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("Your question has been sent")
    page.context.clear_cookies()

    # And the fund manager answers and publishes it
    sign_in(manager)
    page.goto(f"{live_server.url}/manage/calls/{call.slug}/questions/")
    check_accessibility(page)
    expect(page.locator("table")).to_contain_text("Alex Bidder")
    page.get_by_role("link", name=re.compile("^Answer")).click()
    check_accessibility(page)
    page.fill("#id_answer", "Yes, if an NHS trust is a partner.")
    page.get_by_role("button", name="Publish the answer").click()
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text("published on the call page")
    check_accessibility(page)

    # And rewords the "call question answered" message for the fund, with a preview
    page.goto(f"{live_server.url}/manage/funds/{call.fund.slug}/notifications/")
    check_accessibility(page)
    page.get_by_role("link", name=re.compile("wording of Question on a call answered")).click()
    page.fill("#id_subject", "New answer on {call_titel}")
    page.get_by_role("button", name="Preview").click()
    expect(page).to_have_title(re.compile("^Error:"))
    check_accessibility(page)
    page.fill("#id_subject", "New answer on {call_title}")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview")).to_be_visible()
    check_accessibility(page)
    page.context.clear_cookies()

    # Then the public reads the question and answer, without the asker's name
    page.goto(f"{live_server.url}/calls/{call.slug}/")
    questions = page.locator("#questions ~ dl").first
    expect(questions).to_contain_text("May a primary care network lead a bid?")
    expect(questions).to_contain_text("Yes, if an NHS trust is a partner.")
    expect(page.locator("main")).not_to_contain_text("Alex Bidder")
    check_accessibility(page)

    # And a member of the public subscribes to new calls and confirms by the emailed link
    page.get_by_role("link", name="Get emails about new funding calls").click()
    check_accessibility(page)
    page.fill("#id_email", "public@example.com")
    page.get_by_label("Adoption").check()
    page.get_by_role("button", name="Get emails").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    check_accessibility(page)
    confirm = next(m for m in mail.outbox if m.to == ["public@example.com"])
    link = re.search(r"http\S+/calls/alerts/confirm/\S+/", confirm.body).group(0)
    page.goto(live_server.url + link[link.index("/calls/"):])
    expect(page.locator("h1")).to_have_text("You will get emails about new funding calls")
    check_accessibility(page)
    assert CallAlertSubscription.objects.get(email="public@example.com").is_active
