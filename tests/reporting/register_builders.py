"""Published awards for the register's tests and benchmark.

``published_award(...)`` builds one award with factories (decision released, call decided);
``bulk_register(n)`` builds ``n`` published awards with partners, costs, profile, payments and
approved returns using ``bulk_create`` (fast enough for 50,000 on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from applications.models import (
    BenefitMeasure,
    Bid,
    BidCost,
    BidPartner,
    BidStatus,
    CareSetting,
    SavingKind,
)
from assessment.models import DecisionOutcome, PanelDecision
from awards.models import (
    Award,
    AwardCondition,
    AwardStatus,
    AwardYear,
    ConditionStatus,
    LedgerEntryKind,
    PotLedgerEntry,
)
from governance import fy
from governance.models import (
    AllocationModel,
    Call,
    CallPurpose,
    CallStatus,
    Criterion,
    CriterionKind,
    Fund,
    InnovationType,
    Organisation,
    OrganisationKind,
    PartnerKind,
    Pot,
    Region,
    User,
)
from reporting.models import (
    ImpactReport,
    MonitoringReturn,
    Reinvestment,
    ReportScope,
    ReportVersion,
    ReturnMeasureActual,
    ReturnSaving,
    ReturnStatus,
)
from tests.factories.applications import (
    BenefitMeasureFactory,
    BidCostFactory,
    BidPartnerFactory,
    SubmittedBidFactory,
)
from tests.factories.assessment import PanelDecisionFactory
from tests.factories.awards import AwardFactory
from tests.factories.governance import CallFactory, OrganisationFactory, UserFactory


def decided_call(**kwargs) -> Call:
    """A call whose decisions were released ten days ago."""
    now = timezone.now()
    kwargs.setdefault("status", CallStatus.DECIDED)
    kwargs.setdefault("opens_at", now - dt.timedelta(days=120))
    kwargs.setdefault("closes_at", now - dt.timedelta(days=90))
    kwargs.setdefault("decisions_released_at", now - dt.timedelta(days=10))
    return CallFactory(**kwargs)


def published_award(*, call: Call | None = None, recipient: Organisation | None = None, released: bool = True,
                    decided_at: dt.datetime | None = None, title: str | None = None, description: str | None = None,
                    amount: Decimal = Decimal("200000.00"), status: str = AwardStatus.ACTIVE,
                    innovation_type: str = InnovationType.DIGITAL, partners: list[Organisation] | None = None,
                    scores: dict[int, str] | None = None, **award_fields) -> Award:
    """An award the register shows (or, with ``released=False``, one whose decision is not out)."""
    call = call or decided_call()
    now = timezone.now()
    bid_fields = {"call": call, "status": BidStatus.FUNDED, "innovation_type": innovation_type}
    if recipient is not None:
        bid_fields["lead_organisation"] = recipient
    if title is not None:
        bid_fields["title"] = title
    if description is not None:
        bid_fields["summary"] = description
    bid = SubmittedBidFactory(**bid_fields)
    for organisation in partners or []:
        BidPartnerFactory(bid=bid, organisation=organisation, role=PartnerKind.COMMISSIONER)
    BidCostFactory(bid=bid, amount=amount + Decimal("10000.00"))
    criteria = list(call.criteria.order_by("position", "pk"))
    decision = PanelDecisionFactory(
        bid=bid, amount_approved=amount,
        decided_at=decided_at or (call.decisions_released_at or now) - dt.timedelta(days=5),
        released_at=(call.decisions_released_at or now - dt.timedelta(days=1)) if released else None,
        criterion_scores=scores if scores is not None else {str(c.pk): "3.00" for c in criteria},
        score=Decimal("75.00"),
    )
    return AwardFactory(decision=decision, amount=amount, status=status, **award_fields)


def profile_and_pay(award: Award, paid: dict[int, Decimal] | None = None) -> None:
    """Spread the award over its years and record payments (the pot ledger's payment entries)."""
    years = award.years
    share = (award.amount / len(years)).quantize(Decimal("0.01"))
    for index, year in enumerate(years):
        amount = share if index < len(years) - 1 else award.amount - share * (len(years) - 1)
        AwardYear.objects.create(award=award, financial_year=year, amount=amount)
        PotLedgerEntry.objects.create(pot=award.pot, financial_year=year, kind=LedgerEntryKind.COMMIT, amount=amount, award=award)
    for year, amount in (paid or {}).items():
        PotLedgerEntry.objects.create(pot=award.pot, financial_year=year, kind=LedgerEntryKind.PAYMENT, amount=amount, award=award)


def approved_return(award: Award, *, start: dt.date, days: int = 90, status: str = ReturnStatus.APPROVED,
                    cashable: Decimal = Decimal("1000.00"), non_cashable: Decimal = Decimal("500.00"),
                    actuals: dict[BenefitMeasure, Decimal] | None = None, **fields) -> MonitoringReturn:
    ret = MonitoringReturn.objects.create(
        award=award, period_start=start, period_end=start + dt.timedelta(days=days),
        due_date=start + dt.timedelta(days=days + 30), status=status, **fields,
    )
    ReturnSaving.objects.create(monitoring_return=ret, financial_year=fy.FinancialYear.of(start).start_year, kind=SavingKind.CASHABLE,
                                realised_by=award.recipient, care_setting=CareSetting.SECONDARY, amount=cashable)
    ReturnSaving.objects.create(monitoring_return=ret, financial_year=fy.FinancialYear.of(start).start_year, kind=SavingKind.NON_CASHABLE,
                                realised_by=award.recipient, care_setting=CareSetting.COMMUNITY, amount=non_cashable)
    for measure, value in (actuals or {}).items():
        ReturnMeasureActual.objects.create(monitoring_return=ret, measure=measure, value=value)
    return ret


def published_report(*, fund: Fund, scope: str = ReportScope.FUND, title: str = "Impact so far", public: bool = True,
                     withdrawn: bool = False, **report_fields) -> ReportVersion:
    user = UserFactory()
    today = timezone.localdate()
    report = ImpactReport.objects.create(
        fund=fund, scope=scope, title=title, period_start=today - dt.timedelta(days=365), period_end=today,
        requested_by=user, **report_fields,
    )
    return ReportVersion.objects.create(
        report=report, number=1, status="ready", published_at=timezone.now() if public else None,
        unpublished_at=timezone.now() if withdrawn else None, unpublished_reason="Withdrawn for correction" if withdrawn else "",
    )


def measure_for(award: Award, **fields) -> BenefitMeasure:
    return BenefitMeasureFactory(bid=award.bid, **fields)


def condition_for(award: Award, title: str, status: str = ConditionStatus.MET) -> AwardCondition:
    return AwardCondition.objects.create(award=award, title=title, status=status)


def reinvest(ret: MonitoringReturn, amount: Decimal, destination: str) -> Reinvestment:
    return Reinvestment.objects.create(monitoring_return=ret, amount=amount, destination=destination)


# Many awards at once ----------------------------------------------------------------------

WORDS = {
    "what": ["Remote monitoring", "Virtual ward", "Falls prevention", "Lipid optimisation", "Digital triage",
             "Community pharmacy case finding", "Home spirometry", "Patient-initiated follow-up", "Frailty assessment",
             "Social prescribing", "Diabetes structured education", "Heart failure nurse service"],
    "for": ["older people", "people with COPD", "people with heart failure", "children with asthma",
            "people with type 2 diabetes", "people living with frailty", "people with hypertension", "care home residents"],
    "place": ["Devon", "Cornwall", "Somerset", "North East London", "Newcastle", "Sunderland", "Cumbria", "Bristol",
              "Leeds", "Birmingham", "Norfolk", "Kent"],
}
REGIONS = list(Region.values)
KINDS = [OrganisationKind.NHS_TRUST, OrganisationKind.FOUNDATION_TRUST, OrganisationKind.GP_PRACTICE,
         OrganisationKind.ICB, OrganisationKind.COMPANY, OrganisationKind.CHARITY]
BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
STATUSES = [AwardStatus.ACTIVE] * 6 + [AwardStatus.ACCEPTED, AwardStatus.OFFERED, AwardStatus.SUSPENDED, AwardStatus.CLOSED, AwardStatus.WITHDRAWN]


def _code(prefix: str, n: int, width: int) -> str:
    digits = ""
    for _ in range(width):
        digits = BASE36[n % 36] + digits
        n //= 36
    return prefix + digits


def _organisation(n: int, network: Organisation, rng: random.Random) -> Organisation:
    kind = KINDS[n % len(KINDS)]
    fields = {"name": f"{rng.choice(WORDS['place'])} {kind.label} {n}", "kind": kind, "region": network.region, "network": network}
    if kind in (OrganisationKind.NHS_TRUST, OrganisationKind.FOUNDATION_TRUST):
        fields["ods_code"] = _code("R", n, 4)  # R + 4 characters: 5-character trust site-style codes
    elif kind == OrganisationKind.GP_PRACTICE:
        fields["ods_code"] = f"{BASE36[10 + n % 26]}{n % 100000:05d}"
    elif kind == OrganisationKind.ICB:
        fields["ods_code"] = _code("Q", n, 4)
    elif kind == OrganisationKind.COMPANY:
        fields["company_number"] = f"{n % 100000000:08d}"
    else:
        fields["charity_number"] = f"{1000000 + n % 9000000}"
    return Organisation(**fields)


def bulk_register(n: int, *, seed: int = 1, tag: str = "BULK", batch: int = 5000, returns_per_award: int = 2,
                  slice_size: int = 5000, progress=None) -> list[int]:
    """``n`` published awards (with partners, costs, a benefit measure, profile, payments and
    approved returns) and a few unpublished ones; returns the published awards' ids.

    Built ``slice_size`` awards at a time, each slice in its own transaction, so memory stays
    bounded however many awards are asked for. ``bulk_create`` sends no signals, so each slice
    brings the register's read model up to date itself, as the stages' changes do."""
    from reporting.register.read_model import register_sync

    rng = random.Random(seed)
    with transaction.atomic():
        base = _bulk_base(n, tag, rng)
    total = n + max(1, n // 50)  # the extra ones are not published
    published: list[int] = []
    for first in range(0, total, slice_size):
        with transaction.atomic():
            made = _bulk_slice(range(first, min(total, first + slice_size)), n, base, rng, batch, returns_per_award)
            register_sync(award_ids=made)
            published += made
        if progress:
            progress(min(total, first + slice_size), total)
    return published


def _bulk_base(n: int, tag: str, rng: random.Random) -> dict:
    now = timezone.now()
    this_year = fy.FinancialYear.of(timezone.localdate()).start_year
    author = User.objects.create_user(f"bulk.{tag.lower()}@example.com", None, full_name="Bulk author")
    networks = Organisation.objects.bulk_create([
        Organisation(name=f"{tag} network {region}", kind=OrganisationKind.HEALTH_INNOVATION_NETWORK,
                     short_name=f"{tag[:6]}{index}", region=region, official_org_id=f"GB-COH-{7000000 + index:08d}")
        for index, region in enumerate(REGIONS)
    ])
    org_count = max(8, n // 20)
    organisations = Organisation.objects.bulk_create(
        [_organisation(i, networks[i % len(networks)], rng) for i in range(org_count)], batch_size=5000
    )
    funds = [
        Fund.objects.create(name=f"{tag} fund {i}", slug=f"{tag.lower()}-fund-{i}", host_network=networks[i],
                            description="A fund for the register benchmark.", allocation_model=AllocationModel.NATIONAL,
                            first_year=this_year - 2, last_year=this_year + 2)
        for i in range(2)
    ]
    pots = [Pot.objects.create(fund=fund, name="National pot") for fund in funds]
    calls = []
    purposes = list(CallPurpose.values)
    for i in range(max(2, min(20, n // 50))):
        fund = funds[i % 2]
        released = now - dt.timedelta(days=30 + 40 * i)
        call = Call.objects.create(
            fund=fund, host_network=fund.host_network, title=f"{tag} call {i}: {WORDS['what'][i % 12]}",
            slug=f"{tag.lower()}-call-{i}", summary="Adopt proven innovations.", purpose=purposes[i % 3],
            innovation_types=list(InnovationType.values), opens_at=released - dt.timedelta(days=120),
            closes_at=released - dt.timedelta(days=90), eligible_org_kinds=list(OrganisationKind.values),
            min_amount=Decimal("10000"), max_amount=Decimal("900000"), max_duration_years=3,
            status=CallStatus.DECIDED, decisions_released_at=released,
        )
        call.pots.add(pots[i % 2])
        Criterion.objects.bulk_create([
            Criterion(call=call, kind=kind, title=title, guidance_for_applicants="How the bid shows it.",
                      guidance_for_assessors="Score it.", weight=weight, position=pos)
            for pos, (kind, title, weight) in enumerate([
                (CriterionKind.COST_SAVING, "Cost saving", 40), (CriterionKind.PATIENT_BENEFIT, "Patient benefit", 40),
                (CriterionKind.DELIVERABILITY, "Deliverability", 20)])
        ])
        calls.append(call)
    criteria = {c.pk: list(c.criteria.order_by("position").values_list("pk", flat=True)) for c in calls}
    return {"tag": tag, "author": author, "organisations": organisations, "pots": pots, "calls": calls, "criteria": criteria}


def _bulk_slice(indexes: range, n: int, base: dict, rng: random.Random, batch: int, returns_per_award: int) -> list[int]:
    tag, author, organisations, calls, pots, criteria = (
        base["tag"], base["author"], base["organisations"], base["calls"], base["pots"], base["criteria"]
    )
    org_count = len(organisations)
    bids, plans = [], []
    for i in indexes:
        call = calls[i % len(calls)]
        lead = organisations[rng.randrange(org_count)]
        start = (call.decisions_released_at + dt.timedelta(days=30 + rng.randrange(60))).date().replace(day=1)
        end = start.replace(year=start.year + 2) - dt.timedelta(days=1)
        title = f"{rng.choice(WORDS['what'])} for {rng.choice(WORDS['for'])} in {rng.choice(WORDS['place'])}"
        bids.append(Bid(
            call=call, lead_organisation=lead, pot=pots[calls.index(call) % 2], reference=f"{tag}-{i:06d}", title=title,
            status=BidStatus.FUNDED, summary=f"{title}: adopting an approach proven elsewhere, with partners across the pathway. Case {i}.",
            start_date=start, end_date=end, innovation_type=rng.choice(InnovationType.values), created_by=author,
            submitted_at=call.closes_at - dt.timedelta(days=3), submitted_by=author,
        ))
        published = i < n
        plans.append({
            "published": published,
            "status": rng.choice(STATUSES) if published else rng.choice([AwardStatus.DECLINED, AwardStatus.LAPSED, "unreleased"]),
            "amount": Decimal(rng.randrange(20, 900)) * 1000,
        })
    bids = Bid.objects.bulk_create(bids, batch_size=batch)
    BidPartner.objects.bulk_create([
        BidPartner(bid=bid, organisation=organisations[(k * 7 + j + 1) % org_count],
                   role=PartnerKind.COMMISSIONER if j == 0 else PartnerKind.PRIMARY_CARE, contribution="Referrals and data.")
        for k, bid in enumerate(bids) for j in range(1 + k % 2)
        if organisations[(k * 7 + j + 1) % org_count].pk != bid.lead_organisation_id
    ], batch_size=batch)
    BidCost.objects.bulk_create([
        BidCost(bid=bid, financial_year=year, category="staff", amount=plan["amount"] / 2 + 5000)
        for bid, plan in zip(bids, plans, strict=True) for year in bid.years[:2]
    ], batch_size=batch)
    measures = BenefitMeasure.objects.bulk_create([
        BenefitMeasure(bid=bid, name="Bed days avoided", unit="days", baseline=0, target=1000, target_date=bid.end_date)
        for bid in bids
    ], batch_size=batch)
    decisions = PanelDecision.objects.bulk_create([
        PanelDecision(
            bid=bid, outcome=DecisionOutcome.FUND, amount_approved=plan["amount"], public_reason="Above the funding line.",
            rank=1 + k % 10, score=Decimal(50 + k % 50), above_funding_line=True, decided_by=author,
            criterion_scores={str(pk): f"{1 + (k + p) % 4}.00" for p, pk in enumerate(criteria[bid.call_id])},
            decided_at=bid.call.decisions_released_at - dt.timedelta(days=10),
            released_at=None if plan["status"] == "unreleased" else bid.call.decisions_released_at,
        )
        for k, (bid, plan) in enumerate(zip(bids, plans, strict=True))
    ], batch_size=batch)
    awards = Award.objects.bulk_create([
        Award(
            decision=decision, bid=bid, pot=bid.pot, recipient_id=bid.lead_organisation_id, reference=bid.reference,
            title=bid.title, description=bid.summary, amount=plan["amount"], start_date=bid.start_date, end_date=bid.end_date,
            status=AwardStatus.OFFERED if plan["status"] == "unreleased" else plan["status"],
            offer_deadline=bid.start_date, issued_by=author, issued_at=bid.call.decisions_released_at + dt.timedelta(days=2),
        )
        for bid, decision, plan in zip(bids, decisions, plans, strict=True)
    ], batch_size=batch)
    years, ledger, returns = [], [], []
    for award, plan in zip(awards, plans, strict=True):
        span = award.years
        share = (award.amount / len(span)).quantize(Decimal("0.01"))
        for index, year in enumerate(span):
            amount = share if index < len(span) - 1 else award.amount - share * (len(span) - 1)
            years.append(AwardYear(award=award, financial_year=year, amount=amount))
            ledger.append(PotLedgerEntry(pot_id=award.pot_id, financial_year=year, kind=LedgerEntryKind.COMMIT, amount=amount, award=award, created_by=author))
        if plan["published"] and award.status != AwardStatus.OFFERED:
            for q in range(returns_per_award):
                ledger.append(PotLedgerEntry(pot_id=award.pot_id, financial_year=span[0], kind=LedgerEntryKind.PAYMENT,
                                             amount=(award.amount / 8).quantize(Decimal("0.01")), award=award, created_by=author))
                start = award.start_date + dt.timedelta(days=91 * q)
                returns.append(MonitoringReturn(award=award, period_start=start, period_end=start + dt.timedelta(days=90),
                                                due_date=start + dt.timedelta(days=120), status=ReturnStatus.APPROVED,
                                                organisations_adopting=1 + q, sites_adopting=2 + q, patients_reached=100 * (q + 1)))
    AwardYear.objects.bulk_create(years, batch_size=batch)
    PotLedgerEntry.objects.bulk_create(ledger, batch_size=batch)
    returns = MonitoringReturn.objects.bulk_create(returns, batch_size=batch)
    measure_of = {m.bid_id: m for m in measures}
    award_bid = {a.pk: a.bid_id for a in awards}
    recipient_of = {a.pk: a.recipient_id for a in awards}
    ReturnSaving.objects.bulk_create([
        ReturnSaving(monitoring_return=ret, financial_year=fy.FinancialYear.of(ret.period_start).start_year, kind=SavingKind.CASHABLE,
                     realised_by_id=recipient_of[ret.award_id], care_setting=CareSetting.SECONDARY, amount=Decimal("2500.00"))
        for ret in returns
    ], batch_size=batch)
    ReturnMeasureActual.objects.bulk_create([
        ReturnMeasureActual(monitoring_return=ret, measure=measure_of[award_bid[ret.award_id]], value=Decimal(100 * (1 + k % 5)))
        for k, ret in enumerate(returns)
    ], batch_size=batch)
    return [a.pk for a, plan in zip(awards, plans, strict=True) if plan["published"]]


def some_organisation(**fields) -> Organisation:
    return OrganisationFactory(**fields)


# A small register with one of everything: used by the page, export and API tests -----------


class Scene:
    """Three published awards that differ in every filtered respect, and five that are not public."""

    def __init__(self):
        from governance.models import MembershipRole, OrganisationKind
        from tests.factories.governance import FundFactory, ICBFactory, NetworkFactory, PotFactory

        now = timezone.now()
        self.sw = NetworkFactory(name="Health Innovation South West", short_name="HISW", region=Region.SOUTH_WEST)
        self.london = NetworkFactory(name="UCLPartners", short_name="UCLP", region=Region.LONDON)
        self.north = NetworkFactory(name="Health Innovation North East", short_name="HINE", region=Region.NORTH_EAST_AND_YORKSHIRE)
        year = fy.FinancialYear.of(timezone.localdate()).start_year
        self.fund_a = FundFactory(name="Adoption Fund", slug="adoption-fund", host_network=self.sw, first_year=year - 2, last_year=year + 2)
        self.fund_b = FundFactory(name="Spread Fund", slug="spread-fund", host_network=self.london, first_year=year - 2, last_year=year + 2)
        self.call_a = decided_call(fund=self.fund_a, title="Frailty call", slug="frailty-call", purpose=CallPurpose.ADOPTION,
                                   decisions_released_at=now - dt.timedelta(days=400), pots=[PotFactory(fund=self.fund_a)])
        self.call_b = decided_call(fund=self.fund_b, title="Spread call", slug="spread-call", purpose=CallPurpose.DIFFUSION,
                                   pots=[PotFactory(fund=self.fund_b)])
        self.trust = OrganisationFactory(name="Tamar Valley NHS Trust", ods_code="RTV01", region=Region.SOUTH_WEST, network=self.sw)
        self.practice = OrganisationFactory(name="Hackney Green Surgery", kind=OrganisationKind.GP_PRACTICE, ods_code="F84001",
                                            region=Region.LONDON, network=self.london)
        self.company = OrganisationFactory(name="Tyneside Sensors Ltd", kind=OrganisationKind.COMPANY, ods_code=None,
                                           company_number="01234567", region=Region.NORTH_EAST_AND_YORKSHIRE, network=self.north)
        self.icb = ICBFactory(name="NHS Kernow Integrated Care Board", ods_code="QT901", network=self.sw)
        self.a1 = published_award(call=self.call_a, recipient=self.trust, title="Remote monitoring for frailty at home",
                                  description="Wearables and a monitoring hub so people stay well at home.",
                                  amount=Decimal("100000.00"), innovation_type=InnovationType.DIGITAL, status=AwardStatus.ACTIVE,
                                  decided_at=now - dt.timedelta(days=420))
        self.a2 = published_award(call=self.call_a, recipient=self.practice, title="Heart failure virtual ward",
                                  description="Specialist nurses run a virtual ward from the practice.",
                                  amount=Decimal("250000.00"), innovation_type=InnovationType.SERVICE_MODEL,
                                  status=AwardStatus.CLOSED, partners=[self.icb], decided_at=now - dt.timedelta(days=410))
        self.a3 = published_award(call=self.call_b, recipient=self.company, title="Falls sensors in care homes",
                                  description="Bed and chair sensors that alert staff before a fall.",
                                  amount=Decimal("600000.00"), innovation_type=InnovationType.DEVICE, status=AwardStatus.WITHDRAWN,
                                  decided_at=now - dt.timedelta(days=20))
        profile_and_pay(self.a1, {self.a1.years[0]: Decimal("30000.00")})
        profile_and_pay(self.a2, {self.a2.years[0]: Decimal("50000.00"), self.a2.years[1]: Decimal("25000.00")})
        profile_and_pay(self.a3)
        # Not public: decision not released, declined, lapsed, call's decisions not released, release in the future.
        self.hidden = [
            published_award(call=self.call_a, title="Secret unreleased decision", released=False),
            published_award(call=self.call_a, title="Secret declined offer", status=AwardStatus.DECLINED),
            published_award(call=self.call_a, title="Secret lapsed offer", status=AwardStatus.LAPSED),
            published_award(call=decided_call(decisions_released_at=None, status=CallStatus.ASSESSMENT), title="Secret call not released"),
            published_award(call=decided_call(decisions_released_at=now + dt.timedelta(days=3)), title="Secret future release"),
        ]
        for award in self.hidden:
            profile_and_pay(award, {award.years[0]: Decimal("1000.00")})
        self.published = [self.a1, self.a2, self.a3]
        self.membership_role = MembershipRole


def people(scene: Scene) -> dict[str, object]:
    """One person for each role in the permission matrix (None for the anonymous visitor)."""
    from governance.models import FundRole, FundRoleKind, PanelRole
    from tests.factories.governance import (
        FundManagerFactory,
        ICBFactory,
        MembershipFactory,
        PanelMemberFactory,
    )

    award = scene.a1
    return {
        "anonymous": None,
        "applicant of this org": MembershipFactory(organisation=award.recipient).user,
        "applicant of another org": MembershipFactory(organisation=scene.company).user,
        "commissioner": MembershipFactory(organisation=ICBFactory(network=scene.sw)).user,
        "assessor": PanelMemberFactory(panel=award.bid.call.panel, role=PanelRole.ASSESSOR).user,
        "panel chair": PanelMemberFactory(panel=award.bid.call.panel, role=PanelRole.CHAIR).user,
        "fund manager of this network": FundManagerFactory(organisation=scene.sw).user,
        "fund manager of another network": FundManagerFactory(organisation=scene.north).user,
        "auditor": FundRole.objects.create(user=UserFactory(), fund=scene.fund_a, role=FundRoleKind.AUDITOR).user,
    }
