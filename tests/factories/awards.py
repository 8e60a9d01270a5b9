import datetime as dt

import factory
from django.utils import timezone

from awards import models as m
from tests.factories.assessment import PanelDecisionFactory
from tests.factories.governance import UserFactory


class AwardFactory(factory.django.DjangoModelFactory):
    """An active award made from a released decision. Its profile and ledger are not created:
    use the awards services (award_issue) where the pot ledger matters."""

    class Meta:
        model = m.Award

    decision = factory.SubFactory(PanelDecisionFactory)
    bid = factory.SelfAttribute("decision.bid")
    pot = factory.LazyAttribute(lambda a: a.bid.pot)
    recipient = factory.SelfAttribute("bid.lead_organisation")
    reference = factory.SelfAttribute("bid.reference")
    title = factory.SelfAttribute("bid.title")
    description = factory.SelfAttribute("bid.summary")
    amount = factory.SelfAttribute("decision.amount_approved")
    start_date = factory.SelfAttribute("bid.start_date")
    end_date = factory.SelfAttribute("bid.end_date")
    status = m.AwardStatus.ACTIVE
    offer_deadline = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=28))
    issued_by = factory.SubFactory(UserFactory)


class AwardYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.AwardYear

    award = factory.SubFactory(AwardFactory)
    financial_year = factory.LazyAttribute(lambda y: y.award.years[0])
    amount = factory.LazyAttribute(lambda y: y.award.amount)


class ConditionTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ConditionTemplate

    fund = None
    title = factory.Sequence(lambda n: f"Standard condition {n}")
    description = "Evidence that shows the condition is met."
    for_digital = False
    pre_start = True
