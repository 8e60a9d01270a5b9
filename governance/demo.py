"""Demo data for the governance stage: networks, organisations and one account per role.

Idempotent: every record is found by its natural key before it is created, so running
``seed_demo`` twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from .models import (
    AllocationModel,
    Fund,
    FundRole,
    FundRoleKind,
    Membership,
    MembershipRole,
    Organisation,
    OrganisationKind,
    Panel,
    PanelMember,
    PanelRole,
    Pot,
    PotBudget,
    Region,
    User,
)

DEMO_PASSWORD = "fundportal-demo-2026"

# The three networks that ran the original stakeholder engagement.
NETWORKS = [
    ("HISW", "Health Innovation South West", Region.SOUTH_WEST),
    ("UCLP", "UCLPartners", Region.LONDON),
    ("HINENC", "Health Innovation North East and North Cumbria", Region.NORTH_EAST_AND_YORKSHIRE),
]

# (ODS code, name, kind, network short name, region)
ORGANISATIONS = [
    ("RH8", "Royal Devon University Healthcare NHS Foundation Trust", OrganisationKind.FOUNDATION_TRUST, "HISW", Region.SOUTH_WEST),
    ("REF", "Royal Cornwall Hospitals NHS Trust", OrganisationKind.NHS_TRUST, "HISW", Region.SOUTH_WEST),
    ("RK9", "University Hospitals Plymouth NHS Trust", OrganisationKind.NHS_TRUST, "HISW", Region.SOUTH_WEST),
    ("RH5", "Somerset NHS Foundation Trust", OrganisationKind.FOUNDATION_TRUST, "HISW", Region.SOUTH_WEST),
    ("QJK", "NHS Devon Integrated Care Board", OrganisationKind.ICB, "HISW", Region.SOUTH_WEST),
    ("QT6", "NHS Cornwall and the Isles of Scilly Integrated Care Board", OrganisationKind.ICB, "HISW", Region.SOUTH_WEST),
    ("R1H", "Barts Health NHS Trust", OrganisationKind.NHS_TRUST, "UCLP", Region.LONDON),
    ("RRV", "University College London Hospitals NHS Foundation Trust", OrganisationKind.FOUNDATION_TRUST, "UCLP", Region.LONDON),
    ("RQX", "Homerton Healthcare NHS Foundation Trust", OrganisationKind.FOUNDATION_TRUST, "UCLP", Region.LONDON),
    ("QMF", "NHS North East London Integrated Care Board", OrganisationKind.ICB, "UCLP", Region.LONDON),
    ("QMJ", "NHS North Central London Integrated Care Board", OrganisationKind.ICB, "UCLP", Region.LONDON),
    ("RTD", "The Newcastle upon Tyne Hospitals NHS Foundation Trust", OrganisationKind.FOUNDATION_TRUST, "HINENC", Region.NORTH_EAST_AND_YORKSHIRE),
    ("RNN", "North Cumbria Integrated Care NHS Foundation Trust", OrganisationKind.FOUNDATION_TRUST, "HINENC", Region.NORTH_EAST_AND_YORKSHIRE),
    ("R0B", "South Tyneside and Sunderland NHS Foundation Trust", OrganisationKind.FOUNDATION_TRUST, "HINENC", Region.NORTH_EAST_AND_YORKSHIRE),
    ("QHM", "NHS North East and North Cumbria Integrated Care Board", OrganisationKind.ICB, "HINENC", Region.NORTH_EAST_AND_YORKSHIRE),
]

# (email, full name, job title, [(organisation ODS code or network short name, role, signatory)])
ACCOUNTS = [
    ("manager.southwest@example.com", "Sam Trelawney", "Fund manager", [("HISW", MembershipRole.FUND_MANAGER, False)]),
    ("manager.london@example.com", "Priya Raman", "Fund manager", [("UCLP", MembershipRole.FUND_MANAGER, False)]),
    ("manager.northeast@example.com", "Callum Robson", "Fund manager", [("HINENC", MembershipRole.FUND_MANAGER, False)]),
    ("applicant.devon@example.com", "Alex Morgan", "Innovation lead", [("RH8", MembershipRole.MEMBER, True)]),
    ("applicant.barts@example.com", "Jordan Okafor", "Transformation manager", [("R1H", MembershipRole.MEMBER, True)]),
    ("commissioner.devon@example.com", "Morwenna Penrose", "Head of commissioning", [("QJK", MembershipRole.MEMBER, False)]),
    ("assessor@example.com", "Dr Hannah Clarke", "Consultant geriatrician", [("RK9", MembershipRole.MEMBER, False)]),
    ("chair@example.com", "Prof. David Ellis", "Panel chair", [("RH5", MembershipRole.MEMBER, False)]),
    ("auditor@example.com", "Ruth Ashworth", "Internal auditor", []),
]
SITE_ADMIN = ("admin@example.com", "Site Administrator")


@dataclass
class DemoContext:
    """What each stage's seed leaves for the stages after it."""

    networks: dict[str, Organisation] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    funds: dict[str, Fund] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def org(self, code: str) -> Organisation:
        return self.organisations.get(code) or self.networks[code]


def _user(email: str, full_name: str, job_title: str = "", **extra) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name, job_title=job_title, **extra)
    return user


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    for short_name, name, region in NETWORKS:
        network, _ = Organisation.objects.get_or_create(
            short_name=short_name,
            defaults={"name": name, "kind": OrganisationKind.HEALTH_INNOVATION_NETWORK, "region": region},
        )
        ctx.networks[short_name] = network
    for code, name, kind, network, region in ORGANISATIONS:
        org, _ = Organisation.objects.get_or_create(
            ods_code=code,
            defaults={"name": name, "kind": kind, "region": region, "network": ctx.networks[network]},
        )
        ctx.organisations[code] = org
    for email, full_name, job_title, memberships in ACCOUNTS:
        user = _user(email, full_name, job_title)
        ctx.users[email] = user
        for code, role, signatory in memberships:
            Membership.objects.get_or_create(
                user=user, organisation=ctx.org(code),
                defaults={"role": role, "is_authorised_signatory": signatory},
            )
    admin_email, admin_name = SITE_ADMIN
    admin = User.objects.filter(email=admin_email).first()
    if admin is None:
        admin = User.objects.create_superuser(admin_email, DEMO_PASSWORD, full_name=admin_name)
    ctx.users[admin_email] = admin
    _seed_funds(ctx)


# (slug, name, host network, allocation model, description, priorities)
FUNDS = [
    (
        "south-west-adoption-fund", "South West Innovation Adoption Fund", "HISW", AllocationModel.NATIONAL,
        "An earmarked fund for adopting proven innovations across Devon, Cornwall and Somerset, "
        "with savings reinvested in local services.",
        "Frailty and falls prevention\nCare closer to home\nDiagnostics in the community",
    ),
    (
        "national-innovation-spread-fund", "National Innovation Spread Fund", "UCLP", AllocationModel.RING_FENCED,
        "A jointly managed fund with a ring-fenced pot for each network: bids compete only within "
        "their region's pot.",
        "Cardiovascular disease prevention\nMental health crisis care\nDigital remote monitoring",
    ),
]
POT_BUDGETS = {2026: Decimal("1500000.00"), 2027: Decimal("2000000.00"), 2028: Decimal("1500000.00")}


def _seed_funds(ctx: DemoContext) -> None:
    for slug, name, host, model, description, priorities in FUNDS:
        fund, _ = Fund.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name, "host_network": ctx.networks[host], "allocation_model": model,
                "description": description, "priorities": priorities, "first_year": 2026, "last_year": 2028,
            },
        )
        ctx.funds[slug] = fund
        if model == AllocationModel.NATIONAL:
            pots = [Pot.objects.get_or_create(fund=fund, name="National pot", network=None)[0]]
        else:
            pots = [
                Pot.objects.get_or_create(fund=fund, network=network, defaults={"name": f"{network.name} pot"})[0]
                for network in ctx.networks.values()
            ]
        for pot in pots:
            for year, amount in POT_BUDGETS.items():
                PotBudget.objects.get_or_create(pot=pot, financial_year=year, defaults={"amount": amount})
        FundRole.objects.get_or_create(user=ctx.users["auditor@example.com"], fund=fund, role=FundRoleKind.AUDITOR)
        panel, _ = Panel.objects.get_or_create(
            fund=fund, name=f"{name} assessment panel",
            defaults={"terms_of_reference": "Scores bids against the published criteria and recommends awards."},
        )
        chair = PanelMember.objects.get_or_create(panel=panel, user=ctx.users["chair@example.com"], defaults={"role": PanelRole.CHAIR})[0]
        assessor = PanelMember.objects.get_or_create(panel=panel, user=ctx.users["assessor@example.com"], defaults={"role": PanelRole.ASSESSOR})[0]
        chair.affiliations.add(ctx.organisations["RH5"])
        assessor.affiliations.add(ctx.organisations["RK9"])
        ctx.extra.setdefault("panels", {})[slug] = panel
