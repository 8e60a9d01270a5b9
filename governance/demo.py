"""Demo data for the governance stage: networks, organisations and one account per role.

Idempotent: every record is found by its natural key before it is created, so running
``seed_demo`` twice changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from . import fy, services
from .models import (
    AllocationModel,
    Call,
    CallPurpose,
    CallStatus,
    CriterionKind,
    Fund,
    FundRole,
    FundRoleKind,
    InnovationType,
    Membership,
    MembershipRole,
    Organisation,
    OrganisationKind,
    Panel,
    PanelMember,
    PanelRole,
    PartnerKind,
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

# Each network's official org-id (org-id.guide), which open data names it by. The Health
# Innovation Networks are companies limited by guarantee: these Companies House numbers are
# plausible stand-ins for the demo, not checked against the register.
NETWORK_ORG_IDS = {"HISW": "GB-COH-08989931", "UCLP": "GB-COH-07295713", "HINENC": "GB-COH-08705541"}

# Where each organisation is (ODS postcode; ONS local authority and ICB codes), for open data.
DEVON_ICB, CORNWALL_ICB, SOMERSET_ICB = ("E54000037", "NHS Devon ICB"), ("E54000036", "NHS Cornwall and the Isles of Scilly ICB"), ("E54000038", "NHS Somerset ICB")
NEL_ICB, NCL_ICB, NENC_ICB = ("E54000029", "NHS North East London ICB"), ("E54000028", "NHS North Central London ICB"), ("E54000050", "NHS North East and North Cumbria ICB")
PLACES = {
    "RH8": ("EX2 5DW", ("E10000008", "Devon"), DEVON_ICB),
    "REF": ("TR1 3LJ", ("E06000052", "Cornwall"), CORNWALL_ICB),
    "RK9": ("PL6 8DH", ("E06000026", "Plymouth"), DEVON_ICB),
    "RH5": ("TA1 5DA", ("E06000066", "Somerset"), SOMERSET_ICB),
    "QJK": ("", ("E10000008", "Devon"), DEVON_ICB),
    "QT6": ("", ("E06000052", "Cornwall"), CORNWALL_ICB),
    "R1H": ("E1 1FR", ("E09000030", "Tower Hamlets"), NEL_ICB),
    "RRV": ("NW1 2PG", ("E09000007", "Camden"), NCL_ICB),
    "RQX": ("E9 6SR", ("E09000012", "Hackney"), NEL_ICB),
    "QMF": ("", ("E09000030", "Tower Hamlets"), NEL_ICB),
    "QMJ": ("", ("E09000007", "Camden"), NCL_ICB),
    "RTD": ("NE7 7DN", ("E08000021", "Newcastle upon Tyne"), NENC_ICB),
    "RNN": ("CA2 7HY", ("E06000063", "Cumberland"), NENC_ICB),
    "R0B": ("SR4 7TP", ("E08000024", "Sunderland"), NENC_ICB),
    "QHM": ("", ("E08000021", "Newcastle upon Tyne"), NENC_ICB),
}

# A council, a primary care network and a GP practice, as ODS lists them, so a bidder's partner
# search finds each kind (load the real lists with ``manage.py import_ods``). The practice is real
# (ODS epraccur); the council's and the network's codes are illustrative.
LOCAL_PARTNERS = [
    ("878", "Devon County Council", OrganisationKind.LOCAL_AUTHORITY, "County Hall, Exeter", "EX2 4QD", "RO141"),
    ("U48915", "Exeter City Primary Care Network", OrganisationKind.PRIMARY_CARE_NETWORK, "", "EX4 1HJ", "RO272"),
    ("L83016", "St Thomas Medical Group", OrganisationKind.GP_PRACTICE, "", "EX4 1HJ", "RO76"),
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
    calls: dict[str, Call] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    # The demo is laid out around the day it is first loaded: open calls are open then, and
    # projects start on NHS quarter days counted from today's quarter, so every stage has work
    # in it (past quarters to report on, offers to accept) whatever the date.
    today: dt.date = field(default_factory=timezone.localdate)

    @property
    def this_year(self) -> int:
        """The financial year containing today."""
        return fy.FinancialYear.of(self.today).start_year

    @property
    def first_year(self) -> int:
        """The demo funds' first financial year: early enough for the oldest demo project."""
        return self.this_year - 2

    @property
    def last_year(self) -> int:
        """The demo funds' last financial year: late enough for a two-year project starting two
        quarters from now."""
        return self.this_year + 3

    def quarter_start(self, offset: int) -> dt.date:
        """The first day of the NHS quarter ``offset`` quarters after today's (before, if negative)."""
        year, quarter = fy.quarter_of(self.today)
        index = year * 4 + (quarter - 1) + offset
        first, _ = fy.FinancialYear(index // 4).quarter(index % 4 + 1)
        return first

    def at(self, days: int, hour: int = 12) -> dt.datetime:
        """A moment ``days`` from today at ``hour`` o'clock, UK time."""
        day = self.today + dt.timedelta(days=days)
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))

    def org(self, code: str) -> Organisation:
        return self.organisations.get(code) or self.networks[code]


def _user(email: str, full_name: str, job_title: str = "", **extra) -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name, job_title=job_title, **extra)
    return user


def _place(org: Organisation, postcode: str, local_authority: tuple[str, str], icb: tuple[str, str]) -> None:
    """Set where an organisation is, once (idempotent: an organisation already placed is left)."""
    if org.ons_icb_code:
        return
    org.postcode = org.postcode or postcode
    org.ons_local_authority_code, org.ons_local_authority_name = local_authority
    org.ons_icb_code, org.ons_icb_name = icb
    org.save()


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    for short_name, name, region in NETWORKS:
        network, _ = Organisation.objects.get_or_create(
            short_name=short_name,
            defaults={"name": name, "kind": OrganisationKind.HEALTH_INNOVATION_NETWORK, "region": region},
        )
        if not network.official_org_id:
            network.official_org_id = NETWORK_ORG_IDS[short_name]
            network.save(update_fields=["official_org_id", "updated_at"])
        ctx.networks[short_name] = network
    for code, name, kind, network_name, region in ORGANISATIONS:
        org, _ = Organisation.objects.get_or_create(
            ods_code=code,
            defaults={"name": name, "kind": kind, "region": region, "network": ctx.networks[network_name]},
        )
        _place(org, *PLACES[code])
        ctx.organisations[code] = org
    for code, name, kind, _address, postcode, role in LOCAL_PARTNERS:
        org, _ = Organisation.objects.get_or_create(
            ods_code=code,
            defaults={"name": name, "kind": kind, "region": Region.SOUTH_WEST, "network": ctx.networks["HISW"],
                      "postcode": postcode, "ods_role": role},
        )
        _place(org, postcode, ("E10000008", "Devon"), DEVON_ICB)
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
    _seed_calls(ctx)


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
# Budgets per financial year, by offset from today's (the funds run from two years before it
# to three after).
POT_BUDGET_BY_OFFSET = {
    -2: Decimal("1000000.00"), -1: Decimal("1500000.00"), 0: Decimal("2000000.00"), 1: Decimal("2000000.00"),
    2: Decimal("1500000.00"), 3: Decimal("1000000.00"),
}


# Panel members who are not demo sign-in accounts: (email, name, affiliation, role).
PANEL_EXTRAS = [
    ("priya.shah@example.com", "Dr Priya Shah", None, PanelRole.ASSESSOR),
    ("tom.evans@example.com", "Tom Evans", "RTD", PanelRole.ASSESSOR),
    ("margaret.hughes@example.com", "Margaret Hughes", None, PanelRole.LAY_MEMBER),
    # Chairs the bids of the chair's own trust.
    ("james.okafor@example.com", "Dr James Okafor", None, PanelRole.DEPUTY_CHAIR),
]


def _quiet_user(email: str, full_name: str) -> User:
    """A demo person who appears in the data but does not sign in."""
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email, None, full_name=full_name)
    return user


def _manager_of(ctx: DemoContext, network: Organisation) -> User:
    """The demo fund manager of a network: the actor of its funds' and calls' audit events."""
    return {
        "HISW": ctx.users["manager.southwest@example.com"],
        "UCLP": ctx.users["manager.london@example.com"],
        "HINENC": ctx.users["manager.northeast@example.com"],
    }[network.short_name]


def _seed_funds(ctx: DemoContext) -> None:
    # Funds, pots, budgets and panels go through the services, so the audit trail has them.
    for slug, name, host, model, description, priorities in FUNDS:
        manager = _manager_of(ctx, ctx.networks[host])
        fund = Fund.objects.filter(slug=slug).first()
        if fund is None:
            fund = services.fund_create(
                actor=manager, slug=slug, name=name, host_network=ctx.networks[host], allocation_model=model,
                description=description, priorities=priorities,
                first_year=ctx.first_year, last_year=ctx.last_year,
            )
        ctx.funds[slug] = fund
        if model == AllocationModel.NATIONAL:
            pot = Pot.objects.filter(fund=fund).first() or services.pot_create(actor=manager, fund=fund, name="National pot")
            pots = [pot]
        else:
            pots = [
                Pot.objects.filter(fund=fund, network=network).first()
                or services.pot_create(actor=manager, fund=fund, network=network, name=f"{network.name} pot")
                for network in ctx.networks.values()
            ]
        for pot in pots:
            for offset, amount in POT_BUDGET_BY_OFFSET.items():
                year = ctx.this_year + offset
                if not PotBudget.objects.filter(pot=pot, financial_year=year).exists():
                    services.pot_budget_set(actor=manager, pot=pot, financial_year=year, amount=amount)
        FundRole.objects.get_or_create(user=ctx.users["auditor@example.com"], fund=fund, role=FundRoleKind.AUDITOR)
        panel_name = f"{name} assessment panel"
        panel = Panel.objects.filter(fund=fund, name=panel_name).first() or services.panel_create(
            actor=manager, fund=fund, name=panel_name,
            terms_of_reference="Scores bids against the published criteria and recommends awards.",
        )
        members = [
            (ctx.users["chair@example.com"], PanelRole.CHAIR, "RH5"),
            (ctx.users["assessor@example.com"], PanelRole.ASSESSOR, "RK9"),
            *[(_quiet_user(email, full_name), role, affiliation) for email, full_name, affiliation, role in PANEL_EXTRAS],
        ]
        for user, role, affiliation in members:
            member = PanelMember.objects.filter(panel=panel, user=user).first()
            if member is None:
                member = services.panel_member_add(actor=manager, panel=panel, user=user, role=role)
            if affiliation:
                services.panel_member_affiliation_add(actor=manager, member=member, organisation=ctx.organisations[affiliation])
        ctx.extra.setdefault("panels", {})[slug] = panel


# Criteria every demo call publishes: (kind, title, weight, gateway minimum, applicants' guidance).
CRITERIA = [
    (CriterionKind.COST_SAVING, "Cost saving and return on investment", 30, None,
     "Show the cashable and non-cashable savings by financial year, whose budget they fall in, and the evidence."),
    (CriterionKind.PATIENT_BENEFIT, "Benefit to patients", 30, 2,
     "Show the measurable benefit to patients, with a baseline, a target and how you will measure it."),
    (CriterionKind.DELIVERABILITY, "Deliverability", 15, None,
     "Show the plan, milestones, team and risks, and that the money can be spent in the years asked for."),
    (CriterionKind.SCALABILITY, "Scalability and spread", 15, None,
     "Show how the innovation could spread to other organisations and regions after the award."),
    (CriterionKind.COLLABORATION, "Collaboration across the pathway", 10, None,
     "Show that commissioners and partners across the care pathway are involved from the start."),
]
DESCRIPTORS = {
    0: "No evidence: the bid does not address this criterion.",
    1: "Weak: the bid addresses the criterion with little or unconvincing evidence.",
    2: "Adequate: the bid meets the criterion with some evidence and some gaps.",
    3: "Good: the bid meets the criterion well with clear evidence.",
    4: "Excellent: the bid meets the criterion fully with strong, independent evidence.",
}
TRUSTS_AND_ICBS = [
    "nhs_trust", "foundation_trust", "icb", "sub_icb", "pcn", "gp_practice",
]

# (slug, title, fund, host, purpose, status, opens in days, closes in days, released in days or None,
#  endorsement required, required partner kinds, innovation types, summary)
CALLS = [
    ("frailty-at-home-adoption", "Frailty at home: adopting proven innovations", "south-west-adoption-fund", "HISW",
     CallPurpose.ADOPTION, CallStatus.OPEN, -25, 60, None, True, [PartnerKind.COMMISSIONER],
     [InnovationType.DIGITAL, InnovationType.DEVICE, InnovationType.SERVICE_MODEL],
     "Funding for NHS organisations and their partners to adopt innovations proven elsewhere that keep "
     "people living with frailty well at home: falls detection, proactive care and remote monitoring."),
    ("remote-monitoring-spread", "Spreading remote monitoring for long-term conditions", "national-innovation-spread-fund", "UCLP",
     CallPurpose.DIFFUSION, CallStatus.OPEN, -40, 30, None, False, [PartnerKind.PRIMARY_CARE],
     [InnovationType.DIGITAL, InnovationType.DIAGNOSTIC],
     "Ring-fenced funding in each network for spreading remote monitoring that already works in part of "
     "the NHS to more practices, trusts and patients."),
    ("community-diagnostics-pump-priming", "Community diagnostics: pump-priming new innovation", "south-west-adoption-fund", "HISW",
     CallPurpose.PUMP_PRIMING, CallStatus.SCHEDULED, 20, 80, None, True, [PartnerKind.COMMISSIONER, PartnerKind.PRIMARY_CARE],
     [InnovationType.DIAGNOSTIC, InnovationType.DEVICE],
     "Pump-priming funding to test new diagnostic innovations in community settings."),
    ("virtual-wards-adoption", "Virtual wards: adoption across the South West", "south-west-adoption-fund", "HISW",
     CallPurpose.ADOPTION, CallStatus.ASSESSMENT, -100, -40, None, True, [PartnerKind.COMMISSIONER],
     [InnovationType.DIGITAL, InnovationType.SERVICE_MODEL],
     "Funding to adopt proven virtual ward models so more patients are cared for safely at home."),
    ("falls-prevention-adoption", "Falls prevention: adopting what works", "south-west-adoption-fund", "HISW",
     CallPurpose.ADOPTION, CallStatus.DECIDED, -500, -440, -400, True, [PartnerKind.COMMISSIONER],
     [InnovationType.DEVICE, InnovationType.SERVICE_MODEL, InnovationType.DIGITAL],
     "Funding to adopt proven falls prevention innovations in community and acute settings."),
    ("cvd-prevention-spread", "Cardiovascular disease prevention at scale", "national-innovation-spread-fund", "UCLP",
     CallPurpose.DIFFUSION, CallStatus.DECIDED, -530, -470, -420, False, [PartnerKind.PRIMARY_CARE],
     [InnovationType.MEDICINE, InnovationType.DIGITAL, InnovationType.SERVICE_MODEL],
     "Spreading proven approaches to finding and treating high blood pressure and high cholesterol."),
    ("digital-outpatients-adoption", "Digital outpatients: adoption pilots", "south-west-adoption-fund", "HISW",
     CallPurpose.ADOPTION, CallStatus.CLOSED_OUT, -820, -760, -720, False, [],
     [InnovationType.DIGITAL],
     "One-year pilots adopting digital outpatient follow-up, now complete and reported."),
    ("care-home-medicines-adoption", "Medicines optimisation in care homes", "south-west-adoption-fund", "HISW",
     CallPurpose.ADOPTION, CallStatus.CLOSED, -70, -3, None, True, [PartnerKind.COMMISSIONER, PartnerKind.PRIMARY_CARE],
     [InnovationType.DIGITAL, InnovationType.SERVICE_MODEL, InnovationType.MEDICINE],
     "Funding to adopt proven approaches to safer medicines use for care home residents, with primary care."),
    ("mental-health-crisis-spread", "Mental health crisis care alternatives", "national-innovation-spread-fund", "UCLP",
     CallPurpose.DIFFUSION, CallStatus.DRAFT, 45, 120, None, False, [],
     [InnovationType.SERVICE_MODEL],
     "Draft: alternatives to emergency departments for people in mental health crisis."),
]


# The path each demo call has taken to reach its state, as (service, moment) steps.
LIFECYCLE = [CallStatus.DRAFT, CallStatus.SCHEDULED, CallStatus.OPEN, CallStatus.CLOSED, CallStatus.ASSESSMENT,
             CallStatus.DECIDED, CallStatus.CLOSED_OUT]


def _seed_calls(ctx: DemoContext) -> None:
    for (slug, title, fund_slug, host, purpose, status, opens, closes, released, endorsement, partners, types,
         summary) in CALLS:
        call = Call.objects.filter(slug=slug).first()
        if call is None:
            call = _create_call(ctx, slug, title, fund_slug, host, purpose, status, opens, closes, released,
                                endorsement, partners, types, summary)
        ctx.calls[slug] = call
    _seed_questions(ctx)
    _seed_two_stage_call(ctx)


def _seed_questions(ctx: DemoContext) -> None:
    """The open frailty call takes questions until two weeks before it closes, and has one
    answered in public (once: a call that has questions is left alone)."""
    call = ctx.calls["frailty-at-home-adoption"]
    if call.questions.exists() or not services.call_takes_questions(call):
        return
    manager = _manager_of(ctx, call.host_network)
    call = services.call_update(actor=manager, call=call, questions_close_at=call.closes_at - dt.timedelta(days=14))
    question = services.call_question_ask(
        actor=ctx.users["applicant.barts@example.com"], call=call,
        question="May a primary care network lead a bid, or must a trust lead it?")
    question = services.call_question_answer(
        actor=manager, question=question,
        answer="A primary care network may lead a bid if an NHS trust or ICB in the network's area is a partner.")
    services.call_question_publish(actor=manager, question=question)


TWO_STAGE_SLUG = "ambulance-handover-two-stage"


def _seed_two_stage_call(ctx: DemoContext) -> None:
    """A two-stage call: expressions of interest opened 20 days ago and closed 2 days ago (the
    applications demo sends and shortlists them); full bids from invited organisations open in
    10 days. Found by slug, so seeding twice changes nothing."""
    call = Call.objects.filter(slug=TWO_STAGE_SLUG).first()
    if call is None:
        call = _create_call(
            ctx, TWO_STAGE_SLUG, "Ambulance handovers: a two-stage challenge", "south-west-adoption-fund", "HISW",
            CallPurpose.ADOPTION, CallStatus.DRAFT, 10, 70, None, False, [], [InnovationType.DIGITAL, InnovationType.SERVICE_MODEL],
            "A two-stage call: send a short expression of interest first; the organisations invited write a full "
            "bid to cut the time ambulance crews wait to hand patients over at emergency departments.",
        )
        manager = _manager_of(ctx, ctx.networks["HISW"])
        services.call_update(
            actor=manager, call=call, eoi_stage=True, eoi_opens_at=ctx.at(-20, 9), eoi_closes_at=ctx.at(-2, 17),
            eoi_criteria="We invite ideas that name the problem at a specific emergency department, with the "
                         "ambulance trust as a partner, and that could start within six months.",
        )
        services.call_publish(actor=manager, call=call, now=ctx.at(-21))
    ctx.calls[TWO_STAGE_SLUG] = call


def _create_call(ctx, slug, title, fund_slug, host, purpose, status, opens, closes, released, endorsement, partners,
                 types, summary) -> Call:
    """Create a demo call as a fund manager would, and take it through the lifecycle to its
    state at the moments the demo's timetable says, so its audit trail reads as it happened."""
    fund = ctx.funds[fund_slug]
    manager = _manager_of(ctx, ctx.networks[host])
    call = services.call_create(
        actor=manager, fund=fund, pots=list(fund.pots.all()), host_network=ctx.networks[host], title=title, slug=slug,
        summary=summary, purpose=purpose, innovation_types=list(types), opens_at=ctx.at(opens, 9),
        closes_at=ctx.at(closes, 17), eligible_org_kinds=list(TRUSTS_AND_ICBS), min_amount=Decimal("25000.00"),
        max_amount=Decimal("400000.00"), max_duration_years=3, required_partner_kinds=list(partners),
        endorsement_required=endorsement, panel=ctx.extra["panels"][fund_slug], assessors_per_bid=2,
        moderation_threshold=Decimal("2.0"),
        assessment_due_date=(ctx.today + dt.timedelta(days=closes + 21)),
        panel_meeting_date=(ctx.today + dt.timedelta(days=closes + 35)),
        decisions_expected_date=(ctx.today + dt.timedelta(days=closes + 45)),
    )
    for position, (kind, ctitle, weight, gateway, guidance) in enumerate(CRITERIA):
        services.criterion_add(
            actor=manager, call=call, kind=kind, title=ctitle, weight=weight, gateway_min_score=gateway,
            position=position, guidance_for_applicants=guidance,
            guidance_for_assessors=f"Score against the descriptors. {guidance}", descriptors=DESCRIPTORS,
        )
    reached = LIFECYCLE.index(status)
    if reached >= LIFECYCLE.index(CallStatus.SCHEDULED):
        services.call_publish(actor=manager, call=call, now=ctx.at(min(opens, 0) - 7))
    if reached >= LIFECYCLE.index(CallStatus.OPEN) and call.status == CallStatus.SCHEDULED:
        services.call_open(actor=None, call=call, now=call.opens_at)
    if reached >= LIFECYCLE.index(CallStatus.CLOSED):
        services.call_close(actor=None, call=call, now=call.closes_at)
    if reached >= LIFECYCLE.index(CallStatus.ASSESSMENT):
        services.call_start_assessment(actor=manager, call=call, now=call.closes_at + dt.timedelta(days=1))
    if reached >= LIFECYCLE.index(CallStatus.DECIDED):
        services.call_mark_decided(actor=manager, call=call, now=ctx.at(released))
    if reached >= LIFECYCLE.index(CallStatus.CLOSED_OUT):
        services.call_close_out(actor=manager, call=call)
    return call
