"""Channel × role matrix for monitoring returns and impact reports (issue 13): each file or
response carries exactly what the HTML page shows that person, no more; a denial is a 403 or a
404 (a sign-in redirect for an anonymous visitor to a signed-in page).

The scene is ``tests.awards.visibility_scene`` (published award P paid from a pot another network
holds, declined award U, a person per role) with a monitoring return on P, and two versions of a
fund report built from the scene's data: version 1 published, version 2 a draft.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from governance import fy
from reporting import visibility
from reporting.impact.analytics import impact_snapshot
from reporting.impact.exports import report_csv, report_xlsx
from reporting.impact.selectors import impact_sources
from reporting.models import ReportVersion, ReturnStatus
from tests.awards.visibility_scene import (
    PRIVATE,
    ROLES,
    as_role,
    body,
    build_scene,
    denied,
    shown,
    xlsx_text,
)
from tests.factories.reporting import ImpactReportFactory, MonitoringReturnFactory

pytestmark = pytest.mark.django_db

# Who sees every version of the fund's reports (drafts included): its host network's managers and its auditors.
REPORT_READERS = {"manager_host", "auditor"}
RETURN_NOTE = "PRIVATE-RETURN-RISK supplier late"


@pytest.fixture
def scene():
    s = build_scene()
    s.ret = MonitoringReturnFactory(award=s.published, status=ReturnStatus.SUBMITTED, risks_update=RETURN_NOTE,
                                    submitted_at=timezone.now())
    years = s.fund.years
    report = ImpactReportFactory(fund=s.fund, requested_by=s.manager, title="Scene fund report",
                                 period_start=fy.FinancialYear(years[0]).start, period_end=fy.FinancialYear(years[-1]).end)
    cutoff = timezone.now()
    snap = impact_snapshot(report, impact_sources(report, cutoff), cutoff)
    s.versions = []
    for number, published in ((1, True), (2, False)):
        version = ReportVersion.objects.create(report=report, number=number, status="ready", snapshot=snap,
                                               data_cutoff=cutoff, requested_by=s.manager,
                                               published_at=timezone.now() if published else None)
        version.pdf.save(f"r-v{number}.pdf", ContentFile(b"%PDF-1.4\n"), save=False)
        version.csv.save(f"r-v{number}.csv", ContentFile(report_csv(snap)), save=False)
        version.xlsx.save(f"r-v{number}.xlsx", ContentFile(report_xlsx(snap)), save=False)
        version.save()
        s.versions.append(version)
    s.report = report
    return s


FILES = ("report_pdf", "report_csv", "report_xlsx")


@pytest.mark.parametrize("role", ROLES)
def test_report_files_follow_the_pages_that_link_them(client, scene, role):
    client = as_role(client, scene, role)
    published, draft = scene.versions
    public_page = body(client.get(reverse("reporting:reports")))
    api = json.loads(body(client.get(reverse("reporting:api_reports"))))
    assert [item["id"] for item in api["results"]] == [published.pk]
    for name in FILES:
        url = reverse(f"reporting:{name}", args=[scene.report.pk, 1])
        assert url in public_page
        assert client.get(url).status_code == 200
        assert reverse(f"reporting:{name}", args=[scene.report.pk, 2]) not in public_page

    manage_page = client.get(reverse("reporting:report_version", args=[scene.report.pk, 2]))
    for name in FILES:
        download = client.get(reverse(f"reporting:{name}", args=[scene.report.pk, 2]))
        if role in REPORT_READERS:
            assert manage_page.status_code == 200
            assert reverse(f"reporting:{name}", args=[scene.report.pk, 2]) in body(manage_page)
            assert download.status_code == 200
            assert download["Cache-Control"] == "private, no-store"
        else:
            assert denied(manage_page, role), manage_page.status_code
            assert download.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_public_report_figures_carry_no_more_than_the_register(client, scene, role):
    client = as_role(client, scene, role)
    on_register = shown(body(client.get(reverse("reporting:register"))), scene)
    figures = body(client.get(reverse("reporting:report_csv", args=[scene.report.pk, 1])))
    sheet = xlsx_text(client.get(reverse("reporting:report_xlsx", args=[scene.report.pk, 1])))
    assert shown(figures, scene) == on_register == {scene.published.reference}
    assert shown(sheet, scene) == on_register
    assert scene.published.reference in figures  # the report does cover the published award


@pytest.mark.parametrize("role", ROLES)
def test_monitoring_returns_are_seen_exactly_by_the_awards_private_audience(client, scene, role):
    client = as_role(client, scene, role)
    detail = client.get(reverse("reporting:return_detail", args=[scene.ret.pk]))
    listing = client.get(reverse("reporting:return_list"))
    schedule = client.get(reverse("reporting:award_returns", args=[scene.published.reference]))
    person = scene.people[role]
    if role in PRIVATE:
        assert detail.status_code == 200
        assert schedule.status_code == 200
        assert scene.ret.get_absolute_url() in body(listing)
        assert visibility.sees_return(person, scene.ret)
    else:
        assert denied(detail, role), detail.status_code
        assert denied(schedule, role)
        assert denied(listing, role) or scene.ret.get_absolute_url() not in body(listing)
        assert person is None or not visibility.sees_return(person, scene.ret)
    # Never in a public channel: a submitted (not approved) return's words.
    for url in (reverse("reporting:award", args=[scene.published.reference]),
                reverse("reporting:api_award", args=[scene.published.reference])):
        assert RETURN_NOTE not in body(client.get(url))


def test_emails_about_a_return_go_only_to_those_who_may_see_it(scene):
    from governance.models import User
    from reporting.monitoring import services

    services.return_send_back(actor=scene.manager, monitoring_return=scene.ret, comments="Add the risks log")
    told = User.objects.filter(notifications__subject__contains="sent back").distinct()
    assert told.exists()
    for user in told:
        assert visibility.sees_return(user, scene.ret)


def test_only_approved_returns_of_published_awards_are_public(scene):
    assert not visibility.public_returns().exists()
    scene.ret.status = ReturnStatus.APPROVED
    scene.ret.save(update_fields=["status"])
    assert list(visibility.public_returns()) == [scene.ret]
    declined_return = MonitoringReturnFactory(award=scene.declined, status=ReturnStatus.APPROVED)
    assert declined_return not in visibility.public_returns()
