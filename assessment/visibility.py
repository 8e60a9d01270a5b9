"""Who may see which fields of score sheets, scores, conflicts and panel decisions, at which stage.

This is the one place these rules are written. Every channel that carries assessment data reads
through it: the assessment pages, the ranking's CSV, the applicant's feedback page and the
release emails, the register, its API and open data (``reporting``), and award issue
(``awards``). A channel never builds its own query of what is public or of what a conflicted
person may see.

Score sheets and scores
    A score sheet, its scores and its comments are seen only by their author until the sheet is
    submitted: not the chair, not the fund's managers, not its auditors, in any channel (pages,
    the ranking and its export, moderation, feedback, the audit trail). While a sheet is a
    draft, others see only that it exists and its state ("Scoring"); its draft saves are
    audited without their values (the submission records them). Reopening a submitted sheet
    makes it a draft again: the values it had when submitted stay on the audit trail, the new
    ones are its author's until submitted again. Only submitted sheets count in the ranking.
    Submitted scores and comments are seen by the panel members who chair the bid, the fund's
    managers and auditors (``assessment.view_call``), unless conflicted on the bid; applicants
    read the comments, unnamed, on their feedback once decisions are released.

Conflicts
    A person is conflicted on a bid when their own organisation leads, partners or commissions
    it, or they declared a conflict on it (``selectors.excluded_bid_ids``). A conflicted person
    sees no score, comment, moderation or decision of that bid in any channel: the bid's panel
    pages answer 404, and on the ranking and its export the bid keeps its place in the list (so
    the funding line is drawn where it falls for everyone) but shows only its reference, title,
    lead organisation and the money it asks for; its rank, score, criterion scores, gateways,
    moderation flags, running totals, tag against the line and decision are hidden ("Hidden:
    you are conflicted"). On a decided call's ranking its recorded decision is hidden the same
    way. The conflicts register is for the fund's managers and auditors.

Moderation
    Where assessors' scores on a criterion differ by more than the call's threshold, the chair
    records a moderated score and a rationale. Once decisions are released the applicant's
    feedback says which criteria were moderated and why moderation happens (the spread above the
    threshold), with the score used (``feedback_moderated_criteria``); the chair's rationale is
    for the panel, the fund's managers and auditors and the audit trail only, and is never shown
    to the applicant (the moderation form tells the chair so).

Panel decisions
    ``public_reason`` (required) is the decision's public text: the register's "Why", the API,
    360Giving, the CSV and XLSX open data, the applicant's feedback page and the release email.
    ``internal_rationale`` and ``departure_rationale`` never leave the panel, the fund's managers
    and its auditors (``INTERNAL_DECISION_FIELDS``), and never reach anyone conflicted on the
    bid. A decision is public once released (``public_decisions``): its own ``released_at`` and
    its call's ``decisions_released_at`` have passed, on a published call; when it was decided
    (``decided_at``) does not make it public. Before release a decision is seen only by those
    who see the call's ranking and are not conflicted on the bid.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from applications.models import Bid
from governance import fy
from governance.models import PUBLISHED_CALL_STATUSES, Call, CallStatus, Criterion, Pot, User

from . import selectors
from .models import Assignment, Clarification, Moderation, PanelDecision, Score, SheetStatus

HIDDEN_CONFLICTED = "Hidden: you are conflicted"
NOT_SUBMITTED = "Not submitted yet"

# The fields of a decision anyone may read once it is public, and those that never leave the
# panel, the fund's managers and its auditors.
PUBLIC_DECISION_FIELDS = (
    "outcome", "amount_approved", "public_reason", "conditions", "rank", "score", "criterion_scores",
    "above_funding_line", "departs_from_ranking", "decided_at", "released_at",
)
INTERNAL_DECISION_FIELDS = ("internal_rationale", "departure_rationale", "excluded_members", "decided_by")


# Decisions: what is public --------------------------------------------------------------------------


def _released(prefix: str, now: dt.datetime) -> Q:
    return Q(**{
        f"{prefix}released_at__isnull": False, f"{prefix}released_at__lte": now,
        f"{prefix}bid__call__decisions_released_at__isnull": False,
        f"{prefix}bid__call__decisions_released_at__lte": now,
        f"{prefix}bid__call__status__in": PUBLISHED_CALL_STATUSES,
    })


def public_decisions(queryset: QuerySet[PanelDecision] | None = None, now: dt.datetime | None = None) -> QuerySet[PanelDecision]:
    """The decisions that are public as of ``now``: released (by their release, not by when
    they were decided), with their call's decisions released, on a published call."""
    queryset = PanelDecision.objects.all() if queryset is None else queryset
    return queryset.filter(_released("", now or timezone.now()))


def unpublic_decisions(now: dt.datetime | None = None) -> QuerySet[PanelDecision]:
    """Every decision ``public_decisions`` leaves out: for channels that exclude them (the
    register writes its public awards as exclusions, which PostgreSQL answers faster)."""
    return PanelDecision.objects.exclude(_released("", now or timezone.now()))


def released_decision(user: User, bid) -> PanelDecision | None:
    """The bid's decision if it is public; the feedback page checks the person may read it."""
    if not user.is_authenticated:
        return None
    return public_decisions(PanelDecision.objects.filter(bid=bid)).first()


def feedback_moderated_criteria(bid, decision: PanelDecision) -> set[int]:
    """The criteria of a released decision's bid whose score the panel moderated: the applicant
    is told that (and why moderation happens), never the chair's rationale."""
    if decision is None or not public_decisions(PanelDecision.objects.filter(pk=decision.pk)).exists():
        return set()
    return set(Moderation.objects.filter(bid=bid).values_list("criterion_id", flat=True))


def feedback_decisions_for(user: User) -> QuerySet[PanelDecision]:
    """Public decisions on bids led by the person's organisations: their feedback."""
    if not user.is_authenticated:
        return PanelDecision.objects.none()
    return (
        public_decisions(PanelDecision.objects.filter(bid__lead_organisation__memberships__user=user))
        .select_related("bid__call").distinct().order_by("-released_at", "bid__reference")
    )


def may_see_internal_rationale(user: User, decision: PanelDecision, *, excluded: bool | None = None) -> bool:
    """The panel who chair the bid, the fund's managers and auditors (``assessment.view_call``),
    unless conflicted on the bid. ``excluded``: the person's conflict on the bid, when known."""
    if not user.is_authenticated:
        return False
    call = decision.bid.call
    if not user.has_perm("assessment.view_call", call):
        return False
    if excluded is None:
        excluded = decision.bid_id in selectors.excluded_bid_ids(user, call, [decision.bid])
    return not excluded


@dataclass
class DecisionView:
    """A decision as one person may read it: ``internal_rationale`` and ``departure_rationale``
    are empty unless they may see them (``show_internal``)."""

    decision: PanelDecision
    show_internal: bool

    def __getattr__(self, name):
        if name.startswith("_") or name in ("decision", "show_internal"):
            raise AttributeError(name)
        if name in INTERNAL_DECISION_FIELDS and not self.show_internal:
            return ""
        return getattr(self.decision, name)

    @property
    def internal_rationale(self) -> str:
        return self.decision.internal_rationale if self.show_internal else ""

    @property
    def departure_rationale(self) -> str:
        return self.decision.departure_rationale if self.show_internal else ""

    @property
    def public_reason(self) -> str:
        return self.decision.public_reason

    def get_outcome_display(self) -> str:
        return self.decision.get_outcome_display()


def decision_view(user: User, decision: PanelDecision | None, *, excluded: bool | None = None) -> DecisionView | None:
    """The decision for the panel's own pages: the internal notes for those who may see them."""
    if decision is None:
        return None
    return DecisionView(decision, may_see_internal_rationale(user, decision, excluded=excluded))


def public_decision_view(decision: PanelDecision | None) -> DecisionView | None:
    """The decision as the applicant and the public read it: never the internal notes."""
    return None if decision is None else DecisionView(decision, show_internal=False)


# Score sheets ----------------------------------------------------------------------------------------


def sheet_visible_to(user: User, assignment: Assignment) -> bool:
    """A sheet's scores and comments: its author's always; anyone else's once submitted."""
    sheet = getattr(assignment, "sheet", None)
    if sheet is None:
        return False
    return sheet.status == SheetStatus.SUBMITTED or (user.is_authenticated and assignment.assessor_id == user.pk)


def visible_scores_q(user: User, prefix: str = "") -> Q:
    """Scores whose sheet is submitted, or the person's own (for a ``Score`` query; ``prefix``
    to reach the score from another model)."""
    submitted = Q(**{f"{prefix}sheet__status": SheetStatus.SUBMITTED})
    if not user.is_authenticated:
        return submitted
    return submitted | Q(**{f"{prefix}sheet__assignment__assessor": user})


@dataclass
class SheetView:
    """One assessor's sheet on a bid as the viewer may see it: the scores only when visible."""

    assignment: Assignment
    scores: dict[int, Score]
    visible: bool

    @property
    def submitted(self) -> bool:
        sheet = getattr(self.assignment, "sheet", None)
        return sheet is not None and sheet.status == SheetStatus.SUBMITTED


def panel_sheets(user: User, bid) -> list[SheetView]:
    """The bid's live sheets for its panel pages: draft sheets of others show no scores or
    comments. The views have already refused anyone conflicted on the bid (404)."""
    result = []
    for item in selectors.bid_sheets(bid):
        visible = sheet_visible_to(user, item.assignment)
        result.append(SheetView(item.assignment, item.scores if visible else {}, visible))
    return result


# The ranking -----------------------------------------------------------------------------------------


def _hide_row(row: selectors.RankedBid) -> None:
    row.excluded = True
    row.result = None
    row.decision = None
    row.rank = None
    row.above_line = None
    row.running = {}
    row.overspent_years = []
    for cell in row.cells:
        cell.running, cell.overspent = None, False


def ranking_for(user: User, call: Call, criteria: list[Criterion] | None = None) -> selectors.CallRanking:
    """The call's ranking as the person may see it (the page and every export of it): rows of
    bids they are conflicted on keep their place in the list but show no rank, score, flag,
    running total, tag against the line or decision. Each row also says whether the person
    chairs it (``row.chaired``); ``excluded`` holds the ids of the hidden bids."""
    table = selectors.call_ranking(call, criteria)
    bids = [row.bid for row in table.all_rows]
    excluded = selectors.excluded_bid_ids(user, call, bids)
    chaired = selectors.bids_chaired_by(user, call, bids, excluded=excluded)
    for row in table.all_rows:
        row.chaired = row.bid.pk in chaired
        if row.bid.pk in excluded:
            _hide_row(row)
    table.excluded = excluded
    return table


@dataclass
class DecidedRow:
    """A decision on a decided call's ranking, or its place only when the viewer is conflicted."""

    decision: PanelDecision | None
    bid: Bid
    hidden: bool


@dataclass
class DecidedPot:
    pot: Pot | None
    rows: list[DecidedRow] = field(default_factory=list)


def decided_ranking_for(user: User, call: Call) -> list[DecidedPot]:
    """The recorded decisions of a decided call by pot and rank, as the person may see them:
    decisions on bids they are conflicted on are hidden (their rank too)."""
    decisions = selectors.decisions_in_rank_order(call)
    excluded = selectors.excluded_bid_ids(user, call, [d.bid for d in decisions])
    pots: dict[int | None, DecidedPot] = {}
    for decision in decisions:
        pot = pots.setdefault(decision.bid.pot_id, DecidedPot(decision.bid.pot))
        hidden = decision.bid_id in excluded
        pot.rows.append(DecidedRow(None if hidden else decision, decision.bid, hidden))
    return list(pots.values())


def call_is_decided(call: Call) -> bool:
    return call.status != CallStatus.ASSESSMENT


@dataclass
class RankingExport:
    header: list[str]
    rows: list[list[Any]]


def ranking_export(user: User, call: Call, criteria: list[Criterion]) -> RankingExport:
    """The ranking as the person sees it on the page, as rows for a CSV (or any other file).
    A decided call exports its recorded decisions, as its page shows them."""
    if call_is_decided(call):
        header = ["Pot", "Rank", "Reference", "Title", "Lead organisation", "Score (0-100)", "Funding line",
                  "Departs from the ranking", "Decision", "Amount approved (£)"]
        rows: list[list[Any]] = []
        for decided in decided_ranking_for(user, call):
            for decided_row in decided.rows:
                bid, d = decided_row.bid, decided_row.decision
                if decided_row.hidden or d is None:  # hidden: no decision shown
                    rows.append([decided.pot.name if decided.pot else "", "", bid.reference, bid.title,
                                 bid.lead_organisation.name, HIDDEN_CONFLICTED, "", "", "", ""])
                    continue
                line = ("Above" if d.above_funding_line else "Not recorded" if d.above_funding_line is None
                        else "Below")
                rows.append([
                    decided.pot.name if decided.pot else "", d.rank or "", bid.reference, bid.title, bid.lead_organisation.name,
                    d.score if d.score is not None else "", line, "yes" if d.departs_from_ranking else "no",
                    d.get_outcome_display(), f"{d.amount_approved:.2f}" if d.amount_approved is not None else "",
                ])
        return RankingExport(header, rows)

    table = ranking_for(user, call, criteria)
    years = table.years
    header = ["Pot", "Rank", "Reference", "Title", "Lead organisation", "Score (0-100)",
              *[f"{c.title} (score used)" for c in criteria], "Gateways met", "Moderation needed",
              "Recommendation",
              *[f"Asked for {fy.label(y)} (£)" for y in years], *[f"Running total {fy.label(y)} (£)" for y in years],
              *[f"Pot remaining {fy.label(y)} (£)" for y in years], "Decision", "Amount approved (£)"]
    rows = []
    for pot in table.pots:
        remaining = {y.financial_year: y.remaining for y in pot.years}
        for row in (*pot.rows, *pot.unscored):
            used = {c.criterion.id: c.used for c in row.result.criteria} if row.result else {}
            decision = row.decision
            scores: list[Any]
            if row.excluded:
                scores = [HIDDEN_CONFLICTED, *["" for _ in criteria], "", "", HIDDEN_CONFLICTED]
            elif not row.complete:
                # The page lists it as still being scored, with no score: so does the file.
                scores = ["", *["" for _ in criteria], "", "", row.recommended]
            else:
                scores = [
                    row.score if row.score is not None else "",
                    *[used.get(c.pk) if used.get(c.pk) is not None else "" for c in criteria],
                    ("yes" if row.fundable else "no") if row.result and row.score is not None else "",
                    "yes" if row.needs_moderation else "no", row.recommended,
                ]
            rows.append([
                pot.pot.name if pot.pot else "", row.rank or "", row.bid.reference, row.bid.title, row.bid.lead_organisation.name,
                *scores,
                *[f"{row.requested.get(y, 0):.2f}" for y in years],
                *[f"{row.running[y]:.2f}" if row.rank and y in row.running else "" for y in years],
                *[f"{remaining[y]:.2f}" if y in remaining else "" for y in years],
                decision.get_outcome_display() if decision else "",
                f"{decision.amount_approved:.2f}" if decision and decision.amount_approved is not None else "",
            ])
    return RankingExport(header, rows)


# Clarification questions ------------------------------------------------------------------------------
#
# A clarification and its reply are part of the bid for the people who read the bid through
# assessment: the applicant's organisation (who answer), an assessor assigned to the bid with no
# conflict declared and the chair who chairs it (``selectors.panel_reads_bid``), and the call's
# managers and auditors unless conflicted on the bid. Anyone conflicted on the bid, declared or
# automatic, never sees them, in any channel (pages, the reply's file, the PDF of the bid).


def may_see_clarifications(user: User, bid) -> bool:
    if not user.is_authenticated:
        return False
    if user.has_perm("assessment.reply_clarifications_of", bid):
        return True
    call = bid.call
    if selectors.is_excluded(user, call, bid):
        return False
    return selectors.panel_reads_bid(user, bid) or user.has_perm("assessment.view_call", call)


def clarifications_visible_to(user: User, bid) -> QuerySet[Clarification]:
    if not may_see_clarifications(user, bid):
        return Clarification.objects.none()
    return Clarification.objects.filter(bid=bid).select_related("asked_by", "replied_by")


def clarification_visible_to(user: User, pk: int) -> Clarification | None:
    found = Clarification.objects.select_related("bid__call__fund", "bid__lead_organisation", "bid__pot").filter(pk=pk).first()
    if found is None or not may_see_clarifications(user, found.bid):
        return None
    return found
