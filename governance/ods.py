"""Organisations from the NHS Organisation Data Service (ODS).

Two sources, one loader:

- the ODS **CSV downloads** in their published layout: no header row, dates as YYYYMMDD, one file
  per kind of organisation (``etr`` trusts, ``ets`` trust sites, ``eccg``/``eicb`` ICBs and sub-ICB
  locations, ``epcn`` primary care networks, ``ela`` local authorities, ``epraccur`` GP
  practices, and ``succ`` for successors after mergers);
- the ODS **ORD API** (``ODS_API_URL``, e.g. https://directory.spineservices.nhs.uk/ORD/2-0-0), one
  organisation at a time, for refreshing the organisations the portal already holds.

Loading is idempotent: a record whose fields already match changes nothing; the result counts
what was created, updated, closed, unchanged and skipped. Each save goes through the model (so
signals keep the award register's names in step). Organisations closed in ODS stay in the
portal (a bid or award names them) with their close date and, after a merger, their successor.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import Request, urlopen

from django.conf import settings
from django.db import transaction

from .models import (
    ODS_CODE_PATTERNS,
    Organisation,
    OrganisationKind,
    Region,
    normalise_code,
    normalise_postcode,
)

# The published standard layout: 1-based column numbers.
COL_CODE, COL_NAME, COL_NATIONAL_GROUPING, COL_HEALTH_GEOGRAPHY = 1, 2, 3, 4
COL_POSTCODE, COL_OPEN, COL_CLOSE, COL_STATUS, COL_SUBTYPE, COL_PARENT = 10, 11, 12, 13, 14, 15
COL_PRESCRIBING_SETTING = 26
GP_PRACTICE_SETTING = "4"

# File kinds: the ODS file name it is published under, and the organisation kind it holds.
FILE_KINDS = {
    "etr": "NHS trusts",
    "ets": "NHS trust sites",
    "eccg": "ICBs and sub-ICB locations",
    "eicb": "ICBs and sub-ICB locations",
    "epcn": "primary care networks",
    "ela": "local authorities",
    "epraccur": "GP practices",
    "succ": "successors after mergers",
}

# ODS roles (the primary role of each kind).
ODS_ROLES: dict[str, str] = {
    OrganisationKind.NHS_TRUST: "RO197",
    OrganisationKind.FOUNDATION_TRUST: "RO197",
    OrganisationKind.NHS_SITE: "RO198",
    OrganisationKind.ICB: "RO318",
    OrganisationKind.SUB_ICB: "RO319",
    OrganisationKind.PRIMARY_CARE_NETWORK: "RO272",
    OrganisationKind.GP_PRACTICE: "RO76",
    OrganisationKind.LOCAL_AUTHORITY: "RO141",
}
KIND_OF_ROLE = {
    "RO197": OrganisationKind.NHS_TRUST, "RO198": OrganisationKind.NHS_SITE, "RO318": OrganisationKind.ICB,
    "RO319": OrganisationKind.SUB_ICB, "RO272": OrganisationKind.PRIMARY_CARE_NETWORK,
    "RO76": OrganisationKind.GP_PRACTICE, "RO177": OrganisationKind.GP_PRACTICE, "RO141": OrganisationKind.LOCAL_AUTHORITY,
}

# ODS national groupings (NHS England regions since 2020) and their ONS codes. Older files carry
# the 2013-2019 commissioning regions (Y54, Y55, Y57), which no longer map to one region.
NATIONAL_GROUPING_REGIONS = {
    "Y56": Region.LONDON,
    "Y58": Region.SOUTH_WEST,
    "Y59": Region.SOUTH_EAST,
    "Y60": Region.MIDLANDS,
    "Y61": Region.EAST_OF_ENGLAND,
    "Y62": Region.NORTH_WEST,
    "Y63": Region.NORTH_EAST_AND_YORKSHIRE,
}

SMALL_WORDS = {"and", "of", "the", "for", "in", "on", "at", "with", "upon", "by"}
ACRONYMS = {"NHS", "ICB", "PCN", "GP", "CCG", "UK", "NHSFT", "FT", "CIC", "LLP", "PLC", "UCLH", "OOH", "ICS", "HIV", "II", "III"}


def readable_name(raw: str) -> str:
    """ODS names are upper case: "ROYAL DEVON AND EXETER NHS FOUNDATION TRUST" reads as
    "Royal Devon and Exeter NHS Foundation Trust"."""
    words = []
    for index, word in enumerate(raw.strip().split()):
        if word.upper() in ACRONYMS:
            words.append(word.upper())
        elif index and word.lower() in SMALL_WORDS:
            words.append(word.lower())
        else:
            words.append("-".join(part[:1].upper() + part[1:].lower() for part in word.split("-")))
    text = " ".join(words)
    return re.sub(r"'S\b", "'s", text)


def ods_date(value: str) -> dt.date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        digits = value[:10].replace("-", "")
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)

    def merge(self, other: ImportResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.closed += other.closed
        self.unchanged += other.unchanged
        self.skipped += other.skipped

    def summary(self) -> str:
        return (f"{len(self.created)} created, {len(self.updated)} updated, {len(self.closed)} closed, "
                f"{self.unchanged} unchanged, {len(self.skipped)} skipped")


@dataclass
class OdsRecord:
    """One organisation as ODS describes it (from a CSV row or the API)."""

    code: str
    name: str
    kind: str
    postcode: str = ""
    opened_on: dt.date | None = None
    closed_on: dt.date | None = None
    region: str = ""
    parent_code: str = ""
    health_geography: str = ""
    role: str = ""
    successor_code: str = ""


class OdsFormatError(ValueError):
    pass


def file_kind_of(path: str | Path) -> str:
    """The ODS file kind from a file's name (``etr.csv``, ``epraccur-sample.csv`` ...)."""
    name = Path(path).name.lower()
    for kind in sorted(FILE_KINDS, key=len, reverse=True):
        if name.startswith(kind):
            return kind
    raise OdsFormatError(f"{Path(path).name}: cannot tell the ODS file from its name; give --kind ({', '.join(FILE_KINDS)})")


def _cell(row: list[str], column: int) -> str:
    return row[column - 1].strip() if len(row) >= column else ""


def _trust_kind(name: str) -> str:
    return OrganisationKind.FOUNDATION_TRUST if "FOUNDATION TRUST" in name.upper() else OrganisationKind.NHS_TRUST


def _commissioner_kind(code: str) -> str:
    return OrganisationKind.ICB if re.match(r"^Q[A-Z0-9]{2}$", code) else OrganisationKind.SUB_ICB


def records_from_rows(rows: Iterable[list[str]], file_kind: str) -> Iterator[OdsRecord | str]:
    """ODS records of a headerless CSV in the published layout; a string for a row skipped (why)."""
    for number, row in enumerate(rows, start=1):
        if not row or not any(cell.strip() for cell in row):
            continue
        code = normalise_code(_cell(row, COL_CODE))
        raw_name = _cell(row, COL_NAME)
        if not code or not raw_name:
            yield f"row {number}: no code or name"
            continue
        if number == 1 and code in {"ORGANISATIONCODE", "CODE"}:
            raise OdsFormatError("the file has a header row: ODS CSV downloads have none (is it the right file?)")
        if len(row) < COL_CLOSE:
            raise OdsFormatError(f"row {number}: {len(row)} columns, the ODS layout has at least {COL_CLOSE}")
        record = OdsRecord(
            code=code, name=readable_name(raw_name), kind="",
            postcode=normalise_postcode(_cell(row, COL_POSTCODE)),
            opened_on=ods_date(_cell(row, COL_OPEN)), closed_on=ods_date(_cell(row, COL_CLOSE)),
            region=NATIONAL_GROUPING_REGIONS.get(_cell(row, COL_NATIONAL_GROUPING), ""),
            health_geography=normalise_code(_cell(row, COL_HEALTH_GEOGRAPHY)),
            parent_code=normalise_code(_cell(row, COL_PARENT)),
        )
        if file_kind == "etr":
            record.kind = _trust_kind(raw_name)
        elif file_kind == "ets":
            record.kind = OrganisationKind.NHS_SITE
            record.parent_code = code[:3]  # a site's code is its trust's code and two characters
        elif file_kind in {"eccg", "eicb"}:
            record.kind = _commissioner_kind(code)
        elif file_kind == "epcn":
            record.kind = OrganisationKind.PRIMARY_CARE_NETWORK
        elif file_kind == "ela":
            record.kind = OrganisationKind.LOCAL_AUTHORITY
        elif file_kind == "epraccur":
            setting = _cell(row, COL_PRESCRIBING_SETTING)
            if setting and setting != GP_PRACTICE_SETTING:
                yield f"{code}: prescribing setting {setting}, not a GP practice"
                continue
            record.kind = OrganisationKind.GP_PRACTICE
            if _cell(row, COL_STATUS) == "C" and not record.closed_on:
                record.closed_on = ods_date(_cell(row, 17))
        else:
            raise OdsFormatError(f"unknown ODS file kind {file_kind!r}")
        record.role = ODS_ROLES.get(record.kind, "")
        pattern = ODS_CODE_PATTERNS.get(record.kind)
        if pattern and not pattern.match(code):
            yield f"{code}: not a valid code for {OrganisationKind(record.kind).label}"
            continue
        yield record


def successions_from_rows(rows: Iterable[list[str]]) -> Iterator[tuple[str, str, dt.date | None]]:
    """The ``succ`` file: predecessor code, successor code, reason, effective date, indicator."""
    for row in rows:
        if len(row) >= 2 and row[0].strip() and row[1].strip():
            yield normalise_code(row[0]), normalise_code(row[1]), ods_date(_cell(row, 4))


# Loading ------------------------------------------------------------------------------------

FIELDS = ("name", "kind", "postcode", "opened_on", "closed_on", "ods_role")


def _apply(organisation: Organisation, record: OdsRecord, lookup: dict[str, Organisation]) -> list[str]:
    """Set the organisation's fields from the record; the names of those that changed."""
    changed = []
    wanted = {
        "name": record.name, "kind": record.kind, "postcode": record.postcode,
        "opened_on": record.opened_on, "closed_on": record.closed_on, "ods_role": record.role,
    }
    if organisation.pk and organisation.name.casefold() == record.name.casefold():
        wanted["name"] = organisation.name  # keep a name someone wrote better than ODS's capitals
    if organisation.pk and organisation.kind == OrganisationKind.HEALTH_INNOVATION_NETWORK:
        wanted["kind"] = organisation.kind
    if record.region:
        wanted["region"] = record.region
    for name, value in wanted.items():
        if getattr(organisation, name) != value:
            setattr(organisation, name, value)
            changed.append(name)
    parent = lookup.get(record.parent_code) if record.parent_code else None
    if parent is not None and parent.pk != organisation.pk and organisation.parent_id != parent.pk:
        organisation.parent = parent
        changed.append("parent")
    icb = lookup.get(record.health_geography) or (parent if parent and parent.is_commissioner else None)
    if icb is not None and icb.ons_icb_code and organisation.ons_icb_code != icb.ons_icb_code:
        organisation.ons_icb_code, organisation.ons_icb_name = icb.ons_icb_code, icb.ons_icb_name
        changed.append("ons_icb_code")
    if not organisation.ons_local_authority_code and parent is not None and parent.ons_local_authority_code:
        organisation.ons_local_authority_code = parent.ons_local_authority_code
        organisation.ons_local_authority_name = parent.ons_local_authority_name
        changed.append("ons_local_authority_code")
    return changed


def load_records(records: Iterable[OdsRecord | str]) -> ImportResult:
    """Create or update the organisations of these records (one transaction)."""
    result = ImportResult()
    records = list(records)
    codes = {r.code for r in records if isinstance(r, OdsRecord)}
    parents = {r.parent_code for r in records if isinstance(r, OdsRecord)} | {
        r.health_geography for r in records if isinstance(r, OdsRecord)}
    with transaction.atomic():
        lookup = {o.ods_code: o for o in Organisation.objects.filter(ods_code__in=(codes | parents) - {""}) if o.ods_code}
        for record in records:
            if isinstance(record, str):
                result.skipped.append(record)
                continue
            organisation = lookup.get(record.code) or Organisation(ods_code=record.code)
            was_open = organisation.pk is None or organisation.closed_on is None
            changed = _apply(organisation, record, lookup)
            if organisation.pk is None:
                organisation.full_clean()
                organisation.save()
                lookup[record.code] = organisation
                result.created.append(f"{record.code} {organisation.name}")
            elif changed:
                organisation.full_clean()
                organisation.save()
                if was_open and organisation.closed_on:
                    result.closed.append(f"{record.code} {organisation.name} (closed {organisation.closed_on:%Y-%m-%d})")
                else:
                    result.updated.append(f"{record.code} {organisation.name}: {', '.join(changed)}")
            else:
                result.unchanged += 1
            if record.successor_code:
                result.merge(load_successions([(record.code, record.successor_code, None)]))
    return result


def load_successions(pairs: Iterable[tuple[str, str, dt.date | None]]) -> ImportResult:
    """Point each predecessor at its successor (both must be known); closes the predecessor on the
    effective date if ODS has not already."""
    result = ImportResult()
    pairs = list(pairs)
    codes = {code for pair in pairs for code in pair[:2]}
    with transaction.atomic():
        lookup = {o.ods_code: o for o in Organisation.objects.filter(ods_code__in=codes)}
        for old, new, when in pairs:
            predecessor, successor = lookup.get(old), lookup.get(new)
            if predecessor is None or successor is None or old == new:
                result.skipped.append(f"{old} -> {new}: {'unknown organisation' if old != new else 'same code'}")
                continue
            if predecessor.successor_id == successor.pk and (predecessor.closed_on or not when):
                result.unchanged += 1
                continue
            predecessor.successor = successor
            if when and not predecessor.closed_on:
                predecessor.closed_on = when
            predecessor.save()
            result.closed.append(f"{old} {predecessor.name}: succeeded by {new} {successor.name}")
    return result


def import_csv_text(text: str, file_kind: str) -> ImportResult:
    rows = csv.reader(io.StringIO(text))
    if file_kind == "succ":
        return load_successions(successions_from_rows(rows))
    return load_records(records_from_rows(rows, file_kind))


def import_csv_file(path: str | Path, file_kind: str | None = None) -> ImportResult:
    file_kind = file_kind or file_kind_of(path)
    if file_kind not in FILE_KINDS:
        raise OdsFormatError(f"unknown ODS file kind {file_kind!r}: one of {', '.join(FILE_KINDS)}")
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    return import_csv_text(text, file_kind)


# The ODS API (ORD 2-0-0 JSON) -----------------------------------------------------------------


def _fetch_json(url: str) -> dict:
    request = Request(url, headers={"Accept": "application/json", "User-Agent": "fund-portal"})  # noqa: S310 - a configured https URL
    with urlopen(request, timeout=settings.ODS_API_TIMEOUT) as response:  # noqa: S310
        return json.loads(response.read())


def record_from_api(data: dict) -> OdsRecord:
    """An ORD organisation document (``{"Organisation": {...}}``) as a record."""
    org = data["Organisation"]
    code = normalise_code(org["OrgId"]["extension"])
    opened = closed = None
    for period in org.get("Date", []):
        if period.get("Type") == "Operational":
            opened, closed = ods_date(period.get("Start", "")), ods_date(period.get("End", ""))
    roles = org.get("Roles", {}).get("Role", [])
    primary = next((r for r in roles if r.get("primaryRole")), roles[0] if roles else {})
    role = primary.get("id", "")
    kind = KIND_OF_ROLE.get(role, "")
    if kind == OrganisationKind.NHS_TRUST:
        kind = _trust_kind(org.get("Name", ""))
    successor = ""
    for succ in org.get("Succs", {}).get("Succ", []):
        if succ.get("Type") == "Successor":
            successor = normalise_code(succ.get("Target", {}).get("OrgId", {}).get("extension", ""))
    parent = ""
    for rel in org.get("Rels", {}).get("Rel", []):
        if rel.get("Status") == "Active" and rel.get("Target", {}).get("OrgId"):
            parent = normalise_code(rel["Target"]["OrgId"].get("extension", ""))
            break
    location = org.get("GeoLoc", {}).get("Location", {})
    return OdsRecord(
        code=code, name=readable_name(org.get("Name", code)), kind=kind, role=role,
        postcode=normalise_postcode(location.get("PostCode", "")), opened_on=opened, closed_on=closed,
        successor_code=successor, parent_code=parent,
    )


def refresh_from_api(codes: Iterable[str] | None = None, *, base_url: str | None = None) -> ImportResult:
    """Refresh organisations by ODS code from the ODS API (the portal's own, by default)."""
    base_url = (base_url or settings.ODS_API_URL).rstrip("/")
    if not base_url:
        raise OdsFormatError("ODS_API_URL is not set")
    if codes is None:
        stored = Organisation.objects.exclude(ods_code=None).exclude(
            kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).values_list("ods_code", flat=True)
        codes = [code for code in stored if code is not None]  # excluded above
    records: list[OdsRecord | str] = []
    for code in codes:
        code = normalise_code(code)
        try:
            record = record_from_api(_fetch_json(f"{base_url}/organisations/{code}"))
        except (OSError, KeyError, ValueError) as error:
            records.append(f"{code}: {error}")
            continue
        if not record.kind:
            existing = Organisation.objects.filter(ods_code=code).values_list("kind", flat=True).first()
            if not existing:
                records.append(f"{code}: role {record.role or 'unknown'} is not one the portal holds")
                continue
            record.kind = existing
        records.append(record)
    return load_records(records)


def import_from_sources() -> ImportResult:
    """The beat's refresh: each configured CSV URL (``ODS_SOURCE_URLS``), then the API for what the
    portal holds if ``ODS_API_URL`` is set."""
    result = ImportResult()
    for url in settings.ODS_SOURCE_URLS:
        request = Request(url, headers={"User-Agent": "fund-portal"})  # noqa: S310
        with urlopen(request, timeout=settings.ODS_API_TIMEOUT) as response:  # noqa: S310
            result.merge(import_csv_text(response.read().decode("utf-8-sig"), file_kind_of(url.split("?")[0])))
    if settings.ODS_API_URL:
        result.merge(refresh_from_api())
    return result
