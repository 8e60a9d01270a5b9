"""The demo data: the call in assessment leaves work for the demo assessor and chair, and the
decided calls' decisions snapshot the ranking the panel pages work out."""

import pytest
from django.core.management import call_command

from assessment import selectors
from assessment.models import AssignmentStatus, Moderation, PanelDecision
from governance.models import AuditEvent, Call, Fund, User

pytestmark = pytest.mark.django_db


def test_the_demo_leaves_work_for_the_assessor_and_the_chair_and_records_history():
    call_command("seed_demo", verbosity=0)
    assessor = User.objects.get(email="assessor@example.com")
    chair = User.objects.get(email="chair@example.com")
    wards = Call.objects.get(slug="virtual-wards-adoption")
    # The assessor has a bid to declare on, on the call in assessment.
    queue = selectors.assessor_queue(assessor)
    assert any(item.assignment.status == AssignmentStatus.AWAITING_DECLARATION for item in queue)
    # The chair has a flagged spread to moderate on it.
    assert list(selectors.calls_chaired_by(chair)) == [wards]
    ranking = selectors.call_ranking(wards)
    assert any(row.needs_moderation for row in ranking.all_rows)
    # The fund's conflicts register has a declared conflict; the trail has the services' events.
    fund = Fund.objects.get(slug="south-west-adoption-fund")
    assert selectors.conflicts_register(fund).count() == 1
    for action in ("assignment.created", "conflict.declared", "conflict.none_declared", "score.set",
                   "score_sheet.submitted", "decision.recorded", "decisions.released", "moderation.recorded"):
        assert AuditEvent.objects.filter(action=action).exists(), action
    assert Moderation.objects.filter(bid__call__slug="falls-prevention-adoption").count() == 1


def test_the_decided_calls_decisions_match_the_ranking():
    call_command("seed_demo", verbosity=0)
    falls = Call.objects.get(slug="falls-prevention-adoption")
    ranking = selectors.call_ranking(falls)
    scored = PanelDecision.objects.filter(bid__call=falls, rank__isnull=False)
    # Every decision of the call is scored now, the extra funded bids included.
    assert scored.count() == PanelDecision.objects.filter(bid__call=falls).count() == 7
    for decision in scored:
        row = ranking.by_bid[decision.bid_id]
        assert (decision.rank, decision.score, decision.criterion_scores) == (row.rank, row.score, row.result.criterion_scores)
        assert decision.released_at == falls.decisions_released_at
    # The one not funded is below the gateway for benefit to patients, so the decision follows the ranking.
    declined = scored.get(outcome="not_fund")
    assert declined.above_funding_line is False
    assert not declined.departs_from_ranking
