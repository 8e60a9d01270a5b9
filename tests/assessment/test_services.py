"""The assessment services: each state change, its audit event, and each bad input refused with
its message and nothing changed."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from applications.models import BidStatus
from assessment import selectors, services
from assessment.models import (
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
from governance.models import AuditEvent, CallStatus, Notification, PanelMember, PanelRole
from tests.assessment.conftest import assign, declare_none, make_world, scored, scores_for
from tests.factories.governance import PanelMemberFactory

pytestmark = pytest.mark.django_db


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def _messages(exc) -> dict:
    return exc.value.message_dict


# Starting assessment ------------------------------------------------------------------------------


def test_starting_assessment_moves_the_closed_call_and_its_submitted_bids():
    world = make_world(bids=0, status=CallStatus.CLOSED)
    submitted = [world.new_bid(status=BidStatus.SUBMITTED) for _ in range(2)]
    withdrawn = world.new_bid(status=BidStatus.WITHDRAWN)
    services.call_assessment_start(actor=world.manager, call=world.call)
    world.call.refresh_from_db()
    assert world.call.status == CallStatus.ASSESSMENT
    for bid in submitted:
        bid.refresh_from_db()
        assert bid.status == BidStatus.IN_ASSESSMENT
    withdrawn.refresh_from_db()
    assert withdrawn.status == BidStatus.WITHDRAWN
    assert len(_events("call.assessment_started")) == 1
    assert len(_events("bid.assessment_started")) == 2


def test_starting_assessment_again_picks_up_bids_left_behind_and_refuses_an_open_call():
    world = make_world(bids=0)  # already in assessment (started from the call's own page)
    left = world.new_bid(status=BidStatus.SUBMITTED)
    services.call_assessment_start(actor=world.manager, call=world.call)
    left.refresh_from_db()
    assert left.status == BidStatus.IN_ASSESSMENT
    open_world = make_world(bids=0, status=CallStatus.OPEN)
    open_world.call.closes_at = timezone.now() + dt.timedelta(days=3)
    open_world.call.save()
    with pytest.raises(ValidationError) as exc:
        services.call_assessment_start(actor=open_world.manager, call=open_world.call)
    assert exc.value.messages == [services.CALL_NOT_CLOSED]


# Assigning ------------------------------------------------------------------------------------------


def test_an_assessor_is_assigned_by_hand_told_and_audited(world):
    bid = world.bids[0]
    assignment = assign(world, bid, world.assessor)
    assert assignment.status == AssignmentStatus.AWAITING_DECLARATION
    assert assignment.due_date == world.call.assessment_due_date
    event = _events("assignment.created")[0]
    assert event.actor == world.manager
    assert event.fund == world.fund
    assert Notification.objects.filter(user=world.assessor, subject__contains=bid.reference).exists()


def test_an_assessor_from_the_bidding_organisation_cannot_be_assigned(world):
    bid = world.bids[0]
    with pytest.raises(ValidationError) as exc:
        assign(world, bid, world.insider)
    assert _messages(exc) == {"assessor": [services.ASSESSOR_CONFLICTED.format(
        name=world.insider.full_name, organisations=world.lead.name)]}
    assert not Assignment.objects.exists()


def test_an_assessor_affiliated_with_a_partner_cannot_be_assigned(world):
    # A declared panel affiliation with the bid's partner (the ICB) is a conflict too.
    member = PanelMember.objects.get(panel=world.call.panel, user=world.assessor_c)
    member.affiliations.add(world.icb)
    with pytest.raises(ValidationError) as exc:
        assign(world, world.bids[0], world.assessor_c)
    assert _messages(exc)["assessor"] == [services.ASSESSOR_CONFLICTED.format(
        name=world.assessor_c.full_name, organisations=world.icb.name)]
    assert not Assignment.objects.exists()


def test_assignment_refuses_a_non_member_a_second_assignment_and_a_full_bid(world):
    bid = world.bids[0]
    observer = PanelMemberFactory(panel=world.call.panel, role=PanelRole.OBSERVER).user
    with pytest.raises(ValidationError) as exc:
        assign(world, bid, observer)
    assert _messages(exc)["assessor"] == [services.NOT_A_SCORING_MEMBER]
    assign(world, bid, world.assessor)
    with pytest.raises(ValidationError) as exc:
        assign(world, bid, world.assessor)
    assert _messages(exc)["assessor"] == [services.ALREADY_ASSIGNED.format(name=world.assessor.full_name)]
    assign(world, bid, world.assessor_b)
    with pytest.raises(ValidationError) as exc:
        assign(world, bid, world.assessor_c)
    assert _messages(exc)["assessor"] == [services.BID_HAS_ENOUGH.format(n=2)]
    assert Assignment.objects.count() == 2


def test_automatic_assignment_balances_the_load_and_never_crosses_a_conflict():
    world = make_world(bids=6, assessors_per_bid=2)
    result = services.assignments_auto(actor=world.manager, call=world.call)
    assert len(result.created) == 12
    assert result.short == {}
    loads = {}
    for a in Assignment.objects.all():
        loads[a.assessor_id] = loads.get(a.assessor_id, 0) + 1
    # 12 places over the 5 free members (the insider, a member of the lead organisation, is never
    # picked): 12 = 3 + 3 + 2 + 2 + 2, so no one has more than one bid more than anyone else, and
    # the chair, picked last among equals, is one of those with 2.
    assert world.insider.pk not in loads
    assert sorted(loads.values()) == [2, 2, 2, 3, 3]
    assert loads[world.chair.pk] == 2
    for bid in world.bids:
        assert bid.assignments.count() == 2
    assert len(_events("assignment.created")) == 12
    assert len(_events("assignments.automatic")) == 1
    # One notification per assessor, not per bid.
    assert Notification.objects.filter(user=world.assessor).count() == 1
    # Running it again changes nothing.
    assert services.assignments_auto(actor=world.manager, call=world.call).created == []


def test_automatic_assignment_reports_bids_it_cannot_fill():
    world = make_world(bids=1, assessors_per_bid=6)
    # Free members: assessor, assessor_b, assessor_c, lay, chair = 5; the insider is conflicted.
    result = services.assignments_auto(actor=world.manager, call=world.call)
    assert len(result.created) == 5
    assert result.short == {world.bids[0].reference: 1}
    assert world.insider.pk not in set(Assignment.objects.values_list("assessor_id", flat=True))


def test_an_assessor_who_withdraws_is_replaced_by_the_least_loaded_free_member(world):
    bid = world.bids[0]
    first = assign(world, bid, world.assessor)
    assign(world, bid, world.assessor_b)
    assign(world, world.bids[1], world.assessor_c)  # assessor_c has a load of 1; the lay member 0
    new = services.assignment_reassign(actor=world.manager, assignment=first, reason="Off sick until May")
    first.refresh_from_db()
    assert first.status == AssignmentStatus.WITHDRAWN
    assert first.withdrawn_reason == "Off sick until May"
    assert new.assessor == world.lay
    assert new.bid == bid
    assert _events("assignment.withdrawn")[0].message.endswith("Off sick until May")
    assert Notification.objects.filter(user=world.assessor, subject__contains="no longer assessing").exists()


def test_reassignment_to_a_named_replacement_and_its_refusals(world):
    bid = world.bids[0]
    first = assign(world, bid, world.assessor)
    with pytest.raises(ValidationError) as exc:
        services.assignment_reassign(actor=world.manager, assignment=first, reason="  ")
    assert _messages(exc) == {"reason": [services.WITHDRAW_REASON_NEEDED]}
    with pytest.raises(ValidationError) as exc:
        services.assignment_reassign(actor=world.manager, assignment=first, reason="Leave", replacement=world.insider)
    assert "replacement" in _messages(exc)
    first.refresh_from_db()
    assert first.status == AssignmentStatus.AWAITING_DECLARATION  # nothing changed
    new = services.assignment_reassign(actor=world.manager, assignment=first, reason="Leave", replacement=world.chair)
    assert new.assessor == world.chair
    done = scored(world, world.bids[1], world.assessor_b, [3, 3])
    with pytest.raises(ValidationError) as exc:
        services.assignment_reassign(actor=world.manager, assignment=done, reason="Leave")
    assert exc.value.messages == [services.WITHDRAW_SUBMITTED]


# Declarations ---------------------------------------------------------------------------------------


def test_declaring_no_conflict_opens_the_bid_to_the_assessor(world):
    bid = world.bids[0]
    assignment = assign(world, bid, world.assessor)
    assert not selectors.panel_reads_bid(world.assessor, bid)
    declare_none(assignment)
    assert assignment.status == AssignmentStatus.ACTIVE
    assert selectors.panel_reads_bid(world.assessor, bid)
    assert _events("conflict.none_declared")[0].actor == world.assessor


def test_a_declared_conflict_removes_the_assessor_and_enters_the_register(world):
    bid = world.bids[0]
    assignment = assign(world, bid, world.assessor)
    services.conflict_declare(actor=world.assessor, assignment=assignment, has_conflict=True,
                              kind=ConflictKind.FINANCIAL, description="I hold shares in the supplier.")
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.CONFLICTED
    assert not selectors.panel_reads_bid(world.assessor, bid)
    assert [d.description for d in selectors.conflicts_register(world.fund)] == ["I hold shares in the supplier."]
    event = _events("conflict.declared")[0]
    assert "financial conflict of interest" in event.message
    assert Notification.objects.filter(user=world.manager, subject__contains="Conflict of interest").exists()
    # They can never be assigned the bid again.
    with pytest.raises(ValidationError) as exc:
        assign(world, bid, world.assessor)
    assert _messages(exc)["assessor"] == [services.ASSESSOR_DECLARED_CONFLICT.format(name=world.assessor.full_name)]


def test_a_declaration_needs_an_answer_and_a_conflict_its_kind_and_description(world):
    assignment = assign(world, world.bids[0], world.assessor)
    with pytest.raises(ValidationError) as exc:
        services.conflict_declare(actor=world.assessor, assignment=assignment, has_conflict=None)
    assert _messages(exc) == {"has_conflict": [services.CONFLICT_CHOICE_NEEDED]}
    with pytest.raises(ValidationError) as exc:
        services.conflict_declare(actor=world.assessor, assignment=assignment, has_conflict=True, kind="", description=" ")
    assert _messages(exc) == {"kind": [services.CONFLICT_KIND_NEEDED], "description": [services.CONFLICT_DESCRIPTION_NEEDED]}
    with pytest.raises(PermissionDenied):
        services.conflict_declare(actor=world.assessor_b, assignment=assignment, has_conflict=False)
    assert not ConflictDeclaration.objects.exists()
    declare_none(assignment)
    with pytest.raises(ValidationError) as exc:
        services.conflict_declare(actor=world.assessor, assignment=assignment, has_conflict=True,
                                  kind=ConflictKind.OTHER, description="Changed my mind")
    assert exc.value.messages == [services.ALREADY_DECLARED]


# Score sheets ----------------------------------------------------------------------------------------


def test_a_draft_saves_what_is_given_and_a_submission_locks_the_sheet(world):
    assignment = declare_none(assign(world, world.bids[0], world.assessor))
    services.score_sheet_save(actor=world.assessor, assignment=assignment, scores=scores_for(world, [3, None]))
    sheet = ScoreSheet.objects.get(assignment=assignment)
    assert sheet.status == SheetStatus.DRAFT
    assert list(sheet.scores.values_list("score", flat=True)) == [3]
    services.score_sheet_submit(actor=world.assessor, assignment=assignment, scores=scores_for(world, [3, 2]))
    sheet.refresh_from_db()
    assert sheet.status == SheetStatus.SUBMITTED
    assert sheet.submitted_at is not None
    assert _events("score_sheet.submitted")[0].after == {str(c.pk): v for c, v in zip(world.criteria, [3, 2], strict=True)}
    with pytest.raises(ValidationError) as exc:
        services.score_sheet_save(actor=world.assessor, assignment=assignment, scores=scores_for(world, [4, 4]))
    assert exc.value.messages == [services.SHEET_SUBMITTED]
    assert sorted(Score.objects.values_list("score", flat=True)) == [2, 3]


def test_every_score_change_is_audited_and_draft_values_stay_the_authors(world):
    assignment = declare_none(assign(world, world.bids[0], world.assessor))
    services.score_sheet_save(actor=world.assessor, assignment=assignment, scores=scores_for(world, [3, None]))
    services.score_sheet_save(actor=world.assessor, assignment=assignment, scores=scores_for(world, [4, None]))
    cost = world.criteria[0].title
    # Draft saves are audited without their values: a draft is seen only by its author.
    drafted = [*_events("score.set"), *_events("score.changed")]
    assert len(drafted) == 2
    for event in drafted:
        assert event.message == f"{cost}: draft score or comment saved (values withheld until submitted)"
        assert "score" not in (event.after or {})
        assert "score" not in (event.before or {})
        assert "comment" not in (event.after or {})
    # Saving the same again writes nothing.
    services.score_sheet_save(actor=world.assessor, assignment=assignment, scores=scores_for(world, [4, None]))
    assert len(_events("score.changed")) == 1
    # Submitting records the values, never what the draft held before.
    services.score_sheet_submit(actor=world.assessor, assignment=assignment, scores=scores_for(world, [4, 2]))
    messages = [e.message for e in [*_events("score.set"), *_events("score.changed")]]
    assert f"{cost}: score 4 submitted with its comment" in messages
    assert not any("3" in m for m in messages)


@pytest.mark.parametrize(("value", "message"), [
    (5, services.SCORE_OUTSIDE_SCALE), (Decimal("2.5"), services.SCORE_NOT_WHOLE), ("3", services.SCORE_NOT_WHOLE),
])
def test_a_score_off_the_scale_or_not_whole_is_refused(world, value, message):
    assignment = declare_none(assign(world, world.bids[0], world.assessor))
    criterion = world.criteria[0]
    with pytest.raises(ValidationError) as exc:
        services.score_sheet_save(actor=world.assessor, assignment=assignment,
                                  scores={criterion.pk: (value, "Comment")})
    expected = message.format(criterion=criterion.title, low=0, high=4)
    assert _messages(exc) == {f"score_{criterion.pk}": [expected]}
    assert not Score.objects.exists()


def test_submitting_needs_every_score_and_comment(world):
    assignment = declare_none(assign(world, world.bids[0], world.assessor))
    first, second = world.criteria
    with pytest.raises(ValidationError) as exc:
        services.score_sheet_submit(actor=world.assessor, assignment=assignment,
                                    scores={first.pk: (3, ""), second.pk: (None, "No score given")})
    assert _messages(exc) == {
        f"comment_{first.pk}": [services.COMMENT_NEEDED.format(criterion=first.title)],
        f"score_{second.pk}": [services.SCORE_NEEDED.format(criterion=second.title)],
    }
    assert not ScoreSheet.objects.exists()
    assert not Score.objects.exists()


def test_scoring_needs_a_declaration_and_the_assessors_own_assignment(world):
    assignment = assign(world, world.bids[0], world.assessor)
    with pytest.raises(ValidationError) as exc:
        services.score_sheet_save(actor=world.assessor, assignment=assignment, scores=scores_for(world, [3, 3]))
    assert exc.value.messages == [services.DECLARE_FIRST]
    declare_none(assignment)
    with pytest.raises(PermissionDenied):
        services.score_sheet_save(actor=world.assessor_b, assignment=assignment, scores=scores_for(world, [3, 3]))
    assert not Score.objects.exists()


def test_scoring_after_the_call_is_decided_is_refused(world):
    assignment = declare_none(assign(world, world.bids[0], world.assessor))
    world.call.status = CallStatus.DECIDED
    world.call.save()
    with pytest.raises(ValidationError) as exc:
        services.score_sheet_save(actor=world.assessor, assignment=assignment, scores=scores_for(world, [3, 3]))
    assert exc.value.messages == [services.SCORING_CLOSED]
    assert not Score.objects.exists()


def test_the_fund_manager_reopens_a_submitted_sheet_with_a_reason(world):
    assignment = scored(world, world.bids[0], world.assessor, [3, 3])
    with pytest.raises(ValidationError) as exc:
        services.score_sheet_reopen(actor=world.manager, assignment=assignment, reason="")
    assert _messages(exc) == {"reason": [services.REOPEN_REASON_NEEDED]}
    sheet = services.score_sheet_reopen(actor=world.manager, assignment=assignment, reason="Score 3 on cost contradicts the comment")
    assert sheet.status == SheetStatus.DRAFT
    assert sheet.submitted_at is None
    assert _events("score_sheet.reopened")[0].message == "Reopened: Score 3 on cost contradicts the comment"
    assert Notification.objects.filter(user=world.assessor, subject__contains="reopened").exists()
    services.score_sheet_submit(actor=world.assessor, assignment=assignment, scores=scores_for(world, [2, 3]))
    assert [e.message for e in _events("score.changed")] == [f"{world.criteria[0].title}: score changed from 3 to 2"]
    with pytest.raises(ValidationError) as exc:
        services.score_sheet_reopen(actor=world.manager, assignment=declare_none(assign(world, world.bids[1], world.assessor_b)),
                                    reason="Why")
    assert exc.value.messages == [services.SHEET_NOT_SUBMITTED]


# Moderation --------------------------------------------------------------------------------------------


def _spread(world):
    """bids[0] scored 0 and 4 on the first criterion (a spread of 4 > 2), 3 and 3 on the second."""
    bid = world.bids[0]
    scored(world, bid, world.assessor, [0, 3])
    scored(world, bid, world.assessor_b, [4, 3])
    return bid


def test_a_flagged_criterion_is_moderated_by_the_chair_and_the_mean_replaced(world):
    bid = _spread(world)
    first = world.criteria[0]
    row = selectors.call_ranking(world.call).by_bid[bid.pk]
    # Mean 2 on the first criterion (share 0.5 x 50 = 25) and 3 on the second (0.75 x 50 = 37.5): 62.50.
    assert row.score == Decimal("62.50")
    assert row.needs_moderation
    services.moderation_record(actor=world.chair, bid=bid, criterion=first, score=3, rationale="Evidence is strong")
    row = selectors.call_ranking(world.call).by_bid[bid.pk]
    # Moderated 3 (0.75 x 50 = 37.5) + 37.5 = 75.00.
    assert row.score == Decimal("75.00")
    assert not row.needs_moderation
    event = _events("moderation.recorded")[0]
    assert event.message == f"{first.title}: moderated score 3 (the assessors gave 0, 4)"
    services.moderation_record(actor=world.chair, bid=bid, criterion=first, score=2, rationale="On reflection")
    assert _events("moderation.changed")[0].message == f"{first.title}: moderated score changed from 3 to 2"


def test_moderation_is_for_the_chair_flagged_criteria_and_scores_on_the_scale(world):
    bid = _spread(world)
    first, second = world.criteria
    with pytest.raises(PermissionDenied):
        services.moderation_record(actor=world.assessor, bid=bid, criterion=first, score=3, rationale="Me")
    with pytest.raises(ValidationError) as exc:
        services.moderation_record(actor=world.chair, bid=bid, criterion=second, score=3, rationale="Agreed")
    assert exc.value.messages == [services.NOT_FLAGGED]
    with pytest.raises(ValidationError) as exc:
        services.moderation_record(actor=world.chair, bid=bid, criterion=first, score=Decimal("2.5"), rationale="Agreed")
    assert _messages(exc) == {"score": [services.SCORE_NOT_WHOLE.format(criterion=first.title)]}
    with pytest.raises(ValidationError) as exc:
        services.moderation_record(actor=world.chair, bid=bid, criterion=first, score=3, rationale="")
    assert _messages(exc) == {"rationale": [services.MODERATION_RATIONALE_NEEDED]}
    assert not Moderation.objects.exists()


# Decisions -----------------------------------------------------------------------------------------------


def _ready(world, values=((3, 3), (3, 4))):
    bid = world.bids[0]
    scored(world, bid, world.assessor, list(values[0]))
    scored(world, bid, world.assessor_b, list(values[1]))
    return bid


def test_the_chair_records_a_decision_with_its_snapshot(world):
    bid = _ready(world)
    decision = services.decision_record(actor=world.chair, bid=bid, outcome=DecisionOutcome.FUND_WITH_CONDITIONS,
                                        amount_approved=Decimal("150000.00"), public_reason="Strong case",
                                        conditions=["DPIA completed", "  ", "Commissioner letter"])
    # First criterion 3 and 3 -> 3.00; second 3 and 4 -> 3.50. Score 50 x 0.75 + 50 x 0.875 = 81.25.
    assert decision.score == Decimal("81.25")
    assert decision.rank == 1
    assert decision.criterion_scores == {str(world.criteria[0].pk): "3.00", str(world.criteria[1].pk): "3.50"}
    assert decision.above_funding_line is True
    assert decision.departs_from_ranking is False
    assert decision.conditions == ["DPIA completed", "Commissioner letter"]
    assert decision.released_at is None
    assert _events("decision.recorded")[0].message == f"Panel decision on {bid.reference}: Fund with conditions, £150,000.00 approved"
    # Until release the chair may change it; the change is audited.
    services.decision_record(actor=world.chair, bid=bid, outcome=DecisionOutcome.FUND, amount_approved=Decimal("200000.00"),
                             public_reason="Strong case")
    changed = _events("decision.changed")[0]
    assert changed.before["outcome"] == DecisionOutcome.FUND_WITH_CONDITIONS
    assert changed.after["outcome"] == DecisionOutcome.FUND


def test_a_decision_above_the_amount_requested_is_refused(world):
    bid = _ready(world)  # asks for 100,000 in each of two years
    with pytest.raises(ValidationError) as exc:
        services.decision_record(actor=world.chair, bid=bid, outcome=DecisionOutcome.FUND,
                                 amount_approved=Decimal("200000.01"), public_reason="Generous")
    assert _messages(exc) == {"amount_approved": [services.AMOUNT_ABOVE_REQUESTED.format(requested="£200,000.00")]}
    assert not PanelDecision.objects.exists()


def test_a_decision_needs_its_parts(world):
    bid = _ready(world)
    with pytest.raises(ValidationError) as exc:
        services.decision_record(actor=world.chair, bid=bid, outcome="", public_reason="")
    assert _messages(exc) == {"outcome": [services.OUTCOME_NEEDED], "public_reason": [services.PUBLIC_REASON_NEEDED]}
    with pytest.raises(ValidationError) as exc:
        services.decision_record(actor=world.chair, bid=bid, outcome=DecisionOutcome.FUND_WITH_CONDITIONS, public_reason="Yes")
    assert _messages(exc) == {"amount_approved": [services.AMOUNT_NEEDED], "conditions": [services.CONDITIONS_NEEDED]}
    assert not PanelDecision.objects.exists()


def test_a_decision_departing_from_the_ranking_needs_its_own_rationale(world):
    bid = _ready(world)  # above the funding line: not funding it departs
    with pytest.raises(ValidationError) as exc:
        services.decision_record(actor=world.chair, bid=bid, outcome=DecisionOutcome.NOT_FUND, public_reason="No")
    assert _messages(exc) == {"departure_rationale": [services.DEPARTURE_RATIONALE_NEEDED.format(where="above the funding line")]}
    decision = services.decision_record(actor=world.chair, bid=bid, outcome=DecisionOutcome.NOT_FUND, public_reason="No",
                                        departure_rationale="Duplicates a service already funded locally", amount_approved=Decimal(5))
    assert decision.departs_from_ranking
    assert decision.amount_approved is None
    assert decision.departure_rationale == "Duplicates a service already funded locally"


def test_a_conflicted_chair_is_excluded_and_cannot_record_the_decision(world):
    bid = _ready(world)
    PanelMember.objects.get(panel=world.call.panel, user=world.chair).affiliations.add(world.lead)
    with pytest.raises(ValidationError) as exc:
        services.decision_record(actor=world.chair, bid=bid, outcome=DecisionOutcome.FUND,
                                 amount_approved=Decimal("1000.00"), public_reason="Fine")
    assert exc.value.messages == [services.CHAIR_CONFLICTED]
    assert not PanelDecision.objects.exists()
    # The deputy chair records it; the conflicted members are recorded as excluded.
    deputy = PanelMemberFactory(panel=world.call.panel, role=PanelRole.DEPUTY_CHAIR).user
    decision = services.decision_record(actor=deputy, bid=bid, outcome=DecisionOutcome.FUND,
                                        amount_approved=Decimal("1000.00"), public_reason="Fine")
    assert {m.user for m in decision.excluded_members.all()} == {world.chair, world.insider}
    with pytest.raises(PermissionDenied):
        services.decision_record(actor=world.assessor, bid=bid, outcome=DecisionOutcome.FUND,
                                 amount_approved=Decimal("1000.00"), public_reason="Fine")


def test_a_deputy_chair_moderates_and_decides_only_the_bids_the_chair_is_conflicted_on(world):
    bid = _spread(world)
    first = world.criteria[0]
    deputy = PanelMemberFactory(panel=world.call.panel, role=PanelRole.DEPUTY_CHAIR).user
    # The chair is free to chair the bid, so the deputy is not needed.
    with pytest.raises(ValidationError) as exc:
        services.moderation_record(actor=deputy, bid=bid, criterion=first, score=3, rationale="Agreed")
    assert exc.value.messages == [services.DEPUTY_NOT_NEEDED]
    assert selectors.bids_chaired_by(world.chair, world.call, world.bids) == {b.pk for b in world.bids}
    assert selectors.bids_chaired_by(deputy, world.call, world.bids) == set()
    # Once the chair is conflicted (their trust leads the bid), the deputy chairs it and the chair cannot.
    PanelMember.objects.get(panel=world.call.panel, user=world.chair).affiliations.add(world.lead)
    assert selectors.bids_chaired_by(deputy, world.call, [bid]) == {bid.pk}
    with pytest.raises(ValidationError) as exc:
        services.moderation_record(actor=world.chair, bid=bid, criterion=first, score=3, rationale="Mine")
    assert exc.value.messages == [services.CHAIR_CONFLICTED]
    moderation = services.moderation_record(actor=deputy, bid=bid, criterion=first, score=3, rationale="Agreed")
    assert moderation.moderated_by == deputy
    decision = services.decision_record(actor=deputy, bid=bid, outcome=DecisionOutcome.FUND,
                                        amount_approved=Decimal("1000.00"), public_reason="Strong evidence")
    assert decision.decided_by == deputy
    assert world.chair in {m.user for m in decision.excluded_members.all()}
    assert _events("decision.recorded")[0].actor == deputy


def test_a_deputy_chair_conflicted_too_cannot_chair_the_bid_and_the_bid_is_reported(world):
    bid = _ready(world)
    assert selectors.bids_no_chair_can_decide(world.call, [bid]) == []
    PanelMember.objects.get(panel=world.call.panel, user=world.chair).affiliations.add(world.lead)
    assert selectors.bids_no_chair_can_decide(world.call, [bid]) == [bid]
    deputy_member = PanelMemberFactory(panel=world.call.panel, role=PanelRole.DEPUTY_CHAIR)
    assert selectors.bids_no_chair_can_decide(world.call, [bid]) == []
    deputy_member.affiliations.add(world.lead)
    assert selectors.bids_no_chair_can_decide(world.call, [bid]) == [bid]
    with pytest.raises(ValidationError) as exc:
        services.decision_record(actor=deputy_member.user, bid=bid, outcome=DecisionOutcome.FUND,
                                 amount_approved=Decimal("1000.00"), public_reason="Fine")
    assert exc.value.messages == [services.CHAIR_CONFLICTED]
    assert not PanelDecision.objects.exists()


def test_a_decision_waits_for_scoring_and_moderation(world):
    bid = world.bids[0]
    scored(world, bid, world.assessor, [0, 3])
    declare_none(assign(world, bid, world.assessor_b))
    with pytest.raises(ValidationError) as exc:
        services.decision_record(actor=world.chair, bid=bid, outcome=DecisionOutcome.FUND, amount_approved=Decimal(1), public_reason="x")
    assert exc.value.messages == [services.SCORING_NOT_FINISHED.format(done=1, expected=2)]
    assignment = Assignment.objects.get(bid=bid, assessor=world.assessor_b)
    services.score_sheet_submit(actor=world.assessor_b, assignment=assignment, scores=scores_for(world, [4, 3]))
    with pytest.raises(ValidationError) as exc:
        services.decision_record(actor=world.chair, bid=bid, outcome=DecisionOutcome.FUND, amount_approved=Decimal(1), public_reason="x")
    assert exc.value.messages == [services.MODERATION_OUTSTANDING.format(titles=world.criteria[0].title)]


# Release ----------------------------------------------------------------------------------------------


def test_releasing_funds_and_declines_the_bids_decides_the_call_and_tells_the_applicants(
    world, django_capture_on_commit_callbacks
):
    funded, declined = world.bids
    for bid in world.bids:
        scored(world, bid, world.assessor, [3, 3])
        scored(world, bid, world.assessor_b, [3, 3])
    services.decision_record(actor=world.chair, bid=funded, outcome=DecisionOutcome.FUND,
                             amount_approved=Decimal("200000.00"), public_reason="Good")
    with pytest.raises(ValidationError) as exc:
        services.decisions_release(actor=world.manager, call=world.call)
    assert exc.value.messages == [services.DECISIONS_MISSING.format(refs=declined.reference)]
    services.decision_record(actor=world.chair, bid=declined, outcome=DecisionOutcome.NOT_FUND, public_reason="Weaker",
                             departure_rationale="The panel preferred one bid in this area")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        released = services.decisions_release(actor=world.manager, call=world.call)
    assert len(released) == 2
    assert all(d.released_at for d in released)
    funded.refresh_from_db()
    declined.refresh_from_db()
    world.call.refresh_from_db()
    assert (funded.status, declined.status) == (BidStatus.FUNDED, BidStatus.NOT_FUNDED)
    assert world.call.status == CallStatus.DECIDED
    assert world.call.decisions_released_at is not None
    assert _events("decisions.released")[0].message == "2 decisions released: 1 funded, 1 not funded"
    notice = Notification.objects.get(user=world.applicant, subject=f"Decision on bid {funded.reference}: funded")
    assert notice.link == f"/assessment/feedback/{funded.pk}/"
    assert any(funded.reference in m.subject for m in mail.outbox)
    # Released decisions are final; scoring has closed.
    with pytest.raises(ValidationError) as exc:
        services.decision_record(actor=world.chair, bid=funded, outcome=DecisionOutcome.NOT_FUND, public_reason="x")
    assert exc.value.messages == [services.DECISION_RELEASED]


def test_the_reminder_goes_once_to_assessors_whose_scores_are_due(world):
    due_soon = assign(world, world.bids[0], world.assessor, due_date=timezone.localdate() + dt.timedelta(days=2))
    assign(world, world.bids[1], world.assessor_b, due_date=timezone.localdate() + dt.timedelta(days=10))
    done = scored(world, world.bids[1], world.assessor_c, [3, 3])
    Assignment.objects.filter(pk=done.pk).update(due_date=timezone.localdate())
    from assessment.tasks import send_assessment_reminders

    assert send_assessment_reminders.delay().get() == 1
    assert send_assessment_reminders.delay().get() == 0
    due_soon.refresh_from_db()
    assert due_soon.reminded_at is not None
    assert Notification.objects.filter(user=world.assessor, subject__contains="are due by").count() == 1
