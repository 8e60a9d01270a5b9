"""The CSV and XLSX are 360Giving spreadsheets: converted exactly as 360Giving's data-quality tool
converts an upload (flattentool, the standard's schema, titles), they give the same grants as the
JSON, each with its identifier, valid against the schema with 0 errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from openpyxl import load_workbook

from reporting.register import opendata
from reporting.register.opendata import grant_schema_location, validate_package
from tests.reporting.register_builders import Scene, bulk_register, published_award
from tests.reporting.test_opendata import CSV, FORMULAS, JSON, XLSX, body, package

pytestmark = pytest.mark.django_db
flattentool = pytest.importorskip("flattentool")


def convert(client, path: str, tmp_path, suffix: str) -> dict:
    """The download converted by flattentool as 360Giving's data-quality tool does."""
    response = client.get(path)
    assert response.status_code == 200
    folder = tmp_path / suffix
    folder.mkdir()
    if suffix == "csv":
        (folder / "grants.csv").write_bytes(body(response))
        source, input_format = folder, "csv"
    else:
        source, input_format = folder / "awards.xlsx", "xlsx"
        source.write_bytes(body(response))
    output = tmp_path / f"{suffix}.json"
    flattentool.unflatten(
        str(source), input_format=input_format, output_name=str(output),
        schema=grant_schema_location(), root_list_path="grants", root_id="", id_name="id",
        convert_titles=True, root_is_list=False, disable_local_refs=True,
    )
    return json.loads(output.read_text())


def assert_schema_valid(data: dict) -> None:
    _, grant_schema = opendata._schemas()
    validator = jsonschema.Draft202012Validator(grant_schema, format_checker=opendata._strict_formats())
    errors = [f"{n}: {e.message}" for n, item in enumerate(data["grants"]) for e in validator.iter_errors(item)]
    assert errors == []
    assert validate_package({"grants": data["grants"]}) == []


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_spreadsheets_convert_to_the_same_valid_grants_as_the_json(client, tmp_path, kind):
    scene = Scene()
    recipient = scene.a2.recipient
    recipient.postcode, recipient.ons_icb_code, recipient.ons_icb_name = "E8 1DY", "E54000029", "NHS North East London ICB"
    recipient.ons_local_authority_code, recipient.ons_local_authority_name = "E09000012", "Hackney"
    recipient.save()
    published_award(call=scene.call_a, title=FORMULAS[0], description=FORMULAS[1])
    bulk_register(12, tag="SHEET")
    data = package(client)
    converted = convert(client, CSV if kind == "csv" else XLSX, tmp_path, kind)
    assert len(converted["grants"]) == len(data["grants"])
    by_id = {grant["id"]: grant for grant in converted["grants"]}
    assert set(by_id) == {grant["id"] for grant in data["grants"]}
    assert_schema_valid(converted)
    for original in data["grants"]:
        grant = by_id[original["id"]]
        # Every 360Giving field of the JSON comes back the same (formula-safe text aside).
        for key in ("currency", "amountAwarded", "awardDate", "plannedDates", "fundingOrganization",
                    "classifications", "beneficiaryLocation", "fromOpenCall", "dateModified", "url"):
            assert grant.get(key) == original.get(key), (original["id"], key)
        for key in ("amountAppliedFor", "amountDisbursed"):
            assert grant.get(key) == original.get(key), (original["id"], key)
        assert grant["recipientOrganization"] == original["recipientOrganization"]
        assert grant["grantProgramme"][0]["code"] == original["grantProgramme"][0]["code"]
        assert grant["title"].removeprefix("'") == original["title"]
        assert "Reference" in grant  # the portal's own columns follow, under their own titles


def test_demo_funders_have_real_identifiers_and_recipients_have_places(client):
    call_command("seed_demo", verbosity=0)
    data = package(client)
    funder_ids = {org["id"] for grant in data["grants"] for org in grant["fundingOrganization"]}
    assert funder_ids
    assert all(i.startswith("GB-COH-") for i in funder_ids), funder_ids
    devon = next(g for g in data["grants"] if g["recipientOrganization"][0]["id"] == "GB-NHS-RH8")
    assert devon["recipientOrganization"][0]["postalCode"] == "EX2 5DW"
    codes = {place["geoCode"] for place in devon["beneficiaryLocation"]}
    assert {"E40000006", "E54000037", "E10000008"} <= codes
    assert {p["geoCode"] for p in devon["recipientOrganization"][0]["location"]} == {"E54000037", "E10000008"}


def test_the_xlsx_has_the_repeated_parts_on_their_own_sheets_keyed_by_identifier(client):
    scene = Scene()
    response = client.get(XLSX)
    workbook = load_workbook(io.BytesIO(body(response)))
    assert workbook.sheetnames == ["grants", "Classifications", "Beneficiary Location", "Recipient Org Location"]
    rows = list(workbook["Classifications"].iter_rows(values_only=True))
    assert rows[0] == ("Identifier", "Classifications:Vocabulary", "Classifications:Code", "Classifications:Title")
    ids = {row[0] for row in rows[1:]}
    assert ids == {f"360G-fundportal-{award.reference}" for award in scene.published}
    main = list(workbook["grants"].iter_rows(values_only=True))
    headings = main[0]
    assert headings[:8] == ("Identifier", "Title", "Description", "Currency", "Amount Applied For",
                            "Amount Awarded", "Amount Disbursed", "Award Date")
    assert headings.index("Status") > headings.index("Data Source")  # the portal's columns come after


def test_the_schema_is_read_from_the_setting_and_cached(tmp_path, settings):
    source = tmp_path / "360-giving-package-schema.json"
    shared = settings.THREESIXTYGIVING_SCHEMA_URL
    source.write_text(Path(shared).read_text())
    (tmp_path / "360-giving-schema.json").write_text(Path(grant_schema_location(shared)).read_text())
    with override_settings(THREESIXTYGIVING_SCHEMA_URL=str(source)):
        first = opendata._schemas()
        source.write_text("{}")  # read once: a later change of the file is not read again
        assert opendata._schemas() is first
        assert grant_schema_location() == str(tmp_path / "360-giving-schema.json")
    assert grant_schema_location("https://example.org/standard/schema/360-giving-package-schema.json") == (
        "https://example.org/standard/schema/360-giving-schema.json")


def test_the_project_carries_no_copy_of_the_standard():
    assert not (Path(settings.BASE_DIR) / "reporting" / "schema").exists()
    assert "shared/data/360giving" in settings.THREESIXTYGIVING_SCHEMA_URL or settings.THREESIXTYGIVING_SCHEMA_URL.startswith("https://")


def test_the_json_download_still_validates(client):
    Scene()
    response = client.get(JSON)
    assert validate_package(json.loads(body(response))) == []
