"""Demo assessment: assignments, declarations, scores (with a flagged spread and a moderation)
and panel decisions on the demo calls. Idempotent: nothing is added to a bid that has some.

- The call still in assessment (virtual wards) is assessed through the services, so its audit
  trail and notifications are real, and it leaves work to do: the demo assessor has a bid to
  declare on and score, the chair a flagged criterion to moderate and a bid to decide, and the
  conflicts register has a declared conflict.
- Calls already decided (falls, cardiovascular, outpatients) are written as their history, at
  model level (the services rightly refuse to score a decided call), with their audit events;
  their decisions snapshot the ranking worked out by ``selectors.call_ranking``, the same
  arithmetic the panel pages use.

``awards/demo.py`` runs next: it issues awards from the funded decisions below, in every
award state, and leaves one funded decision waiting for its award.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from applications.models import Bid
from governance.audit import audit_record
from governance.demo import DemoContext
from governance.models import CallStatus, PanelRole, User

from . import selectors, services
from .models import (
    Assignment,
    AssignmentStatus,
    ConflictDeclaration,
    ConflictKind,
    DecisionOutcome,
    Moderation,
    PanelDecision,
    Score,
    ScoreSheet,
    SheetStatus,
)

CONFLICT = "conflict"
# bid key: [(assessor email, sheet state, scores per criterion in call order)]
# A sheet state of None leaves the assignment waiting for the conflict declaration; CONFLICT
# declares a conflict (the assessor comes off the bid).
ASSESSMENTS = {
    "wards-devon": [("assessor@example.com", SheetStatus.SUBMITTED, [1, 3, 3, 2, 3]),
                    ("priya.shah@example.com", SheetStatus.SUBMITTED, [4, 3, 2, 3, 3])],
    "wards-plymouth": [("margaret.hughes@example.com", CONFLICT, []),
                       ("chair@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 3, 2]),
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
                       ("priya.shah@example.com", SheetStatus.SUBMITTED, [4, 1, 1, 2, 1])],
    "cvd-barts": [("assessor@example.com", SheetStatus.SUBMITTED, [4, 3, 4, 4, 3]),
                  ("priya.shah@example.com", SheetStatus.SUBMITTED, [3, 4, 3, 4, 4])],
    "cvd-newcastle": [("assessor@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 4, 3]),
                      ("priya.shah@example.com", SheetStatus.SUBMITTED, [3, 3, 4, 3, 3])],
    "cvd-uclh": [("assessor@example.com", SheetStatus.SUBMITTED, [2, 2, 1, 2, 2]),
                 ("tom.evans@example.com", SheetStatus.SUBMITTED, [2, 1, 2, 2, 1])],
    "outpatients-devon": [("assessor@example.com", SheetStatus.SUBMITTED, [3, 3, 4, 3, 3]),
                          ("priya.shah@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 3, 3])],
    "offer-devon": [("assessor@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 3, 3]),
                    ("priya.shah@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 3, 4])],
    "accepted-barts": [("assessor@example.com", SheetStatus.SUBMITTED, [3, 4, 3, 3, 3]),
                       ("tom.evans@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 4, 3])],
    "withdrawn-plymouth": [("priya.shah@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 2, 3]),
                           ("tom.evans@example.com", SheetStatus.SUBMITTED, [3, 3, 2, 3, 3])],
    "declined-uclh": [("assessor@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 3, 2]),
                      ("priya.shah@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 3, 3])],
    "lapsed-homerton": [("assessor@example.com", SheetStatus.SUBMITTED, [3, 3, 2, 3, 3]),
                        ("tom.evans@example.com", SheetStatus.SUBMITTED, [3, 2, 3, 3, 3])],
    "ready-cornwall": [("assessor@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 3, 3]),
                       ("priya.shah@example.com", SheetStatus.SUBMITTED, [3, 3, 3, 3, 3])],
}

CONFLICT_DESCRIPTION = "My sister is a ward manager at University Hospitals Plymouth, which leads this bid."

# Moderated scores on decided calls: bid key -> (criterion position, score, rationale)
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
    "falls-cornwall": (DecisionOutcome.NOT_FUND, Decimal("0"), [],
                       "Below the gateway minimum for benefit to patients; savings not evidenced."),
    "cvd-barts": (DecisionOutcome.FUND, Decimal("1"), [], "Highest-scoring bid in the UCLPartners pot."),
    "cvd-newcastle": (DecisionOutcome.FUND, Decimal("1"), [], "Highest-scoring bid in the North East and North Cumbria pot."),
    "cvd-uclh": (DecisionOutcome.NOT_FUND, Decimal("0"), [], "Below the gateway minimum for benefit to patients."),
    "outpatients-devon": (DecisionOutcome.FUND, Decimal("1"), [], "A clear adoption case with an agreed evaluation."),
    "offer-devon": (DecisionOutcome.FUND_WITH_CONDITIONS, Decimal("1"),
                    ["Commissioner agreement to sustain the service after the award"],
                    "Fundable within the pot; strong commissioner support."),
    "accepted-barts": (DecisionOutcome.FUND_WITH_CONDITIONS, Decimal("1"),
                       ["Commissioner agreement to sustain the service after the award"],
                       "Fundable within the pot; strong commissioner support."),
    "withdrawn-plymouth": (DecisionOutcome.FUND, Decimal("1"), [], "Fundable within the pot; a clear ward-level plan."),
    "declined-uclh": (DecisionOutcome.FUND, Decimal("1"), [], "Fundable within the pot; good evidence of benefit."),
    "lapsed-homerton": (DecisionOutcome.FUND, Decimal("1"), [], "Fundable within the pot; low cost per patient reached."),
    "ready-cornwall": (DecisionOutcome.FUND_WITH_CONDITIONS, Decimal("1"),
                       ["Commissioner agreement to sustain the service after the award",
                        "NICE or other evidence of effectiveness"],
                       "Fundable if the ICB commits to sustaining the classes and the evidence is confirmed."),
}
# bid key -> the decision's public reason: what the applicant and the register read (the
# rationale above is the panel's internal note and is never published).
PUBLIC_REASONS = {
    "falls-devon": "Ranked first: strong evidence of benefit to patients and of savings.",
    "falls-plymouth": "Good value for money, with clear ward-level measures of benefit.",
    "falls-somerset": "Funded with conditions: the service must be sustained by the commissioner after the award.",
    "falls-cornwall": "Below the published minimum score for benefit to patients.",
    "cvd-barts": "The highest-scoring bid in the UCLPartners pot.",
    "cvd-newcastle": "The highest-scoring bid in the North East and North Cumbria pot.",
    "cvd-uclh": "Below the published minimum score for benefit to patients.",
    "outpatients-devon": "A clear adoption case with an agreed evaluation.",
    "offer-devon": "Fundable within the pot, with the commissioner's support to sustain the service.",
    "accepted-barts": "Fundable within the pot, with the commissioner's support to sustain the service.",
    "withdrawn-plymouth": "Fundable within the pot, with a clear ward-level plan.",
    "declined-uclh": "Fundable within the pot, with good evidence of benefit to patients.",
    "lapsed-homerton": "Fundable within the pot, at a low cost per patient reached.",
    "ready-cornwall": "Funded with conditions: sustained classes and confirmed evidence of effectiveness.",
}
MANAGERS = {"HISW": "manager.southwest@example.com", "UCLP": "manager.london@example.com"}
# Should a demo decision depart from the ranking, this is its recorded reason.
DEPARTURE = "The panel departed from the ranking after discussing the bid's evidence (demo data)."


def _comment(criterion, value: int | None) -> str:
    if value is None:
        return ""
    return f"{criterion.title}: scored {value} against the descriptors; see the evidence section."


@transaction.atomic
def seed(ctx: DemoContext) -> None:
    bids: dict[str, Bid] = ctx.extra["bids"]
    chair = ctx.users["chair@example.com"]
    for key, plan in ASSESSMENTS.items():
        bid = bids[key]
        if bid.assignments.exists():
            continue
        manager = _manager(ctx, bid.call)
        if bid.call.status == CallStatus.ASSESSMENT:
            _assess_through_services(bid, plan, manager)
        else:
            _assess_as_history(key, bid, plan, manager, chair)
    _seed_decisions(ctx, bids, chair)
    _seed_pool(ctx)


def _manager(ctx: DemoContext, call) -> User:
    return ctx.users[MANAGERS[call.host_network.short_name]]


def _assess_through_services(bid: Bid, plan, manager: User) -> None:
    """Assign, declare and score as the people would, dated a day after the call closed."""
    assigned_at = bid.call.closes_at + dt.timedelta(days=1)
    criteria = list(bid.call.criteria.all())
    for email, state, scores in plan:
        assessor = User.objects.get(email=email)
        assignment = services.assignment_create(actor=manager, bid=bid, assessor=assessor, now=assigned_at)
        if state is None:
            continue
        services.conflict_declare(
            actor=assessor, assignment=assignment, has_conflict=state == CONFLICT,
            kind=ConflictKind.PERSONAL if state == CONFLICT else "",
            description=CONFLICT_DESCRIPTION if state == CONFLICT else "", now=assigned_at + dt.timedelta(hours=3),
        )
        if state == CONFLICT:
            continue
        given = {c.pk: (value, _comment(c, value)) for c, value in zip(criteria, scores, strict=True)}
        service = services.score_sheet_submit if state == SheetStatus.SUBMITTED else services.score_sheet_save
        service(actor=assessor, assignment=assignment, scores=given, now=assigned_at + dt.timedelta(days=7))


def _assess_as_history(key: str, bid: Bid, plan, manager: User, chair: User) -> None:
    """A decided call's assessment, written as it happened (the services refuse decided calls)."""
    criteria = list(bid.call.criteria.all())
    fund = bid.call.fund
    for email, state, scores in plan:
        assessor = User.objects.get(email=email)
        assignment = Assignment.objects.create(
            bid=bid, assessor=assessor, assigned_by=manager, assigned_at=bid.call.closes_at + dt.timedelta(days=1),
            due_date=bid.call.assessment_due_date,
            status=AssignmentStatus.AWAITING_DECLARATION if state is None else AssignmentStatus.ACTIVE,
        )
        audit_record(actor=manager, action="assignment.created", target=assignment,
                     message=f"{assessor.full_name} assigned to {bid.reference} (demo data)")
        if state is None:
            continue
        declaration = ConflictDeclaration.objects.create(
            assignment=assignment, has_conflict=False, declared_at=assignment.assigned_at + dt.timedelta(hours=3))
        audit_record(actor=assessor, action="conflict.none_declared", target=declaration,
                     message=f"{assessor.full_name} declared no conflict of interest on {bid.reference} (demo data)")
        sheet = ScoreSheet.objects.create(
            assignment=assignment, status=state,
            submitted_at=assignment.assigned_at + dt.timedelta(days=7) if state == SheetStatus.SUBMITTED else None,
        )
        for criterion, value in zip(criteria, scores, strict=True):
            if value is not None:
                Score.objects.create(sheet=sheet, criterion=criterion, score=value, comment=_comment(criterion, value))
        if state == SheetStatus.SUBMITTED:
            audit_record(actor=assessor, action="score_sheet.submitted", target=sheet, fund=fund,
                         after={str(c.pk): v for c, v in zip(criteria, scores, strict=True)},
                         message=f"{assessor.full_name} submitted their scores on {bid.reference} (demo data)")
    if key in MODERATIONS:
        moderator = _chairing(bid, chair)
        position, score, rationale = MODERATIONS[key]
        moderation = Moderation.objects.create(bid=bid, criterion=criteria[position], score=score, rationale=rationale,
                                               moderated_by=moderator, moderated_at=bid.call.closes_at + dt.timedelta(days=30))
        audit_record(actor=moderator, action="moderation.recorded", target=moderation,
                     message=f"{criteria[position].title}: moderated score {score.normalize():f} (demo data)")


def _chairing(bid: Bid, chair: User) -> User:
    """Who chairs the bid: the chair, or the deputy chair when the chair is conflicted on it."""
    if bid.pk in selectors.bids_chaired_by(chair, bid.call, [bid]):
        return chair
    deputy = User.objects.filter(panel_memberships__panel_id=bid.call.panel_id,  # type: ignore[misc]  # Django takes None (IS NULL); the stubs do not
                                 panel_memberships__role=PanelRole.DEPUTY_CHAIR).first()
    return deputy or chair


def _seed_decisions(ctx: DemoContext, bids: dict[str, Bid], chair: User) -> None:
    """The decided calls' decisions, with the snapshot the panel would have recorded."""
    by_call: dict[int, list[str]] = {}
    for key in DECISIONS:
        by_call.setdefault(bids[key].call_id, []).append(key)
    for keys in by_call.values():
        if all(PanelDecision.objects.filter(bid=bids[key]).exists() for key in keys):
            continue
        call = bids[keys[0]].call
        ranking = selectors.call_ranking(call)
        for key in keys:
            bid = bids[key]
            if PanelDecision.objects.filter(bid=bid).exists():
                continue
            row = ranking.by_bid[bid.pk]
            if row.result is None or call.decisions_released_at is None:
                raise ValueError(f"{bid.reference}: the demo decides scored bids on calls with a release date")
            outcome, share, conditions, rationale = DECISIONS[key]
            departs = selectors.departs_from_ranking(row, outcome)
            decision = PanelDecision.objects.create(
                bid=bid, outcome=outcome, internal_rationale=rationale, public_reason=PUBLIC_REASONS[key],
                conditions=conditions, rank=row.rank,
                amount_approved=(row.total_requested * share).quantize(Decimal("1")) if share else None,
                score=row.score, criterion_scores=row.result.criterion_scores,
                above_funding_line=bool(row.fundable and row.above_line), departs_from_ranking=departs,
                departure_rationale=DEPARTURE if departs else "",
                decided_by=_chairing(bid, chair), decided_at=call.decisions_released_at - dt.timedelta(days=10),
                released_at=call.decisions_released_at,
            )
            decision.excluded_members.set([e.member for e in selectors.panel_exclusions(call, bid)])
            audit_record(actor=decision.decided_by, action="decision.recorded", target=decision,
                         message=f"Panel decision on {bid.reference}: {decision.get_outcome_display()} (demo data)")
        audit_record(actor=_manager(ctx, call), action="decisions.released", target=call,
                     message=f"Decisions on {call.title} released (demo data)")


# The assessor pool and invitations ----------------------------------------------------------------------

EXPERTISE = ["Frailty", "Digital health", "Falls prevention", "Cardiovascular disease", "Health economics",
             "Patient and public involvement"]
# email -> (organisation ODS code or None, expertise, declaration: "current" | "lapsed" | None)
POOL = {
    "assessor@example.com": ("RK9", ["Frailty", "Digital health"], "current"),
    "priya.shah@example.com": (None, ["Health economics", "Digital health"], "current"),
    "tom.evans@example.com": ("RTD", ["Falls prevention"], "current"),
    "margaret.hughes@example.com": (None, ["Patient and public involvement"], "lapsed"),
    "james.okafor@example.com": (None, ["Frailty", "Cardiovascular disease"], None),
}
# email -> the answer to the invitation to the call in assessment ("pending" waits, expiring in 5 days).
INVITATIONS = {
    "assessor@example.com": "accepted", "priya.shah@example.com": "accepted",
    "tom.evans@example.com": "not_my_area", "james.okafor@example.com": "pending",
}
WARDS_CALL = "virtual-wards-adoption"


def _seed_pool(ctx: DemoContext) -> None:
    """South West's assessor pool (shared with London), yearly declarations relative to the day
    the demo is seeded (one lapsed), and invitations to the call in assessment. Idempotent."""
    from django.utils import timezone

    from governance import fy
    from governance.models import Expertise

    from .models import (
        CONFIDENTIALITY_TERMS_VERSION,
        AssessorInvitation,
        AssessorProfile,
        InvitationStatus,
        PoolEntry,
        PoolShare,
    )

    areas = {name: Expertise.objects.get_or_create(name=name)[0] for name in EXPERTISE}
    network = ctx.networks["HISW"]
    manager = ctx.users["manager.southwest@example.com"]
    now = timezone.now()
    for email, (ods, skills, declaration) in POOL.items():
        person = User.objects.filter(email=email).first()
        if person is None:
            continue
        profile, created = AssessorProfile.objects.get_or_create(user=person)
        if created:
            profile.organisation = ctx.organisations.get(ods) if ods else None
            if declaration:
                made = ctx.today if declaration == "current" else fy.declaration_lapses_on(ctx.today) - dt.timedelta(days=400)
                profile.interests = "None" if declaration == "current" else "Trustee of a local patients' charity"
                profile.declared_at = timezone.make_aware(dt.datetime.combine(made, dt.time(9, 0)))
                profile.declaration_lapses_on = fy.declaration_lapses_on(made)
                profile.terms_accepted_at, profile.terms_version = profile.declared_at, CONFIDENTIALITY_TERMS_VERSION
            profile.save()
            profile.expertise.set([areas[name] for name in skills])
        PoolEntry.objects.get_or_create(network=network, profile=profile, defaults={"added_by": manager})
    if "UCLP" in ctx.networks:
        PoolShare.objects.get_or_create(network=network, shared_with=ctx.networks["UCLP"], defaults={"agreed_by": manager})
    call = ctx.calls.get(WARDS_CALL)
    if call is None or call.status != CallStatus.ASSESSMENT:
        return
    call.themes.add(areas["Frailty"], areas["Digital health"])
    if AssessorInvitation.objects.filter(call=call).exists():
        return
    for email, answer in INVITATIONS.items():
        person = User.objects.filter(email=email).first()
        if person is None:
            continue
        invitation = AssessorInvitation(call=call, invitee=person, invited_by=manager, invited_at=now - dt.timedelta(days=2),
                                        expires_at=now + dt.timedelta(days=5))
        if answer == "accepted":
            invitation.status, invitation.responded_at = InvitationStatus.ACCEPTED, now - dt.timedelta(days=1)
        elif answer != "pending":
            invitation.status, invitation.decline_reason = InvitationStatus.DECLINED, answer
            invitation.responded_at = now - dt.timedelta(days=1)
        invitation.save()
        audit_record(actor=manager, action="invitation.sent", target=invitation, fund=call.fund,
                     message=f"{person.full_name} invited to assess {call.title} (demo data)")
