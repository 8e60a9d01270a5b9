from decimal import Decimal

import factory
from django.utils import timezone

from assessment import models as m
from governance.models import PanelRole
from tests.factories.applications import SubmittedBidFactory
from tests.factories.governance import PanelMemberFactory, UserFactory


class AssignmentFactory(factory.django.DjangoModelFactory):
    """An assessor on the bid's panel, assigned and cleared of conflicts, ready to score."""

    class Meta:
        model = m.Assignment

    bid = factory.SubFactory(SubmittedBidFactory)
    assessor = factory.LazyAttribute(
        lambda a: PanelMemberFactory(panel=a.bid.call.panel, role=PanelRole.ASSESSOR).user
    )
    assigned_by = factory.SubFactory(UserFactory)
    status = m.AssignmentStatus.ACTIVE


class ConflictDeclarationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ConflictDeclaration

    assignment = factory.SubFactory(AssignmentFactory)
    has_conflict = False


class ScoreSheetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ScoreSheet

    assignment = factory.SubFactory(AssignmentFactory)
    status = m.SheetStatus.DRAFT


class ScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Score

    sheet = factory.SubFactory(ScoreSheetFactory)
    criterion = factory.LazyAttribute(lambda s: s.sheet.assignment.bid.call.criteria.first())
    score = 3
    comment = "Clear evidence."


class PanelDecisionFactory(factory.django.DjangoModelFactory):
    """A released decision to fund the bid in full."""

    class Meta:
        model = m.PanelDecision

    bid = factory.SubFactory(SubmittedBidFactory, status="funded")
    outcome = m.DecisionOutcome.FUND
    amount_approved = Decimal("200000.00")
    public_reason = "Strong evidence of savings and benefit."
    internal_rationale = "The panel's own note: the chair doubts the evaluation budget."
    rank = 1
    score = Decimal("75.00")
    above_funding_line = True
    decided_by = factory.SubFactory(UserFactory)
    released_at = factory.LazyFunction(timezone.now)
