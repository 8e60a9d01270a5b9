"""Awards: offers, the profile committed against the pot, conditions, payments, variations.

The pot ledger is the source of truth for money: every commitment, release and payment is
a ledger entry, written in the same transaction as the change that causes it, with the
pot's budget rows locked. Committed, paid and remaining are sums of entries.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from applications.models import Bid
from assessment.models import PanelDecision
from governance import fy
from governance.models import Fund, Organisation, Pot
from governance.money import money_field
from governance.status_tags import status_tags
from governance.uploads import ScanStatus, stored_extension


class AwardStatus(models.TextChoices):
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    CLOSED = "closed", "Closed"
    WITHDRAWN = "withdrawn", "Withdrawn"
    DECLINED = "declined", "Declined"
    LAPSED = "lapsed", "Lapsed"


# States in which the award's profile holds money in the pot.
COMMITTING_STATUSES = frozenset({AwardStatus.OFFERED, AwardStatus.ACCEPTED, AwardStatus.ACTIVE, AwardStatus.SUSPENDED})


status_tags("award", AwardStatus, colours={
    AwardStatus.OFFERED: "blue", AwardStatus.ACCEPTED: "aqua-green", AwardStatus.ACTIVE: "green",
    AwardStatus.SUSPENDED: "orange", AwardStatus.CLOSED: "grey", AwardStatus.WITHDRAWN: "red",
    AwardStatus.DECLINED: "red", AwardStatus.LAPSED: "grey",
})

class Award(models.Model):
    _found_visible_by: int  # per-request cache (awards.visibility), not stored
    decision = models.OneToOneField(PanelDecision, on_delete=models.PROTECT, related_name="award")
    bid = models.OneToOneField(Bid, on_delete=models.PROTECT, related_name="award")
    pot = models.ForeignKey(Pot, on_delete=models.PROTECT, related_name="awards")
    recipient = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="awards_received")
    reference = models.CharField(max_length=30, unique=True, help_text="Also the 360Giving id suffix.")
    title = models.CharField(max_length=200)
    description = models.TextField()
    amount = money_field("amount awarded")
    start_date = models.DateField()
    end_date = models.DateField()
    status = models.CharField(max_length=20, choices=AwardStatus.choices, default=AwardStatus.OFFERED)
    offer_deadline = models.DateField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the award ended: closed, withdrawn, declined or lapsed."
    )
    status_reason = models.TextField(blank=True)
    return_frequency_months = models.PositiveSmallIntegerField(
        default=3, help_text="Monitoring returns fall due every this many months (3 = quarterly)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-issued_at"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=models.F("start_date")), name="award_dates_in_order"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="award_amount_positive"),
        ]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["pot", "status"])]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("awards:award_detail", kwargs={"reference": self.reference})

    @property
    def audit_fund(self) -> Fund:
        return self.pot.fund

    @property
    def grant_id(self) -> str:
        """The 360Giving identifier."""
        return f"360G-{settings.GRANTNAV_PREFIX}-{self.reference}"

    @property
    def years(self) -> list[int]:
        return fy.years_spanning(self.start_date, self.end_date)


class AwardYear(models.Model):
    """The award's profile: how much it receives in each financial year."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="profile")
    financial_year = models.PositiveSmallIntegerField()
    amount = money_field()

    class Meta:
        ordering = ["award", "financial_year"]
        constraints = [
            models.UniqueConstraint(fields=["award", "financial_year"], name="award_year_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="award_year_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.award.reference} {fy.label(self.financial_year)}: £{self.amount}"


class LedgerEntryKind(models.TextChoices):
    COMMIT = "commit", "Committed"
    RELEASE = "release", "Released back to the pot"
    PAYMENT = "payment", "Paid"


class PotLedgerEntry(models.Model):
    """One movement of money in a pot's year. Never edited: corrections are new entries."""

    pot = models.ForeignKey(Pot, on_delete=models.PROTECT, related_name="ledger")
    financial_year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=LedgerEntryKind.choices)
    amount = money_field()
    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="ledger")
    note = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pot", "financial_year", "created_at", "pk"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_amount_positive")]
        indexes = [models.Index(fields=["pot", "financial_year", "kind"])]

    def __str__(self) -> str:
        return f"{self.pot.name} {fy.label(self.financial_year)} {self.get_kind_display()}: £{self.amount}"


class ConditionStatus(models.TextChoices):
    OPEN = "open", "Open"
    EVIDENCE_SUBMITTED = "evidence_submitted", "Evidence submitted"
    MET = "met", "Met"
    WAIVED = "waived", "Waived"


status_tags("condition", ConditionStatus, colours={
    ConditionStatus.OPEN: "yellow", ConditionStatus.EVIDENCE_SUBMITTED: "blue", ConditionStatus.MET: "green",
    ConditionStatus.WAIVED: "grey",
})

class ConditionTemplate(models.Model):
    """A standard condition fund managers pick from (DTAC, DCB0129/DCB0160, DPIA, ...)."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, null=True, blank=True, related_name="condition_templates",
                             help_text="Empty for a condition every fund can use.")
    title = models.CharField(max_length=200)
    description = models.TextField()
    for_digital = models.BooleanField(default=False, help_text="Suggested for digital technologies.")
    pre_start = models.BooleanField(default=True, help_text="Must be met before the first payment.")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


def condition_evidence_path(instance: AwardCondition, filename: str) -> str:
    return (f"awards/{instance.award_id}/conditions/{instance.pk or 'new'}-{timezone.now():%Y%m%d%H%M%S}"
            f"{stored_extension(filename)}")


class AwardCondition(models.Model):
    """A condition of funding: met with evidence the fund manager signs off, or waived.

    It has its own due date, and may hold back one instalment: that instalment and every later
    one wait until the condition is met or waived. A condition holding back nothing is still
    tracked (and chased by its due date) but stops no payment."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="conditions")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    due_date = models.DateField(null=True, blank=True, help_text="When the condition must be met by.")
    holds_back = models.ForeignKey(
        "Instalment", on_delete=models.SET_NULL, null=True, blank=True, related_name="held_back_by",
        help_text="The payment (and every later one) that waits for this condition; empty: none.")
    status = models.CharField(max_length=20, choices=ConditionStatus.choices, default=ConditionStatus.OPEN)
    evidence = models.FileField(upload_to=condition_evidence_path, blank=True, max_length=300)
    evidence_name = models.CharField(max_length=200, blank=True)
    evidence_note = models.TextField(blank=True)
    evidence_content_type = models.CharField(max_length=120, blank=True, help_text="Found from the file's content.")
    evidence_size = models.PositiveIntegerField(null=True, blank=True, help_text="In bytes.")
    evidence_submitted_at = models.DateTimeField(null=True, blank=True)
    evidence_scan_status = models.CharField(
        max_length=20, choices=ScanStatus.choices, default=ScanStatus.AVAILABLE,
        help_text="The evidence is served and can be signed off only when available.")
    evidence_scan_signature = models.CharField(max_length=200, blank=True, help_text="What the virus scanner found.")
    review_note = models.TextField(blank=True, help_text="The fund manager's note when signing off, waiving or returning.")
    signed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    signed_off_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def audit_fund(self) -> Fund:
        return self.award.pot.fund

    @property
    def is_outstanding(self) -> bool:
        return self.status in (ConditionStatus.OPEN, ConditionStatus.EVIDENCE_SUBMITTED)

    @property
    def overdue(self) -> bool:
        return self.is_outstanding and self.due_date is not None and self.due_date < timezone.localdate()


class DocumentStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Being made"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


status_tags("document", DocumentStatus, colours={
    DocumentStatus.QUEUED: "grey", DocumentStatus.RUNNING: "blue", DocumentStatus.READY: "green", DocumentStatus.FAILED: "red",
})

def offer_letter_path(instance: OfferLetter, filename: str) -> str:
    return f"awards/{instance.award_id}/offer-letter-v{instance.version}.pdf"


class OfferLetter(models.Model):
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="letters")
    version = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.QUEUED)
    file = models.FileField(upload_to=offer_letter_path, blank=True, max_length=300)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["award", "-version"]
        constraints = [models.UniqueConstraint(fields=["award", "version"], name="offer_letter_version_unique")]

    def __str__(self) -> str:
        return f"Offer letter v{self.version} for {self.award.reference}"


class InstalmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    RELEASED = "released", "Released for payment"
    PAID = "paid", "Paid"
    CANCELLED = "cancelled", "Cancelled"


class Instalment(models.Model):
    """A payment due in one NHS quarter. Released when its monitoring return is approved and
    no condition holding it (or an earlier instalment) back is outstanding; then a fund manager
    records the payment: the day, the amount and the finance system's reference (the grantee's
    remittance)."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="instalments")
    financial_year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField()
    amount = money_field()
    status = models.CharField(max_length=20, choices=InstalmentStatus.choices, default=InstalmentStatus.SCHEDULED)
    requires_return = models.BooleanField(
        default=True, help_text="Waits for an approved monitoring return (the first instalment does not)."
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    paid_at = models.DateTimeField(null=True, blank=True, help_text="When the payment was recorded.")
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    paid_on = models.DateField(null=True, blank=True, help_text="The day the money was paid, as the finance system says.")
    paid_amount = money_field("amount paid", null=True, blank=True)
    payment_reference = models.CharField(max_length=40, blank=True, help_text="The finance system's reference.")
    payment_note = models.TextField(blank=True, help_text="Why the amount paid differs from the instalment.")

    # Set on the instances some pages list, not stored: the monitoring return the instalment waits
    # for (a later stage's model, so not named here) and what its remittance shows.
    waits_on: Any
    remittance: Any

    class Meta:
        ordering = ["award", "financial_year", "quarter"]
        constraints = [
            models.UniqueConstraint(fields=["award", "financial_year", "quarter"], name="instalment_one_per_quarter"),
            models.CheckConstraint(condition=Q(quarter__gte=1) & Q(quarter__lte=4), name="instalment_quarter_1_to_4"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="instalment_not_negative"),
            models.CheckConstraint(condition=Q(paid_amount__isnull=True) | Q(paid_amount__gt=0),
                                   name="instalment_paid_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.award.reference} {fy.label(self.financial_year)} Q{self.quarter}: £{self.amount}"

    @property
    def period(self) -> tuple:
        """The NHS quarter's first and last day."""
        return fy.FinancialYear(self.financial_year).quarter(self.quarter)

    @property
    def label(self) -> str:
        return f"{fy.label(self.financial_year)} Q{self.quarter}"

    @property
    def audit_fund(self) -> Fund:
        return self.award.pot.fund


class VariationKind(models.TextChoices):
    REPROFILE = "reprofile", "Re-profile across years"
    EXTENSION = "extension", "Extension"
    SCOPE = "scope", "Change of scope"


class VariationStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Variation(models.Model):
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="variations")
    kind = models.CharField(max_length=20, choices=VariationKind.choices)
    reasons = models.TextField()
    proposed_profile = models.JSONField(default=dict, blank=True, help_text='{"2026": "1000.00", ...}')
    proposed_end_date = models.DateField(null=True, blank=True)
    proposed_scope = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=VariationStatus.choices, default=VariationStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    previous_profile = models.JSONField(default=dict, blank=True)
    previous_end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.award.reference} ({self.get_status_display()})"

    @property
    def audit_fund(self) -> Fund:
        return self.award.pot.fund
