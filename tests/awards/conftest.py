"""A small world for the awards tests, helpers to issue awards through the service, and the
pot ledger invariant, checked after every test in this folder."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from applications.models import BidCost
from awards import services
from awards.models import (
    COMMITTING_STATUSES,
    Award,
    DocumentStatus,
    InstalmentStatus,
)
from awards.selectors import (
    award_ledger_by_year,
    award_profile,
    pot_ledger,
    suggested_profile,
    years_for,
)
from governance.models import (
    CallStatus,
    Fund,
    FundRole,
    FundRoleKind,
    Organisation,
    PanelRole,
    Pot,
    PotBudget,
    User,
)
from tests.factories.applications import BidPartnerFactory
from tests.factories.assessment import PanelDecisionFactory
from tests.factories.governance import (
    CallFactory,
    FundFactory,
    FundManagerFactory,
    ICBFactory,
    MembershipFactory,
    NetworkFactory,
    OrganisationFactory,
    PanelMemberFactory,
    PotBudgetFactory,
    PotFactory,
    UserFactory,
)

PDF_BYTES = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
BUDGET = Decimal("1000000.00")


def assert_ledger_balances() -> None:
    """budget = committed + remaining and 0 <= paid <= committed, remaining >= 0, per pot and year;
    each award's ledger matches its profile while it holds money, and its payments after."""
    for row in pot_ledger():
        assert row.budget == row.committed + row.remaining, row
        assert row.remaining >= 0, f"{row.pot_name} {row.year_label} over-committed: {row}"
        assert 0 <= row.paid <= row.committed, f"{row.pot_name} {row.year_label} paid more than committed: {row}"
    for award in Award.objects.prefetch_related("profile", "instalments", "ledger"):
        ledger = award_ledger_by_year(award)
        committed = {y: m["committed"] for y, m in ledger.items() if m["committed"]}
        paid = {y: m["paid"] for y, m in ledger.items() if m["paid"]}
        if award.status in COMMITTING_STATUSES:
            assert committed == award_profile(award), f"{award.reference}: ledger {committed} != profile"
            scheduled = defaultdict(Decimal)
            for instalment in award.instalments.all():
                if instalment.status != InstalmentStatus.CANCELLED:
                    scheduled[instalment.financial_year] += instalment.amount
            if award.instalments.exists():
                assert dict(scheduled) == award_profile(award), f"{award.reference}: instalments {dict(scheduled)} != profile"
        else:
            assert committed == paid, f"{award.reference} ({award.status}) still holds unpaid money: {committed} vs {paid}"


@pytest.fixture(autouse=True)
def ledger_balances(request):
    """After every test that touches the database, the pot ledger must balance."""
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db:
        yield
        return
    request.getfixturevalue("transactional_db" if marker and marker.kwargs.get("transaction") else "db")
    yield
    assert_ledger_balances()


def first_award_year() -> int:
    """The financial year the factories' bids start in (next April)."""
    return timezone.localdate().year + 1


@dataclass
class World:
    network: Organisation
    other_network: Organisation
    fund: Fund
    pot: Pot
    call: object
    lead: Organisation
    other_org: Organisation
    icb: Organisation
    manager: User
    other_manager: User
    signatory: User
    member: User
    outsider: User
    commissioner: User
    assessor: User
    chair: User
    auditor: User
    decision: object

    @property
    def years(self) -> list[int]:
        return self.fund.years

    def budget(self, year: int) -> PotBudget:
        return PotBudget.objects.get(pot=self.pot, financial_year=year)

    def new_decision(self, amount: Decimal = Decimal("200000.00"), costs: dict[int, Decimal] | None = None, **kwargs):
        decision = PanelDecisionFactory(
            bid__call=self.call, bid__lead_organisation=self.lead, bid__pot=self.pot, bid__commissioner=self.icb,
            amount_approved=amount, **kwargs,
        )
        y = first_award_year()
        for year, value in (costs or {y: Decimal("100000.00"), y + 1: Decimal("100000.00")}).items():
            BidCost.objects.create(bid=decision.bid, financial_year=year, category="staff", amount=value)
        BidPartnerFactory(bid=decision.bid, organisation=self.icb)
        return decision


def make_world(*, budget: Decimal = BUDGET) -> World:
    y = first_award_year()
    network = NetworkFactory()
    other_network = NetworkFactory()
    fund = FundFactory(host_network=network, first_year=y - 1, last_year=y + 1)
    pot = PotFactory(fund=fund, name="National pot")
    for year in fund.years:
        PotBudgetFactory(pot=pot, financial_year=year, amount=budget)
    call = CallFactory(fund=fund, pots=[pot], status=CallStatus.DECIDED)
    lead = OrganisationFactory(network=network, name="Lead Hospitals NHS Trust")
    other_org = OrganisationFactory(network=network, name="Other Hospitals NHS Trust")
    icb = ICBFactory(network=network)
    signatory = MembershipFactory(organisation=lead, is_authorised_signatory=True, user__full_name="Sig Natory").user
    member = MembershipFactory(organisation=lead).user
    outsider = MembershipFactory(organisation=other_org, is_authorised_signatory=True).user
    auditor = UserFactory()
    FundRole.objects.create(user=auditor, fund=fund, role=FundRoleKind.AUDITOR)
    world = World(
        network=network, other_network=other_network, fund=fund, pot=pot, call=call, lead=lead, other_org=other_org,
        icb=icb, manager=FundManagerFactory(organisation=network, user__full_name="Fay Manager").user,
        other_manager=FundManagerFactory(organisation=other_network).user, signatory=signatory, member=member,
        outsider=outsider, commissioner=MembershipFactory(organisation=icb).user,
        assessor=PanelMemberFactory(panel=call.panel, role=PanelRole.ASSESSOR).user,
        chair=PanelMemberFactory(panel=call.panel, role=PanelRole.CHAIR).user, auditor=auditor, decision=None,
    )
    world.decision = world.new_decision()
    return world


@pytest.fixture
def world(db) -> World:
    return make_world()


def issue(world: World, decision=None, **overrides) -> Award:
    """Issue an award through the service with sensible defaults from the decision."""
    decision = decision or world.decision
    bid = decision.bid
    amount = overrides.pop("amount", decision.amount_approved)
    start = overrides.pop("start_date", bid.start_date)
    end = overrides.pop("end_date", bid.end_date)
    kwargs = {
        "actor": world.manager, "decision": decision, "amount": amount, "start_date": start, "end_date": end,
        "profile": suggested_profile(bid, amount, years_for(start, end, world.fund)),
        "offer_deadline": timezone.localdate() + dt.timedelta(days=28), "conditions": None,
    }
    kwargs.update(overrides)
    return services.award_issue(**kwargs)


def letter_ready(award: Award) -> Award:
    """The award's latest offer letter, made: the letter task is tested on its own
    (test_ledger_and_letters, test_worker); other tests need only a letter to read."""
    letter = award.letters.order_by("-version").first()
    letter.file.save(f"offer-letter-v{letter.version}.pdf", ContentFile(PDF_BYTES), save=False)
    letter.status = DocumentStatus.READY
    letter.save()
    return award


def accept(world: World, award: Award) -> Award:
    """The signatory accepts the offer, once its letter is ready to read."""
    return services.award_accept(actor=world.signatory, award=letter_ready(award))


def accept_and_start(world: World, award: Award) -> Award:
    """Accept as the signatory, meet every pre-start condition, and start the award."""
    award = accept(world, award)
    for condition in award.conditions.filter(holds_back__isnull=False):
        services.condition_evidence_submit(actor=world.member, condition=condition, upload=pdf_upload())
        services.condition_sign_off(actor=world.manager, condition=condition)
    return services.award_activate(actor=world.manager, award=award)


def pdf_upload(name: str = "evidence.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def messages_of(exc) -> list[str]:
    return list(exc.value.messages)
