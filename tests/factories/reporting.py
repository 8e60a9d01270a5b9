import datetime as dt
from decimal import Decimal

import factory

from applications.models import Milestone
from reporting import models as m
from tests.factories.applications import BenefitMeasureFactory
from tests.factories.awards import AwardFactory


class MonitoringReturnFactory(factory.django.DjangoModelFactory):
    """The award's first quarterly return, open for reporting."""

    class Meta:
        model = m.MonitoringReturn

    award = factory.SubFactory(AwardFactory)
    period_start = factory.SelfAttribute("award.start_date")
    period_end = factory.LazyAttribute(lambda r: r.period_start + dt.timedelta(days=90))
    due_date = factory.LazyAttribute(lambda r: r.period_end + dt.timedelta(days=30))
    status = m.ReturnStatus.OPEN


class ImpactReportFactory(factory.django.DjangoModelFactory):
    """A report on a whole fund over its first financial year."""

    class Meta:
        model = m.ImpactReport

    fund = factory.SubFactory("tests.factories.governance.FundFactory")
    scope = m.ReportScope.FUND
    title = factory.Sequence(lambda n: f"Impact report {n}")
    period_start = factory.LazyAttribute(lambda r: dt.date(r.fund.first_year, 4, 1))
    period_end = factory.LazyAttribute(lambda r: dt.date(r.fund.first_year + 1, 3, 31))
    requested_by = factory.SubFactory("tests.factories.governance.UserFactory")


class ReportVersionFactory(factory.django.DjangoModelFactory):
    """A version waiting for a worker."""

    class Meta:
        model = m.ReportVersion

    report = factory.SubFactory(ImpactReportFactory)
    number = factory.Sequence(lambda n: n + 1)
    status = "queued"
    requested_by = factory.SelfAttribute("report.requested_by")
    # A built version has a snapshot: by default one of public data only that covers nothing.
    snapshot = factory.LazyAttribute(lambda v: empty_snapshot() if v.status == "ready" else None)


def empty_snapshot() -> dict:
    """A snapshot with no figures, recording (as every build does) that it covers only public data."""
    from reporting.visibility import coverage

    return {"schema": 2, "meta": {"coverage": coverage(award_ids=[], call_ids=[], withheld_calls=[])},
            "headline": [], "sections": []}


class ReturnSpendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ReturnSpend

    monitoring_return = factory.SubFactory(MonitoringReturnFactory)
    financial_year = factory.LazyAttribute(lambda s: s.monitoring_return.financial_year)
    category = "staff"
    amount = Decimal("20000.00")


class ReturnSavingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ReturnSaving

    monitoring_return = factory.SubFactory(MonitoringReturnFactory)
    financial_year = factory.LazyAttribute(lambda s: s.monitoring_return.financial_year)
    kind = "cashable"
    realised_by = factory.SelfAttribute("monitoring_return.award.recipient")
    care_setting = "secondary"
    amount = Decimal("15000.00")


class ReturnMeasureActualFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ReturnMeasureActual

    monitoring_return = factory.SubFactory(MonitoringReturnFactory)
    measure = factory.SubFactory(BenefitMeasureFactory, bid=factory.SelfAttribute("..monitoring_return.award.bid"))
    value = Decimal("120.00")


class ReturnMilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ReturnMilestone

    monitoring_return = factory.SubFactory(MonitoringReturnFactory)
    milestone = factory.LazyAttribute(lambda u: Milestone.objects.create(
        bid=u.monitoring_return.award.bid, title="Service live", due_date=u.monitoring_return.period_end))
    status = m.MilestoneProgress.DONE


class ReinvestmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Reinvestment

    monitoring_return = factory.SubFactory(MonitoringReturnFactory)
    amount = Decimal("5000.00")
    destination = "Community falls classes"


class ReminderSentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ReminderSent

    monitoring_return = factory.SubFactory(MonitoringReturnFactory)
    kind = m.ReminderKind.OPENED
    due_date = factory.SelfAttribute("monitoring_return.due_date")
    recipients = factory.LazyFunction(lambda: ["grantee@example.com"])
