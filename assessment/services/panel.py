"""The panel's work: the chair's moderated scores, the panel's decisions and their release."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from applications.models import Bid, BidStatus
from applications.selectors import bids_for_call, lead_org_member_users
from applications.services import bid_mark_funded, bid_mark_not_funded
from governance.access import require_actor
from governance.audit import audit_record, snapshot
from governance.models import Call, CallStatus, Criterion, User
from governance.money import format_money
from governance.services import call_mark_decided, notify

from .. import selectors
from ..messages import (
    AMOUNT_ABOVE_REQUESTED,
    AMOUNT_NEEDED,
    AMOUNT_ZERO,
    BID_NOT_IN_ASSESSMENT,
    BIDS_WAITING,
    CHAIR_CONFLICTED,
    CONDITIONS_NEEDED,
    DECISION_RELEASED,
    DECISIONS_MISSING,
    DEPARTURE_RATIONALE_NEEDED,
    DEPUTY_NOT_NEEDED,
    MODERATION_OUTSTANDING,
    MODERATION_RATIONALE_NEEDED,
    NOT_FLAGGED,
    NOT_THE_CHAIR,
    OUTCOME_NEEDED,
    PUBLIC_REASON_NEEDED,
    SCORE_NEEDED,
    SCORE_NOT_WHOLE,
    SCORE_OUTSIDE_SCALE,
    SCORING_NOT_FINISHED,
)
from ..models import (
    FUNDING_OUTCOMES,
    AssignmentStatus,
    DecisionOutcome,
    Moderation,
    PanelDecision,
    Score,
    SheetStatus,
)
from ._shared import _link, _lock_call, _require_assessable, _require_in_assessment, _whole

DECISION_FIELDS = (
    "outcome",
    "amount_approved",
    "public_reason",
    "internal_rationale",
    "conditions",
    "departure_rationale",
    "rank",
    "score",
    "criterion_scores",
    "above_funding_line",
    "departs_from_ranking",
)


# Moderation ---------------------------------------------------------------------------------------


def _require_chair(actor: User, call: Call) -> None:
    """The view's rule: the chair or a deputy chair of the call's panel (``assessment.chair_call``)."""
    if actor is None or not actor.has_perm("assessment.chair_call", call):
        raise PermissionDenied(NOT_THE_CHAIR)


def _require_chairs_bid(actor: User, call: Call, bid: Bid) -> None:
    """The actor chairs this bid: the chair if not conflicted, else a deputy chair who is not."""
    if bid.pk in selectors.bids_chaired_by(actor, call, [bid]):
        return
    if selectors.is_excluded(actor, call, bid):
        raise ValidationError(CHAIR_CONFLICTED, code="conflicted")
    raise ValidationError(DEPUTY_NOT_NEEDED, code="chair_not_conflicted")


def _score_on_scale(criterion: Criterion, value: Any) -> int:
    if value is None or value == "":
        raise ValidationError(
            {"score": SCORE_NEEDED.format(criterion=criterion.title)}, code="required"
        )
    score = _whole(value)
    if score is None:
        raise ValidationError(
            {"score": SCORE_NOT_WHOLE.format(criterion=criterion.title)}, code="invalid"
        )
    if not criterion.scale_min <= score <= criterion.scale_max:
        raise ValidationError(
            {
                "score": SCORE_OUTSIDE_SCALE.format(
                    criterion=criterion.title, low=criterion.scale_min, high=criterion.scale_max
                )
            },
            code="invalid",
        )
    return score


@transaction.atomic
def moderation_record(
    *,
    actor: User,
    bid: Bid,
    criterion: Criterion,
    score: Any,
    rationale: str,
    now: dt.datetime | None = None,
) -> Moderation:
    """The panel chair's agreed score on a criterion whose assessors' scores differ by more than
    the call's threshold, with the rationale. It replaces the mean for that criterion."""
    now = now or timezone.now()
    call = _lock_call(bid.call)
    bid = Bid.objects.get(pk=bid.pk)
    _require_chair(actor, call)
    _require_assessable(call, bid)
    _require_chairs_bid(actor, call, bid)
    if criterion.call_id != call.pk:
        raise ValidationError(NOT_FLAGGED, code="not_flagged")
    existing = Moderation.objects.filter(bid=bid, criterion=criterion).first()
    given = [
        given_score
        for given_score in Score.objects.filter(
            sheet__assignment__bid=bid,
            sheet__assignment__status=AssignmentStatus.ACTIVE,
            sheet__status=SheetStatus.SUBMITTED,
            criterion=criterion,
            score__isnull=False,
        ).values_list("score", flat=True)
        if given_score is not None
    ]
    spread = max(given) - min(given) if given else 0
    if existing is None and not spread > call.moderation_threshold:
        raise ValidationError(NOT_FLAGGED, code="not_flagged")
    value = _score_on_scale(criterion, score)
    rationale = (rationale or "").strip()
    if not rationale:
        raise ValidationError({"rationale": MODERATION_RATIONALE_NEEDED}, code="required")
    gave = ", ".join(str(s) for s in sorted(given))
    if existing is None:
        moderation = Moderation(
            bid=bid,
            criterion=criterion,
            score=Decimal(value),
            rationale=rationale,
            moderated_by=actor,
            moderated_at=now,
        )
        moderation.full_clean()
        moderation.save()
        audit_record(
            actor=actor,
            action="moderation.recorded",
            target=moderation,
            after={
                "criterion": criterion.pk,
                "score": value,
                "rationale": rationale,
                "assessors_gave": given,
            },
            message=f"{criterion.title}: moderated score {value} (the assessors gave {gave})",
        )
        return moderation
    before = {"criterion": criterion.pk, "score": existing.score, "rationale": existing.rationale}
    if existing.score == value and existing.rationale == rationale:
        return existing
    old = existing.score.normalize()
    existing.score, existing.rationale, existing.moderated_by, existing.moderated_at = (
        Decimal(value),
        rationale,
        actor,
        now,
    )
    existing.full_clean()
    existing.save()
    audit_record(
        actor=actor,
        action="moderation.changed",
        target=existing,
        before=before,
        after={"criterion": criterion.pk, "score": value, "rationale": rationale},
        message=f"{criterion.title}: moderated score changed from {old:f} to {value}",
    )
    return existing


# Panel decisions ------------------------------------------------------------------------------------


def _where(row: selectors.RankedBid) -> str:
    if not row.fundable:
        return "below a gateway minimum"
    return "above the funding line" if row.above_line else "below the funding line"


@transaction.atomic
def decision_record(
    *,
    actor: User,
    bid: Bid,
    outcome: str,
    public_reason: str,
    internal_rationale: str = "",
    amount_approved: Decimal | None = None,
    conditions: Iterable[str] = (),
    departure_rationale: str = "",
    now: dt.datetime | None = None,
) -> PanelDecision:
    """The chair records (or, until release, changes) the panel's decision on a bid.

    Scoring must be finished and flagged criteria moderated. The decision keeps a snapshot of
    the bid's score, rank, criterion scores and place against the funding line; a decision
    that departs from the ranking needs its own rationale. Members conflicted on the bid are
    recorded as excluded; a conflicted chair cannot record it. ``public_reason`` (required) is
    what the applicant and the public read; ``internal_rationale`` and ``departure_rationale``
    stay with the panel, the fund's managers and auditors (``visibility``).
    """
    now = now or timezone.now()
    call = _lock_call(bid.call)
    bid = Bid.objects.select_related("call").get(pk=bid.pk)
    _require_chair(actor, call)
    existing = PanelDecision.objects.filter(bid=bid).first()
    if existing is not None and existing.released_at is not None:
        raise ValidationError(DECISION_RELEASED, code="released")
    _require_in_assessment(call)
    if bid.status != BidStatus.IN_ASSESSMENT:
        raise ValidationError(BID_NOT_IN_ASSESSMENT, code="bid_not_in_assessment")
    _require_chairs_bid(actor, call, bid)
    row = selectors.call_ranking(call).by_bid[bid.pk]
    if not row.complete or row.result is None:  # complete: it has a result
        raise ValidationError(
            SCORING_NOT_FINISHED.format(done=row.sheets_submitted, expected=row.sheets_expected),
            code="scoring_not_finished",
        )
    if row.needs_moderation:
        titles = ", ".join(c.criterion.title for c in row.result.needing_moderation)
        raise ValidationError(
            MODERATION_OUTSTANDING.format(titles=titles), code="moderation_outstanding"
        )
    errors: dict[str, str] = {}
    public_reason = (public_reason or "").strip()
    internal_rationale = (internal_rationale or "").strip()
    departure_rationale = (departure_rationale or "").strip()
    conditions = [text.strip() for text in conditions if text and text.strip()]
    if outcome not in DecisionOutcome.values:
        errors["outcome"] = OUTCOME_NEEDED
    funds = outcome in FUNDING_OUTCOMES
    if funds:
        if amount_approved is None:
            errors["amount_approved"] = AMOUNT_NEEDED
        elif amount_approved <= 0:
            errors["amount_approved"] = AMOUNT_ZERO
        elif amount_approved > row.total_requested:
            errors["amount_approved"] = AMOUNT_ABOVE_REQUESTED.format(
                requested=format_money(row.total_requested, pence=True)
            )
    else:
        amount_approved = None
    if outcome == DecisionOutcome.FUND_WITH_CONDITIONS and not conditions:
        errors["conditions"] = CONDITIONS_NEEDED
    if outcome != DecisionOutcome.FUND_WITH_CONDITIONS:
        conditions = []
    if not public_reason:
        errors["public_reason"] = PUBLIC_REASON_NEEDED
    departs = outcome in DecisionOutcome.values and selectors.departs_from_ranking(row, outcome)
    if departs and not departure_rationale:
        errors["departure_rationale"] = DEPARTURE_RATIONALE_NEEDED.format(where=_where(row))
    if errors:
        raise ValidationError(errors, code="invalid")
    decision = existing or PanelDecision(bid=bid)
    before = snapshot(existing, DECISION_FIELDS) if existing else None
    decision.outcome, decision.amount_approved = outcome, amount_approved
    decision.public_reason, decision.internal_rationale = public_reason, internal_rationale
    decision.conditions = conditions
    decision.departure_rationale = departure_rationale if departs else ""
    decision.rank, decision.score, decision.criterion_scores = (
        row.rank,
        row.score,
        row.result.criterion_scores,
    )
    decision.above_funding_line, decision.departs_from_ranking = (
        bool(row.fundable and row.above_line),
        departs,
    )
    decision.decided_by, decision.decided_at = actor, now
    decision.full_clean(exclude=["bid"])
    decision.save()
    decision.excluded_members.set([e.member for e in selectors.panel_exclusions(call, bid)])
    after = snapshot(decision, DECISION_FIELDS)
    summary = (
        f"{decision.get_outcome_display()}"
        + (f", {format_money(amount_approved, pence=True)} approved" if amount_approved else "")
        + (" (departs from the ranking)" if departs else "")
    )
    if before is None:
        audit_record(
            actor=actor,
            action="decision.recorded",
            target=decision,
            after=after,
            message=f"Panel decision on {bid.reference}: {summary}",
        )
    elif before != after:
        changed = [name for name in DECISION_FIELDS if before[name] != after[name]]
        audit_record(
            actor=actor,
            action="decision.changed",
            target=decision,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
            message=f"Panel decision on {bid.reference} changed: {summary}",
        )
    return decision


@transaction.atomic
def decisions_release(
    *, actor: User, call: Call, now: dt.datetime | None = None
) -> list[PanelDecision]:
    """Release every decision on the call at once: bids become funded or not funded, the call
    moves to decided and each applicant is told, with a link to their feedback."""
    require_actor(actor, "assessment.manage_call", call)
    now = now or timezone.now()
    locked = _lock_call(call)
    _require_in_assessment(locked)
    bids = list(
        bids_for_call(locked).filter(status__in=(BidStatus.SUBMITTED, BidStatus.IN_ASSESSMENT))
    )
    waiting = [bid.reference for bid in bids if bid.status == BidStatus.SUBMITTED]
    if waiting:
        raise ValidationError(BIDS_WAITING.format(refs=", ".join(waiting)), code="bids_waiting")
    decisions = {
        d.bid_id: d for d in PanelDecision.objects.filter(bid__in=bids).select_for_update()
    }
    missing = [bid.reference for bid in bids if bid.pk not in decisions]
    if missing:
        raise ValidationError(
            DECISIONS_MISSING.format(refs=", ".join(missing)), code="decisions_missing"
        )
    funded = 0
    for bid in bids:
        decision = decisions[bid.pk]
        decision.released_at = now
        decision.save(update_fields=["released_at"])
        if decision.is_funded:
            funded += 1
            bid_mark_funded(actor=actor, bid=bid)
        else:
            bid_mark_not_funded(actor=actor, bid=bid)
    audit_record(
        actor=actor,
        action="decisions.released",
        target=locked,
        after={"released": len(decisions), "funded": funded, "not_funded": len(decisions) - funded},
        message=f"{len(decisions)} decision{'s' if len(decisions) != 1 else ''} released: "
        f"{funded} funded, {len(decisions) - funded} not funded",
    )
    call_mark_decided(actor=actor, call=locked, now=now)
    for bid in bids:
        decision = decisions[bid.pk]
        verdict = "funded" if decision.is_funded else "not funded"
        for user in lead_org_member_users(bid):
            notify(
                user=user,
                subject=f"Decision on bid {bid.reference}: {verdict}",
                body=(
                    f"The panel's decision on \u201c{bid.title}\u201d ({bid.reference}) is: "
                    f"{decision.get_outcome_display().lower()}."
                    + (
                        f"\n\nAmount approved: {format_money(decision.amount_approved, pence=True)}."
                        if decision.amount_approved
                        else ""
                    )
                    + f"\n\nWhy: {decision.public_reason}"
                    + "\n\nYour score on each criterion and the assessors' comments are on the feedback page."
                ),
                link=_link("feedback", bid.pk),
            )
    call.status = CallStatus.DECIDED
    return list(decisions.values())
