import datetime as dt

import factory

from reporting import models as m
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
