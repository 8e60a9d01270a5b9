"""Assessment pages: the permission matrix for every view and role, each bad input shown next to
its field with nothing changed, the CSV export and the applicant's feedback."""

import csv
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from applications.models import BidStatus
from assessment import services
from assessment.models import (
    Assignment,
    AssignmentStatus,
    ConflictKind,
    DecisionOutcome,
    Moderation,
    PanelDecision,
    Score,
    ScoreSheet,
    SheetStatus,
)
from governance.models import CallStatus, PanelMember
from tests.assessment.conftest import assign, declare_none, make_world, scored, scores_for
from tests.factories.applications import SubmittedBidFactory
from tests.factories.assessment import PanelDecisionFactory
from tests.factories.governance import CallFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "applicant", "other_applicant", "commissioner", "assigned", "unassigned", "conflicted", "chair",
         "deputy", "manager", "other_manager", "auditor"]


@pytest.fixture
def scene(db):
    """bid 1: the "assigned" assessor scoring (draft), assessor_b submitted with a wide spread,
    assessor_c declared a conflict. bid 2: the "assigned" assessor still to declare. A released
    decision on another call of the fund, for the feedback page."""
    world = make_world(bids=2, assessors_per_bid=3)
    bid, other = world.bids
    active = declare_none(assign(world, bid, world.assessor))
    services.score_sheet_save(actor=world.assessor, assignment=active, scores=scores_for(world, [0, None]))
    submitted = scored(world, bid, world.assessor_b, [4, 3])
    conflicted = assign(world, bid, world.assessor_c)
    services.conflict_declare(actor=world.assessor_c, assignment=conflicted, has_conflict=True,
                              kind=ConflictKind.PERSONAL, description="A relative works there")
    awaiting = assign(world, other, world.assessor)
    decided_call = CallFactory(fund=world.fund, pots=[world.pot], status=CallStatus.DECIDED, panel=world.call.panel,
                               decisions_released_at=timezone.now())
    released = PanelDecisionFactory(bid=SubmittedBidFactory(call=decided_call, lead_organisation=world.lead, pot=world.pot,
                                                            commissioner=world.icb, status=BidStatus.FUNDED))
    return {"world": world, "bid": bid, "active": active, "submitted": submitted, "conflicted": conflicted,
            "awaiting": awaiting, "released": released}


def _user(scene, role):
    w = scene["world"]
    if role == "deputy":  # a deputy chair, while the chair is free to chair every bid
        return PanelMember.objects.create(panel=w.call.panel, user=UserFactory(), role="deputy_chair").user
    return {
        "applicant": w.applicant, "other_applicant": w.other_applicant, "commissioner": w.commissioner,
        "assigned": w.assessor, "unassigned": w.lay, "conflicted": w.assessor_c, "chair": w.chair,
        "manager": w.manager, "other_manager": w.other_manager, "auditor": w.auditor,
    }.get(role)


def _url(name, scene):
    w, bid = scene["world"], scene["bid"]
    slug = w.call.slug
    return {
        "hub": reverse("assessment:hub"),
        "assignment": reverse("assessment:assignment", args=[scene["active"].pk]),
        "declare": reverse("assessment:declare", args=[scene["awaiting"].pk]),
        "sheet": reverse("assessment:sheet", args=[scene["active"].pk]),
        "assignment_withdraw": reverse("assessment:assignment_withdraw", args=[scene["awaiting"].pk]),
        "sheet_reopen": reverse("assessment:sheet_reopen", args=[scene["submitted"].pk]),
        "call": reverse("assessment:call", args=[slug]),
        "call_start": reverse("assessment:call_start", args=[slug]),
        "call_auto_assign": reverse("assessment:call_auto_assign", args=[slug]),
        "ranking": reverse("assessment:ranking", args=[slug]),
        "ranking_csv": reverse("assessment:ranking_csv", args=[slug]),
        "release": reverse("assessment:release", args=[slug]),
        "bid_scores": reverse("assessment:bid_scores", args=[slug, bid.pk]),
        "bid_assign": reverse("assessment:bid_assign", args=[slug, bid.pk]),
        "moderate": reverse("assessment:moderate", args=[slug, bid.pk, w.criteria[0].pk]),
        "decision": reverse("assessment:decision", args=[slug, bid.pk]),
        "conflicts": reverse("assessment:conflicts", args=[w.fund.slug]),
        "feedback": reverse("assessment:feedback", args=[scene["released"].bid.pk]),
    }[name]


PANEL = {"manager": 200, "chair": 200, "deputy": 200, "auditor": 200}
# view -> (method, {role: status}); every role not named gets the default (last item).
MATRIX = {
    "hub": ("get", {"assigned": 200, "unassigned": 200, "conflicted": 200, "chair": 200, "deputy": 200, "manager": 200,
                    "other_manager": 200, "auditor": 200}, 403),
    "assignment": ("get", {"assigned": 302}, 404),
    "declare": ("get", {"assigned": 200}, 404),
    "sheet": ("get", {"assigned": 200}, 404),
    "assignment_withdraw": ("get", {"manager": 200}, 404),
    "sheet_reopen": ("get", {"manager": 200}, 404),
    "call": ("get", PANEL, 403),
    "call_start": ("post", {"manager": 302}, 403),
    "call_auto_assign": ("post", {"manager": 302}, 403),
    "ranking": ("get", PANEL, 403),
    "ranking_csv": ("get", PANEL, 403),
    "release": ("get", {"manager": 200}, 403),
    "bid_scores": ("get", PANEL, 403),
    "bid_assign": ("get", {"manager": 200}, 403),
    "moderate": ("get", {"chair": 200}, 403),
    "decision": ("get", {"chair": 200}, 403),
    "conflicts": ("get", {"manager": 200, "auditor": 200}, 403),
    "feedback": ("get", {"applicant": 200, "manager": 200, "auditor": 200}, 404),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", list(MATRIX))
def test_permission_matrix(client, scene, view, role):
    method, allowed, default = MATRIX[view]
    user = _user(scene, role)
    if user is not None:
        client.force_login(user)
    response = getattr(client, method)(_url(view, scene))
    expected = 302 if role == "anonymous" else allowed.get(role, default)
    assert response.status_code == expected, f"{view} as {role}: {response.status_code}"
    if role == "anonymous":
        assert response["Location"].startswith("/accounts/login/")


# Assessors -------------------------------------------------------------------------------------------


def test_an_assessor_sees_only_title_and_organisations_until_they_declare(client, scene):
    w, other = scene["world"], scene["world"].bids[1]
    client.force_login(w.assessor)
    page = client.get(reverse("assessment:declare", args=[scene["awaiting"].pk])).content.decode()
    assert other.title in page
    assert w.lead.name in page
    assert w.icb.name in page
    assert other.summary not in page
    # The bid's own page stays shut until then.
    assert client.get(other.get_absolute_url()).status_code == 404
    assert client.get(reverse("assessment:sheet", args=[scene["awaiting"].pk])).status_code == 302
    client.post(reverse("assessment:declare", args=[scene["awaiting"].pk]), {"has_conflict": "no"})
    assert client.get(other.get_absolute_url()).status_code == 200
    page = client.get(reverse("assessment:sheet", args=[scene["awaiting"].pk])).content.decode()
    assert other.summary in page
    assert w.criteria[0].guidance_for_assessors in page
    assert "Score 2 for Cost saving" in page  # the rubric's descriptors beside the scores


def test_an_assessor_cannot_open_a_bid_they_declared_a_conflict_on_or_were_never_given(client, scene):
    w, bid = scene["world"], scene["bid"]
    client.force_login(w.assessor_c)
    for name in ("assignment", "declare", "sheet"):
        assert client.get(reverse(f"assessment:{name}", args=[scene["conflicted"].pk])).status_code == 404
    assert client.get(bid.get_absolute_url()).status_code == 404
    client.force_login(w.lay)
    assert client.get(reverse("assessment:sheet", args=[scene["active"].pk])).status_code == 404
    assert client.get(bid.get_absolute_url()).status_code == 404


def test_a_declaration_without_an_answer_is_shown_next_to_the_question(client, scene):
    w = scene["world"]
    client.force_login(w.assessor)
    url = reverse("assessment:declare", args=[scene["awaiting"].pk])
    response = client.post(url, {"has_conflict": "yes", "kind": "", "description": ""})
    page = response.content.decode()
    assert re.search(r"<title>Error: ", page)
    assert services.CONFLICT_KIND_NEEDED in page
    assert services.CONFLICT_DESCRIPTION_NEEDED in page
    assert 'id="id_description-error"' in page
    scene["awaiting"].refresh_from_db()
    assert scene["awaiting"].status == AssignmentStatus.AWAITING_DECLARATION


def _sheet_post(w, values, comments, action):
    data = {"action": action}
    for criterion, value, comment in zip(w.criteria, values, comments, strict=True):
        data[f"score_{criterion.pk}"] = value
        data[f"comment_{criterion.pk}"] = comment
    return data


@pytest.mark.parametrize(("value", "message"), [("5", services.SCORE_OUTSIDE_SCALE), ("2.5", services.SCORE_NOT_WHOLE),
                                                ("three", services.SCORE_NOT_WHOLE)])
def test_a_bad_score_is_shown_next_to_its_criterion_and_nothing_is_saved(client, scene, value, message):
    w, active = scene["world"], scene["active"]
    client.force_login(w.assessor)
    before = list(Score.objects.filter(sheet__assignment=active).values_list("criterion_id", "score", "comment"))
    response = client.post(reverse("assessment:sheet", args=[active.pk]),
                           _sheet_post(w, [value, "3"], ["Clear", "Clear"], "save"))
    first = w.criteria[0]
    page = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: " in page
    expected = message.format(criterion=first.title, low=0, high=4)
    assert re.search(rf'id="id_score_{first.pk}-error">.*{re.escape(expected)}', page)
    assert f'href="#id_score_{first.pk}_0"' in page  # the error summary links to the radios
    assert list(Score.objects.filter(sheet__assignment=active).values_list("criterion_id", "score", "comment")) == before


def test_a_missing_comment_stops_the_submission_and_a_draft_saves(client, scene):
    w, active = scene["world"], scene["active"]
    client.force_login(w.assessor)
    url = reverse("assessment:sheet", args=[active.pk])
    first, second = w.criteria
    response = client.post(url, _sheet_post(w, ["1", "2"], ["Weak savings", ""], "submit"))
    page = response.content.decode()
    assert re.search(rf'id="id_comment_{second.pk}-error">.*{re.escape(services.COMMENT_NEEDED.format(criterion=second.title))}', page)
    assert ScoreSheet.objects.get(assignment=active).status == SheetStatus.DRAFT
    assert Score.objects.get(sheet__assignment=active, criterion=first).score == 0  # unchanged
    response = client.post(url, _sheet_post(w, ["1", "2"], ["Weak savings", ""], "save"))
    assert response.status_code == 302
    assert Score.objects.get(sheet__assignment=active, criterion=first).score == 1
    response = client.post(url, _sheet_post(w, ["1", "2"], ["Weak savings", "Some benefit"], "submit"))
    assert response.status_code == 302
    assert ScoreSheet.objects.get(assignment=active).status == SheetStatus.SUBMITTED


def test_a_submitted_sheet_is_read_only_and_refuses_changes(client, scene):
    w, submitted = scene["world"], scene["submitted"]
    client.force_login(w.assessor_b)
    url = reverse("assessment:sheet", args=[submitted.pk])
    page = client.get(url).content.decode()
    assert "Your scores are submitted and locked" in page
    assert "Submit your scores" not in page
    response = client.post(url, _sheet_post(w, ["1", "1"], ["x", "y"], "submit"))
    assert response.status_code == 400
    assert services.SHEET_SUBMITTED in response.content.decode()
    assert sorted(Score.objects.filter(sheet__assignment=submitted).values_list("score", flat=True)) == [3, 4]


def test_scoring_after_the_call_is_decided_is_refused(client, scene):
    w, active = scene["world"], scene["active"]
    w.call.status = CallStatus.DECIDED
    w.call.save()
    client.force_login(w.assessor)
    response = client.post(reverse("assessment:sheet", args=[active.pk]), _sheet_post(w, ["3", "3"], ["a", "b"], "save"))
    assert response.status_code == 400
    assert services.SCORING_CLOSED in response.content.decode()
    assert Score.objects.get(sheet__assignment=active, criterion=w.criteria[0]).score == 0


# Fund managers -----------------------------------------------------------------------------------------


def test_assigning_someone_from_the_bidding_organisation_is_refused_next_to_the_field(client, scene):
    w, other = scene["world"], scene["world"].bids[1]
    client.force_login(w.manager)
    url = reverse("assessment:bid_assign", args=[w.call.slug, other.pk])
    page = client.get(url).content.decode()
    assert "cannot take this bid. Works for or with Lead Hospitals NHS Trust" in page
    response = client.post(url, {"assessor": str(w.insider.pk)})
    expected = services.ASSESSOR_CONFLICTED.format(name=w.insider.full_name, organisations=w.lead.name)
    assert re.search(r'id="id_assessor-error">.*' + re.escape(expected), response.content.decode())
    assert not Assignment.objects.filter(assessor=w.insider).exists()
    response = client.post(url, {"assessor": str(w.lay.pk)})
    assert response.status_code == 302
    assert Assignment.objects.filter(bid=other, assessor=w.lay).exists()


def test_the_overview_shows_each_assessors_load_and_automatic_assignment_fills_the_gaps(client, scene):
    w = scene["world"]
    client.force_login(w.manager)
    page = client.get(reverse("assessment:call", args=[w.call.slug])).content.decode()
    assert "Assessors and their load" in page
    assert "Ben Assessor" in page
    client.post(reverse("assessment:call_auto_assign", args=[w.call.slug]))
    for bid in w.bids:
        assert bid.assignments.filter(status__in=["awaiting_declaration", "active"]).count() == 3


def test_reopening_a_sheet_needs_a_reason(client, scene):
    w, submitted = scene["world"], scene["submitted"]
    client.force_login(w.manager)
    url = reverse("assessment:sheet_reopen", args=[submitted.pk])
    response = client.post(url, {"reason": ""})
    assert re.search(r'id="id_reason-error">.*' + re.escape(services.REOPEN_REASON_NEEDED), response.content.decode())
    assert ScoreSheet.objects.get(assignment=submitted).status == SheetStatus.SUBMITTED
    assert client.post(url, {"reason": "Scores and comments disagree"}).status_code == 302
    assert ScoreSheet.objects.get(assignment=submitted).status == SheetStatus.DRAFT


# The panel -------------------------------------------------------------------------------------------


def _finish(scene):
    """bid 1's assigned assessor submits: scores 0 and 4 against assessor_b's 4 and 3 (flagged)."""
    w, active = scene["world"], scene["active"]
    services.score_sheet_submit(actor=w.assessor, assignment=active, scores=scores_for(w, [0, 4]))


def test_the_chair_moderates_a_flagged_criterion_with_a_score_on_the_scale(client, scene):
    _finish(scene)
    w, bid = scene["world"], scene["bid"]
    first = w.criteria[0]
    client.force_login(w.chair)
    ranking = client.get(reverse("assessment:ranking", args=[w.call.slug])).content.decode()
    assert "Moderation needed" in ranking
    url = reverse("assessment:moderate", args=[w.call.slug, bid.pk, first.pk])
    response = client.post(url, {"score": "7", "rationale": "Agreed"})
    expected = services.SCORE_OUTSIDE_SCALE.format(criterion=first.title, low=0, high=4)
    assert re.search(r'id="id_score-error">.*' + re.escape(expected), response.content.decode())
    assert not Moderation.objects.exists()
    assert client.post(url, {"score": "2", "rationale": "The evidence is mixed"}).status_code == 302
    assert Moderation.objects.get().score == Decimal("2")


def _decide_ready(scene):
    _finish(scene)
    w, bid = scene["world"], scene["bid"]
    services.moderation_record(actor=w.chair, bid=bid, criterion=w.criteria[0], score=2, rationale="Mixed")
    return w, bid


def test_a_decision_above_the_amount_asked_for_is_shown_next_to_the_amount(client, scene):
    w, bid = _decide_ready(scene)
    client.force_login(w.chair)
    url = reverse("assessment:decision", args=[w.call.slug, bid.pk])
    response = client.post(url, {"outcome": "fund", "amount_approved": "250000", "public_reason": "Strong"})
    expected = services.AMOUNT_ABOVE_REQUESTED.format(requested="£200,000.00")
    assert re.search(r'id="id_amount_approved-error">.*' + re.escape(expected), response.content.decode())
    assert not PanelDecision.objects.filter(bid=bid).exists()
    response = client.post(url, {"outcome": "fund", "amount_approved": "£180,000", "public_reason": "Strong"})
    assert response.status_code == 302
    decision = PanelDecision.objects.get(bid=bid)
    assert decision.amount_approved == Decimal("180000.00")
    assert decision.rank == 1


def test_a_conflicted_chair_is_shown_as_excluded_and_cannot_record_the_decision(client, scene):
    w, bid = _decide_ready(scene)
    PanelMember.objects.get(panel=w.call.panel, user=w.chair).affiliations.add(w.icb)
    client.force_login(w.chair)
    url = reverse("assessment:decision", args=[w.call.slug, bid.pk])
    page = client.get(url).content.decode()
    assert "You are excluded from this decision" in page
    assert "Chris Chair (chair): Works for or with NHS Example ICB" in page
    response = client.post(url, {"outcome": "fund", "amount_approved": "1000", "public_reason": "Fine"})
    assert services.CHAIR_CONFLICTED in response.content.decode()
    assert not PanelDecision.objects.filter(bid=bid).exists()
    # Nor does the conflicted chair see the bid's scores.
    assert client.get(reverse("assessment:bid_scores", args=[w.call.slug, bid.pk])).status_code == 404
    assert "Hidden: you are conflicted" in client.get(reverse("assessment:ranking", args=[w.call.slug])).content.decode()


def test_the_deputy_chair_decides_the_bid_the_chair_is_conflicted_on_from_the_ranking(client, scene):
    w, bid = _decide_ready(scene)
    ranking_url = reverse("assessment:ranking", args=[w.call.slug])
    decision_url = reverse("assessment:decision", args=[w.call.slug, bid.pk])
    deputy = UserFactory(full_name="Dee Deputy")
    deputy_member = PanelMember.objects.create(panel=w.call.panel, user=deputy, role="deputy_chair")
    client.force_login(deputy)
    # While the chair can chair the bid, the deputy chair has no decision to record.
    assert "Record the decision" not in client.get(ranking_url).content.decode()
    assert client.get(decision_url).status_code == 403
    # The chair turns out to be conflicted: the fund manager is told nobody else can chair it...
    deputy_member.delete()
    PanelMember.objects.get(panel=w.call.panel, user=w.chair).affiliations.add(w.icb)
    client.force_login(w.manager)
    page = client.get(ranking_url).content.decode()
    assert "No one can chair 2 bids" in page  # the chair's ICB commissions both
    assert bid.reference in page
    assert reverse("governance:panel_detail", args=[w.fund.slug, w.call.panel_id]) in page
    # ...adds a deputy chair, and the deputy records the decision.
    PanelMember.objects.create(panel=w.call.panel, user=deputy, role="deputy_chair")
    assert "No one can chair" not in client.get(ranking_url).content.decode()
    client.force_login(deputy)
    assert "Record the decision" in client.get(ranking_url).content.decode()
    response = client.post(decision_url, {"outcome": "fund", "amount_approved": "150000", "public_reason": "Strong"})
    assert response.status_code == 302
    assert PanelDecision.objects.get(bid=bid).decided_by == deputy


def test_the_ranking_downloads_as_a_formula_safe_spreadsheet(client, scene):
    w, bid = _decide_ready(scene)
    bid.title = "=HYPERLINK(\"http://evil.example\")"
    bid.save()
    client.force_login(w.auditor)
    response = client.get(reverse("assessment:ranking_csv", args=[w.call.slug]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, first = rows[0], rows[1]
    assert header[:6] == ["Pot", "Rank", "Reference", "Title", "Lead organisation", "Score (0-100)"]
    assert first[2] == bid.reference
    assert first[3].startswith("'=")
    # Moderated 2 (0.5 x 50 = 25) and the second criterion 4 and 3 -> 3.5 (0.875 x 50 = 43.75): 68.75.
    assert first[1] == "1"
    assert first[5] == "68.75"


def test_release_tells_each_applicant_and_they_read_their_feedback_without_names(client, scene):
    w, bid = _decide_ready(scene)
    other = w.bids[1]
    scored(w, other, w.lay, [2, 2])
    services.decision_record(actor=w.chair, bid=bid, outcome=DecisionOutcome.FUND, amount_approved=Decimal("200000"),
                             public_reason="Strong")
    client.force_login(w.manager)
    response = client.post(reverse("assessment:release", args=[w.call.slug]))
    assert response.status_code == 400
    assert escape(services.DECISIONS_MISSING.format(refs=other.reference)) in response.content.decode()
    Assignment.objects.filter(bid=other).exclude(assessor=w.lay).update(status=AssignmentStatus.WITHDRAWN)
    services.decision_record(actor=w.chair, bid=other, outcome=DecisionOutcome.NOT_FUND, public_reason="Weaker",
                             departure_rationale="One bid per area")
    assert client.post(reverse("assessment:release", args=[w.call.slug])).status_code == 302
    client.force_login(w.applicant)
    dashboard = client.get(reverse("dashboard")).content.decode()
    assert "Feedback on your bids" in dashboard
    page = client.get(reverse("assessment:feedback", args=[bid.pk])).content.decode()
    assert "Scored against the descriptors." in page
    assert "Assessor 1" in page
    assert "Assessor 2" in page
    for person in (w.assessor, w.assessor_b, w.chair):
        assert person.full_name not in page
    assert "2.00" in page
    assert "3.50" in page
    assert "68.75" in page
    # What happens next, and which score the panel moderated (why moderation happens), but never
    # the chair's rationale ("Mixed"): the visibility rules keep it to the panel and the fund.
    assert "What happens next" in page
    assert "offer of award" in page
    assert page.count("Moderated</strong>") == 1
    assert "differed by more than 2 points" in page
    assert "Mixed" not in page


def test_the_release_button_counts_its_decisions_in_words(client, scene):
    w, bid = _decide_ready(scene)
    services.decision_record(actor=w.chair, bid=bid, outcome=DecisionOutcome.FUND, amount_approved=Decimal("200000"),
                             public_reason="Strong")
    other = w.bids[1]
    Assignment.objects.filter(bid=other).update(status=AssignmentStatus.WITHDRAWN)
    other.status = BidStatus.WITHDRAWN
    other.save(update_fields=["status"])
    client.force_login(w.manager)
    page = client.get(reverse("assessment:release", args=[w.call.slug])).content.decode()
    assert "Release the decision</button>" in page
    assert "Release all 1 decision" not in page


def test_starting_assessment_lands_on_assigning_the_assessors(client):
    world = make_world(bids=1, status=CallStatus.CLOSED)
    world.bids[0].status = BidStatus.SUBMITTED
    world.bids[0].save(update_fields=["status"])
    client.force_login(world.manager)
    response = client.post(reverse("assessment:call_start", args=[world.call.slug]))
    assert response.url == reverse("assessment:call", args=[world.call.slug]) + "#assign"
    page = client.get(response.url).content.decode()
    assert 'id="assign"' in page
