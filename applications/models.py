"""Bids and everything written in them: partners, costs, savings, benefits, plans, files."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from governance import fy
from governance.models import Call, Fund, Organisation, PartnerKind, Pot
from governance.money import money_field
from governance.status_tags import status_tags
from governance.uploads import ScanStatus, stored_extension


class BidStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    WITHDRAWN = "withdrawn", "Withdrawn"
    INELIGIBLE = "ineligible", "Ineligible"
    IN_ASSESSMENT = "in_assessment", "In assessment"
    FUNDED = "funded", "Funded"
    NOT_FUNDED = "not_funded", "Not funded"


# A bid in one of these states can no longer be changed by its applicants.
LOCKED_BID_STATUSES = frozenset(BidStatus.values) - {BidStatus.DRAFT}


status_tags("bid", BidStatus, colours={
    BidStatus.DRAFT: "grey", BidStatus.SUBMITTED: "blue", BidStatus.WITHDRAWN: "orange", BidStatus.INELIGIBLE: "red",
    BidStatus.IN_ASSESSMENT: "purple", BidStatus.FUNDED: "green", BidStatus.NOT_FUNDED: "yellow",
})

class EndorsementStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", "Not required"
    NOT_REQUESTED = "not_requested", "Not requested yet"
    PENDING = "pending", "Waiting for the commissioner"
    ENDORSED = "endorsed", "Endorsed"
    DECLINED = "declined", "Declined"


status_tags("endorsement", EndorsementStatus, colours={
    EndorsementStatus.NOT_REQUIRED: "grey", EndorsementStatus.NOT_REQUESTED: "grey", EndorsementStatus.PENDING: "yellow",
    EndorsementStatus.ENDORSED: "green", EndorsementStatus.DECLINED: "red",
})


class CareSetting(models.TextChoices):
    PRIMARY = "primary", "Primary care"
    COMMUNITY = "community", "Community care"
    SECONDARY = "secondary", "Secondary care"
    TERTIARY = "tertiary", "Tertiary care"
    SOCIAL_CARE = "social_care", "Social care"
    HOME = "home", "Patients at home"


# A draft whose call has closed can never be submitted: it is counted and shown as this.
NOT_SUBMITTED_LABEL = "Not submitted (call closed)"


class Bid(models.Model):
    # Per-request caches on the instance, not stored (applications.rules and .visibility).
    _team_roles: tuple[int, str | None]
    _found_visible_by: int
    _memberships: tuple[int, set[int]]

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="bids")
    lead_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="led_bids")
    pot = models.ForeignKey(
        Pot, on_delete=models.PROTECT, null=True, blank=True, related_name="bids",
        help_text="The pot the bid competes for: its region's (ring-fenced) or the national pot.",
    )
    reference = models.CharField(max_length=30, unique=True, help_text="Like HISW-2627-0007.")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=BidStatus.choices, default=BidStatus.DRAFT)
    # Project summary
    summary = models.TextField(blank=True)
    problem = models.TextField("the problem it solves", blank=True)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    # The innovation
    innovation_type = models.CharField(max_length=20, blank=True)
    innovation_description = models.TextField(blank=True)
    evidence_base = models.TextField(blank=True)
    nice_evidence = models.TextField("NICE or other evidence", blank=True)
    # Care pathway
    care_settings = models.JSONField(default=list, blank=True, help_text="CareSetting values covered.")
    pathway_description = models.TextField(blank=True)
    # Delivery
    delivery_plan = models.TextField(blank=True)
    sustainability_plan = models.TextField(blank=True)
    # Commissioner endorsement
    commissioner = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="bids_to_endorse",
    )
    endorsement_status = models.CharField(
        max_length=20, choices=EndorsementStatus.choices, default=EndorsementStatus.NOT_REQUESTED
    )
    endorsement_comment = models.TextField(blank=True)
    endorsed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    endorsed_at = models.DateTimeField(null=True, blank=True)
    # Declarations and submission
    declarations_accepted_at = models.DateTimeField(null=True, blank=True)
    declarations_accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bids_created")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    ineligible_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(start_date__isnull=True) | Q(end_date__gt=models.F("start_date")),
                name="bid_dates_in_order",
            ),
        ]
        indexes = [models.Index(fields=["call", "status"]), models.Index(fields=["lead_organisation", "status"])]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("applications:bid_detail", kwargs={"pk": self.pk})

    @property
    def audit_fund(self) -> Fund:
        return self.call.fund

    @property
    def is_editable(self) -> bool:
        return self.status == BidStatus.DRAFT

    def status_label(self, now=None) -> str:
        """The state as people should read it: a draft left when its call closed was not submitted."""
        if self.status == BidStatus.DRAFT and (now or timezone.now()) >= self.call.closes_at:
            return NOT_SUBMITTED_LABEL
        return self.get_status_display()

    @property
    def status_display(self) -> str:
        return self.status_label()

    @property
    def years(self) -> list[int]:
        if self.start_date and self.end_date:
            return fy.years_spanning(self.start_date, self.end_date)
        return []


class BidSection(models.TextChoices):
    """The task list, in order. Each section saves on its own and has its own version."""

    SUMMARY = "summary", "Project summary"
    INNOVATION = "innovation", "The innovation"
    PATHWAY = "pathway", "Care pathway"
    PARTNERS = "partners", "Partners"
    COSTS = "costs", "Costs"
    SAVINGS = "savings", "Projected savings"
    BENEFITS = "benefits", "Patient benefits"
    DELIVERY = "delivery", "Delivery plan and milestones"
    RISKS = "risks", "Risks"
    ATTACHMENTS = "attachments", "Attachments"
    DECLARATIONS = "declarations", "Declarations"


class SectionStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"


# A task list's status: what is done needs no colour (the NHS.UK task list pattern).
status_tags("section", SectionStatus, colours={
    SectionStatus.NOT_STARTED: "grey", SectionStatus.IN_PROGRESS: "blue", SectionStatus.COMPLETED: "plain",
})


class BidSectionState(models.Model):
    """A section's status and version. The version guards against silent overwrites:
    a save carries the version the writer opened, and is refused if it has moved on."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="section_states")
    section = models.CharField(max_length=20, choices=BidSection.choices)
    status = models.CharField(max_length=20, choices=SectionStatus.choices, default=SectionStatus.NOT_STARTED)
    version = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bid", "section"], name="bid_section_unique")]

    def __str__(self) -> str:
        return f"{self.bid.reference} {self.get_section_display()}: {self.get_status_display()}"


class BidPartner(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="partners")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="bid_partnerships")
    role = models.CharField(max_length=20, choices=PartnerKind.choices)
    contribution = models.TextField()

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["bid", "organisation"], name="bid_partner_unique")]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.get_role_display()})"


class CostCategory(models.TextChoices):
    STAFF = "staff", "Staff"
    BACKFILL = "backfill", "Backfill"
    EQUIPMENT = "equipment", "Equipment"
    DIGITAL_LICENCES = "digital_licences", "Digital licences"
    EVALUATION = "evaluation", "Evaluation"
    OTHER = "other", "Other"


class CostNature(models.TextChoices):
    REVENUE = "revenue", "Revenue"
    CAPITAL = "capital", "Capital"


class BidCost(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="costs")
    financial_year = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=20, choices=CostCategory.choices)
    nature = models.CharField(max_length=10, choices=CostNature.choices, default=CostNature.REVENUE)
    description = models.CharField(max_length=300, blank=True)
    amount = money_field()

    class Meta:
        ordering = ["financial_year", "category", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="bid_cost_not_negative")]

    def __str__(self) -> str:
        return f"{fy.label(self.financial_year)} {self.get_category_display()}: £{self.amount}"


class MatchFunding(models.Model):
    """Money partners put in themselves, recorded apart from what the fund is asked for."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="match_funding")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    financial_year = models.PositiveSmallIntegerField()
    amount = money_field()
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["financial_year", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="match_funding_not_negative")]

    def __str__(self) -> str:
        return f"{self.organisation} {fy.label(self.financial_year)}: £{self.amount}"


class SavingKind(models.TextChoices):
    CASHABLE = "cashable", "Cashable"
    NON_CASHABLE = "non_cashable", "Non-cashable"


class ProjectedSaving(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="projected_savings")
    financial_year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=SavingKind.choices)
    realised_by = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+",
        help_text="Whose budget the saving falls in.",
    )
    care_setting = models.CharField(max_length=20, choices=CareSetting.choices, help_text="Where on the pathway.")
    amount = money_field()
    assumptions = models.TextField()
    evidence = models.TextField(blank=True)

    class Meta:
        ordering = ["financial_year", "kind", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="projected_saving_not_negative")]

    def __str__(self) -> str:
        return f"{fy.label(self.financial_year)} {self.get_kind_display()} saving: £{self.amount}"


class BenefitMeasure(models.Model):
    """A patient-benefit measure with a baseline and a target; monitoring reports actuals."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="benefit_measures")
    name = models.CharField(max_length=200, help_text='Like "bed days avoided".')
    unit = models.CharField(max_length=60, help_text='Like "days" or "patients".')
    baseline = models.DecimalField(max_digits=14, decimal_places=2)
    target = models.DecimalField(max_digits=14, decimal_places=2)
    target_date = models.DateField()
    higher_is_better = models.BooleanField(default=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.unit})"


class Milestone(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=200)
    due_date = models.DateField()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return self.title


class RiskLevel(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Risk(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="risks")
    description = models.TextField()
    likelihood = models.CharField(max_length=10, choices=RiskLevel.choices)
    impact = models.CharField(max_length=10, choices=RiskLevel.choices)
    mitigation = models.TextField()

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.description[:60]


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never uses the uploader's file name, so it cannot be abused; its extension
    # is the one the upload pipeline found from the content.
    return f"bids/{instance.bid_id}/{timezone.now():%Y%m%d%H%M%S}-{instance.sha256[:16]}{stored_extension(filename)}"


class Attachment(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    scan_status = models.CharField(max_length=20, choices=ScanStatus.choices, default=ScanStatus.AVAILABLE,
                                   help_text="Served only when available (scanned clean, or no scanner is set up).")
    scan_signature = models.CharField(max_length=200, blank=True, help_text="What the virus scanner found.")

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class BidReferenceSequence(models.Model):
    """The last number handed out for a reference prefix like ``HISW-2627``.

    ``bid_start`` locks this row to take the next number, so references stay unique and
    gap-free per prefix even when many bids start at once.
    """

    prefix = models.CharField(max_length=24, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_number}"


# Two-stage calls: expressions of interest ---------------------------------------------------------


class EoiStatus(models.TextChoices):
    SUBMITTED = "submitted", "Waiting for shortlisting"
    INVITED = "invited", "Invited to bid"
    NOT_INVITED = "not_invited", "Not invited"


status_tags("eoi", EoiStatus, colours={EoiStatus.SUBMITTED: "blue", EoiStatus.INVITED: "green", EoiStatus.NOT_INVITED: "red"})


class ExpressionOfInterest(models.Model):
    """The short first stage of a two-stage call: an organisation's idea, shortlisted by the
    fund manager. Only an invited organisation may start the full bid, which carries the answers
    forward."""

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="eois")
    lead_organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="eois")
    title = models.CharField(max_length=200)
    summary = models.TextField("summary of the idea")
    problem = models.TextField("the problem it solves")
    estimated_cost = money_field("estimated cost")
    partners = models.TextField("partners you expect to work with", blank=True)
    status = models.CharField(max_length=20, choices=EoiStatus.choices, default=EoiStatus.SUBMITTED)
    reason = models.TextField(blank=True, help_text="The fund manager's reason, read by the bidder.")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    bid = models.OneToOneField(Bid, on_delete=models.SET_NULL, null=True, blank=True, related_name="eoi")

    class Meta:
        ordering = ["submitted_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["call", "lead_organisation"], name="eoi_one_per_organisation"),
            models.CheckConstraint(condition=Q(estimated_cost__gte=0), name="eoi_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_organisation}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("applications:eoi_detail", kwargs={"pk": self.pk})

    @property
    def audit_fund(self) -> Fund:
        return self.call.fund


# A copy of a bid as a PDF -----------------------------------------------------------------------


class PdfStatus(models.TextChoices):
    QUEUED = "queued", "Being prepared"
    RUNNING = "running", "Being prepared"
    READY = "ready", "Ready"
    FAILED = "failed", "Could not be made"


def bid_pdf_path(instance: BidPdf, filename: str) -> str:
    return f"bids/{instance.bid_id}/copies/{instance.bid.reference}-{instance.content_version}.pdf"


class BidPdf(models.Model):
    """A PDF of a bid as it stood (``content_version``), made by a worker: one per version, so a
    bidder can take a copy to their board and the panel can read it offline."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="pdfs")
    content_version = models.CharField(max_length=40, help_text="The bid's status and section versions when made.")
    status = models.CharField(max_length=10, choices=PdfStatus.choices, default=PdfStatus.QUEUED)
    file = models.FileField(upload_to=bid_pdf_path, blank=True, max_length=300)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["bid", "content_version"], name="bid_pdf_one_per_version")]

    def __str__(self) -> str:
        return f"PDF of {self.bid.reference} ({self.get_status_display()})"


# The bid team ------------------------------------------------------------------------------------


class TeamRole(models.TextChoices):
    READ = "read", "Read"
    COMMENT = "comment", "Comment"
    EDIT = "edit", "Edit"


class InvitationState(models.TextChoices):
    PENDING = "pending", "Invited"
    ACCEPTED = "accepted", "Joined"
    REVOKED = "revoked", "Removed"


class BidCollaborator(models.Model):
    """A colleague or a contact at a partner organisation invited to a bid by email, with a role
    (read, comment, edit) and optionally the sections they are responsible for (empty: all, for
    editors). The invitation expires; once accepted, ``user`` is who joined."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="team")
    email = models.EmailField()
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+",
                                     help_text="The lead organisation or the partner they speak for.")
    role = models.CharField(max_length=10, choices=TeamRole.choices)
    sections = models.JSONField(default=list, blank=True, help_text="BidSection values they are responsible for.")
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=10, choices=InvitationState.choices, default=InvitationState.PENDING)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="bid_teams")
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["bid", "invited_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["bid", "email"], condition=~Q(state="revoked"), name="bid_team_one_live_per_email"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()}) on {self.bid.reference}"

    @property
    def audit_fund(self) -> Fund:
        return self.bid.call.fund

    @property
    def section_labels(self) -> list[str]:
        return [BidSection(s).label for s in self.sections if s in BidSection.values]

    def is_expired(self, now=None) -> bool:
        return self.state == InvitationState.PENDING and self.expires_at <= (now or timezone.now())


class BidSectionComment(models.Model):
    """A comment on a section, kept with the bid for its team. Never shown to assessors or in
    any channel outside the bid team (``applications.visibility.comments_visible_to``)."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="section_comments")
    section = models.CharField(max_length=20, choices=BidSection.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment on {self.bid.reference} {self.get_section_display()}"


status_tags("sign_off", colours={"signed": "green", "not_signed": "grey"},
            labels={"signed": "Signed off", "not_signed": "Not signed off"})


class PartnerSignOff(models.Model):
    """A partner organisation signs off its part of the bid before submission."""

    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="sign_offs")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["bid", "organisation"], name="partner_sign_off_unique")]

    def __str__(self) -> str:
        return f"{self.organisation} signed off {self.bid.reference}"
