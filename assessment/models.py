"""Assessment: assignments, conflict declarations, score sheets, moderation and decisions."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils import timezone

from applications.models import Bid
from governance import fy
from governance.models import Call, Criterion, Expertise, Fund, Organisation, PanelMember
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


status_tags("sheet", SheetStatus, colours={SheetStatus.DRAFT: "yellow", SheetStatus.SUBMITTED: "green", "not_started": "white"},
            labels={"not_started": "Not started"})


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


# Where a bid stands against its pot's funding line on the ranking.
status_tags("funding_line", colours={"gateway_not_met": "orange", "above": "green", "below": "grey"},
            labels={"gateway_not_met": "Gateway not met", "above": "Above the line", "below": "Below the line"})


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


# A clarification question's tag while it has no reply: waiting, or past its reply-by date.
status_tags("clarification", colours={"waiting": "yellow", "no_reply": "grey"},
            labels={"waiting": "Waiting for a reply", "no_reply": "No reply"})


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


# The assessor pool ----------------------------------------------------------------------------------------


CONFIDENTIALITY_TERMS_VERSION = "2026-1"
CONFIDENTIALITY_TERMS = (
    "I will keep every bid, score and discussion I see as an assessor confidential: I will not copy, share or use "
    "them for anything but assessing the bids I am asked to assess, and I will delete any copies once the panel has "
    "decided. I will declare any conflict of interest as soon as I know of it."
)


# An assessor's declaration in the pool: current until it lapses, or never made.
status_tags("declaration", colours={"current": "green", "lapsed": "red", "not_made": "grey"},
            labels={"current": "Current", "lapsed": "Lapsed", "not_made": "Not made"})


class AssessorProfile(models.Model):
    """A person who may be asked to assess: their expertise, organisation, declared interests,
    yearly declaration (lapses on 6 April: ``governance.fy.declaration_lapses_on``) and the
    confidentiality terms they accepted."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assessor_profile")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                     help_text="Where the person works: they never assess its bids.")
    expertise = models.ManyToManyField(Expertise, blank=True, related_name="assessors")
    interests = models.TextField("declared interests", blank=True,
                                 help_text="Roles, shareholdings, consultancies, relatives: anything a bidder might raise.")
    interest_organisations = models.ManyToManyField(
        Organisation, blank=True, related_name="assessor_interests",
        help_text="Organisations the person has an interest in: they are never assigned those organisations' bids.",
    )
    declared_at = models.DateTimeField(null=True, blank=True)
    declaration_lapses_on = models.DateField(null=True, blank=True)
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    terms_version = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["user__full_name"]

    def __str__(self) -> str:
        return f"Assessor profile: {self.user}"

    def declaration_current(self, today=None) -> bool:
        today = today or timezone.localdate()
        return bool(self.declaration_lapses_on and self.declaration_lapses_on > today)

    @property
    def terms_current(self) -> bool:
        return bool(self.terms_accepted_at and self.terms_version == CONFIDENTIALITY_TERMS_VERSION)

    def ready(self, today=None) -> bool:
        """Has a current declaration, accepted the current terms and can sign in."""
        return self.user.is_active and self.declaration_current(today) and self.terms_current

    @staticmethod
    def lapse_date_for(day) -> object:
        return fy.declaration_lapses_on(day)


class PoolEntry(models.Model):
    """A person in a network's assessor pool."""

    network = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="pool_entries",
                                limit_choices_to={"kind": "hin"})
    profile = models.ForeignKey(AssessorProfile, on_delete=models.CASCADE, related_name="pool_entries")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["network", "profile__user__full_name"]
        constraints = [models.UniqueConstraint(fields=["network", "profile"], name="pool_entry_unique")]

    def __str__(self) -> str:
        return f"{self.profile.user} in {self.network}'s pool"


class PoolShare(models.Model):
    """A network lets another network's fund managers invite from its pool (both agreed)."""

    network = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="pool_shares_given")
    shared_with = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="pool_shares_received")
    agreed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    agreed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["network", "shared_with"], name="pool_share_unique"),
            models.CheckConstraint(condition=~Q(network=models.F("shared_with")), name="pool_share_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.network} shares its pool with {self.shared_with}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Waiting for an answer"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"


status_tags("invitation", InvitationStatus, colours={
    InvitationStatus.PENDING: "blue", InvitationStatus.ACCEPTED: "green", InvitationStatus.DECLINED: "red",
    InvitationStatus.EXPIRED: "grey",
})


class DeclineReason(models.TextChoices):
    NOT_AVAILABLE = "not_available", "Not available"
    CONFLICT = "conflict", "Conflict of interest"
    NOT_MY_AREA = "not_my_area", "Not my area"


class AssessorInvitation(models.Model):
    """A pool member asked to assess a call's bids: they accept or decline (with a reason)
    before the invitation expires. Only those who accepted are assigned bids."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="assessor_invitations")
    invitee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assessor_invitations")
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=20, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    decline_reason = models.CharField(max_length=20, choices=DeclineReason.choices, blank=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, help_text="When the invitee was reminded (once).")

    class Meta:
        ordering = ["call", "invitee__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["call", "invitee"], name="assessor_invitation_one_per_call"),
            models.CheckConstraint(condition=~Q(status="declined") | ~Q(decline_reason=""),
                                   name="assessor_invitation_decline_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.invitee} invited to assess {self.call}"

    @property
    def audit_fund(self) -> Fund:
        return self.call.fund

    def is_expired(self, now=None) -> bool:
        return self.status == InvitationStatus.EXPIRED or (
            self.status == InvitationStatus.PENDING and self.expires_at <= (now or timezone.now()))


# Panel packs --------------------------------------------------------------------------------------------


class PackStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to be built"
    RUNNING = "running", "Being built"
    READY = "ready", "Ready to download"
    FAILED = "failed", "Failed"


status_tags("pack", PackStatus, colours={
    PackStatus.QUEUED: "blue", PackStatus.RUNNING: "blue", PackStatus.READY: "green", PackStatus.FAILED: "red",
})


def pack_path(instance: PanelPack, filename: str) -> str:
    return f"panel-packs/{instance.call_id}/{instance.pk}-{uuid.uuid4().hex[:12]}.zip"


class PanelPack(models.Model):
    """A zip of the bids one person may see on a call (or one bid): each bid's PDF and its
    attachments, named by reference. Built by a worker; downloaded only by who asked for it."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="panel_packs")
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                            help_text="Empty: every bid the person may see.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="panel_packs")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=PackStatus.choices, default=PackStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    references = models.JSONField(default=list, blank=True, help_text="The bids in the pack.")
    file = models.FileField(upload_to=pack_path, max_length=300, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"Panel pack {self.pk} for {self.call}"

    @property
    def audit_fund(self) -> Fund:
        return self.call.fund

    @property
    def download_name(self) -> str:
        return f"panel-pack-{self.bid.reference if self.bid is not None else self.call.slug}.zip"
