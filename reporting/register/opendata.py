"""Open data: the register as a 360Giving package (JSON), CSV and XLSX.

Each export reads the filtered awards with ONE query (a server-side cursor on PostgreSQL,
``fetchmany`` batches on SQLite) and yields its output piece by piece, so memory stays flat
whatever the number of awards. Text cells in CSV and XLSX are safe against formula injection.

The CSV and XLSX use 360Giving's spreadsheet column titles ("Identifier", "Amount Awarded",
"Recipient Org:Identifier" ...) for every field the JSON carries, so flattentool (360Giving's own
conversion) turns them into the same grants; the portal's own columns follow. The CSV numbers
repeated parts ("Classifications:0:Code"); the XLSX puts them on their own sheets keyed by
"Identifier", as 360Giving's template does.

``validate_package`` and ``quality_problems`` check a package against the 360Giving schema (read
at run time from ``THREESIXTYGIVING_SCHEMA_URL``, cached) and against 360Giving's data-quality
rules; the tests use both.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import tempfile
import zoneinfo
from collections.abc import Iterable, Iterator
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin
from urllib.request import Request, urlopen

from django.conf import settings
from django.db.models import Choices, Max, OuterRef, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from awards.models import Award, AwardStatus, LedgerEntryKind, PotLedgerEntry
from governance.exports import safe_cell
from governance.models import (
    CallPurpose,
    Fund,
    InnovationType,
    Organisation,
    OrganisationKind,
    Region,
)

from .selectors import (
    applied_subquery,
    paid_subquery,
    partner_names_subquery,
    redact_emails,
    site_url,
)

CHUNK = 2000
PACKAGE_VERSION = "1.4"
TITLE_LIMIT = 140
ILLEGAL_XML_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
UK = zoneinfo.ZoneInfo("Europe/London")
INNOVATION_TYPES = frozenset(InnovationType.values)
REGIONS = frozenset(Region.values)

ROW_FIELDS = (
    "pk", "reference", "title", "description", "amount", "start_date", "end_date", "status", "updated_at",
    "decision__decided_at", "decision__released_at", "decision__score", "decision__public_reason",
    "recipient_id", "recipient__name", "recipient__kind", "recipient__ods_code", "recipient__company_number",
    "recipient__charity_number", "recipient__region", "recipient__official_org_id", "recipient__ukprn",
    "recipient__edu_urn", "recipient__postcode", "recipient__ons_local_authority_code",
    "recipient__ons_local_authority_name", "recipient__ons_icb_code", "recipient__ons_icb_name", "recipient__network__name", "recipient__network__short_name",
    "pot__fund_id", "pot__fund__name", "pot__fund__slug", "pot__name",
    "bid__call__slug", "bid__call__title", "bid__call__purpose", "bid__call__updated_at", "bid__innovation_type",
)


def xlsx_text(value: str) -> str:
    return safe_cell(ILLEGAL_XML_CHARS.sub("", value))


# Rows ------------------------------------------------------------------------------------


def export_rows(queryset: QuerySet[Award]) -> Iterator[dict]:
    """One dict per award, from a single query read in chunks."""
    last_paid = (
        PotLedgerEntry.objects.filter(award_id=OuterRef("pk"), kind=LedgerEntryKind.PAYMENT)
        .order_by().values("award_id").annotate(latest=Max("created_at")).values("latest")
    )
    rows = (
        queryset.order_by("pk")
        .annotate(paid=paid_subquery(), applied=applied_subquery(), partner_names=partner_names_subquery(),
                  last_paid=Subquery(last_paid))
        .values(*ROW_FIELDS, "paid", "applied", "partner_names", "last_paid")
    )
    return rows.iterator(chunk_size=CHUNK)


@cache
def _labels(choices: type[Choices]) -> dict[str, str]:
    return dict(choices.choices)


def label(choices: type, value: str) -> str:
    return _labels(choices).get(value, "")


def org_identifier(row: dict) -> str:
    """The recipient's org-id (the model's rule, on the values already read)."""
    return _org_identifier(row["recipient_id"], row["recipient__ods_code"], row["recipient__company_number"] or "",
                           row["recipient__charity_number"] or "", row["recipient__official_org_id"] or "",
                           row["recipient__ukprn"] or "", row["recipient__edu_urn"] or "")


@lru_cache(maxsize=4096)
def _org_identifier(pk: int, ods_code: str | None, company_number: str, charity_number: str, official_org_id: str,
                    ukprn: str, edu_urn: str) -> str:
    return Organisation(pk=pk, ods_code=ods_code, company_number=company_number, charity_number=charity_number,
                        official_org_id=official_org_id, ukprn=ukprn, edu_urn=edu_urn).org_identifier


def places(row: dict) -> list[dict]:
    """The recipient's ONS geography, widest first: NHS England region, ICB, local authority."""
    found = []
    if row["recipient__region"] in REGIONS:
        found.append({"name": label(Region, row["recipient__region"]), "geoCode": row["recipient__region"], "countryCode": "GB"})
    if row["recipient__ons_icb_code"]:
        found.append({"name": row["recipient__ons_icb_name"] or row["recipient__ons_icb_code"],
                      "geoCode": row["recipient__ons_icb_code"], "countryCode": "GB"})
    if row["recipient__ons_local_authority_code"]:
        found.append({"name": row["recipient__ons_local_authority_name"] or row["recipient__ons_local_authority_code"],
                      "geoCode": row["recipient__ons_local_authority_code"], "countryCode": "GB"})
    return found


def award_date(row: dict) -> dt.datetime:
    """When the decision to award was made (never later than its release)."""
    decided, released = row["decision__decided_at"], row["decision__released_at"]
    return min(decided, released) if decided and released else (decided or released)


def modified(row: dict) -> dt.datetime:
    return max(m for m in (row["updated_at"], row["bid__call__updated_at"], row["last_paid"], row["decision__released_at"]) if m)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(UK).isoformat(timespec="seconds")


@lru_cache(maxsize=4096)
def iso_day(day: dt.date) -> str:
    """A date as a date-time at midnight UK time: valid under every reading of the schema's oneOf."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=UK).isoformat(timespec="seconds")


def months_between(start: dt.date, end: dt.date) -> int:
    return max(1, round(((end - start).days + 1) / (365.25 / 12)))


def money_number(amount: Decimal) -> int | float:
    """JSON numbers: whole pounds as integers, else pounds and pence (exact in shortest repr)."""
    amount = Decimal(amount)
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def award_path(reference: str) -> str:
    return _award_path_prefix() + quote(reference, safe="") + "/"


@cache
def _award_path_prefix() -> str:
    """``/register/``, from the URL configuration once (reversing for every row is slow)."""
    return reverse("reporting:award", kwargs={"reference": "x"})[:-2]


@lru_cache(maxsize=1024)
def call_url(slug: str) -> str:
    return site_url(reverse("governance:call_public", kwargs={"slug": slug}))


def title_and_description(row: dict) -> tuple[str, str]:
    """A title under 140 characters and a description that differs from it."""
    title = " ".join(redact_emails(row["title"]).split())
    description = redact_emails(row["description"]).strip()
    if len(title) >= TITLE_LIMIT:
        short = title[: TITLE_LIMIT - 2].rsplit(" ", 1)[0].rstrip(" ,;:-") + "…"
        description = f"{title}. {description}" if description else title
        title = short
    if not description or description == title:
        description = (
            f"{title}: an award by the {row['pot__fund__name']} to {row['recipient__name']}, "
            f"made under the call {row['bid__call__title']}."
        )
    return title, description


# 360Giving -------------------------------------------------------------------------------


def funders(fund_ids: Iterable[int] | None = None) -> dict[int, dict]:
    """Each fund's funding organisation (its host network): one query for all funds."""
    funds = Fund.objects.select_related("host_network")
    if fund_ids is not None:
        funds = funds.filter(pk__in=list(fund_ids))
    return {
        fund.pk: {"id": fund.host_network.org_identifier, "name": redact_emails(fund.host_network.name),
                  "department": redact_emails(fund.name)}
        for fund in funds
    }


def grant(row: dict, funding: dict[int, dict]) -> dict:
    title, description = title_and_description(row)
    page = site_url(award_path(row["reference"]))
    recipient: dict[str, Any] = {"id": org_identifier(row), "name": redact_emails(row["recipient__name"])}
    if row["recipient__company_number"]:
        recipient["companyNumber"] = row["recipient__company_number"]
    if row["recipient__charity_number"]:
        recipient["charityNumber"] = row["recipient__charity_number"]
    if row["recipient__postcode"]:
        recipient["postalCode"] = row["recipient__postcode"]
    where = places(row)
    local = [place for place in where if place["geoCode"] != row["recipient__region"]]
    if local:  # where the recipient is: its ICB and local authority (the region is the beneficiaries')
        recipient["location"] = local
    data: dict[str, Any] = {
        "id": f"360G-{settings.GRANTNAV_PREFIX}-{row['reference']}",
        "title": title,
        "description": description,
        "currency": "GBP",
        "amountAwarded": money_number(row["amount"]),
        "awardDate": iso(award_date(row)),
        "plannedDates": [{
            "startDate": iso_day(row["start_date"]),
            "endDate": iso_day(row["end_date"]),
            "duration": months_between(row["start_date"], row["end_date"]),
        }],
        "recipientOrganization": [recipient],
        "fundingOrganization": [funding[row["pot__fund_id"]]],
        "grantProgramme": [{
            "code": row["bid__call__slug"],
            "title": redact_emails(row["bid__call__title"]),
            "url": call_url(row["bid__call__slug"]),
        }],
        "fromOpenCall": "Yes",
        "classifications": [{
            "vocabulary": f"360G-{settings.GRANTNAV_PREFIX}-purpose",
            "code": row["bid__call__purpose"],
            "title": label(CallPurpose, row["bid__call__purpose"]),
        }],
        "url": page,
        # The portal's own field: the panel's public reason (never its internal rationale).
        "panelDecisionReason": redact_emails(row["decision__public_reason"] or ""),
        "dateModified": iso(modified(row)),
        "dataSource": page,
    }
    # No zero amounts: what was applied for and what has been paid appear once there is some.
    if row["applied"]:
        data["amountAppliedFor"] = money_number(row["applied"])
    if row["paid"]:
        data["amountDisbursed"] = money_number(row["paid"])
    if row["bid__innovation_type"] in INNOVATION_TYPES:
        data["classifications"].append({
            "vocabulary": f"360G-{settings.GRANTNAV_PREFIX}-innovation-type",
            "code": row["bid__innovation_type"],
            "title": label(InnovationType, row["bid__innovation_type"]),
        })
    if where:
        # The recipient's NHS England region, ICB and local authority, by their ONS codes (E40...,
        # E54..., E06-E10...). 360Giving's geoCodeType codelist has no entry for NHS England
        # regions or ICBs, so the type is left out rather than guessed.
        data["beneficiaryLocation"] = where
    return data


def package_header(*, download_url: str, last_modified: dt.datetime | None) -> dict:
    return {
        "version": PACKAGE_VERSION,
        "title": f"{settings.PORTAL_NAME}: award register",
        "description": (
            "Every published award of the fund, with what it was for, who received it and what has been paid. "
            "Each fund is run by the Health Innovation Network that hosts it, so a grant's funding organisation "
            "is its fund's host network, named by its official identifier."
        ),
        "identifier": f"360G-{settings.GRANTNAV_PREFIX}-register",
        "modified": iso(last_modified or timezone.now()),
        "publisher": {"name": settings.PORTAL_NAME, "website": site_url("/")},
        "license": settings.OPEN_DATA_LICENCE,
        "downloadURL": download_url,
        "accessURL": site_url(reverse("reporting:register")),
    }


def stream_360giving(queryset: QuerySet[Award], *, download_url: str, last_modified=None) -> Iterator[str]:
    """The package as JSON text, in pieces of about 64 KB."""
    header = package_header(download_url=download_url, last_modified=last_modified)
    yield json.dumps(header, ensure_ascii=False)[:-1] + ', "grants": [\n'
    funding = funders()
    buffer: list[str] = []
    size = 0
    first = True
    for row in export_rows(queryset):
        text = json.dumps(grant(row, funding), ensure_ascii=False)
        buffer.append(text if first else ",\n" + text)
        first = False
        size += len(text)
        if size > 65536:
            yield "".join(buffer)
            buffer, size = [], 0
    buffer.append("\n]}\n")
    yield "".join(buffer)


def build_360giving(queryset: QuerySet[Award], **kwargs) -> dict:
    """The whole package as a dict (for tests and small sets)."""
    return json.loads("".join(stream_360giving(queryset, download_url=kwargs.get("download_url", site_url("/register/360giving.json")))))


# CSV and XLSX ----------------------------------------------------------------------------

# Spreadsheet columns: (title, kind, value). The 360Giving part reads the grant as the JSON has
# it (so the spreadsheet says what the JSON says), the portal's part reads the row. Kind "text"
# cells are escaped against formulas; "money" and "number" are numbers; dates are written as the
# JSON writes them (ISO 8601 text), which every reading of the schema accepts.


def _at(*path):
    def get(item):
        for step in path:
            try:
                item = item[step]
            except (KeyError, IndexError, TypeError):
                return None
        return item
    return get


GRANT_COLUMNS = [
    ("Identifier", "text", _at("id")),
    ("Title", "text", _at("title")),
    ("Description", "text", _at("description")),
    ("Currency", "text", _at("currency")),
    ("Amount Applied For", "money", _at("amountAppliedFor")),
    ("Amount Awarded", "money", _at("amountAwarded")),
    ("Amount Disbursed", "money", _at("amountDisbursed")),
    ("Award Date", "text", _at("awardDate")),
    ("Planned Dates:Start Date", "text", _at("plannedDates", 0, "startDate")),
    ("Planned Dates:End Date", "text", _at("plannedDates", 0, "endDate")),
    ("Planned Dates:Duration (months)", "number", _at("plannedDates", 0, "duration")),
    ("Recipient Org:Identifier", "text", _at("recipientOrganization", 0, "id")),
    ("Recipient Org:Name", "text", _at("recipientOrganization", 0, "name")),
    ("Recipient Org:Charity Number", "text", _at("recipientOrganization", 0, "charityNumber")),
    ("Recipient Org:Company Number", "text", _at("recipientOrganization", 0, "companyNumber")),
    ("Recipient Org:Postal Code", "text", _at("recipientOrganization", 0, "postalCode")),
    ("Funding Org:Identifier", "text", _at("fundingOrganization", 0, "id")),
    ("Funding Org:Name", "text", _at("fundingOrganization", 0, "name")),
    ("Funding Org:Department", "text", _at("fundingOrganization", 0, "department")),
    ("Grant Programme:Code", "text", _at("grantProgramme", 0, "code")),
    ("Grant Programme:Title", "text", _at("grantProgramme", 0, "title")),
    ("Grant Programme:URL", "text", _at("grantProgramme", 0, "url")),
    ("From An Open Call?", "text", _at("fromOpenCall")),
    ("URL", "text", _at("url")),
    ("Last Modified", "text", _at("dateModified")),
    ("Data Source", "text", _at("dataSource")),
]

# Repeated parts: (sheet title, path to the list in the grant, parent key columns, item fields).
# The CSV numbers them ("Classifications:0:Code"); the XLSX gives each its own sheet.
LOCATION_FIELDS = [("Name", "name"), ("Country Code", "countryCode"), ("Geographic Code", "geoCode")]
REPEATED = [
    ("Classifications", ("classifications",), [("Vocabulary", "vocabulary"), ("Code", "code"), ("Title", "title")], 2),
    ("Beneficiary Location", ("beneficiaryLocation",), LOCATION_FIELDS, 3),
    ("Recipient Org:Location", ("recipientOrganization", 0, "location"), LOCATION_FIELDS, 2),
]

PORTAL_COLUMNS = [
    ("Reference", "text", lambda r: r["reference"]),
    ("Recipient kind", "text", lambda r: label(OrganisationKind, r["recipient__kind"])),
    ("Partners", "text", lambda r: redact_emails(r["partner_names"] or "")),
    ("NHS England region", "text", lambda r: label(Region, r["recipient__region"])),
    ("Health Innovation Network", "text", lambda r: r["recipient__network__name"] or ""),
    ("Fund", "text", lambda r: r["pot__fund__name"]),
    ("Pot", "text", lambda r: r["pot__name"]),
    ("Purpose", "text", lambda r: label(CallPurpose, r["bid__call__purpose"])),
    ("Type of innovation", "text", lambda r: label(InnovationType, r["bid__innovation_type"])),
    ("Score (0 to 100)", "number", lambda r: r["decision__score"]),
    # The decision's public reason only (``assessment.visibility``): never the internal rationale.
    ("Why the panel funded it", "text", lambda r: redact_emails(r["decision__public_reason"] or "")),
    ("Status", "text", lambda r: label(AwardStatus, r["status"])),
]


def _repeated_csv_columns() -> list[tuple[str, str, object]]:
    columns = []
    for title, path, fields, count in REPEATED:
        for index in range(count):
            for field_title, key in fields:
                columns.append((f"{title}:{index}:{field_title}", "text", _at(*path, index, key)))
    return columns


CSV_GRANT_COLUMNS = GRANT_COLUMNS + _repeated_csv_columns()
HEADINGS = [title for title, _, _ in CSV_GRANT_COLUMNS] + [title for title, _, _ in PORTAL_COLUMNS]
XLSX_HEADINGS = [title for title, _, _ in GRANT_COLUMNS] + [title for title, _, _ in PORTAL_COLUMNS]
MAIN_SHEET = "grants"


def _values(row: dict, item: dict, grant_columns) -> list[tuple[str, object]]:
    """(kind, value) of each column of one award: the grant's columns, then the portal's."""
    return [(kind, get(item)) for _, kind, get in grant_columns] + [(kind, get(row)) for _, kind, get in PORTAL_COLUMNS]


class _Echo:
    """A file-like object whose write returns what it was given (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(kind: str, value) -> str:
    if value is None or value == "":
        return ""
    if kind == "text":
        return safe_cell(str(value))
    if kind == "money":
        return str(money_number(value))
    return str(value)


def csv_values(row: dict, item: dict) -> list[str]:
    return [_csv_cell(kind, value) for kind, value in _values(row, item, CSV_GRANT_COLUMNS)]


def _grants(queryset: QuerySet[Award]) -> Iterator[tuple[dict, dict]]:
    funding = funders()
    for row in export_rows(queryset):
        yield row, grant(row, funding)


def stream_csv(queryset: QuerySet[Award]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADINGS)
    buffer: list[str] = []
    for row, item in _grants(queryset):
        buffer.append(writer.writerow(csv_values(row, item)))
        if len(buffer) >= 500:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)


def write_xlsx(queryset: QuerySet[Award]) -> tempfile._TemporaryFileWrapper:
    """The workbook in a temporary file (openpyxl write-only: rows go to disk as they come): the
    grants on the first sheet, each repeated part on a sheet of its own keyed by "Identifier".
    The caller streams the file and closing it deletes it."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    formats = {"money": "#,##0.00", "number": "0.00"}

    def add_sheet(title: str, headings: list[str]):
        sheet = workbook.create_sheet(title)
        header = []
        for heading in headings:
            cell = WriteOnlyCell(sheet, value=heading)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        sheet.freeze_panes = "A2"
        return sheet

    def cells(sheet, values):
        out = []
        for kind, value in values:
            if value is None or value == "":
                out.append(None)
            elif kind == "text":
                out.append(xlsx_text(str(value)))
            else:
                cell = WriteOnlyCell(sheet, value=money_number(value) if kind == "money" else value)
                cell.number_format = formats[kind]
                out.append(cell)
        return out

    main = add_sheet(MAIN_SHEET, XLSX_HEADINGS)
    parts = []
    for title, path, fields, _ in REPEATED:
        keys = ["Identifier"] + (["Recipient Org:Identifier"] if path[0] == "recipientOrganization" else [])
        sheet_title = title.replace(":", " ")  # a sheet's name cannot hold a colon
        parts.append((add_sheet(sheet_title, keys + [f"{title}:{name}" for name, _ in fields]), path, fields, len(keys)))
    for row, item in _grants(queryset):
        main.append(cells(main, _values(row, item, GRANT_COLUMNS)))
        for sheet, path, fields, key_count in parts:
            keys = [item["id"], _at("recipientOrganization", 0, "id")(item)][:key_count]
            for part in _at(*path)(item) or []:
                sheet.append(cells(sheet, [("text", key) for key in keys] + [("text", part.get(key)) for _, key in fields]))
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by the response
    workbook.save(handle)
    handle.flush()
    handle.seek(0)
    return handle


# Checks: the schema and 360Giving's data-quality rules ------------------------------------


def grant_schema_location(package_location: str | None = None) -> str:
    """The grant schema: ``360-giving-schema.json`` next to the package schema (URL or path)."""
    location = package_location or settings.THREESIXTYGIVING_SCHEMA_URL
    if "://" in location and not location.startswith("file://"):
        return urljoin(location, "360-giving-schema.json")
    return str(Path(location.removeprefix("file://")).with_name("360-giving-schema.json"))


def _read_schema(location: str) -> dict:
    """A schema from a URL (through the cache shared by the web processes) or a local path."""
    if "://" in location and not location.startswith("file://"):
        from django.core.cache import cache as shared_cache

        key = f"360giving-schema:{location}"
        text = shared_cache.get(key)
        if text is None:
            request = Request(location, headers={"User-Agent": "fund-portal"})  # noqa: S310 - a configured URL
            with urlopen(request, timeout=30) as response:  # noqa: S310
                text = response.read().decode()
            shared_cache.set(key, text, settings.THREESIXTYGIVING_SCHEMA_CACHE_SECONDS)
        return json.loads(text)
    return json.loads(Path(location.removeprefix("file://")).read_text())


@lru_cache(maxsize=4)
def _schemas_from(location: str) -> tuple[dict, dict]:
    return _read_schema(location), _read_schema(grant_schema_location(location))


def _schemas() -> tuple[dict, dict]:
    """The 360Giving package and grant schemas, from ``THREESIXTYGIVING_SCHEMA_URL`` (read once
    per process and location: the standard's files are not copied into the project)."""
    return _schemas_from(settings.THREESIXTYGIVING_SCHEMA_URL)


def _strict_formats():
    """date-time and uri checked for real (jsonschema skips them without optional packages)."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value) -> bool:
        if not isinstance(value, str):
            return True
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value):
            return False
        dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
        return True

    @checker.checks("uri")
    def _uri(value) -> bool:
        return not isinstance(value, str) or bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$", value))

    return checker


def validate_package(data: dict) -> list[str]:
    """Every schema error in a 360Giving package, as "path: message" (empty when valid)."""
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT202012

    package_schema, grant_schema = _schemas()
    # The files say "$schema": "http://json-schema.org/draft/2020-12/schema", which is not the
    # dialect's canonical address, so the dialect is named here.
    resource = DRAFT202012.create_resource(grant_schema)
    registry = Registry().with_resources([
        (grant_schema["$id"], resource),
        (package_schema["properties"]["grants"]["items"]["$ref"], resource),
    ])
    validator = Draft202012Validator(package_schema, registry=registry, format_checker=_strict_formats())
    return [f"{'/'.join(map(str, error.absolute_path)) or '(package)'}: {error.message}" for error in validator.iter_errors(data)]


EMAIL_LIKE = re.compile(r"[\w.-]+@[\w.-]+\.[\w.-]+")
ID_CHARACTERS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _strings(value, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{path}/{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}/{index}")
    elif isinstance(value, str):
        yield path, value


def _moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UK)


def quality_problems(data: dict, now: dt.datetime | None = None) -> list[str]:
    """360Giving's data-quality rules: no £0 amounts, no award dates in the future, nothing that
    looks like an email, no unexpected characters in identifiers, planned dates in order, titles
    under 140 characters, and a title that differs from the description."""
    now = now or timezone.now()
    problems = []
    for index, item in enumerate(data.get("grants", [])):
        where = f"grants/{index} ({item.get('id')})"
        for amount in ("amountAwarded", "amountAppliedFor", "amountDisbursed"):
            if amount in item and item[amount] == 0:
                problems.append(f"{where}: {amount} is zero")
        if _moment(item["awardDate"]) > now:
            problems.append(f"{where}: awardDate is in the future")
        for path, text in _strings(item):
            if "email" not in path.lower() and EMAIL_LIKE.search(text):
                problems.append(f"{where}{path}: looks like an email address")
        ids = [("id", item["id"])] + [
            (f"{kind}/{n}/id", org["id"]) for kind in ("recipientOrganization", "fundingOrganization")
            for n, org in enumerate(item.get(kind, []))
        ]
        for path, identifier in ids:
            if not ID_CHARACTERS.match(identifier):
                problems.append(f"{where}/{path}: unexpected characters in {identifier!r}")
        for dates in item.get("plannedDates", []):
            if "startDate" in dates and "endDate" in dates and _moment(dates["startDate"]) > _moment(dates["endDate"]):
                problems.append(f"{where}: planned start date after the end date")
        if len(item.get("title", "")) >= TITLE_LIMIT:
            problems.append(f"{where}: title is {len(item['title'])} characters (under {TITLE_LIMIT} wanted)")
        if item.get("title") and item.get("title") == item.get("description"):
            problems.append(f"{where}: title and description are the same")
    ids = [item.get("id") for item in data.get("grants", [])]
    if len(ids) != len(set(ids)):
        problems.append("grant identifiers are not unique")
    return problems
