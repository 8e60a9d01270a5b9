"""A monitoring world: the awards tests' world (network, fund, call, grantee, every role) with an
award that started two NHS quarters ago, issued, accepted and started through the awards services,
with patient-benefit measures and milestones on its bid, and its returns scheduled.

Dates are worked out from today, so the tests hold whatever day they run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from applications.models import BenefitMeasure, BidCost, Milestone
from awards.models import Award
from awards.selectors import spread_in_proportion, years_for
from governance import fy
from governance.models import PotBudget
from reporting.models import MilestoneProgress, MonitoringReturn, ReturnStatus
from reporting.monitoring import services
from tests.awards.conftest import BUDGET, World, accept_and_start, issue, make_world


def quarter_start(day: dt.date, back: int = 0) -> dt.date:
    """The first day of the NHS quarter ``back`` quarters before the one containing ``day``."""
    year, quarter = fy.quarter_of(day)
    index = year * 4 + (quarter - 1) - back
    return fy.FinancialYear(index // 4).quarter(index % 4 + 1)[0]


@dataclass
class MonitoringWorld:
    world: World
    award: Award
    measures: list[BenefitMeasure]
    milestones: list[Milestone]

    def __getattr__(self, name):
        return getattr(self.world, name)

    def returns(self) -> list[MonitoringReturn]:
        return list(self.award.returns.order_by("period_start"))

    def ended(self) -> list[MonitoringReturn]:
        today = timezone.localdate()
        return [ret for ret in self.returns() if ret.period_end < today]

    def last_ended(self) -> MonitoringReturn:
        """The return for the latest quarter that has ended, opened for reporting."""
        ret = self.ended()[-1]
        services.return_open(return_id=ret.pk)
        ret.refresh_from_db()
        return ret

    def future(self) -> MonitoringReturn:
        today = timezone.localdate()
        return next(ret for ret in self.returns() if ret.period_end >= today)


def extend_fund(world: World) -> None:
    """Let the fund run from two years ago, so awards may have started in the past."""
    this_year = fy.FinancialYear.of(timezone.localdate()).start_year
    world.fund.first_year, world.fund.last_year = this_year - 2, this_year + 3
    world.fund.save(update_fields=["first_year", "last_year"])
    for year in world.fund.years:
        PotBudget.objects.get_or_create(pot=world.pot, financial_year=year, defaults={"amount": BUDGET})


def start_award(world: World, decision=None, *, quarters_back: int = 2, years: int = 2,
                amount: Decimal = Decimal("200000.00"), return_frequency_months: int = 3) -> Award:
    """Issue, accept and start an award that began ``quarters_back`` NHS quarters ago, profiled evenly."""
    start = quarter_start(timezone.localdate(), quarters_back)
    end = start.replace(year=start.year + years) - dt.timedelta(days=1)
    profile = spread_in_proportion(amount, dict.fromkeys(years_for(start, end, world.fund), Decimal(1)))
    decision = decision or world.decision
    award = issue(world, decision=decision, amount=amount, start_date=start, end_date=end, profile=profile,
                  return_frequency_months=return_frequency_months)
    return accept_and_start(world, award)


def make_monitoring_world(**kwargs) -> MonitoringWorld:
    world = make_world()
    extend_fund(world)
    bid = world.decision.bid
    measures = [
        BenefitMeasure.objects.create(bid=bid, name="Bed days avoided", unit="days", baseline=Decimal("0"),
                                      target=Decimal("500"), target_date=bid.end_date, higher_is_better=True),
        BenefitMeasure.objects.create(bid=bid, name="Emergency admissions", unit="per month", baseline=Decimal("40"),
                                      target=Decimal("20"), target_date=bid.end_date, higher_is_better=False),
    ]
    today = timezone.localdate()
    milestones = [
        Milestone.objects.create(bid=bid, title="Service live in the first site", due_date=today - dt.timedelta(days=30)),
        Milestone.objects.create(bid=bid, title="Evaluation published", due_date=today + dt.timedelta(days=300)),
    ]
    award = start_award(world, **kwargs)
    # The bid's costs in the award's years, so the period profile splits over categories.
    BidCost.objects.filter(bid=bid).delete()
    for year in award.years:
        BidCost.objects.create(bid=bid, financial_year=year, category="staff", amount=Decimal("75000.00"))
        BidCost.objects.create(bid=bid, financial_year=year, category="evaluation", amount=Decimal("25000.00"))
    services.return_schedule_sync(award=award)
    return MonitoringWorld(world, Award.objects.get(pk=award.pk), measures, milestones)


@pytest.fixture
def mw(db) -> MonitoringWorld:
    return make_monitoring_world()


def version(ret: MonitoringReturn, section: str) -> int:
    ret.refresh_from_db()
    return int((ret.section_versions or {}).get(section, 0))


def complete(mw: MonitoringWorld, ret: MonitoringReturn, *, user=None, spend_factor: Decimal = Decimal("1")) -> MonitoringReturn:
    """Answer every section of a return through the services, with sensible values."""
    from reporting.monitoring.selectors import period_profile

    user = user or mw.member
    profile = period_profile(ret)
    staff = (profile * Decimal("0.75") * spend_factor).quantize(Decimal("0.01"))
    services.return_spend_save(actor=user, monitoring_return=ret, version=version(ret, "spend"),
                               amounts={"staff": staff, "evaluation": (profile * spend_factor - staff).quantize(Decimal("0.01"))},
                               explanation="" if spend_factor == 1 else "Agency staff while recruiting.")
    services.return_savings_save(actor=user, monitoring_return=ret, version=version(ret, "savings"), lines=[
        services.SavingLine("cashable", mw.lead, "secondary", Decimal("12000.00"), "Fewer admissions"),
        services.SavingLine("non_cashable", mw.icb, "community", Decimal("3000.00")),
    ])
    services.return_benefits_save(actor=user, monitoring_return=ret, version=version(ret, "benefits"), actuals={
        mw.measures[0].pk: (Decimal("120"), ""), mw.measures[1].pk: (Decimal("35"), "Fewer falls"),
    })
    services.return_adoption_save(actor=user, monitoring_return=ret, version=version(ret, "adoption"), organisations=2,
                                  sites=4, patients=300, notes="")
    services.return_milestones_save(actor=user, monitoring_return=ret, version=version(ret, "milestones"), updates=[
        services.MilestoneUpdate(mw.milestones[0].pk, MilestoneProgress.DONE),
        services.MilestoneUpdate(mw.milestones[1].pk, MilestoneProgress.ON_TRACK),
    ])
    services.return_risks_save(actor=user, monitoring_return=ret, version=version(ret, "risks"), risks="None new.")
    services.return_reinvestment_save(actor=user, monitoring_return=ret, version=version(ret, "reinvestment"), lines=[
        services.ReinvestmentLine(Decimal("2000.00"), "Community falls classes", mw.icb),
    ])
    services.return_rag_save(actor=user, monitoring_return=ret, version=version(ret, "rag"), rag="green", reason="On track.")
    services.return_narrative_save(actor=user, monitoring_return=ret, version=version(ret, "narrative"),
                                   narrative="Going well.", lessons_learned="Start early." if ret.is_final else "")
    if ret.is_final:
        services.return_sustainability_save(actor=user, monitoring_return=ret, version=version(ret, "sustainability"),
                                            will_be_sustained=True, funded_by="The ICB")
    ret.refresh_from_db()
    return ret


def submitted(mw: MonitoringWorld, ret: MonitoringReturn | None = None) -> MonitoringReturn:
    """The latest ended return, completed and submitted by the grantee."""
    ret = ret or mw.last_ended()
    complete(mw, ret)
    services.return_submit(actor=mw.member, monitoring_return=ret)
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.SUBMITTED
    return ret
