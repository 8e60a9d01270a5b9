"""Open data: the register as a 360Giving package (JSON), CSV and XLSX.

Each export reads the filtered awards with ONE query (a server-side cursor on PostgreSQL,
``fetchmany`` batches on SQLite) and yields its output piece by piece, so memory stays flat
whatever the number of awards. Text cells in CSV and XLSX are safe against formula injection.

``validate_package`` and ``quality_problems`` check a package against the 360Giving schema in
``reporting/schema/`` and against 360Giving's data-quality rules; the tests use both.
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
from urllib.parse import quote

from django.conf import settings
from django.db.models import Max, OuterRef, QuerySet, Subquery
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
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
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
    "recipient__charity_number", "recipient__region", "recipient__network__name", "recipient__network__short_name",
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
def _labels(choices: type) -> dict[str, str]:
    return dict(choices.choices)


def label(choices: type, value: str) -> str:
    return _labels(choices).get(value, "")


def org_identifier(row: dict) -> str:
    """The recipient's org-id (the model's rule, on the values already read)."""
    return _org_identifier(row["recipient_id"], row["recipient__ods_code"], row["recipient__company_number"] or "",
                           row["recipient__charity_number"] or "")


@lru_cache(maxsize=4096)
def _org_identifier(pk: int, ods_code: str | None, company_number: str, charity_number: str) -> str:
    return Organisation(pk=pk, ods_code=ods_code, company_number=company_number, charity_number=charity_number).org_identifier


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
    recipient = {"id": org_identifier(row), "name": redact_emails(row["recipient__name"])}
    if row["recipient__company_number"]:
        recipient["companyNumber"] = row["recipient__company_number"]
    if row["recipient__charity_number"]:
        recipient["charityNumber"] = row["recipient__charity_number"]
    data = {
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
    if row["recipient__region"] in REGIONS:
        # The NHS England region and its ONS code (E40...). 360Giving's geoCodeType codelist has
        # no entry for NHS England regions, so the type is left out rather than guessed.
        data["beneficiaryLocation"] = [{
            "name": label(Region, row["recipient__region"]), "geoCode": row["recipient__region"], "countryCode": "GB",
        }]
    return data


def package_header(*, download_url: str, last_modified: dt.datetime | None) -> dict:
    return {
        "version": PACKAGE_VERSION,
        "title": f"{settings.PORTAL_NAME}: award register",
        "description": "Every published award of the fund, with what it was for, who received it and what has been paid.",
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

# (heading, kind, value) — kind "text" cells are escaped; "money", "date", "number" are not text.
COLUMNS = [
    ("360Giving identifier", "text", lambda r: f"360G-{settings.GRANTNAV_PREFIX}-{r['reference']}"),
    ("Reference", "text", lambda r: r["reference"]),
    ("Title", "text", lambda r: redact_emails(r["title"])),
    ("Summary", "text", lambda r: redact_emails(r["description"])),
    ("Recipient", "text", lambda r: redact_emails(r["recipient__name"])),
    ("Recipient identifier", "text", org_identifier),
    ("Recipient kind", "text", lambda r: label(OrganisationKind, r["recipient__kind"])),
    ("Partners", "text", lambda r: redact_emails(r["partner_names"] or "")),
    ("NHS England region", "text", lambda r: label(Region, r["recipient__region"])),
    ("Region ONS code", "text", lambda r: r["recipient__region"] or ""),
    ("Health Innovation Network", "text", lambda r: r["recipient__network__name"] or ""),
    ("Fund", "text", lambda r: r["pot__fund__name"]),
    ("Pot", "text", lambda r: r["pot__name"]),
    ("Call", "text", lambda r: redact_emails(r["bid__call__title"])),
    ("Purpose", "text", lambda r: label(CallPurpose, r["bid__call__purpose"])),
    ("Type of innovation", "text", lambda r: label(InnovationType, r["bid__innovation_type"])),
    ("Amount awarded (£)", "money", lambda r: r["amount"]),
    ("Amount applied for (£)", "money", lambda r: r["applied"]),
    ("Amount paid (£)", "money", lambda r: r["paid"]),
    ("Score (0 to 100)", "number", lambda r: r["decision__score"]),
    # The decision's public reason only (``assessment.visibility``): never the internal rationale.
    ("Why the panel funded it", "text", lambda r: redact_emails(r["decision__public_reason"] or "")),
    ("Award date", "date", lambda r: award_date(r).astimezone(UK).date()),
    ("Start date", "date", lambda r: r["start_date"]),
    ("End date", "date", lambda r: r["end_date"]),
    ("Status", "text", lambda r: label(AwardStatus, r["status"])),
    ("Award page", "text", lambda r: site_url(award_path(r["reference"]))),
    ("Last modified", "text", lambda r: iso(modified(r))),
]
HEADINGS = [heading for heading, _, _ in COLUMNS]


class _Echo:
    """A file-like object whose write returns what it was given (for csv.writer)."""

    def write(self, value: str) -> str:
        return value


def csv_values(row: dict) -> list:
    values = []
    for _, kind, get in COLUMNS:
        value = get(row)
        if value is None:
            values.append("")
        elif kind == "text":
            values.append(safe_cell(str(value)))
        elif kind == "date":
            values.append(value.isoformat())
        elif kind == "money":
            values.append(f"{Decimal(value):.2f}")
        else:
            values.append(str(value))
    return values


def stream_csv(queryset: QuerySet[Award]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADINGS)
    buffer: list[str] = []
    for row in export_rows(queryset):
        buffer.append(writer.writerow(csv_values(row)))
        if len(buffer) >= 500:
            yield "".join(buffer)
            buffer = []
    if buffer:
        yield "".join(buffer)


def write_xlsx(queryset: QuerySet[Award]) -> tempfile._TemporaryFileWrapper:
    """The workbook in a temporary file (openpyxl write-only: rows go to disk as they come).
    The caller streams the file and closing it deletes it."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Awards")
    bold = Font(bold=True)
    header = []
    for heading in HEADINGS:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    sheet.freeze_panes = "A2"
    formats = {"money": "#,##0.00", "date": "yyyy-mm-dd", "number": "0.00"}
    for row in export_rows(queryset):
        cells = []
        for _, kind, get in COLUMNS:
            value = get(row)
            if kind == "text":
                cells.append(xlsx_text(str(value)) if value is not None else None)
                continue
            cell = WriteOnlyCell(sheet, value=value)
            if value is not None:
                cell.number_format = formats[kind]
            cells.append(cell)
        sheet.append(cells)
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by the response
    workbook.save(handle)
    handle.flush()
    handle.seek(0)
    return handle


# Checks: the schema and 360Giving's data-quality rules ------------------------------------


@cache
def _schemas() -> tuple[dict, dict]:
    package = json.loads((SCHEMA_DIR / "360-giving-package-schema.json").read_text())
    grant_schema = json.loads((SCHEMA_DIR / "360-giving-schema.json").read_text())
    return package, grant_schema


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
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    package_schema, grant_schema = _schemas()
    # The files say "$schema": "http://json-schema.org/draft/2020-12/schema", which is not the
    # dialect's canonical address, so the dialect is named here.
    resource = Resource(contents=grant_schema, specification=DRAFT202012)
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
