"""Assessors: their queue and their own assignments, and what the applicant wrote beside each
criterion they score.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from applications.models import Bid, BidStatus
from governance import fy
from governance.models import CallStatus, Criterion, User
from governance.selectors import calls_managed_by

from ..models import (
    Assignment,
    AssignmentStatus,
    PanelDecision,
    Score,
    ScoreSheet,
    SheetStatus,
)
from ._shared import ASSESSED_BID_STATUSES, LIVE_STATUSES
from .conflicts import bids_chaired_by

# Assessors: their queue and their own assignments ---------------------------------------------


def assignment_of(user: User, pk: int) -> Assignment | None:
    """One of the person's own assignments (withdrawn ones are gone from their view), else None."""
    if not user.is_authenticated:
        return None
    return (
        Assignment.objects.filter(pk=pk, assessor=user)
        .exclude(status=AssignmentStatus.WITHDRAWN)
        .select_related(
            "bid__call__fund",
            "bid__call__panel",
            "bid__lead_organisation",
            "bid__commissioner",
            "bid__pot",
        )
        .first()
    )


def panel_reads_bid(user: User, bid: Bid) -> bool:
    """Who the assessment stage lets read a bid and its files (``register_bid_reader``): an
    assessor assigned to it who has declared no conflict, and the chair of the call's panel,
    who moderates and decides, once the bid is in assessment, unless conflicted on it."""
    if not user.is_authenticated:
        return False
    if Assignment.objects.filter(bid=bid, assessor=user, status=AssignmentStatus.ACTIVE).exists():
        return True
    call = bid.call
    if bid.status not in ASSESSED_BID_STATUSES or call.panel_id is None:
        return False
    return bid.pk in bids_chaired_by(user, call, [bid])


@dataclass
class QueueItem:
    assignment: Assignment
    criteria: int
    done: int

    @property
    def submitted(self) -> bool:
        sheet = getattr(self.assignment, "sheet", None)
        return sheet is not None and sheet.status == SheetStatus.SUBMITTED

    @property
    def state(self) -> str:
        if self.assignment.status == AssignmentStatus.AWAITING_DECLARATION:
            return "Declare any conflict"
        if self.submitted:
            return "Submitted"
        if self.done:
            return "In progress"
        return "Not started"

    @property
    def overdue(self) -> bool:
        due = self.assignment.due_date
        return due is not None and not self.submitted and due < timezone.localdate()


def assessor_queue(user: User) -> list[QueueItem]:
    """The person's assignments on calls in assessment: declaration needed, scoring (with how many
    criteria are scored and commented) or submitted; soonest due first. Three queries."""
    if not user.is_authenticated:
        return []
    done = Count(
        "sheet__scores",
        filter=Q(sheet__scores__score__isnull=False) & ~Q(sheet__scores__comment=""),
    )
    assignments = list(
        Assignment.objects.filter(
            assessor=user,
            status__in=LIVE_STATUSES,
            bid__status=BidStatus.IN_ASSESSMENT,
            bid__call__status=CallStatus.ASSESSMENT,
        )
        .select_related("bid__call", "bid__lead_organisation", "sheet")
        .annotate(done=done)
        .order_by("due_date", "bid__reference")
    )
    call_ids = {a.bid.call_id for a in assignments}
    counts = dict(
        Criterion.objects.filter(call_id__in=call_ids)
        .values_list("call_id")
        .annotate(n=Count("pk"))
    )
    return [QueueItem(a, counts.get(a.bid.call_id, 0), a.done) for a in assignments]


def assignments_managed_by(user: User) -> QuerySet[Assignment]:
    """Assignments on calls the person runs as a fund manager."""
    return Assignment.objects.filter(bid__call__in=calls_managed_by(user)).select_related(
        "bid__call__fund", "bid__lead_organisation", "assessor", "sheet"
    )


def decision_of(bid: Bid) -> PanelDecision | None:
    return PanelDecision.objects.filter(bid=bid).first()


def sheet_scores(assignment: Assignment) -> dict[int, Score]:
    sheet = ScoreSheet.objects.filter(assignment=assignment).first()
    if sheet is None:
        return {}
    return {score.criterion_id: score for score in sheet.scores.all()}


# What the applicant wrote, by criterion ---------------------------------------------------------

# For each kind of criterion, the parts of the bid an assessor needs beside it (keys below), and
# the headings in the whole bid (``applications/includes/bid_content.html``) to read more.
ANSWERS_BY_KIND = {
    "cost_saving": (
        ["savings_total", "projected_return", "savings_assumptions", "requested_total"],
        ["savings", "costs"],
    ),
    "patient_benefit": (["problem", "measures", "care_settings"], ["benefits", "pathway"]),
    "deliverability": (["dates", "delivery_plan", "milestones", "risks"], ["delivery", "risks"]),
    "scalability": (
        ["innovation", "evidence_base", "nice_evidence", "sustainability"],
        ["innovation", "delivery"],
    ),
    "collaboration": (["pathway", "partners", "commissioner"], ["partners", "pathway"]),
    "value_for_money": (
        ["requested_total", "match_funding", "savings_total", "projected_return"],
        ["costs", "savings"],
    ),
    "other": (["summary", "problem"], ["summary"]),
}
SECTION_LABELS = {
    "summary": "Project summary",
    "innovation": "The innovation",
    "pathway": "Care pathway",
    "partners": "Partners",
    "costs": "Costs",
    "savings": "Projected savings",
    "benefits": "Patient benefits",
    "delivery": "Delivery plan and milestones",
    "risks": "Risks",
}


def _answer(key: str, bid: Bid, content: dict[str, Any]) -> tuple[str, str]:
    """(label, text) of one part of the bid, as plain text (templates escape it)."""

    def money(amount: Decimal) -> str:
        return f"£{amount:,.2f}"

    if key == "savings_total":
        return "Projected savings", money(content["total_savings"])
    if key == "projected_return":
        value = content["projected_return"]
        return (
            "Projected return",
            f"£{value} of savings for each £1 asked for" if value is not None else "Not worked out",
        )
    if key == "savings_assumptions":
        lines = [
            f"{fy.label(s.financial_year)} {s.get_kind_display().lower()} {money(s.amount)}: {s.assumptions}"
            for s in content["savings"]
        ]
        return "Savings and their assumptions", "\n".join(lines) or "None given"
    if key == "requested_total":
        years = ", ".join(
            f"{fy.label(y)} {money(a)}" for y, a in content["requested_by_year"].items()
        )
        return (
            "Amount asked for",
            f"{money(content['total_requested'])}{f' ({years})' if years else ''}",
        )
    if key == "match_funding":
        return "Match funding", money(content["total_match_funding"])
    if key == "problem":
        return "The problem it solves", bid.problem or "Not given"
    if key == "summary":
        return "Summary", bid.summary or "Not given"
    if key == "measures":
        lines = [
            f"{m.name}: from {m.baseline.normalize():f} to {m.target.normalize():f} {m.unit} by {m.target_date:%-d %B %Y}"
            for m in content["measures"]
        ]
        return "Patient-benefit measures", "\n".join(lines) or "None given"
    if key == "care_settings":
        return "Settings covered", ", ".join(content["care_setting_labels"]) or "Not given"
    if key == "dates":
        dates = (
            f"{bid.start_date:%-d %B %Y} to {bid.end_date:%-d %B %Y}"
            if bid.start_date and bid.end_date
            else "Not given"
        )
        return "Dates", dates
    if key == "delivery_plan":
        return "Delivery plan", bid.delivery_plan or "Not given"
    if key == "milestones":
        lines = [f"{m.due_date:%-d %b %Y}: {m.title}" for m in content["milestones"]]
        return "Milestones", "\n".join(lines) or "None given"
    if key == "risks":
        lines = [
            f"{r.description} (likelihood {r.get_likelihood_display().lower()}, impact "
            f"{r.get_impact_display().lower()}). Managed by: {r.mitigation}"
            for r in content["risks"]
        ]
        return "Risks", "\n".join(lines) or "None given"
    if key == "innovation":
        label = content["innovation_type_label"]
        return (
            "The innovation",
            f"{label}: {bid.innovation_description}"
            if label
            else bid.innovation_description or "Not given",
        )
    if key == "evidence_base":
        return "Evidence base", bid.evidence_base or "Not given"
    if key == "nice_evidence":
        return "NICE or other evidence", bid.nice_evidence or "None given"
    if key == "sustainability":
        return "Sustainability", bid.sustainability_plan or "Not given"
    if key == "pathway":
        return "The care pathway", bid.pathway_description or "Not given"
    if key == "partners":
        lines = [
            f"{p.organisation.name} ({p.get_role_display().lower()}): {p.contribution}"
            for p in content["partners"]
        ]
        return "Partners", "\n".join(lines) or "None"
    if key == "commissioner":
        if bid.commissioner is None:
            return "Commissioner", "None named"
        comment = f"\n{bid.endorsement_comment}" if bid.endorsement_comment else ""
        return (
            "Commissioner",
            f"{bid.commissioner.name} ({bid.get_endorsement_status_display().lower()}){comment}",
        )
    raise KeyError(key)


def criterion_answers(criterion: Criterion, bid: Bid, content: dict[str, Any]) -> dict[str, Any]:
    """The applicant's answers relevant to a criterion, with links to read more in the bid."""
    keys, sections = ANSWERS_BY_KIND.get(criterion.kind, ANSWERS_BY_KIND["other"])
    return {
        "answers": [_answer(key, bid, content) for key in keys],
        "sections": [(section, SECTION_LABELS[section]) for section in sections],
    }
