"""Given a fund with awards and approved returns, when its manager requests an impact report,
then the page follows the build without a reload, the manager previews and publishes it, and
the public finds it on /reports/. Every page passes the accessibility check."""

import re
from unittest import mock

import pytest
from playwright.sync_api import expect

from reporting.impact.tasks import build_impact_report
from reporting.models import ReportVersion
from tests.e2e.conftest import check_accessibility
from tests.reporting.impact_world import build_world

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_manager_requests_follows_previews_and_publishes_a_report(page, live_server, sign_in, browser):
    world = build_world()
    sign_in(world.manager)

    # Given the request page, when the manager asks for a report on the whole fund in 2025/26...
    page.goto(f"{live_server.url}/manage/funds/{world.fund.slug}/reports/new/")
    expect(page.locator("h1")).to_have_text("Request an impact report")
    check_accessibility(page)
    page.get_by_label("The whole fund").check()
    page.get_by_label("From the start of").select_option("2025-Q1")
    page.get_by_label("To the end of").select_option("2025-Q4")
    page.get_by_label("Title (optional)").fill("Test fund impact 2025/26")
    # ...the request returns at once: the version waits for a worker (none picks it up yet).
    with mock.patch.object(build_impact_report, "apply_async"):
        page.get_by_role("button", name="Request the report").click()
        expect(page.locator("h1")).to_have_text("Version 1")
    expect(page.locator("[data-report-status-tag]")).to_have_text("Queued")
    expect(page.get_by_text("Your report is queued")).to_be_visible()
    check_accessibility(page)

    # When a worker builds it, then the page shows it ready by itself (no manual reload).
    version = ReportVersion.objects.get(report__title="Test fund impact 2025/26")
    assert build_impact_report.apply(args=[version.pk]).get() == "built"
    expect(page.get_by_role("link", name="Preview the report")).to_be_visible(timeout=20_000)
    expect(page.locator("[data-report-status-tag]")).to_have_text("Ready")
    check_accessibility(page)

    # The preview shows the figures, each chart beside its table.
    page.get_by_role("link", name="Preview the report").click()
    expect(page.locator("h1")).to_have_text("Test fund impact 2025/26")
    expect(page.get_by_text("Not published")).to_be_visible()
    expect(page.locator("img.app-report-chart__image").first).to_be_visible()
    expect(page.get_by_role("table", name="Budget, committed, paid and remaining by financial year")).to_contain_text("£840,000")
    check_accessibility(page)

    # When the manager publishes it...
    page.get_by_role("link", name="Back to version 1").click()
    page.get_by_role("button", name="Publish version 1").click()
    expect(page.locator("h1")).to_have_text("Publish version 1?")
    check_accessibility(page)
    page.get_by_role("button", name="Publish the report").click()
    expect(page.get_by_text("Version 1 is published")).to_be_visible()
    check_accessibility(page)

    # ...then the public finds it on /reports/ with its PDF and figures.
    visitor = browser.new_context()
    public = visitor.new_page()
    public.goto(f"{live_server.url}/reports/")
    expect(public.get_by_role("heading", name="Test fund impact 2025/26")).to_be_visible()
    expect(public.get_by_role("link", name=re.compile(r"^Download the report\W+Test fund impact 2025.26 .PDF"))).to_be_visible()
    check_accessibility(public)
    response = public.request.get(f"{live_server.url}/reports/{version.report_id}/v1/report.pdf")
    assert response.status == 200
    assert response.body().startswith(b"%PDF")
    visitor.close()


def test_a_failed_build_shows_its_reason_and_can_be_tried_again(page, live_server, sign_in):
    world = build_world()
    sign_in(world.manager)
    version = ReportVersion.objects.create(report=world.report(title="Broken report"), number=1, status="failed",
                                           error="The build stopped with an error (ValueError: the layout broke)")
    page.goto(f"{live_server.url}/manage/reports/{version.report_id}/v1/")
    expect(page.get_by_text("The report could not be built")).to_be_visible()
    expect(page.get_by_text("ValueError: the layout broke")).to_be_visible()
    check_accessibility(page)
    page.get_by_role("button", name="Try again").click()
    expect(page.locator("h1")).to_have_text("Version 2")
    expect(page.locator("[data-report-status-tag]")).to_have_text("Ready")
    check_accessibility(page)
