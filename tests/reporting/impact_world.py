"""A small, hand-made fund for the impact report tests, with every figure worked out by hand.

Fund "Test Innovation Fund", financial years 2025/26 and 2026/27, one national pot with a budget
of £1,000,000 in each year. Two networks: South West (SW) and London (LDN).

Call C1 (adoption, decided; decisions released 20 February 2025) received three bids: A's (funded, score 80), A's second (not funded,
score 40) and an ineligible one. Call C2 (diffusion, closed) received B's bid (funded, score 70).

Award X1 to trust A (SW), £200,000, active, 2025/26 to 2026/27, profile £100,000 a year:
  ledger: commit 2025 £100,000, commit 2026 £100,000, payments 2025 £50,000 (15 June 2025, Q1)
  and £25,000 (10 October 2025, Q3).
  returns: r1 Q1 approved on time, r2 Q2 approved late, r3 Q3 submitted (not approved: its
  £999,999 saving never counts).
Award X2 to trust B (LDN), £100,000, closed, profile 2025 £100,000:
  ledger: commit 2025 £100,000, payment 2025 £60,000 (1 July 2025, Q2), release 2025 £40,000.
  returns: s1 Q1 approved, final, with lessons; s2 Q2 open and overdue.

The report covers 2025/26; the data cut-off is 1 May 2026.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from applications.models import BenefitMeasure, BidStatus, CareSetting, ProjectedSaving, SavingKind
from assessment.models import DecisionOutcome
from awards.models import (
    AwardStatus,
    AwardYear,
    LedgerEntryKind,
    PotLedgerEntry,
    Variation,
    VariationKind,
    VariationStatus,
)
from governance.models import CallPurpose, CallStatus, Region
from reporting.models import (
    RAG,
    ImpactReport,
    ReturnMeasureActual,
    ReturnSaving,
    ReturnSpend,
    ReturnStatus,
)
from tests.factories.applications import BidFactory
from tests.factories.assessment import PanelDecisionFactory
from tests.factories.awards import AwardFactory
from tests.factories.governance import (
    CallFactory,
    FundFactory,
    FundManagerFactory,
    ICBFactory,
    NetworkFactory,
    OrganisationFactory,
    PotBudgetFactory,
    PotFactory,
    UserFactory,
)
from tests.factories.reporting import ImpactReportFactory, MonitoringReturnFactory

CUTOFF = timezone.make_aware(dt.datetime(2026, 5, 1, 12, 0))
# Both calls' decisions were released on 20 February 2025 (decided on the 15th).
RELEASED = timezone.make_aware(dt.datetime(2025, 2, 20, 12, 0))


def at(year: int, month: int, day: int, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day, hour))


@dataclass
class World:
    fund: object
    pot: object
    sw: object
    ldn: object
    a: object
    b: object
    icb: object
    c1: object
    c2: object
    x1: object
    x2: object
    manager: object

    def report(self, **kwargs) -> ImpactReport:
        kwargs.setdefault("fund", self.fund)
        kwargs.setdefault("period_start", dt.date(2025, 4, 1))
        kwargs.setdefault("period_end", dt.date(2026, 3, 31))
        kwargs.setdefault("requested_by", self.manager)
        return ImpactReportFactory(**kwargs)


def _award(call, lead, *, reference, amount, status, score, start, end, years):
    bid = BidFactory(call=call, lead_organisation=lead, status=BidStatus.FUNDED, reference=reference,
                     start_date=start, end_date=end, submitted_at=at(2025, 1, 10))
    decision = PanelDecisionFactory(bid=bid, outcome=DecisionOutcome.FUND, amount_approved=amount, score=score,
                                    above_funding_line=True, decided_at=at(2025, 2, 15), released_at=RELEASED)
    award = AwardFactory(decision=decision, status=status, issued_at=at(2025, 3, 1))
    for year, value in years.items():
        AwardYear.objects.create(award=award, financial_year=year, amount=value)
    return award


def _ledger(award, year, kind, amount, when):
    PotLedgerEntry.objects.create(pot=award.pot, financial_year=year, kind=kind, amount=Decimal(amount), award=award,
                                  created_at=when)


def _return(award, start, end, due, status, submitted=None, **fields):
    return MonitoringReturnFactory(award=award, period_start=start, period_end=end, due_date=due, status=status,
                                   submitted_at=submitted, **fields)


def build_world() -> World:
    manager = UserFactory(full_name="Sam Manager")
    sw = NetworkFactory(name="Health Innovation South West", short_name="TSW", region=Region.SOUTH_WEST)
    ldn = NetworkFactory(name="London Health Innovation", short_name="TLDN", region=Region.LONDON)
    FundManagerFactory(user=manager, organisation=sw)
    fund = FundFactory(name="Test Innovation Fund", host_network=sw, first_year=2025, last_year=2026)
    pot = PotFactory(fund=fund, name="National pot")
    PotBudgetFactory(pot=pot, financial_year=2025, amount=Decimal("1000000.00"))
    PotBudgetFactory(pot=pot, financial_year=2026, amount=Decimal("1000000.00"))
    a = OrganisationFactory(name="Trust A", network=sw, region=Region.SOUTH_WEST)
    b = OrganisationFactory(name="Trust B", network=ldn, region=Region.LONDON)
    icb = ICBFactory(name="ICB Q", network=sw, region=Region.SOUTH_WEST)
    closed = {"opens_at": at(2024, 11, 1), "closes_at": at(2025, 1, 31), "status": CallStatus.DECIDED,
              "decisions_released_at": RELEASED}
    c1 = CallFactory(fund=fund, title="Call one", purpose=CallPurpose.ADOPTION, pots=[pot], **closed)
    c2 = CallFactory(fund=fund, title="Call two", purpose=CallPurpose.DIFFUSION, pots=[pot], **closed)

    x1 = _award(c1, a, reference="TEST-X1", amount=Decimal("200000.00"), status=AwardStatus.ACTIVE, score=Decimal("80"),
                start=dt.date(2025, 4, 1), end=dt.date(2027, 3, 31),
                years={2025: Decimal("100000.00"), 2026: Decimal("100000.00")})
    x2 = _award(c2, b, reference="TEST-X2", amount=Decimal("100000.00"), status=AwardStatus.CLOSED, score=Decimal("70"),
                start=dt.date(2025, 4, 1), end=dt.date(2026, 3, 31), years={2025: Decimal("100000.00")})
    # The rest of call one: a bid not funded and an ineligible one.
    unfunded = BidFactory(call=c1, lead_organisation=a, status=BidStatus.NOT_FUNDED, reference="TEST-C1-NF")
    PanelDecisionFactory(bid=unfunded, outcome=DecisionOutcome.NOT_FUND, amount_approved=None, score=Decimal("40"),
                         above_funding_line=False, decided_at=at(2025, 2, 15), released_at=RELEASED)
    BidFactory(call=c1, lead_organisation=a, status=BidStatus.INELIGIBLE, reference="TEST-C1-IN")
    BidFactory(call=c1, lead_organisation=a, status=BidStatus.DRAFT, reference="TEST-C1-DR")  # never received

    _ledger(x1, 2025, LedgerEntryKind.COMMIT, "100000.00", at(2025, 3, 1))
    _ledger(x1, 2026, LedgerEntryKind.COMMIT, "100000.00", at(2025, 3, 1))
    _ledger(x1, 2025, LedgerEntryKind.PAYMENT, "50000.00", at(2025, 6, 15))
    _ledger(x1, 2025, LedgerEntryKind.PAYMENT, "25000.00", at(2025, 10, 10))
    _ledger(x2, 2025, LedgerEntryKind.COMMIT, "100000.00", at(2025, 3, 1))
    _ledger(x2, 2025, LedgerEntryKind.PAYMENT, "60000.00", at(2025, 7, 1))
    _ledger(x2, 2025, LedgerEntryKind.RELEASE, "40000.00", at(2026, 3, 20))

    # Projected savings in the bids.
    for bid, year, kind, org, setting, amount in [
        (x1.bid, 2025, SavingKind.CASHABLE, a, CareSetting.SECONDARY, "30000.00"),
        (x1.bid, 2025, SavingKind.NON_CASHABLE, icb, CareSetting.COMMUNITY, "10000.00"),
        (x1.bid, 2026, SavingKind.CASHABLE, a, CareSetting.SECONDARY, "60000.00"),
        (x2.bid, 2025, SavingKind.CASHABLE, b, CareSetting.SECONDARY, "20000.00"),
    ]:
        ProjectedSaving.objects.create(bid=bid, financial_year=year, kind=kind, realised_by=org, care_setting=setting,
                                       amount=Decimal(amount), assumptions="Fewer admissions.")
    bed_days = BenefitMeasure.objects.create(bid=x1.bid, name="Bed days avoided", unit="days", baseline=Decimal("0"),
                                             target=Decimal("1000"), target_date=dt.date(2027, 3, 31))
    bed_days_2 = BenefitMeasure.objects.create(bid=x2.bid, name="bed days avoided ", unit="Days", baseline=Decimal("100"),
                                               target=Decimal("500"), target_date=dt.date(2026, 3, 31))
    BenefitMeasure.objects.create(bid=x2.bid, name="Patients seen", unit="patients", baseline=Decimal("0"),
                                  target=Decimal("50"), target_date=dt.date(2026, 3, 31))

    approved = ReturnStatus.APPROVED
    r1 = _return(x1, dt.date(2025, 4, 1), dt.date(2025, 6, 30), dt.date(2025, 7, 30), approved, at(2025, 7, 20),
                 rag=RAG.GREEN, organisations_adopting=2, sites_adopting=3, patients_reached=100)
    r2 = _return(x1, dt.date(2025, 7, 1), dt.date(2025, 9, 30), dt.date(2025, 10, 30), approved, at(2025, 11, 5),
                 rag=RAG.AMBER, organisations_adopting=3, sites_adopting=5, patients_reached=250)
    r3 = _return(x1, dt.date(2025, 10, 1), dt.date(2025, 12, 31), dt.date(2026, 1, 30), ReturnStatus.SUBMITTED,
                 at(2026, 1, 10), rag=RAG.GREEN, organisations_adopting=9, sites_adopting=9, patients_reached=999)
    s1 = _return(x2, dt.date(2025, 4, 1), dt.date(2025, 6, 30), dt.date(2025, 7, 30), approved, at(2025, 7, 25),
                 rag=RAG.RED, organisations_adopting=1, sites_adopting=1, patients_reached=40, is_final=True,
                 lessons_learned="Start recruiting early.", will_be_sustained=True, sustained_funding_by="ICB Q")
    _return(x2, dt.date(2025, 7, 1), dt.date(2025, 9, 30), dt.date(2025, 10, 30), ReturnStatus.OPEN)

    for ret, year, amount in [(r1, 2025, "20000.00"), (r2, 2025, "30000.00"), (r3, 2025, "99999.00"), (s1, 2025, "60000.00")]:
        ReturnSpend.objects.create(monitoring_return=ret, financial_year=year, category="staff", amount=Decimal(amount))
    for ret, kind, org, setting, amount in [
        (r1, SavingKind.CASHABLE, a, CareSetting.SECONDARY, "15000.00"),
        (r1, SavingKind.NON_CASHABLE, icb, CareSetting.COMMUNITY, "5000.00"),
        (r2, SavingKind.CASHABLE, a, CareSetting.SECONDARY, "45000.00"),
        (r3, SavingKind.CASHABLE, a, CareSetting.SECONDARY, "999999.00"),
        (s1, SavingKind.CASHABLE, b, CareSetting.SECONDARY, "10000.00"),
    ]:
        ReturnSaving.objects.create(monitoring_return=ret, financial_year=2025, kind=kind, realised_by=org,
                                    care_setting=setting, amount=Decimal(amount))
    for ret, measure, value in [(r1, bed_days, "300"), (r2, bed_days, "600"), (r3, bed_days, "900"), (s1, bed_days_2, "200")]:
        ReturnMeasureActual.objects.create(monitoring_return=ret, measure=measure, value=Decimal(value))

    Variation.objects.create(award=x1, kind=VariationKind.EXTENSION, reasons="Recruitment", status=VariationStatus.APPROVED,
                             requested_by=manager, requested_at=at(2025, 9, 1))
    Variation.objects.create(award=x1, kind=VariationKind.REPROFILE, reasons="Slippage", status=VariationStatus.REQUESTED,
                             requested_by=manager, requested_at=at(2025, 11, 1))
    return World(fund=fund, pot=pot, sw=sw, ldn=ldn, a=a, b=b, icb=icb, c1=c1, c2=c2, x1=x1, x2=x2, manager=manager)
