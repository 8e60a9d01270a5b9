"""Open data: the 360Giving package (schema and data-quality rules), CSV and XLSX (filters, formula
injection), streaming, conditional GET, and nothing unpublished in any of them."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import jsonschema
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from applications.models import BidCost
from awards.models import LedgerEntryKind, PotLedgerEntry
from reporting.register import opendata
from reporting.register.opendata import (
    HEADINGS,
    XLSX_HEADINGS,
    quality_problems,
    safe_cell,
    validate_package,
)
from reporting.register.opendata_files import open_data_build
from reporting.register.selectors import EMAIL_REDACTED, published_awards
from tests.factories.applications import BidPartnerFactory
from tests.factories.governance import OrganisationFactory
from tests.reporting.register_builders import Scene, bulk_register, published_award

pytestmark = pytest.mark.django_db
JSON, CSV, XLSX = "/register/360giving.json", "/register/awards.csv", "/register/awards.xlsx"


@pytest.fixture
def scene():
    return Scene()


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def package(client, params=None) -> dict:
    response = client.get(JSON, params or {})
    assert response.status_code == 200, body(response)
    assert response["Content-Type"].startswith("application/json")
    return json.loads(body(response))


def csv_rows(client, params=None) -> list[dict]:
    response = client.get(CSV, params or {})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(body(response).decode())))


def xlsx_rows(client, params=None) -> tuple[list[str], list[list]]:
    response = client.get(XLSX, params or {})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(body(response))).active
    rows = list(sheet.iter_rows())
    return [c.value for c in rows[0]], rows[1:]


def assert_valid(data: dict) -> None:
    """Valid under the schema with date-time and uri checked, and under a plain validation."""
    assert validate_package(data) == []
    package_schema, grant_schema = opendata._schemas()
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resource = Resource(contents=grant_schema, specification=DRAFT202012)
    registry = Registry().with_resources([(grant_schema["$id"], resource), (package_schema["properties"]["grants"]["items"]["$ref"], resource)])
    jsonschema.Draft202012Validator(package_schema, registry=registry).validate(data)
    assert quality_problems(data) == []


# The 360Giving package -------------------------------------------------------------------


def test_the_demo_data_exports_a_valid_360giving_package(client):
    call_command("seed_demo", verbosity=0)
    data = package(client)
    assert_valid(data)
    published = set(published_awards().values_list("reference", flat=True))
    assert published
    assert {grant["id"] for grant in data["grants"]} == {f"360G-fundportal-{ref}" for ref in published}
    assert data["license"] == "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
    assert data["publisher"]["name"] == "Fund Portal"
    assert data["version"] == "1.4"
    grant = next(g for g in data["grants"] if g["recipientOrganization"][0]["id"] == "GB-NHS-RH8")
    assert grant["currency"] == "GBP"
    assert grant["beneficiaryLocation"][0]["geoCode"] == "E40000006"
    assert {c["vocabulary"].rsplit("-", 1)[-1] for c in grant["classifications"]} >= {"purpose"}
    assert grant["fromOpenCall"] == "Yes"


def test_a_generated_larger_set_exports_a_valid_package(client):
    published = bulk_register(300, tag="GEN")
    data = package(client)
    assert len(data["grants"]) == len(published) == 300
    assert_valid(data)
    kinds = {grant["recipientOrganization"][0]["id"].split("-")[1] for grant in data["grants"]}
    assert kinds >= {"NHS", "COH", "CHC"}


def test_each_grant_carries_the_fields_of_the_standard(client, scene):
    data = package(client, {"fund": "adoption-fund"})
    grant = next(g for g in data["grants"] if g["id"].endswith(scene.a2.reference))
    assert grant["title"] == "Heart failure virtual ward"
    assert grant["amountAwarded"] == 250000
    assert grant["amountAppliedFor"] == 260000
    assert grant["amountDisbursed"] == 75000
    assert grant["recipientOrganization"] == [{"id": "GB-NHS-F84001", "name": "Hackney Green Surgery"}]
    assert grant["fundingOrganization"][0]["name"] == "Health Innovation South West"
    assert grant["fundingOrganization"][0]["department"] == "Adoption Fund"
    assert grant["grantProgramme"][0]["code"] == "frailty-call"
    assert grant["plannedDates"][0]["duration"] == 24
    assert grant["plannedDates"][0]["startDate"].startswith(scene.a2.start_date.isoformat())
    assert grant["beneficiaryLocation"] == [{"name": "London", "geoCode": "E40000003", "countryCode": "GB"}]
    assert [c["code"] for c in grant["classifications"]] == ["adoption", "service_model"]
    assert grant["dataSource"].endswith(f"/register/{scene.a2.reference}/")
    company = package(client, {"fund": "spread-fund"})["grants"][0]
    assert company["recipientOrganization"][0] == {"id": "GB-COH-01234567", "name": "Tyneside Sensors Ltd", "companyNumber": "01234567"}


def test_the_data_quality_rules_are_kept_even_when_the_data_is_awkward(client, scene):
    long_title = "A very long title " * 10
    award = published_award(call=scene.call_a, title=long_title.strip(), description="x")
    award.description = award.title  # title and description the same
    award.save()
    same = published_award(call=scene.call_a, title="Same words", description="Same words")
    BidCost.objects.filter(bid=same.bid).delete()  # nothing applied for: no £0 amount
    emailed = published_award(call=scene.call_a, title="Ask ann@example.org", description="Write to bob@example.com today")
    data = package(client)
    assert_valid(data)
    by_id = {g["id"].removeprefix("360G-fundportal-"): g for g in data["grants"]}
    long = by_id[award.reference]
    assert len(long["title"]) < 140
    assert long["title"].endswith("…")
    assert long["description"].startswith(long_title.strip())
    assert by_id[same.reference]["description"] != "Same words"
    assert "amountAppliedFor" not in by_id[same.reference]
    assert "amountDisbursed" not in by_id[same.reference]
    assert "@" not in json.dumps(by_id[emailed.reference])
    assert EMAIL_REDACTED in by_id[emailed.reference]["description"]


def test_the_quality_checker_finds_each_problem():
    grant = {
        "id": "360G-fundportal-BAD REF/1", "title": "t" * 150, "description": "t" * 150, "currency": "GBP",
        "amountAwarded": 0, "awardDate": "2999-01-01T00:00:00+00:00",
        "plannedDates": [{"startDate": "2027-01-01T00:00:00+00:00", "endDate": "2026-01-01T00:00:00+00:00"}],
        "recipientOrganization": [{"id": "GB-NHS-R H8", "name": "Contact me@example.com"}],
        "fundingOrganization": [{"id": "GB-NHS-X", "name": "F"}],
    }
    problems = "\n".join(quality_problems({"grants": [grant, grant]}))
    for expected in ("amountAwarded is zero", "awardDate is in the future", "looks like an email address",
                     "unexpected characters in '360G-fundportal-BAD REF/1'", "unexpected characters in 'GB-NHS-R H8'",
                     "planned start date after the end date", "title is 150 characters", "title and description are the same",
                     "not unique"):
        assert expected in problems


def test_the_schema_check_finds_errors():
    errors = validate_package({"grants": [{"id": "x", "title": "t", "currency": "POUNDS", "amountAwarded": "10", "awardDate": "2025-02-30"}]})
    text = "\n".join(errors)
    assert "grants/0: " in text
    assert "is not valid under any of the given schemas" in text
    assert "'POUNDS' is not one of" in text
    assert "'10' is not of type 'number'" in text
    assert validate_package({"grants": []})  # a package needs at least one grant


def test_no_published_award_means_no_package_and_a_clear_message(client, scene):
    response = client.get(JSON, {"q": "nothing-matches-this"})
    assert response.status_code == 404
    assert "No published awards match these filters" in response.json()["detail"]


# CSV and XLSX ----------------------------------------------------------------------------


def test_csv_has_one_row_per_published_award_with_the_page_filters(client, scene):
    rows = csv_rows(client)
    assert {row["Reference"] for row in rows} == {a.reference for a in scene.published}
    assert list(rows[0].keys()) == HEADINGS
    filtered = csv_rows(client, {"fund": "adoption-fund", "min_amount": "200000"})
    assert [row["Reference"] for row in filtered] == [scene.a2.reference]
    row = filtered[0]
    assert row["Recipient Org:Identifier"] == "GB-NHS-F84001"
    assert row["Partners"] == "NHS Kernow Integrated Care Board"
    # Amounts as plain numbers, the currency in its own column (360Giving's spreadsheet layout).
    assert (row["Amount Awarded"], row["Amount Disbursed"], row["Amount Applied For"]) == ("250000", "75000", "260000")
    assert row["Currency"] == "GBP"
    assert row["Status"] == "Closed"
    assert row["Beneficiary Location:0:Geographic Code"] == "E40000003"
    assert row["Identifier"] == f"360G-fundportal-{scene.a2.reference}"


def test_xlsx_has_one_row_per_published_award_with_numbers_as_numbers(client, scene):
    headings, rows = xlsx_rows(client, {"region": "E40000003"})
    assert headings == XLSX_HEADINGS
    assert len(rows) == 1
    values = dict(zip(headings, [c.value for c in rows[0]], strict=True))
    assert values["Reference"] == scene.a2.reference
    assert values["Amount Awarded"] == 250000
    # Dates as the JSON writes them (ISO 8601), which every reading of the schema accepts.
    assert values["Planned Dates:Start Date"].startswith(scene.a2.start_date.isoformat())


FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+SUM(1,2)", "-2+3", "@cmd", "\tTabbed", "\rReturned"]


@pytest.fixture
def formulas(scene):
    award = published_award(call=scene.call_a, title=FORMULAS[0], description=FORMULAS[1],
                            recipient=OrganisationFactory(name=FORMULAS[3], network=scene.sw))
    BidPartnerFactory(bid=award.bid, organisation=OrganisationFactory(name=FORMULAS[2], network=scene.sw))
    return award


def test_csv_text_cells_cannot_start_a_formula(client, scene, formulas):
    row = next(r for r in csv_rows(client) if r["Reference"] == formulas.reference)
    assert row["Title"] == "'" + FORMULAS[0]
    assert row["Description"] == "'" + FORMULAS[1]
    assert row["Recipient Org:Name"] == "'" + FORMULAS[3]
    assert row["Partners"].startswith("'" + FORMULAS[2])
    for value in (v for r in csv_rows(client) for v in r.values()):
        assert not value.startswith(("=", "+", "@", "\t", "\r")), value


def test_xlsx_text_cells_cannot_start_a_formula(client, scene, formulas):
    headings, rows = xlsx_rows(client)
    row = next(r for r in rows if r[headings.index("Reference")].value == formulas.reference)
    cells = dict(zip(headings, row, strict=True))
    assert cells["Title"].value == "'" + FORMULAS[0]
    assert cells["Description"].value == "'" + FORMULAS[1]
    assert cells["Recipient Org:Name"].value == "'" + FORMULAS[3]
    for cell in (c for r in rows for c in r):
        assert cell.data_type != "f"


@pytest.mark.parametrize("text", [*FORMULAS, "plain", "", "a=b", "  =spaced"])
def test_safe_cell(text):
    escaped = safe_cell(text)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert escaped in (text, "'" + text)


def test_xlsx_survives_control_characters(client, scene):
    published_award(call=scene.call_a, title="Bell\x07 and form feed\x0c", description="Vertical\x0btab")
    headings, rows = xlsx_rows(client)
    assert any(r[headings.index("Title")].value == "Bell and form feed" for r in rows)


def test_an_empty_selection_gives_just_the_headings(client, scene):
    assert csv_rows(client, {"q": "nothing-matches-this"}) == []
    headings, rows = xlsx_rows(client, {"q": "nothing-matches-this"})
    assert headings == XLSX_HEADINGS
    assert rows == []


# Nothing unpublished, bad filters, streaming, conditional GET, query counts ----------------


def test_no_export_contains_an_unpublished_award(client, scene):
    hidden = {a.reference for a in scene.hidden}
    assert not hidden & {g["id"].split("fundportal-", 1)[1] for g in package(client)["grants"]}
    assert not hidden & {r["Reference"] for r in csv_rows(client)}
    assert not hidden & {r[1].value for r in xlsx_rows(client)[1]}
    for path in (JSON, CSV, XLSX):
        assert b"Secret" not in body(client.get(path))


@pytest.mark.parametrize("path", [JSON, CSV, XLSX])
def test_bad_filters_on_an_export_are_refused_with_a_message(client, scene, path):
    response = client.get(path, {"fund": "nope", "min_amount": "lots"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "fund: Choose a fund from the list" in text
    assert "min_amount: Enter an amount in pounds" in text


@pytest.mark.parametrize(("path", "content_type"), [(JSON, "application/json"), (CSV, "text/csv"), (XLSX, "application/vnd.openxml")])
def test_a_head_request_gets_the_headers_without_building_the_file(client, scene, path, content_type):
    response = client.head(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert response["ETag"] == client.get(path)["ETag"]
    assert not response.streaming


@pytest.mark.parametrize("path", [JSON, CSV, XLSX])
def test_exports_stream(client, scene, path):
    response = client.get(path)
    assert response.streaming
    assert response["Cache-Control"] == "public, max-age=60, s-maxage=60"


@pytest.mark.parametrize("path", [JSON, CSV, XLSX])
def test_repeat_downloads_get_304_until_something_changes(client, scene, path):
    first = client.get(path)
    body(first)
    etag, modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"')
    assert modified.endswith("GMT")
    again = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert not body(again)
    assert client.get(path, HTTP_IF_MODIFIED_SINCE=modified).status_code == 304
    # Different filters are a different download.
    assert client.get(path, {"fund": "adoption-fund"})["ETag"] != etag
    # A payment changes the amount paid: the old ETag no longer matches.
    PotLedgerEntry.objects.create(pot=scene.a1.pot, financial_year=scene.a1.years[0], kind=LedgerEntryKind.PAYMENT,
                                  amount=Decimal("5.00"), award=scene.a1)
    changed = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    # So does renaming an organisation the export names.
    recipient = scene.a1.recipient
    recipient.name = "Renamed University Hospitals NHS Trust"
    recipient.save()
    renamed = client.get(path, HTTP_IF_NONE_MATCH=changed["ETag"])
    assert renamed.status_code == 200
    assert renamed["ETag"] != changed["ETag"]


@pytest.mark.parametrize("path", [JSON, CSV, XLSX])
def test_exports_run_the_same_queries_for_3_or_40_awards(client, scene, path):
    """The streaming path (any filter; ``q=`` selects every award) and the file built ahead."""
    def count(params=None) -> int:
        with CaptureQueriesContext(connection) as captured:
            body(client.get(path, params or {}))
        return len(captured.captured_queries)

    before = count({"q": ""})
    bulk_register(37, tag="MORE")
    assert count({"q": ""}) == before
    assert before <= 6
    open_data_build()
    assert count() == 1  # the public version; then the stored file
