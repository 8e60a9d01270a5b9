"""Demo assessment: assignments, declarations, scores (with a flagged spread and a moderation)
and panel decisions on the demo calls. Idempotent: nothing is added to a bid that has some."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from applications.models import Bid
from governance.demo import DemoContext
from governance.models import User

from .models import (
    Assignment,
    AssignmentStatus,
    ConflictDeclaration,
    DecisionOutcome,
    Moderation,
    PanelDecision,
    Score,
    ScoreSheet,
    SheetStatus,
)

# bid key: [(assessor email, sheet state, scores per criterion in call order)]
# A sheet state of None leaves the assignment waiting for the conflict declaration.
ASSESSMENTS = {
    "wards-devon": [("assessor@example.com", SheetStatus.SUBMITTED, [1, 3, 3, 2, 3]),
                    ("priya.shah@example.com", SheetStatus.SUBMITTED, [4, 3, 2, 3, 3])],
    "wards-plymouth": [("chair@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 3, 2]),
                       ("priya.shah@example.com", SheetStatus.DRAFT, [3, 2, None, None, None])],
    "wards-somerset": [("assessor@example.com", None, []),
                       ("tom.evans@example.com", SheetStatus.SUBMITTED, [2, 3, 2, 2, 2])],
    "falls-devon": [("assessor@example.com", SheetStatus.SUBMITTED, [4, 4, 3, 3, 4]),
                    ("priya.shah@example.com", SheetStatus.SUBMITTED, [3, 4, 3, 4, 3])],
    "falls-plymouth": [("chair@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 3, 3]),
                       ("priya.shah@example.com", SheetStatus.SUBMITTED, [3, 4, 3, 2, 3])],
    "falls-somerset": [("assessor@example.com", SheetStatus.SUBMITTED, [3, 3, 2, 3, 3]),
                       ("tom.evans@example.com", SheetStatus.SUBMITTED, [3, 2, 3, 3, 2])],
    "falls-cornwall": [("assessor@example.com", SheetStatus.SUBMITTED, [1, 2, 2, 1, 2]),
                       ("priya.shah@example.com", SheetStatus.SUBMITTED, [4, 2, 1, 2, 1])],
    "cvd-barts": [("assessor@example.com", SheetStatus.SUBMITTED, [4, 3, 4, 4, 3]),
                  ("priya.shah@example.com", SheetStatus.SUBMITTED, [3, 4, 3, 4, 4])],
    "cvd-newcastle": [("assessor@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 4, 3]),
                      ("priya.shah@example.com", SheetStatus.SUBMITTED, [3, 3, 4, 3, 3])],
    "cvd-uclh": [("assessor@example.com", SheetStatus.SUBMITTED, [2, 2, 1, 2, 2]),
                 ("tom.evans@example.com", SheetStatus.SUBMITTED, [2, 1, 2, 2, 1])],
    "outpatients-devon": [("assessor@example.com", SheetStatus.SUBMITTED, [3, 3, 4, 3, 3]),
                          ("priya.shah@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 3, 3])],
}

# Moderated scores: bid key -> (criterion position, score, rationale)
MODERATIONS = {
    "falls-cornwall": (0, Decimal("2.00"), "The panel agreed the savings case relies on unevidenced admission costs."),
}

# bid key -> (outcome, share of the requested amount approved, conditions, rationale)
DECISIONS = {
    "falls-devon": (DecisionOutcome.FUND, Decimal("1"), [], "Strong evidence of benefit and savings; ranked first."),
    "falls-plymouth": (DecisionOutcome.FUND, Decimal("1"), [], "Good value for money with clear ward-level measures."),
    "falls-somerset": (DecisionOutcome.FUND_WITH_CONDITIONS, Decimal("0.9"),
                       ["Commissioner agreement to sustain the service after the award",
                        "Data protection impact assessment (DPIA) completed"],
                       "Fundable if the ICB commits to sustaining the service; evaluation budget reduced."),
    "falls-cornwall": (DecisionOutcome.NOT_FUND, Decimal("0"), [], "Below the funding line; savings not evidenced."),
    "cvd-barts": (DecisionOutcome.FUND, Decimal("1"), [], "Highest-scoring bid in the UCLPartners pot."),
    "cvd-newcastle": (DecisionOutcome.FUND, Decimal("1"), [], "Highest-scoring bid in the North East and North Cumbria pot."),
    "cvd-uclh": (DecisionOutcome.NOT_FUND, Decimal("0"), [], "Below the funding line in the UCLPartners pot."),
    "outpatients-devon": (DecisionOutcome.FUND, Decimal("1"), [], "A clear adoption case with an agreed evaluation."),
}


def criterion_means(bid: Bid) -> dict[int, Decimal]:
    """Each criterion's mean submitted score, or its moderated score where there is one."""
    means = {}
    for criterion in bid.call.criteria.all():
        moderated = Moderation.objects.filter(bid=bid, criterion=criterion).first()
        if moderated:
            means[criterion.pk] = moderated.score
            continue
        values = list(Score.objects.filter(sheet__assignment__bid=bid, sheet__status=SheetStatus.SUBMITTED,
                                           criterion=criterion).values_list("score", flat=True))
        if values:
            means[criterion.pk] = (Decimal(sum(values)) / len(values)).quantize(Decimal("0.01"))
    return means


def weighted_score(bid: Bid) -> Decimal:
    """The bid's 0-100 score: weighted mean over criteria of the mean (or moderated) score."""
    means = criterion_means(bid)
    total = Decimal("0")
    for criterion in bid.call.criteria.all():
        if criterion.pk not in means:
            return Decimal("0")
        total += Decimal(criterion.weight) * (means[criterion.pk] - criterion.scale_min) / (criterion.scale_max - criterion.scale_min)
    return total.quantize(Decimal("0.01"))


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    bids: dict[str, Bid] = ctx.extra["bids"]
    manager = ctx.users["manager.southwest@example.com"]
    chair = ctx.users["chair@example.com"]
    for key, plan in ASSESSMENTS.items():
        bid = bids[key]
        if bid.assignments.exists():
            continue
        criteria = list(bid.call.criteria.all())
        for email, state, scores in plan:
            assessor = User.objects.get(email=email)
            assignment = Assignment.objects.create(
                bid=bid, assessor=assessor, assigned_by=manager, assigned_at=bid.call.closes_at + dt.timedelta(days=1),
                due_date=bid.call.assessment_due_date,
                status=AssignmentStatus.AWAITING_DECLARATION if state is None else AssignmentStatus.ACTIVE,
            )
            if state is None:
                continue
            ConflictDeclaration.objects.create(assignment=assignment, has_conflict=False,
                                               declared_at=assignment.assigned_at + dt.timedelta(hours=3))
            sheet = ScoreSheet.objects.create(
                assignment=assignment, status=state,
                submitted_at=assignment.assigned_at + dt.timedelta(days=7) if state == SheetStatus.SUBMITTED else None,
            )
            for criterion, value in zip(criteria, scores, strict=True):
                if value is not None:
                    Score.objects.create(sheet=sheet, criterion=criterion, score=value,
                                         comment=f"{criterion.title}: scored {value} against the descriptors; see the evidence section.")
        if key in MODERATIONS:
            position, score, rationale = MODERATIONS[key]
            Moderation.objects.create(bid=bid, criterion=criteria[position], score=score, rationale=rationale,
                                      moderated_by=chair, moderated_at=bid.call.closes_at + dt.timedelta(days=30))
    _seed_decisions(ctx, bids, chair)


def _seed_decisions(ctx: DemoContext, bids: dict[str, Bid], chair: User) -> None:
    by_call: dict[int, list[tuple[str, Bid]]] = {}
    for key in DECISIONS:
        by_call.setdefault(bids[key].call_id, []).append((key, bids[key]))
    for entries in by_call.values():
        ranked = sorted(entries, key=lambda entry: weighted_score(entry[1]), reverse=True)
        for rank, (key, bid) in enumerate(ranked, start=1):
            if PanelDecision.objects.filter(bid=bid).exists():
                continue
            outcome, share, conditions, rationale = DECISIONS[key]
            requested = sum((cost.amount for cost in bid.costs.all()), Decimal("0"))
            call = bid.call
            PanelDecision.objects.create(
                bid=bid, outcome=outcome, rationale=rationale, conditions=conditions, rank=rank,
                amount_approved=(requested * share).quantize(Decimal("1")) if share else None,
                score=weighted_score(bid),
                criterion_scores={str(pk): str(mean) for pk, mean in criterion_means(bid).items()},
                above_funding_line=outcome != DecisionOutcome.NOT_FUND,
                decided_by=chair, decided_at=call.decisions_released_at - dt.timedelta(days=10),
                released_at=call.decisions_released_at,
            )
