"""A call with everyone around it, and helpers that write a bid through the services."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from applications import services
from applications.models import BidSection, BidSectionState
from governance.models import (
    FundRole,
    FundRoleKind,
    InnovationType,
    OrganisationKind,
    PanelRole,
    PartnerKind,
)
from tests.factories.governance import (
    CallFactory,
    FundManagerFactory,
    ICBFactory,
    MembershipFactory,
    NetworkFactory,
    OrganisationFactory,
    PanelMemberFactory,
    UserFactory,
)

START = dt.date(2027, 4, 1)
END = dt.date(2029, 3, 31)
YEARS = [2027, 2028]


@pytest.fixture
def world():
    """A call needing a commissioner partner and endorsement, and a person in every role."""
    call = CallFactory(endorsement_required=True, required_partner_kinds=[PartnerKind.COMMISSIONER],
                       innovation_types=[InnovationType.DIGITAL, InnovationType.SERVICE_MODEL])
    network = call.host_network
    lead = OrganisationFactory(network=network, name="Example Hospitals NHS Trust")
    other_org = OrganisationFactory(network=network, name="Another NHS Trust")
    icb = ICBFactory(network=network, name="NHS Example ICB")
    other_icb = ICBFactory(network=network, name="NHS Other ICB")
    gp = OrganisationFactory(network=network, kind=OrganisationKind.GP_PRACTICE, ods_code=None, name="Example Surgery")

    def member(org, **kwargs):
        return MembershipFactory(organisation=org, **kwargs).user

    auditor = UserFactory(full_name="Audrey Auditor")
    FundRole.objects.create(user=auditor, fund=call.fund, role=FundRoleKind.AUDITOR)
    return SimpleNamespace(
        call=call, network=network, lead=lead, other_org=other_org, icb=icb, other_icb=other_icb, gp=gp,
        applicant=member(lead, user=UserFactory(full_name="Alex Applicant")),
        colleague=member(lead, user=UserFactory(full_name="Casey Colleague")),
        other_applicant=member(other_org, user=UserFactory(full_name="Olly Other")),
        commissioner=member(icb, user=UserFactory(full_name="Cora Commissioner")),
        other_commissioner=member(other_icb, user=UserFactory(full_name="Oscar Othericb")),
        gp_member=member(gp),
        assessor=PanelMemberFactory(panel=call.panel, role=PanelRole.ASSESSOR).user,
        chair=PanelMemberFactory(panel=call.panel, role=PanelRole.CHAIR).user,
        manager=FundManagerFactory(organisation=network).user,
        other_manager=FundManagerFactory(organisation=NetworkFactory()).user,
        auditor=auditor,
        nobody=UserFactory(full_name="No Organisation"),
    )


def version(bid, section) -> int:
    return BidSectionState.objects.get(bid=bid, section=section).version


def start_bid(world, title="Remote monitoring for frailty"):
    return services.bid_start(actor=world.applicant, call=world.call, organisation=world.lead, title=title)


def cost(year, amount, category="staff", nature="revenue", description="Nurses"):
    return {"financial_year": year, "category": category, "nature": nature, "description": description,
            "amount": Decimal(amount)}


def saving(world, year, amount, kind="cashable", organisation=None):
    return {"financial_year": year, "kind": kind, "realised_by": organisation or world.lead, "care_setting": "secondary",
            "amount": Decimal(amount), "assumptions": "Fewer admissions at £3,200 each.", "evidence": "Evaluation."}


def fill_bid(world, bid, *, endorse=True):
    """Complete every section through the services, and get the endorsement."""
    actor = world.applicant
    services.bid_summary_save(actor=actor, bid=bid, version=version(bid, BidSection.SUMMARY), title=bid.title,
                              summary="Remote monitoring at home.", problem="Avoidable admissions.",
                              start_date=START, end_date=END)
    services.bid_innovation_save(actor=actor, bid=bid, version=version(bid, BidSection.INNOVATION),
                                 innovation_type="digital", innovation_description="Wearables and a hub.",
                                 evidence_base="Two evaluations.")
    services.bid_pathway_save(actor=actor, bid=bid, version=version(bid, BidSection.PATHWAY),
                              care_settings=["community", "home"], pathway_description="GP referral to the hub.")
    services.bid_partner_add(actor=actor, bid=bid, organisation=world.icb, role=PartnerKind.COMMISSIONER,
                             contribution="Commissioning and data.")
    services.bid_partners_save(actor=actor, bid=bid, version=version(bid, BidSection.PARTNERS), commissioner=world.icb)
    services.bid_costs_save(actor=actor, bid=bid, version=version(bid, BidSection.COSTS),
                            costs=[cost(2027, "60000"), cost(2028, "40000", category="evaluation")])
    services.bid_savings_save(actor=actor, bid=bid, version=version(bid, BidSection.SAVINGS),
                              savings=[saving(world, 2027, "50000"), saving(world, 2028, "135000", kind="non_cashable")])
    services.bid_benefits_save(actor=actor, bid=bid, version=version(bid, BidSection.BENEFITS), measures=[{
        "name": "Bed days avoided", "unit": "days", "baseline": Decimal("0"), "target": Decimal("900"),
        "target_date": END, "higher_is_better": True}])
    services.bid_delivery_save(actor=actor, bid=bid, version=version(bid, BidSection.DELIVERY),
                               delivery_plan="Go live in quarter 2.", sustainability_plan="The ICB funds it after.",
                               milestones=[{"title": "Live", "due_date": dt.date(2027, 9, 1), "description": ""}])
    services.bid_risks_save(actor=actor, bid=bid, version=version(bid, BidSection.RISKS), risks=[{
        "description": "Slow recruitment", "likelihood": "medium", "impact": "high", "mitigation": "Bank staff"}])
    services.bid_section_confirm(actor=actor, bid=bid, section=BidSection.ATTACHMENTS,
                                 version=version(bid, BidSection.ATTACHMENTS))
    if endorse:
        services.bid_endorsement_request(actor=actor, bid=bid)
        services.bid_endorse(actor=world.commissioner, bid=bid, comment="We support it.")
    bid.refresh_from_db()
    return bid


@pytest.fixture
def draft(world):
    return start_bid(world)


@pytest.fixture
def ready(world):
    """A bid with every section complete and endorsed: it can be submitted."""
    return fill_bid(world, start_bid(world))


# Files ------------------------------------------------------------------------------------------

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120 + b"This program cannot be run in DOS mode."


def office_zip(main_part: str | None = None, *, mimetype: str | None = None, extra: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if mimetype is not None:
            archive.writestr("mimetype", mimetype)
            archive.writestr("content.xml", "<office:document-content/>")
        if main_part is not None:
            archive.writestr("[Content_Types].xml", (
                '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/main.xml" ContentType="{main_part}"/></Types>'))
            archive.writestr("main.xml", "<document/>")
        for name, content in (extra or {}).items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX_BYTES = office_zip("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml")
XLSX_BYTES = office_zip("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
DOCM_BYTES = office_zip("application/vnd.ms-word.document.macroEnabled.main+xml")
ODT_BYTES = office_zip(mimetype="application/vnd.oasis.opendocument.text")
PLAIN_ZIP_BYTES = office_zip(extra={"payload.exe": EXE_BYTES})


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)
