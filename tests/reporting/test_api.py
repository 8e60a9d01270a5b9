"""The read-only API: published data only, the register's filters, paging, throttling and the schema."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.models import CallStatus
from tests.factories.governance import CallFactory, FundManagerFactory
from tests.reporting.register_builders import Scene, bulk_register, published_report
from tests.reporting.test_register import FILTERS

pytestmark = pytest.mark.django_db
AWARDS, CALLS, REPORTS = "/api/v1/awards/", "/api/v1/calls/", "/api/v1/reports/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def scene():
    return Scene()


def refs(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["reference"] for item in response.json()["results"]}


def test_the_awards_list_has_only_published_awards(client, scene):
    response = client.get(AWARDS)
    assert refs(response) == {a.reference for a in scene.published}
    data = response.json()
    assert data["count"] == 3
    item = next(i for i in data["results"] if i["reference"] == scene.a2.reference)
    assert item["grant_id"] == f"360G-fundportal-{scene.a2.reference}"
    assert item["amount_awarded"] == "250000.00"
    assert item["amount_paid"] == "75000.00"
    assert item["amount_applied_for"] == "260000.00"
    assert item["recipient"] == {"name": "Hackney Green Surgery", "identifier": "GB-NHS-F84001", "kind": "GP practice",
                                 "region": "London", "region_code": "E40000003", "network": "UCLPartners"}
    assert item["partners"] == [{"name": "NHS Kernow Integrated Care Board", "identifier": "GB-NHS-QT901", "role": "Commissioner"}]
    assert item["fund"] == {"name": "Adoption Fund", "slug": "adoption-fund"}
    assert item["call"]["slug"] == "frailty-call"
    assert item["status"] == "closed"
    assert item["url"].endswith(f"/register/{scene.a2.reference}/")


@pytest.mark.parametrize(("params", "expected"), FILTERS, ids=[str(p) for p, _ in FILTERS])
def test_the_api_filters_like_the_register_page(client, scene, params, expected):
    assert refs(client.get(AWARDS, params)) == {getattr(scene, name).reference for name in expected}


def test_search_and_sort_work_on_the_api(client, scene):
    assert refs(client.get(AWARDS, {"q": "Kernow"})) == {scene.a2.reference}
    ordered = [i["reference"] for i in client.get(AWARDS, {"sort": "amount_asc"}).json()["results"]]
    assert ordered == [scene.a1.reference, scene.a2.reference, scene.a3.reference]


@pytest.mark.parametrize("params", [{"fund": "nope"}, {"year": "soon"}, {"min_amount": "lots"}, {"sort": "random"},
                                    {"status": "declined"}, {"q": "x" * 500}, {"page_size": "many"}])
def test_bad_filters_are_a_400_naming_the_field(client, scene, params):
    response = client.get(AWARDS, params)
    assert response.status_code == 400
    assert set(response.json()) == set(params)


def test_pages(client, scene):
    data = client.get(AWARDS, {"page_size": 2}).json()
    assert len(data["results"]) == 2
    assert data["next"].endswith("page=2&page_size=2")
    assert len(client.get(AWARDS, {"page_size": 2, "page": 2}).json()["results"]) == 1
    assert client.get(AWARDS, {"page": 99}).status_code == 404
    assert client.get(AWARDS, {"page": "abc"}).status_code == 400
    assert client.get(AWARDS, {"page": "0"}).status_code == 404


def test_one_award_in_full(client, scene):
    response = client.get(f"{AWARDS}{scene.a2.reference}/")
    assert response.status_code == 200
    data = response.json()
    assert data["rationale"] == "Strong evidence of savings and benefit."
    assert [s["score"] for s in data["scores"]] == ["3.00", "3.00"]
    assert [s["points"] for s in data["scores"]] == ["37.50", "37.50"]
    assert [y["paid"] for y in data["profile"]][:2] == ["50000.00", "25000.00"]
    assert data["results"]["approved_returns"] == 0


def test_unpublished_awards_are_404_like_missing_ones(client, scene):
    missing = client.get(f"{AWARDS}NO-SUCH-1/")
    assert missing.status_code == 404
    for award in scene.hidden:
        response = client.get(f"{AWARDS}{award.reference}/")
        assert response.status_code == 404
        assert response.json() == missing.json()
    assert "Secret" not in client.get(AWARDS, {"page_size": 200}).content.decode()


def test_calls_are_listed_only_once_published(client, scene):
    draft = CallFactory(status=CallStatus.DRAFT, title="Draft call not yet public", slug="draft-call")
    slugs = {c["slug"] for c in client.get(CALLS, {"page_size": 200}).json()["results"]}
    assert {"frailty-call", "spread-call"} <= slugs
    assert draft.slug not in slugs
    assert client.get(f"{CALLS}{draft.slug}/").status_code == 404
    detail = client.get(f"{CALLS}frailty-call/").json()
    assert [c["weight"] for c in detail["criteria"]] == [50, 50]
    assert {c["slug"] for c in client.get(CALLS, {"fund": "spread-fund"}).json()["results"]} == {"spread-call"}
    assert (detail["published_closes_at"], detail["closing_extension_reason"]) == (None, "")


def test_an_extended_closing_time_is_in_the_api_with_its_reason(client, scene):
    from governance.services import call_extend_closing

    call = CallFactory(status=CallStatus.OPEN, fund=scene.fund_a, slug="open-call", assessment_due_date=None,
                       panel_meeting_date=None, decisions_expected_date=None)
    first = call.closes_at
    manager = FundManagerFactory(organisation=call.host_network).user
    call_extend_closing(actor=manager, call=call, closes_at=first + dt.timedelta(days=7), reason="More time for trusts")
    detail = client.get(f"{CALLS}{call.slug}/").json()
    assert detail["closing_extension_reason"] == "More time for trusts"
    assert detail["published_closes_at"] is not None
    assert detail["closes_at"] != detail["published_closes_at"]


def test_only_published_reports_are_listed(client, scene):
    shown = published_report(fund=scene.fund_a, title="Published impact")
    withdrawn = published_report(fund=scene.fund_a, title="Withdrawn impact", withdrawn=True)
    draft = published_report(fund=scene.fund_a, title="Draft impact", public=False)
    titles = {r["title"] for r in client.get(REPORTS).json()["results"]}
    assert titles == {"Published impact"}
    assert client.get(f"{REPORTS}{shown.pk}/").status_code == 200
    for hidden in (withdrawn, draft):
        assert client.get(f"{REPORTS}{hidden.pk}/").status_code == 404
    assert client.get(REPORTS, {"fund": "spread-fund"}).json()["count"] == 0


def test_the_api_is_read_only(client, scene):
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(AWARDS).status_code == 405
        assert getattr(client, method)(f"{AWARDS}{scene.a1.reference}/").status_code == 405


def test_requests_are_throttled_per_client(client, scene, settings):
    settings.OPEN_DATA_API_RATE = "3/minute"
    assert [client.get(AWARDS).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert "Retry-After" in client.get(AWARDS)


def test_the_awards_list_runs_the_same_queries_for_3_or_40_awards(client, scene):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(AWARDS, {"page_size": 100}).status_code == 200
        return len(captured.captured_queries)

    before = count()
    bulk_register(37, tag="API")
    assert count() == before


def test_the_root_and_the_schema(client, scene):
    root = client.get("/api/v1/").json()
    assert root["awards"].endswith("/api/v1/awards/")
    assert root["schema"].endswith("/api/schema/")
    schema = client.get("/api/schema/", {"format": "json"}).json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/awards/", "/api/v1/awards/{reference}/", "/api/v1/calls/", "/api/v1/reports/"} <= set(schema["paths"])
    params = {p["name"] for p in schema["paths"]["/api/v1/awards/"]["get"]["parameters"]}
    assert {"q", "fund", "call", "network", "region", "recipient", "org_kind", "purpose", "innovation_type", "year",
            "min_amount", "max_amount", "status", "sort", "page", "page_size"} <= params


def test_the_docs_page_describes_the_endpoints_and_links_the_schema(client, scene):
    body = client.get("/api/docs/").content.decode()
    assert 'href="/api/schema/?format=json"' in body
    for text in ("/api/v1/awards/", "/api/v1/calls/", "/api/v1/reports/", "min_amount", "Open Government Licence"):
        assert text in body
