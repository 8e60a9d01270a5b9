"""Impact report pages: who may see and do what (every view × every role), the public list and
its downloads (drafts and withdrawn versions never public), and bad input on the forms."""

import datetime as dt
import json

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from governance.models import AuditEvent, FundRole, FundRoleKind, PanelRole
from reporting.impact import services
from reporting.models import ImpactReport, ReportScope, ReportVersion
from tests.factories.applications import BidFactory
from tests.factories.governance import (
    FundFactory,
    FundManagerFactory,
    ICBFactory,
    MembershipFactory,
    NetworkFactory,
    OrganisationFactory,
    PanelFactory,
    PanelMemberFactory,
    UserFactory,
)
from tests.factories.reporting import ImpactReportFactory, ReportVersionFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "applicant", "other_applicant", "commissioner", "assessor", "chair", "manager",
         "other_manager", "auditor", "site_admin"]
INSIDERS = {"manager", "auditor", "site_admin"}
MANAGERS = {"manager", "site_admin"}


def _files(version, stem):
    version.pdf.save(f"{stem}.pdf", ContentFile(b"%PDF-1.7 test"), save=False)
    version.csv.save(f"{stem}.csv", ContentFile(b"Section,Table\r\n"), save=False)
    version.xlsx.save(f"{stem}.xlsx", ContentFile(b"PK"), save=False)
    version.save()


@pytest.fixture
def setup():
    """A fund with a report in every state: v1 published, v2 built but not published (a draft),
    v3 failed; and one person for each role."""
    network = NetworkFactory(name="Health Innovation Test")
    fund = FundFactory(name="Test Fund", host_network=network, first_year=2026, last_year=2027)
    applicant_org = OrganisationFactory(network=network)
    panel = PanelFactory(fund=fund)
    BidFactory(call__fund=fund, lead_organisation=applicant_org)
    people = {
        "anonymous": None,
        "applicant": MembershipFactory(organisation=applicant_org).user,
        "other_applicant": MembershipFactory().user,
        "commissioner": MembershipFactory(organisation=ICBFactory(network=network)).user,
        "assessor": PanelMemberFactory(panel=panel, role=PanelRole.ASSESSOR).user,
        "chair": PanelMemberFactory(panel=panel, role=PanelRole.CHAIR).user,
        "manager": FundManagerFactory(organisation=network).user,
        "other_manager": FundManagerFactory().user,
        "auditor": UserFactory(),
        "site_admin": UserFactory(is_superuser=True, is_staff=True),
    }
    FundRole.objects.create(user=people["auditor"], fund=fund, role=FundRoleKind.AUDITOR)
    report = ImpactReportFactory(fund=fund, title="Test Fund impact", requested_by=people["manager"])
    now = timezone.now()
    published = ReportVersionFactory(report=report, number=1, status="ready", published_at=now,
                                     published_by=people["manager"], snapshot=_snapshot(), data_cutoff=now)
    draft = ReportVersionFactory(report=report, number=2, status="ready", snapshot=_snapshot(), data_cutoff=now)
    failed = ReportVersionFactory(report=report, number=3, status="failed", error="Lost")
    _files(published, "published")
    _files(draft, "draft")
    return {"fund": fund, "report": report, "published": published, "draft": draft, "failed": failed, "people": people}


def _snapshot():
    return {
        "schema": 2,
        "meta": {"title": "Test Fund impact", "fund": "Test Fund", "fund_slug": "test", "scope": "fund",
                 "scope_label": "The whole fund", "period_start": "2026-04-01", "period_end": "2027-03-31",
                 "period_label": "2026/27", "granularity": "years", "years": ["2026/27"],
                 "data_cutoff": "2026-05-01T12:00:00+00:00",
                 "coverage": {"schema": 2, "awards": [], "calls": [], "withheld_calls": []}},
        "headline": [{"key": "paid", "label": "Paid in the period", "kind": "money", "value": "1234.50"}],
        "sections": [{
            "key": "money", "title": "Money", "paragraphs": ["The fund paid £1,234.50."],
            "tables": [{"key": "money_by_year", "title": "Money by year", "keys": 1, "note": "",
                        "columns": [{"key": "year", "label": "Financial year", "kind": "text"},
                                    {"key": "paid", "label": "Paid", "kind": "money"}],
                        "rows": [["2026/27", "1234.50"]], "total": None}],
            "charts": [{"key": "money_by_year", "title": "Paid by year", "table": "money_by_year", "type": "bar",
                        "x": "year", "series": ["paid"], "unit": "money"}],
        }],
    }


def _client(client, person):
    if person is not None:
        client.force_login(person)
    return client


def _views(s):
    fund = s["fund"]
    r = s["report"].pk
    outsider_report = 404  # a report outside what you may see does not exist for you
    return [
        # (method, url, data, {role: status}, default for everyone else)
        ("get", reverse("reporting:reports"), None, {}, 200),
        ("get", reverse("reporting:report_pdf", args=[r, 1]), None, {}, 200),
        ("get", reverse("reporting:report_csv", args=[r, 1]), None, {}, 200),
        ("get", reverse("reporting:report_xlsx", args=[r, 1]), None, {}, 200),
        ("get", reverse("reporting:report_pdf", args=[r, 2]), None, dict.fromkeys(INSIDERS, 200), 404),
        ("get", reverse("reporting:report_csv", args=[r, 2]), None, dict.fromkeys(INSIDERS, 200), 404),
        ("get", reverse("reporting:report_xlsx", args=[r, 2]), None, dict.fromkeys(INSIDERS, 200), 404),
        ("get", reverse("reporting:report_pdf", args=[r, 3]), None, {}, 404),
        ("get", reverse("reporting:manage_reports"), None, {"anonymous": 302}, 200),
        ("get", reverse("reporting:fund_reports", args=[fund.slug]), None, {"anonymous": 302, **dict.fromkeys(INSIDERS, 200)}, 403),
        ("get", reverse("reporting:report_request", args=[fund.slug]), None, {"anonymous": 302, **dict.fromkeys(MANAGERS, 200)}, 403),
        ("get", reverse("reporting:report_detail", args=[r]), None, {"anonymous": 302, **dict.fromkeys(INSIDERS, 200)}, outsider_report),
        ("get", reverse("reporting:report_version", args=[r, 2]), None, {"anonymous": 302, **dict.fromkeys(INSIDERS, 200)}, outsider_report),
        ("get", reverse("reporting:report_version_status", args=[r, 2]), None, {"anonymous": 302, **dict.fromkeys(INSIDERS, 200)}, outsider_report),
        ("get", reverse("reporting:report_version_preview", args=[r, 2]), None, {"anonymous": 302, **dict.fromkeys(INSIDERS, 200)}, outsider_report),
        ("get", reverse("reporting:report_version_preview", args=[r, 3]), None, {"anonymous": 302, **dict.fromkeys(INSIDERS, 404)}, outsider_report),
        ("get", reverse("reporting:report_version_unpublish", args=[r, 1]), None, {"anonymous": 302, "auditor": 403, **dict.fromkeys(MANAGERS, 200)}, outsider_report),
        ("post", reverse("reporting:report_request", args=[fund.slug]),
         {"scope": "fund", "period_start": "2026-Q1", "period_end": "2026-Q4"}, {"anonymous": 302, **dict.fromkeys(MANAGERS, 302)}, 403),
        ("post", reverse("reporting:report_schedule", args=[r]), {"scheduled_quarterly": "on"}, {"anonymous": 302, "auditor": 403, **dict.fromkeys(MANAGERS, 302)}, outsider_report),
        ("post", reverse("reporting:report_version_retry", args=[r, 3]), {}, {"anonymous": 302, "auditor": 403, **dict.fromkeys(MANAGERS, 302)}, outsider_report),
        ("post", reverse("reporting:report_rebuild", args=[r]), {}, {"anonymous": 302, "auditor": 403, **dict.fromkeys(MANAGERS, 302)}, outsider_report),
        ("get", reverse("reporting:report_version_publish", args=[r, 2]), None, {"anonymous": 302, "auditor": 403, **dict.fromkeys(MANAGERS, 200)}, outsider_report),
        ("post", reverse("reporting:report_version_publish", args=[r, 2]), {"confirm": "yes"}, {"anonymous": 302, "auditor": 403, **dict.fromkeys(MANAGERS, 302)}, outsider_report),
        ("post", reverse("reporting:report_version_unpublish", args=[r, 2]), {"reason": "Corrected"}, {"anonymous": 302, "auditor": 403, **dict.fromkeys(MANAGERS, 302)}, outsider_report),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, setup, role):
    """Each role × each impact report view: the expected status, and nothing of a draft leaks."""
    person = setup["people"][role]
    client = _client(client, person)
    for method, url, data, expected, default in _views(setup):
        response = getattr(client, method)(url, data or {})
        status = expected.get(role, default)
        assert response.status_code == status, (role, method, url, response.status_code)
        if status == 302 and role == "anonymous":
            assert response["Location"].startswith("/accounts/login/")
        if status in (403, 404) and hasattr(response, "content"):
            assert b"Test Fund impact" not in response.content
    changed = AuditEvent.objects.filter(action__startswith=("report_version.")).exists() or \
        AuditEvent.objects.filter(action__startswith="impact_report.").exists()
    assert changed is (role in MANAGERS)


# The public list ------------------------------------------------------------------------------


def test_the_public_list_shows_published_versions_only_newest_first(client):
    older = ReportVersionFactory(status="ready", published_at=timezone.now() - dt.timedelta(days=3), snapshot=_snapshot(),
                                 report__title="Older report")
    newer = ReportVersionFactory(status="ready", published_at=timezone.now() - dt.timedelta(days=1), snapshot=_snapshot(),
                                 report__title="Newer report")
    _files(older, "older")
    _files(newer, "newer")
    ReportVersionFactory(status="ready", report__title="A draft report")
    ReportVersionFactory(status="ready", published_at=timezone.now(), unpublished_at=timezone.now(),
                         unpublished_reason="Wrong", report__title="A withdrawn report")
    ReportVersionFactory(status="failed", published_at=None, report__title="A failed report")
    response = client.get(reverse("reporting:reports"))
    content = response.content.decode()
    assert content.index("Newer report") < content.index("Older report")
    for hidden in ("A draft report", "A withdrawn report", "A failed report"):
        assert hidden not in content
    assert reverse("reporting:report_pdf", args=[newer.report_id, newer.number]) in content
    assert reverse("reporting:report_csv", args=[newer.report_id, newer.number]) in content


def test_the_public_list_filters_by_fund_and_network(client):
    south = NetworkFactory(name="South network")
    north = NetworkFactory(name="North network")
    south_fund = FundFactory(name="South fund", host_network=south)
    north_fund = FundFactory(name="North fund", host_network=north)
    for fund, title in ((south_fund, "South report"), (north_fund, "North report")):
        version = ReportVersionFactory(status="ready", published_at=timezone.now(), snapshot=_snapshot(),
                                       report=ImpactReportFactory(fund=fund, title=title))
        _files(version, title.split()[0])
    # A report on the North network within the South fund belongs to both filters.
    scoped = ReportVersionFactory(status="ready", published_at=timezone.now(), snapshot=_snapshot(),
                                  report=ImpactReportFactory(fund=south_fund, title="North in south", scope=ReportScope.NETWORK,
                                                             network=north))
    _files(scoped, "scoped")

    def titles(**params):
        content = client.get(reverse("reporting:reports"), params).content.decode()
        return {t for t in ("South report", "North report", "North in south") if t in content}

    assert titles() == {"South report", "North report", "North in south"}
    assert titles(fund=south_fund.pk) == {"South report", "North in south"}
    assert titles(network=north.pk) == {"North report", "North in south"}
    assert titles(fund=south_fund.pk, network=south.pk) == {"South report", "North in south"}


def test_a_bad_filter_value_is_explained_not_an_error(client):
    response = client.get(reverse("reporting:reports"), {"fund": "999999"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "Select a valid choice" in content
    assert "<title>Error: Impact reports" in content


def test_a_withdrawn_versions_files_are_no_longer_public(client, setup):
    published = setup["published"]
    services.report_version_unpublish(actor=setup["people"]["manager"], version=published, reason="Corrected")
    assert client.get(reverse("reporting:report_pdf", args=[published.report_id, 1])).status_code == 404
    client.force_login(setup["people"]["auditor"])
    response = client.get(reverse("reporting:report_pdf", args=[published.report_id, 1]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_downloads_are_named_and_typed(client, setup):
    published = setup["published"]
    pdf = client.get(reverse("reporting:report_pdf", args=[published.report_id, 1]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("inline")
    assert b"".join(pdf.streaming_content) == b"%PDF-1.7 test"
    csv = client.get(reverse("reporting:report_csv", args=[published.report_id, 1]))
    assert csv["Content-Type"] == "text/csv; charset=utf-8"
    assert csv["Content-Disposition"].startswith("attachment")


# Pages for managers ---------------------------------------------------------------------------


def test_the_status_url_reports_progress_as_json(client, setup):
    version = ReportVersionFactory(report=setup["report"], number=4, status="running", step="Drawing the charts")
    client.force_login(setup["people"]["manager"])
    response = client.get(reverse("reporting:report_version_status", args=[setup["report"].pk, version.number]))
    assert json.loads(response.content) == {"status": "running", "label": "Being made", "colour": "blue",
                                            "step": "Drawing the charts", "error": "", "finished": False}
    assert "no-cache" in response["Cache-Control"]


def test_the_version_page_offers_a_refresh_link_and_the_progress_script(client, setup):
    version = ReportVersionFactory(report=setup["report"], number=4, status="queued", step="Waiting for a worker")
    client.force_login(setup["people"]["manager"])
    content = client.get(reverse("reporting:report_version", args=[setup["report"].pk, 4])).content.decode()
    assert "Refresh this page" in content
    assert "Waiting for a worker" in content
    assert "compiled/js/report-progress.mjs" in content
    assert f'data-report-status-url="{reverse("reporting:report_version_status", args=[setup["report"].pk, 4])}"' in content
    assert version.status == "queued"


def test_a_failed_version_shows_its_reason_and_a_retry_button(client, setup):
    client.force_login(setup["people"]["manager"])
    content = client.get(reverse("reporting:report_version", args=[setup["report"].pk, 3])).content.decode()
    assert "The report could not be built" in content
    assert "Lost" in content
    assert "Try again" in content
    client.force_login(setup["people"]["auditor"])
    content = client.get(reverse("reporting:report_version", args=[setup["report"].pk, 3])).content.decode()
    assert "Try again" not in content


def test_the_preview_embeds_charts_as_images_beside_their_tables(client, setup):
    client.force_login(setup["people"]["manager"])
    content = client.get(reverse("reporting:report_version_preview", args=[setup["report"].pk, 2])).content.decode()
    assert '<img class="app-report-chart__image" src="data:image/svg+xml;base64,' in content
    assert 'alt="Chart: Paid by year. The figures are in the table that follows."' in content
    assert "£1,234.50" in content
    assert "Not published" in content
    assert "style=" not in content  # the Content Security Policy forbids inline styles


def test_requesting_a_report_redirects_to_its_progress(client, setup):
    client.force_login(setup["people"]["manager"])
    response = client.post(reverse("reporting:report_request", args=[setup["fund"].slug]),
                           {"scope": "fund", "period_start": "2026-Q3", "period_end": "2027-Q2", "title": ""})
    report = ImpactReport.objects.exclude(pk=setup["report"].pk).get()
    assert response["Location"] == reverse("reporting:report_version", args=[report.pk, 1])
    assert (report.period_start, report.period_end) == (dt.date(2026, 10, 1), dt.date(2027, 9, 30))
    assert report.title == "Test Fund: impact report Q3 2026/27 to Q2 2027/28"


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"scope": "call", "period_start": "2026-Q1", "period_end": "2026-Q4"}, "call", services.CALL_REQUIRED),
    ({"scope": "network", "period_start": "2026-Q1", "period_end": "2026-Q4"}, "network", services.NETWORK_REQUIRED),
    ({"scope": "fund", "period_start": "2027-Q1", "period_end": "2026-Q4"}, "period_end", services.PERIOD_IN_ORDER),
    ({"scope": "fund", "period_start": "2031-Q1", "period_end": "2026-Q4"}, "period_start", "Select a valid choice"),
    ({"scope": "everything", "period_start": "2026-Q1", "period_end": "2026-Q4"}, "scope", "Select a valid choice"),
])
def test_bad_requests_show_the_message_beside_the_field_and_change_nothing(client, setup, data, field, message):
    client.force_login(setup["people"]["manager"])
    before = (ImpactReport.objects.count(), ReportVersion.objects.count(), AuditEvent.objects.count())
    response = client.post(reverse("reporting:report_request", args=[setup["fund"].slug]), data)
    assert response.status_code == 200
    content = response.content.decode()
    assert "<title>Error: Request an impact report" in content
    error_block = content[content.index(f'id="div_id_{field}"'):]
    assert message in error_block[:3000]
    assert (ImpactReport.objects.count(), ReportVersion.objects.count(), AuditEvent.objects.count()) == before


def test_withdrawing_without_a_reason_is_refused_and_the_report_stays_public(client, setup):
    client.force_login(setup["people"]["manager"])
    response = client.post(reverse("reporting:report_version_unpublish", args=[setup["report"].pk, 1]), {"reason": " "})
    assert response.status_code == 200
    assert services.REASON_REQUIRED in response.content.decode()
    setup["published"].refresh_from_db()
    assert setup["published"].is_public


def test_publishing_asks_for_confirmation_first(client, setup):
    client.force_login(setup["people"]["manager"])
    url = reverse("reporting:report_version_publish", args=[setup["report"].pk, 2])
    assert f'href="{url}"' in client.get(reverse("reporting:report_version", args=[setup["report"].pk, 2])).content.decode()
    page = client.get(url).content.decode()
    assert "Publish version 2?" in page
    assert "Version 1, published" in page  # what it replaces
    # A POST without the confirmation (a stale form, a script) only shows the question again.
    response = client.post(url)
    assert response.status_code == 200
    assert "Publish version 2?" in response.content.decode()
    setup["draft"].refresh_from_db()
    assert not setup["draft"].is_public


def test_publishing_from_the_version_page(client, setup):
    client.force_login(setup["people"]["manager"])
    response = client.post(reverse("reporting:report_version_publish", args=[setup["report"].pk, 2]),
                           {"confirm": "yes"}, follow=True)
    assert "Version 2 is published" in response.content.decode()
    setup["draft"].refresh_from_db()
    setup["published"].refresh_from_db()
    assert setup["draft"].is_public
    assert setup["published"].unpublished_reason == "Replaced by version 2"


def test_the_fund_page_links_to_its_reports_and_managers_get_a_menu_item(client, setup):
    client.force_login(setup["people"]["manager"])
    content = client.get(setup["fund"].get_absolute_url()).content.decode()
    assert "Impact reports" in content
    assert reverse("reporting:fund_reports", args=[setup["fund"].slug]) in content
    assert reverse("reporting:report_request", args=[setup["fund"].slug]) in content
    assert f'href="{reverse("reporting:manage_reports")}"' in content
    client.force_login(setup["people"]["auditor"])
    content = client.get(setup["fund"].get_absolute_url()).content.decode()
    assert reverse("reporting:fund_reports", args=[setup["fund"].slug]) in content
    assert reverse("reporting:report_request", args=[setup["fund"].slug]) not in content


def test_the_managers_list_shows_only_their_funds_reports(client, setup):
    ReportVersionFactory(report__title="Someone else's report")
    client.force_login(setup["people"]["manager"])
    content = client.get(reverse("reporting:manage_reports")).content.decode()
    assert "Test Fund impact" in content
    assert "Someone else&#x27;s report" not in content
    client.force_login(setup["people"]["applicant"])
    content = client.get(reverse("reporting:manage_reports")).content.decode()
    assert "Test Fund impact" not in content
