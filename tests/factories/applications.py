import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from applications import models as m
from governance.models import PartnerKind
from tests.factories.governance import CallFactory, ICBFactory, OrganisationFactory, UserFactory


class BidFactory(factory.django.DjangoModelFactory):
    """A draft bid on an open call, led by a trust, running two financial years from next April."""

    class Meta:
        model = m.Bid

    call = factory.SubFactory(CallFactory)
    lead_organisation = factory.SubFactory(OrganisationFactory, network=factory.SelfAttribute("..call.host_network"))
    pot = factory.LazyAttribute(lambda bid: bid.call.pots.first())
    reference = factory.Sequence(lambda n: f"TEST-2627-{n:04d}")
    title = factory.Sequence(lambda n: f"Remote monitoring for frailty {n}")
    summary = "Adopting remote monitoring for people living with frailty."
    status = m.BidStatus.DRAFT
    start_date = factory.LazyFunction(lambda: dt.date(timezone.localdate().year + 1, 4, 1))
    end_date = factory.LazyAttribute(lambda bid: dt.date(bid.start_date.year + 2, 3, 31))
    innovation_type = "digital"
    created_by = factory.SubFactory(UserFactory)


class SubmittedBidFactory(BidFactory):
    status = m.BidStatus.SUBMITTED
    submitted_at = factory.LazyFunction(timezone.now)
    submitted_by = factory.SelfAttribute("created_by")


class BidPartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.BidPartner

    bid = factory.SubFactory(BidFactory)
    organisation = factory.SubFactory(ICBFactory)
    role = PartnerKind.COMMISSIONER
    contribution = "Commissioning support and data."


class BidCostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.BidCost

    bid = factory.SubFactory(BidFactory)
    financial_year = factory.LazyAttribute(lambda cost: cost.bid.years[0])
    category = m.CostCategory.STAFF
    amount = Decimal("50000.00")


class ProjectedSavingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ProjectedSaving

    bid = factory.SubFactory(BidFactory)
    financial_year = factory.LazyAttribute(lambda saving: saving.bid.years[0])
    kind = m.SavingKind.CASHABLE
    realised_by = factory.SelfAttribute("bid.lead_organisation")
    care_setting = m.CareSetting.SECONDARY
    amount = Decimal("80000.00")
    assumptions = "Fewer admissions."


class BenefitMeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.BenefitMeasure

    bid = factory.SubFactory(BidFactory)
    name = "Bed days avoided"
    unit = "days"
    baseline = Decimal("0")
    target = Decimal("500")
    target_date = factory.LazyAttribute(lambda measure: measure.bid.end_date)
