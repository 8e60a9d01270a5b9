"""A small world for the assessment tests: a call in assessment on a national fund, its panel
(a chair, assessors, a lay member, one assessor who works for the lead organisation), bids in
assessment asking for money in two financial years, and everyone else who might knock on the
door (applicants, a commissioner, fund managers, an auditor). Helpers assign, declare and score
through the services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.utils import timezone

from applications.models import BidCost, BidStatus
from assessment import services
from governance.models import CallStatus, FundRole, FundRoleKind, PanelRole
from tests.factories.applications import BidPartnerFactory, SubmittedBidFactory
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

BUDGET = Decimal("1000000.00")


def first_year() -> int:
    """The financial year the factories' bids start in (next April)."""
    return timezone.localdate().year + 1


@dataclass
class World:
    network: object
    other_network: object
    fund: object
    pot: object
    call: object
    lead: object
    other_org: object
    icb: object
    manager: object
    other_manager: object
    auditor: object
    applicant: object
    other_applicant: object
    commissioner: object
    chair: object
    assessor: object
    assessor_b: object
    assessor_c: object
    insider: object  # an assessor who is a member of the lead organisation
    lay: object
    bids: list = field(default_factory=list)

    @property
    def criteria(self):
        return list(self.call.criteria.all())

    def new_bid(self, yearly: Decimal = Decimal("100000.00"), *, status=BidStatus.IN_ASSESSMENT, lead=None, **kwargs):
        bid = SubmittedBidFactory(call=self.call, lead_organisation=lead or self.lead, pot=self.pot,
                                  commissioner=self.icb, status=status, **kwargs)
        BidPartnerFactory(bid=bid, organisation=self.icb)
        for year in bid.years:
            BidCost.objects.create(bid=bid, financial_year=year, category="staff", amount=yearly)
        self.bids.append(bid)
        return bid


def make_world(*, bids: int = 2, assessors_per_bid: int = 2, threshold: Decimal = Decimal("2"), budget: Decimal = BUDGET,
               status: str = CallStatus.ASSESSMENT) -> World:
    y = first_year()
    network, other_network = NetworkFactory(), NetworkFactory()
    fund = FundFactory(host_network=network, first_year=y - 1, last_year=y + 2)
    pot = PotFactory(fund=fund, name="National pot")
    for year in fund.years:
        PotBudgetFactory(pot=pot, financial_year=year, amount=budget)
    now = timezone.now()
    call = CallFactory(fund=fund, pots=[pot], status=status, opens_at=now - dt.timedelta(days=60),
                       closes_at=now - dt.timedelta(days=5), assessors_per_bid=assessors_per_bid,
                       moderation_threshold=threshold, assessment_due_date=timezone.localdate() + dt.timedelta(days=14))
    lead = OrganisationFactory(network=network, name="Lead Hospitals NHS Trust")
    other_org = OrganisationFactory(network=network, name="Other Hospitals NHS Trust")
    icb = ICBFactory(network=network, name="NHS Example ICB")
    auditor = UserFactory(full_name="Audrey Auditor")
    FundRole.objects.create(user=auditor, fund=fund, role=FundRoleKind.AUDITOR)
    panel = call.panel
    insider = PanelMemberFactory(panel=panel, role=PanelRole.ASSESSOR, user__full_name="Ian Insider").user
    MembershipFactory(user=insider, organisation=lead)
    world = World(
        network=network, other_network=other_network, fund=fund, pot=pot, call=call, lead=lead, other_org=other_org,
        icb=icb, manager=FundManagerFactory(organisation=network, user__full_name="Fay Manager").user,
        other_manager=FundManagerFactory(organisation=other_network).user, auditor=auditor,
        applicant=MembershipFactory(organisation=lead, user__full_name="Alex Applicant").user,
        other_applicant=MembershipFactory(organisation=other_org).user,
        commissioner=MembershipFactory(organisation=icb).user,
        chair=PanelMemberFactory(panel=panel, role=PanelRole.CHAIR, user__full_name="Chris Chair").user,
        assessor=PanelMemberFactory(panel=panel, role=PanelRole.ASSESSOR, user__full_name="Anna Assessor").user,
        assessor_b=PanelMemberFactory(panel=panel, role=PanelRole.ASSESSOR, user__full_name="Ben Assessor").user,
        assessor_c=PanelMemberFactory(panel=panel, role=PanelRole.ASSESSOR, user__full_name="Cara Assessor").user,
        insider=insider,
        lay=PanelMemberFactory(panel=panel, role=PanelRole.LAY_MEMBER, user__full_name="Lee Lay").user,
    )
    for _ in range(bids):
        world.new_bid()
    return world


@pytest.fixture
def world(db) -> World:
    return make_world()


def assign(world: World, bid, assessor, **kwargs):
    return services.assignment_create(actor=world.manager, bid=bid, assessor=assessor, **kwargs)


def declare_none(assignment):
    services.conflict_declare(actor=assignment.assessor, assignment=assignment, has_conflict=False)
    assignment.refresh_from_db()
    return assignment


def scores_for(world: World, values: list, comment: str = "Scored against the descriptors.") -> dict:
    """{criterion id: (score, comment)} for the call's criteria in order."""
    return {c.pk: (value, comment if value is not None else "") for c, value in zip(world.criteria, values, strict=True)}


def scored(world: World, bid, assessor, values: list, *, submit: bool = True):
    """Assign, declare no conflict and score (submitting by default). Returns the assignment."""
    assignment = declare_none(assign(world, bid, assessor))
    service = services.score_sheet_submit if submit else services.score_sheet_save
    service(actor=assessor, assignment=assignment, scores=scores_for(world, values))
    assignment.refresh_from_db()
    return assignment
