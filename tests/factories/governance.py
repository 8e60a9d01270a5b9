import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from governance import models as m
from governance.demo import DEMO_PASSWORD

BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def ods_code(prefix: str, n: int) -> str:
    """A unique, well-formed 3-character ODS code: the prefix and two base-36 digits."""
    return f"{prefix}{BASE36[n // 36 % 36]}{BASE36[n % 36]}"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.User
        django_get_or_create = ("email",)

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.django.Password(DEMO_PASSWORD)


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Organisation

    name = factory.Sequence(lambda n: f"Health Innovation Network {n}")
    kind = m.OrganisationKind.HEALTH_INNOVATION_NETWORK
    short_name = factory.Sequence(lambda n: f"HIN{n}")
    region = m.Region.SOUTH_WEST
    official_org_id = factory.Sequence(lambda n: f"GB-COH-{9000000 + n:08d}")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Organisation

    name = factory.Sequence(lambda n: f"Example NHS Trust {n}")
    kind = m.OrganisationKind.NHS_TRUST
    ods_code = factory.Sequence(lambda n: ods_code("R", n))
    region = m.Region.SOUTH_WEST
    network = factory.SubFactory(NetworkFactory)


class ICBFactory(OrganisationFactory):
    name = factory.Sequence(lambda n: f"NHS Example Integrated Care Board {n}")
    kind = m.OrganisationKind.ICB
    ods_code = factory.Sequence(lambda n: ods_code("Q", n))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = m.MembershipRole.MEMBER


class FundManagerFactory(MembershipFactory):
    organisation = factory.SubFactory(NetworkFactory)
    role = m.MembershipRole.FUND_MANAGER


class FundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Fund

    name = factory.Sequence(lambda n: f"Innovation Fund {n}")
    slug = factory.Sequence(lambda n: f"innovation-fund-{n}")
    host_network = factory.SubFactory(NetworkFactory)
    description = "Money to adopt proven innovations."
    allocation_model = m.AllocationModel.NATIONAL
    first_year = 2026
    last_year = 2028


class PotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Pot

    fund = factory.SubFactory(FundFactory)
    name = factory.Sequence(lambda n: f"Pot {n}")


class PotBudgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.PotBudget

    pot = factory.SubFactory(PotFactory)
    financial_year = 2026
    amount = Decimal("1000000.00")


class PanelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Panel

    fund = factory.SubFactory(FundFactory)
    name = factory.Sequence(lambda n: f"Panel {n}")


class PanelMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.PanelMember

    panel = factory.SubFactory(PanelFactory)
    user = factory.SubFactory(UserFactory)
    role = m.PanelRole.ASSESSOR


class CallFactory(factory.django.DjangoModelFactory):
    """A call open now, with two criteria (cost saving 50%, patient benefit 50%)."""

    class Meta:
        model = m.Call
        skip_postgeneration_save = True

    fund = factory.SubFactory(FundFactory)
    host_network = factory.SelfAttribute("fund.host_network")
    title = factory.Sequence(lambda n: f"Challenge call {n}")
    slug = factory.Sequence(lambda n: f"challenge-call-{n}")
    summary = "Bids to adopt proven innovations in frailty care."
    purpose = m.CallPurpose.ADOPTION
    innovation_types = [m.InnovationType.DIGITAL, m.InnovationType.SERVICE_MODEL]
    opens_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=7))
    closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=21))
    eligible_org_kinds = [m.OrganisationKind.NHS_TRUST, m.OrganisationKind.FOUNDATION_TRUST, m.OrganisationKind.ICB]
    min_amount = Decimal("10000.00")
    max_amount = Decimal("500000.00")
    max_duration_years = 3
    required_partner_kinds = []
    endorsement_required = False
    # Off by default so tests about other things can submit bids with partners; the sign-off
    # journey is tested on calls that ask for it (tests/applications/test_team.py).
    partner_sign_off_required = False
    status = m.CallStatus.OPEN
    panel = factory.SubFactory(PanelFactory, fund=factory.SelfAttribute("..fund"))

    @factory.post_generation
    def criteria(self, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        for position, (kind, title) in enumerate(
            [(m.CriterionKind.COST_SAVING, "Cost saving"), (m.CriterionKind.PATIENT_BENEFIT, "Patient benefit")]
        ):
            criterion = m.Criterion.objects.create(
                call=self, kind=kind, title=title, guidance_for_applicants=f"How the bid shows {title.lower()}.",
                guidance_for_assessors=f"Score {title.lower()}.", weight=50, position=position,
            )
            for score in criterion.scale:
                m.RubricDescriptor.objects.create(criterion=criterion, score=score, descriptor=f"Score {score} for {title}")

    @factory.post_generation
    def pots(self, create, extracted, **kwargs):
        if not create:
            return
        pots = extracted if extracted is not None else [PotFactory(fund=self.fund)]
        for pot in pots:
            self.pots.add(pot)


class FundRoleFactory(factory.django.DjangoModelFactory):
    """An auditor of a fund."""

    class Meta:
        model = m.FundRole

    user = factory.SubFactory(UserFactory)
    fund = factory.SubFactory(FundFactory)
    role = m.FundRoleKind.AUDITOR


class CriterionFactory(factory.django.DjangoModelFactory):
    """A criterion on a 0-4 scale with a descriptor for every score."""

    class Meta:
        model = m.Criterion
        skip_postgeneration_save = True

    call = factory.SubFactory("tests.factories.governance.DraftCallFactory")
    kind = m.CriterionKind.DELIVERABILITY
    title = factory.Sequence(lambda n: f"Criterion {n}")
    guidance_for_applicants = "Show how you will deliver."
    guidance_for_assessors = "Score the plan."
    weight = 10
    position = factory.Sequence(lambda n: n)

    @factory.post_generation
    def descriptors(self, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        for score in self.scale:
            m.RubricDescriptor.objects.create(criterion=self, score=score, descriptor=f"Score {score} means this")


class DraftCallFactory(CallFactory):
    """A complete draft call, ready to publish: opens tomorrow, closes in a month, budgeted pot."""

    status = m.CallStatus.DRAFT
    opens_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))

    @factory.post_generation
    def pots(self, create, extracted, **kwargs):
        if not create:
            return
        if extracted is None:
            pot = PotFactory(fund=self.fund)
            PotBudgetFactory(pot=pot, financial_year=self.fund.first_year)
            extracted = [pot]
        for pot in extracted:
            self.pots.add(pot)
