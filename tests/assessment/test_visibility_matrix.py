"""Channel x role: every output carrying scores, conflicts or decisions carries exactly what the
HTML page shows that person, no more (``assessment.visibility``).

The scene: a call in assessment with three bids.
- ``open``: two submitted sheets and one draft (values 1 and 1, a secret comment): still being
  scored. Only the draft's author may see the draft, in any channel.
- ``conflicted``: led by the chair's own trust. Scored and decided by the deputy chair, with an
  internal rationale and a public reason. The chair is conflicted on it.
- ``decided``: scored and decided by the chair. Assessor C declared a conflict on it.
And a decided call with a released decision and an award, for feedback and the register.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from assessment import services, visibility
from assessment.models import ConflictKind, DecisionOutcome, PanelDecision
from governance.models import CallStatus, MembershipRole, PanelRole
from tests.assessment.conftest import assign, declare_none, make_world, scored, scores_for
from tests.factories.applications import SubmittedBidFactory
from tests.factories.assessment import PanelDecisionFactory
from tests.factories.awards import AwardFactory
from tests.factories.governance import (
    CallFactory,
    MembershipFactory,
    OrganisationFactory,
    PanelMemberFactory,
    PotFactory,
)

pytestmark = pytest.mark.django_db

DRAFT_COMMENT = "DRAFT-ONLY: my first thoughts, not submitted"
INTERNAL = "INTERNAL-NOTE: the chair doubts the evaluation budget"
PUBLIC = "PUBLIC-REASON: a strong case for patients and savings"
INTERNAL_DECIDED = "INTERNAL-NOTE-2: candid view of the lead trust and its track record"
PUBLIC_DECIDED = "PUBLIC-REASON-2: good value for money"
RELEASED_INTERNAL = "INTERNAL-RELEASED: not for the applicant"
RELEASED_PUBLIC = "PUBLIC-RELEASED: clear adoption case"

ROLES = [
    "applicant", "commissioner", "assessor_assigned", "assessor_not_assigned", "conflicted_assessor", "chair",
    "conflicted_chair", "deputy_chair", "fund_manager", "pot_only_manager", "auditor", "anonymous",
]
# Who may open the panel's pages of the call (``assessment.view_call``).
PANEL_VIEWERS = {"chair", "conflicted_chair", "deputy_chair", "fund_manager", "auditor"}


@pytest.fixture
def scene(db):
    w = make_world(bids=0, assessors_per_bid=3)
    chair_trust = OrganisationFactory(network=w.network, name="Chair's Own NHS Trust")
    MembershipFactory(user=w.chair, organisation=chair_trust, role=MembershipRole.MEMBER)
    deputy = PanelMemberFactory(panel=w.call.panel, role=PanelRole.DEPUTY_CHAIR, user__full_name="Dee Deputy").user
    outsider = PanelMemberFactory(panel=w.call.panel, role=PanelRole.ASSESSOR, user__full_name="Nat Notassigned").user
    pot_only = MembershipFactory(organisation=w.other_network, role=MembershipRole.FUND_MANAGER).user
    PotFactory(fund=w.fund, network=w.other_network, name="Other network's pot")

    open_bid, conflicted, decided = w.new_bid(), w.new_bid(lead=chair_trust), w.new_bid()
    scored(w, open_bid, w.assessor, [3, 3])
    scored(w, open_bid, w.assessor_b, [4, 3])
    draft = declare_none(assign(w, open_bid, w.lay))
    services.score_sheet_save(actor=w.lay, assignment=draft, scores={
        c.pk: (1, DRAFT_COMMENT) for c in w.criteria})
    for bid in (conflicted, decided):
        scored(w, bid, w.assessor, [4, 4])
        scored(w, bid, w.assessor_b, [4, 3])
    c_assignment = assign(w, decided, w.assessor_c)
    services.conflict_declare(actor=w.assessor_c, assignment=c_assignment, has_conflict=True,
                              kind=ConflictKind.PERSONAL, description="A relative works there")
    services.decision_record(actor=deputy, bid=conflicted, outcome=DecisionOutcome.FUND, public_reason=PUBLIC,
                             internal_rationale=INTERNAL, amount_approved=Decimal("150000.00"))
    services.decision_record(actor=w.chair, bid=decided, outcome=DecisionOutcome.NOT_FUND,
                             public_reason=PUBLIC_DECIDED, internal_rationale=INTERNAL_DECIDED,
                             departure_rationale="Departing: the panel judged the evidence weak.")

    # A decided call with a released decision and an award on it, for feedback and the register.
    now = timezone.now()
    done = CallFactory(fund=w.fund, pots=[w.pot], status=CallStatus.DECIDED, panel=w.call.panel,
                       decisions_released_at=now)
    released = PanelDecisionFactory(
        bid=SubmittedBidFactory(call=done, lead_organisation=w.lead, pot=w.pot, commissioner=w.icb, status="funded"),
        public_reason=RELEASED_PUBLIC, internal_rationale=RELEASED_INTERNAL, released_at=now)
    award = AwardFactory(decision=released)

    users = {
        "applicant": w.applicant, "commissioner": w.commissioner, "assessor_assigned": w.assessor,
        "assessor_not_assigned": outsider, "conflicted_assessor": w.assessor_c, "chair": w.chair,
        "conflicted_chair": w.chair, "deputy_chair": deputy, "fund_manager": w.manager,
        "pot_only_manager": pot_only, "auditor": w.auditor, "anonymous": None,
    }
    return {"world": w, "users": users, "open": open_bid, "conflicted": conflicted, "decided": decided,
            "draft": draft, "released": released, "award": award, "deputy": deputy}


def _client(client, scene, role):
    user = scene["users"][role]
    if user is not None:
        client.force_login(user)
    return client


def _row_html(body: str, bid) -> str:
    """The ranking table's row of a bid (or its line in the 'still being scored' list)."""
    match = re.search(rf'<tr class="nhsuk-table__row" id="bid-{bid.pk}">(.*?)</tr>', body, re.S)
    if match:
        return match.group(1)
    match = re.search(rf"<li>[^<]*(?:<a [^>]*>)?{re.escape(bid.title)}.*?</li>", body, re.S)
    return match.group(0) if match else ""


def _csv_rows(response) -> dict[str, dict]:
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    return {row["Reference"]: row for row in rows}


def _text(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode("utf-8-sig")


def _outcome_in(text: str) -> set[str]:
    return {label for label in ("Fund", "Do not fund") if re.search(rf">{label}<", text)}


# The ranking page and its CSV ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_the_ranking_csv_carries_exactly_what_the_ranking_page_shows(client, scene, role):
    call = scene["world"].call
    c = _client(client, scene, role)
    page = c.get(reverse("assessment:ranking", args=[call.slug]))
    export = c.get(reverse("assessment:ranking_csv", args=[call.slug]))
    if role == "anonymous":
        assert (page.status_code, export.status_code) == (302, 302)
        return
    assert page.status_code == export.status_code
    if role not in PANEL_VIEWERS:
        assert page.status_code == 403
        return
    assert page.status_code == 200
    body = page.content.decode()
    rows = _csv_rows(export)
    full = visibility.selectors.call_ranking(call)
    for bid in (scene["open"], scene["conflicted"], scene["decided"]):
        html_row, csv_row = _row_html(body, bid), rows[bid.reference]
        hidden = role in ("chair", "conflicted_chair") and bid == scene["conflicted"]
        score = full.by_bid[bid.pk].score
        # The score: on the page exactly when in the file.
        shown_in_html = score is not None and f">{score}<" in html_row
        assert shown_in_html == (csv_row["Score (0-100)"] == str(score)), (role, bid.reference)
        assert shown_in_html == (full.by_bid[bid.pk].complete and not hidden)
        if hidden:
            assert "Hidden: you are conflicted" in html_row
            assert csv_row["Score (0-100)"] == visibility.HIDDEN_CONFLICTED
            assert csv_row["Rank"] == ""
            assert all(csv_row[f"{cr.title} (score used)"] == "" for cr in full.criteria)
        # The decision: on the page exactly when in the file.
        outcome = csv_row["Decision"]
        assert _outcome_in(html_row) == ({outcome} if outcome else set()), (role, bid.reference)
        assert bool(outcome) == (bid != scene["open"] and not hidden)
    # Nothing of the draft, nor any internal note, in either.
    for text in (body, export.content.decode()):
        assert DRAFT_COMMENT not in text
        assert INTERNAL not in text
        assert INTERNAL_DECIDED not in text


def test_finding_1_a_conflicted_chair_downloads_no_score_of_their_own_trusts_bid(client, scene):
    """Failed before: the CSV listed the bid's total and every criterion score."""
    call, bid = scene["world"].call, scene["conflicted"]
    client.force_login(scene["world"].chair)
    row = _csv_rows(client.get(reverse("assessment:ranking_csv", args=[call.slug])))[bid.reference]
    score = visibility.selectors.call_ranking(call).by_bid[bid.pk].score
    assert score is not None
    assert str(score) not in row.values()
    assert row["Decision"] == ""
    assert row["Amount approved (£)"] == ""


def test_the_decided_ranking_and_its_csv_hide_the_conflicted_bids_decision(client, scene):
    w = scene["world"]
    # Decide the whole call: the open bid's third sheet is submitted and the bid decided.
    services.score_sheet_submit(actor=w.lay, assignment=scene["draft"], scores=scores_for(w, [3, 3]))
    services.decision_record(actor=w.chair, bid=scene["open"], outcome=DecisionOutcome.FUND,
                             public_reason="Fine", amount_approved=Decimal("1000.00"))
    services.decisions_release(actor=w.manager, call=w.call)
    client.force_login(w.chair)
    body = client.get(reverse("assessment:ranking", args=[w.call.slug])).content.decode()
    rows = _csv_rows(client.get(reverse("assessment:ranking_csv", args=[w.call.slug])))
    hidden = rows[scene["conflicted"].reference]
    assert hidden["Score (0-100)"] == visibility.HIDDEN_CONFLICTED
    assert hidden["Decision"] == ""
    assert rows[scene["decided"].reference]["Decision"] == "Do not fund"
    assert body.count("Hidden: you are conflicted") == 1
    client.force_login(scene["deputy"])
    assert _csv_rows(client.get(reverse("assessment:ranking_csv", args=[w.call.slug])))[
        scene["conflicted"].reference]["Decision"] == "Fund"


# A bid's scores, moderation and decision pages ------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_bid_pages_show_no_draft_and_internal_notes_only_to_the_panel_managers_and_auditors(client, scene, role):
    w = scene["world"]
    c = _client(client, scene, role)
    criterion = w.criteria[0]
    for key in ("open", "conflicted", "decided"):
        bid = scene[key]
        conflicted = role in ("chair", "conflicted_chair") and key == "conflicted"
        urls = {
            "scores": reverse("assessment:bid_scores", args=[w.call.slug, bid.pk]),
            "moderate": reverse("assessment:moderate", args=[w.call.slug, bid.pk, criterion.pk]),
            "decision": reverse("assessment:decision", args=[w.call.slug, bid.pk]),
        }
        for channel, url in urls.items():
            response = c.get(url)
            if role == "anonymous":
                assert response.status_code == 302
                continue
            body = response.content.decode()
            # Never a draft, to anyone but its author (the lay member is not in the matrix).
            assert DRAFT_COMMENT not in body, (role, key, channel)
            if response.status_code != 200:
                assert response.status_code in (403, 404), (role, key, channel)
                continue
            assert role in PANEL_VIEWERS, (role, key, channel)
            internal = {"conflicted": INTERNAL, "decided": INTERNAL_DECIDED}.get(key)
            public = {"conflicted": PUBLIC, "decided": PUBLIC_DECIDED}.get(key)
            if conflicted:
                # The conflicted chair is shown why they are excluded, nothing of the bid's scores.
                assert channel != "scores"
                assert internal not in body
                assert public not in body
                assert "You are excluded" in body or "excluded" in body
                continue
            if channel == "scores" and internal:
                assert public in body
                assert internal in body  # the panel, the fund's managers and its auditors


def test_finding_5_the_chair_sees_no_draft_scores(client, scene):
    """Failed before: the chair's page of the bid showed an assessor's draft values and comment."""
    w = scene["world"]
    client.force_login(w.chair)
    body = client.get(reverse("assessment:bid_scores", args=[w.call.slug, scene["open"].pk])).content.decode()
    assert DRAFT_COMMENT not in body
    assert "Not submitted yet" in body
    lay_row = re.search(r"Lee Lay.*?</tr>", body, re.S).group(0)
    assert ">1<" not in lay_row


def test_the_draft_author_still_sees_their_own_draft(scene):
    w = scene["world"]
    sheets = visibility.panel_sheets(w.lay, scene["open"])
    mine = next(s for s in sheets if s.assignment.assessor_id == w.lay.pk)
    assert mine.visible
    assert {s.comment for s in mine.scores.values()} == {DRAFT_COMMENT}
    theirs = next(s for s in visibility.panel_sheets(w.manager, scene["open"]) if s.assignment.assessor_id == w.lay.pk)
    assert not theirs.visible
    assert theirs.scores == {}


@pytest.mark.parametrize("role", ["chair", "fund_manager", "auditor", "deputy_chair"])
def test_the_audit_trail_carries_no_draft_values(client, scene, role):
    w = scene["world"]
    c = _client(client, scene, role)
    response = c.get(reverse("governance:fund_audit", args=[w.fund.slug]))
    if response.status_code == 200:
        assert DRAFT_COMMENT not in response.content.decode()
    from governance.models import AuditEvent
    for event in AuditEvent.objects.filter(target_type="assessment.scoresheet", target_id=str(scene["draft"].sheet.pk)):
        assert DRAFT_COMMENT not in json.dumps([event.before, event.after, event.message])
        assert "score" not in (event.after or {})


# Feedback, emails, the register, its API and open data --------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_feedback_shows_the_public_reason_never_the_internal_rationale(client, scene, role):
    c = _client(client, scene, role)
    response = c.get(reverse("assessment:feedback", args=[scene["released"].bid.pk]))
    body = response.content.decode()
    assert RELEASED_INTERNAL not in body
    if role == "anonymous":
        assert response.status_code == 302
    elif role in ("applicant", "fund_manager", "auditor"):
        assert response.status_code == 200
        assert RELEASED_PUBLIC in body
    else:
        assert response.status_code in (403, 404)


def test_feedback_of_an_unreleased_decision_is_not_found(client, scene):
    client.force_login(scene["world"].applicant)
    assert client.get(reverse("assessment:feedback", args=[scene["decided"].pk])).status_code == 404


def test_the_release_email_carries_the_public_reason_not_the_internal_rationale(scene):
    from governance.models import Notification

    w = scene["world"]
    services.score_sheet_submit(actor=w.lay, assignment=scene["draft"], scores=scores_for(w, [3, 3]))
    services.decision_record(actor=w.chair, bid=scene["open"], outcome=DecisionOutcome.FUND,
                             public_reason="Open bid: fine", internal_rationale="Open bid: secret",
                             amount_approved=Decimal("1000.00"))
    services.decisions_release(actor=w.manager, call=w.call)
    bodies = " ".join(Notification.objects.filter(user=w.applicant).values_list("body", flat=True))
    assert "Open bid: fine" in bodies
    assert PUBLIC_DECIDED in bodies
    for secret in ("Open bid: secret", INTERNAL, INTERNAL_DECIDED, "Departing"):
        assert secret not in bodies


@pytest.mark.parametrize("role", ["anonymous", "applicant", "chair", "fund_manager", "auditor"])
def test_the_register_api_and_open_data_carry_the_public_reason_only(client, scene, role):
    """Finding 3 failed before: the register's "Why" and the API showed the internal rationale."""
    c = _client(client, scene, role)
    award = scene["award"]
    page = c.get(reverse("reporting:award", args=[award.reference])).content.decode()
    api = c.get(reverse("reporting:api_award", args=[award.reference])).json()
    package = _text(c.get(reverse("reporting:register_360giving")))
    sheet = _text(c.get(reverse("reporting:register_csv")))
    assert RELEASED_PUBLIC in page
    assert api["public_reason"] == RELEASED_PUBLIC
    assert api["rationale"] == RELEASED_PUBLIC
    assert RELEASED_PUBLIC in package
    assert RELEASED_PUBLIC in sheet
    for text in (page, json.dumps(api), package, sheet):
        assert RELEASED_INTERNAL not in text
        # Unreleased decisions are in no public channel.
        for secret in (INTERNAL, PUBLIC, INTERNAL_DECIDED, PUBLIC_DECIDED):
            assert secret not in text


def test_public_decisions_are_the_released_ones_by_release_not_by_decision(scene):
    released = scene["released"]
    assert set(visibility.public_decisions()) == {released}
    assert set(visibility.public_decisions(PanelDecision.objects.filter(bid=scene["decided"]))) == set()
    before_release = released.released_at - dt.timedelta(minutes=1)
    assert set(visibility.public_decisions(now=before_release)) == set()
    # public and unpublic decisions split every decision between them.
    everything = set(PanelDecision.objects.all())
    assert set(visibility.public_decisions()) | set(visibility.unpublic_decisions()) == everything
    assert not set(visibility.public_decisions()) & set(visibility.unpublic_decisions())


def test_a_decision_needs_a_public_reason_and_the_form_says_who_sees_each_text(scene):
    from django.core.exceptions import ValidationError

    from assessment.forms import DecisionForm

    w = scene["world"]
    services.score_sheet_submit(actor=w.lay, assignment=scene["draft"], scores=scores_for(w, [3, 3]))
    with pytest.raises(ValidationError) as exc:
        services.decision_record(actor=w.chair, bid=scene["open"], outcome=DecisionOutcome.FUND,
                                 public_reason="  ", internal_rationale="Only internal",
                                 amount_approved=Decimal("1000.00"))
    assert services.PUBLIC_REASON_NEEDED in exc.value.messages
    form = DecisionForm()
    assert "Published" in form.fields["public_reason"].help_text
    assert "Not published" in form.fields["internal_rationale"].help_text
    assert "applicant does not see" not in form.fields["public_reason"].help_text
