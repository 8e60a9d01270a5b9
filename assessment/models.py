"""Assessment: assignments, conflict declarations, score sheets, moderation and decisions."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils import timezone

from applications.models import Bid
from governance.models import Criterion, Fund, PanelMember
from governance.money import money_field
from governance.status_tags import status_tags
from governance.uploads import ScanStatus, stored_extension


class AssignmentStatus(models.TextChoices):
    AWAITING_DECLARATION = "awaiting_declaration", "Conflict declaration needed"
    ACTIVE = "active", "Scoring"
    CONFLICTED = "conflicted", "Removed: conflict of interest"
    WITHDRAWN = "withdrawn", "Withdrawn"


def _assignment_state(assignment) -> str:
    """Once an assessor may score, the tag follows their score sheet."""
    if assignment.status != AssignmentStatus.ACTIVE:
        return assignment.status
    try:
        sheet = assignment.sheet
    except ObjectDoesNotExist:
        return "not_started"
    return "submitted" if sheet.status == "submitted" else AssignmentStatus.ACTIVE


status_tags("assignment", AssignmentStatus, state=_assignment_state, colours={
    AssignmentStatus.AWAITING_DECLARATION: "blue", AssignmentStatus.ACTIVE: "yellow",
    AssignmentStatus.CONFLICTED: "red", AssignmentStatus.WITHDRAWN: "grey", "submitted": "green", "not_started": "white",
}, labels={
    AssignmentStatus.AWAITING_DECLARATION: "Declaration needed", AssignmentStatus.CONFLICTED: "Conflict declared",
    "submitted": "Submitted", "not_started": "Not started",
})
# An assessor's queue names each bid's next step in words (``assessment.selectors``).
status_tags("queue_step", colours={
    "Declare any conflict": "blue", "Not started": "white", "In progress": "yellow", "Submitted": "green",
})

class Assignment(models.Model):
    """An assessor asked to score one bid. They see its content only after declaring no conflict."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="assignments")
    assessor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments")
    status = models.CharField(max_length=30, choices=AssignmentStatus.choices, default=AssignmentStatus.AWAITING_DECLARATION)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    due_date = models.DateField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    reminded_at = models.DateTimeField(
        null=True, blank=True, help_text="When the assessor was reminded that their scores are due (once)."
    )

    class Meta:
        ordering = ["bid", "assigned_at"]
        constraints = [
            # One live assignment per assessor per bid; a withdrawn one may be followed by another.
            models.UniqueConstraint(
                fields=["bid", "assessor"], condition=~Q(status="withdrawn"), name="assignment_one_live_per_assessor"
            ),
        ]
        indexes = [models.Index(fields=["assessor", "status"])]

    def __str__(self) -> str:
        return f"{self.assessor} on {self.bid.reference}"

    @property
    def audit_fund(self) -> Fund:
        return self.bid.call.fund


class ConflictKind(models.TextChoices):
    EMPLOYER = "employer", "Employer"
    FINANCIAL = "financial", "Financial"
    PERSONAL = "personal", "Personal"
    PROFESSIONAL = "professional", "Professional"
    OTHER = "other", "Other"


class ConflictDeclaration(models.Model):
    """An assessor's declaration on a bid; the fund's conflicts register lists these."""

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="declaration")
    has_conflict = models.BooleanField()
    kind = models.CharField(max_length=20, choices=ConflictKind.choices, blank=True)
    description = models.TextField(blank=True)
    declared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(has_conflict=False) | ~Q(kind=""), name="conflict_has_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment}: {'conflict' if self.has_conflict else 'no conflict'}"

    @property
    def audit_fund(self) -> Fund:
        return self.assignment.bid.call.fund


class SheetStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"


class ScoreSheet(models.Model):
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="sheet")
    status = models.CharField(max_length=20, choices=SheetStatus.choices, default=SheetStatus.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reopened_reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Score sheet: {self.assignment}"

    @property
    def audit_fund(self) -> Fund:
        return self.assignment.bid.call.fund


class Score(models.Model):
    """One criterion's score and comment on a sheet. A draft may lack either; a submitted
    sheet has both for every criterion (``score_sheet_submit`` checks)."""

    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="scores")
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sheet", "criterion"], name="score_one_per_criterion")]

    def __str__(self) -> str:
        return f"{self.criterion.title}: {self.score}"


class Moderation(models.Model):
    """The panel chair's agreed score on a criterion where assessors disagreed."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="moderations")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="moderations")
    score = models.DecimalField(max_digits=4, decimal_places=2)
    rationale = models.TextField()
    moderated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    moderated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bid", "criterion"], name="moderation_one_per_criterion")]

    def __str__(self) -> str:
        return f"{self.bid.reference} {self.criterion.title}: moderated to {self.score}"

    @property
    def audit_fund(self) -> Fund:
        return self.bid.call.fund


class DecisionOutcome(models.TextChoices):
    FUND = "fund", "Fund"
    FUND_WITH_CONDITIONS = "fund_with_conditions", "Fund with conditions"
    NOT_FUND = "not_fund", "Do not fund"


status_tags("decision", DecisionOutcome, colours={
    DecisionOutcome.FUND: "green", DecisionOutcome.FUND_WITH_CONDITIONS: "aqua-green", DecisionOutcome.NOT_FUND: "orange",
})

FUNDING_OUTCOMES = frozenset({DecisionOutcome.FUND, DecisionOutcome.FUND_WITH_CONDITIONS})


class PanelDecision(models.Model):
    bid = models.OneToOneField(Bid, on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField(max_length=30, choices=DecisionOutcome.choices)
    amount_approved = money_field(null=True, blank=True)
    public_reason = models.TextField(
        help_text="Why the panel decided this, in words fit to publish: the register, the API, 360Giving, the open "
                  "data and the applicant's feedback show it. Required.",
    )
    internal_rationale = models.TextField(
        blank=True,
        help_text="The panel's own note: seen only by the panel, the fund's managers and its auditors, never published "
                  "(see assessment.visibility).",
    )
    conditions = models.JSONField(default=list, blank=True, help_text="Conditions of funding, one text each.")
    rank = models.PositiveIntegerField(null=True, blank=True, help_text="The bid's rank when decided.")
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True, help_text="0-100 when decided.")
    criterion_scores = models.JSONField(
        default=dict, blank=True,
        help_text="Snapshot when decided: criterion id -> the score the panel used (mean or moderated), as text.",
    )
    above_funding_line = models.BooleanField(null=True)
    departs_from_ranking = models.BooleanField(default=False)
    departure_rationale = models.TextField(
        blank=True, help_text="Why the panel departs from the ranking and funding line (required when it does). "
                              "Internal, like the rationale: the public reason says what may be published.",
    )
    excluded_members = models.ManyToManyField(PanelMember, blank=True, related_name="excluded_from_decisions")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_approved__isnull=True) | Q(amount_approved__gte=0), name="decision_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(departs_from_ranking=False) | ~Q(departure_rationale=""), name="decision_departure_explained"
            ),
            models.CheckConstraint(condition=~Q(public_reason=""), name="decision_has_public_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.bid.reference}: {self.get_outcome_display()}"

    @property
    def audit_fund(self) -> Fund:
        return self.bid.call.fund

    @property
    def is_funded(self) -> bool:
        return self.outcome in FUNDING_OUTCOMES


# Clarification questions to the applicant during assessment ----------------------------------------


def clarification_attachment_path(instance: Clarification, filename: str) -> str:
    return (f"bids/{instance.bid_id}/clarifications/{instance.pk or 'new'}-{timezone.now():%Y%m%d%H%M%S}"
            f"{stored_extension(filename)}")


class Clarification(models.Model):
    """A question an assessor or the chair asks the applicant, with a date to reply by. The reply
    is read by the panel with the bid; anyone conflicted on the bid never sees either
    (``visibility.clarifications_visible_to``). While a question waits for its reply, and its
    reply-by date has not passed, the bid's score sheets cannot be submitted."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="clarifications")
    question = models.TextField()
    reply_by = models.DateField()
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    reply = models.TextField(blank=True)
    replied_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    replied_at = models.DateTimeField(null=True, blank=True)
    attachment = models.FileField(upload_to=clarification_attachment_path, blank=True, max_length=300)
    attachment_name = models.CharField(max_length=200, blank=True)
    attachment_type = models.CharField(max_length=120, blank=True)
    attachment_size = models.PositiveIntegerField(null=True, blank=True)
    attachment_sha256 = models.CharField(max_length=64, blank=True)
    attachment_scan_status = models.CharField(max_length=20, choices=ScanStatus.choices, default=ScanStatus.AVAILABLE)

    class Meta:
        ordering = ["asked_at", "pk"]
        indexes = [models.Index(fields=["bid", "replied_at"])]

    def __str__(self) -> str:
        return f"Clarification on {self.bid.reference}: {self.question[:40]}"

    @property
    def audit_fund(self) -> Fund:
        return self.bid.call.fund

    @property
    def answered(self) -> bool:
        return self.replied_at is not None

    def is_waiting(self, today=None) -> bool:
        """No reply yet and the reply-by date has not passed: scoring waits for it."""
        today = today or timezone.localdate()
        return not self.answered and today <= self.reply_by

    def is_lapsed(self, today=None) -> bool:
        today = today or timezone.localdate()
        return not self.answered and today > self.reply_by
