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
