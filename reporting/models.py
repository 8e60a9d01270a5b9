"""Reporting: monitoring returns and their reminders, impact reports and their versions."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from applications.models import BenefitMeasure, CareSetting, CostCategory, Milestone, SavingKind
from awards.models import Award, DocumentStatus, Instalment
from governance import fy
from governance.models import Call, Fund, Notification, Organisation, OutboxMessage
from governance.money import money_field
from governance.status_tags import status_tags


class ReturnStatus(models.TextChoices):
    UPCOMING = "upcoming", "Not yet due"
    OPEN = "open", "Open for reporting"
    SUBMITTED = "submitted", "Submitted, awaiting review"
    RETURNED = "returned", "Sent back for changes"
    APPROVED = "approved", "Approved"


status_tags("return", ReturnStatus, state=lambda ret: "overdue" if getattr(ret, "overdue", False) else ret.status, colours={
    ReturnStatus.UPCOMING: "grey", ReturnStatus.OPEN: "blue", ReturnStatus.SUBMITTED: "purple",
    ReturnStatus.RETURNED: "orange", ReturnStatus.APPROVED: "green", "overdue": "red",
}, labels={"overdue": "Overdue"})

class ReturnSection(models.TextChoices):
    """The parts of a return, in the order of its task list. Each saves on its own, with its own
    version in ``MonitoringReturn.section_versions`` (a save made from an old version is refused)."""

    SPEND = "spend", "Spend against the profile"
    SAVINGS = "savings", "Savings realised"
    BENEFITS = "benefits", "Patient benefits"
    ADOPTION = "adoption", "Adoption and spread"
    MILESTONES = "milestones", "Milestones"
    RISKS = "risks", "Risks and issues"
    REINVESTMENT = "reinvestment", "Savings reinvested locally"
    RAG = "rag", "RAG status"
    NARRATIVE = "narrative", "Narrative and lessons learned"
    SUSTAINABILITY = "sustainability", "Sustaining the innovation"


# Asked only in the final return.
FINAL_ONLY_SECTIONS = frozenset({ReturnSection.SUSTAINABILITY})


class RAG(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"


status_tags("rag", RAG, colours={RAG.RED: "red", RAG.AMBER: "yellow", RAG.GREEN: "green", "": "white"},
            labels={"": "Not reported"})

class MonitoringReturn(models.Model):
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="returns")
    period_start = models.DateField()
    period_end = models.DateField()
    due_date = models.DateField()
    is_final = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=ReturnStatus.choices, default=ReturnStatus.UPCOMING)
    instalment = models.OneToOneField(
        Instalment, on_delete=models.SET_NULL, null=True, blank=True, related_name="monitoring_return",
        help_text="The payment released when this return is approved.",
    )
    # Content
    rag = models.CharField("RAG status", max_length=5, choices=RAG.choices, blank=True)
    rag_reason = models.TextField(blank=True)
    spend_variance_explanation = models.TextField(blank=True)
    organisations_adopting = models.PositiveIntegerField(null=True, blank=True)
    sites_adopting = models.PositiveIntegerField(null=True, blank=True)
    patients_reached = models.PositiveIntegerField(null=True, blank=True)
    adoption_notes = models.TextField(blank=True)
    milestones_update = models.TextField(blank=True)
    risks_update = models.TextField(blank=True)
    narrative = models.TextField(blank=True)
    lessons_learned = models.TextField(blank=True)
    will_be_sustained = models.BooleanField(null=True, blank=True)
    sustained_funding_by = models.CharField(max_length=300, blank=True)
    sustainability_notes = models.TextField(blank=True, help_text="Why the innovation will not be sustained, or the plan.")
    section_versions = models.JSONField(default=dict, blank=True, help_text="Section name to version, for conflict checks.")
    sections_completed = models.JSONField(default=list, blank=True)
    # Workflow
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    review_comments = models.TextField(blank=True)
    payment_note = models.TextField(
        blank=True, help_text="Why the instalment waiting on this approved return is not released yet.",
    )
    opened_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Set on the instances a grantee's lists show, not stored: past its due date today.
    overdue: bool

    class Meta:
        ordering = ["award", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["award", "period_start"], name="return_one_per_period"),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="return_period_in_order"),
            models.CheckConstraint(condition=Q(due_date__gte=models.F("period_end")), name="return_due_after_period"),
        ]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.award.reference} return {self.period_start:%d/%m/%Y}–{self.period_end:%d/%m/%Y}"

    def get_absolute_url(self) -> str:
        return reverse("reporting:return_detail", kwargs={"pk": self.pk})

    @property
    def audit_fund(self) -> Fund:
        return self.award.pot.fund

    @property
    def financial_year(self) -> int:
        """Periods never cross a financial year (the schedule restarts each April)."""
        return fy.FinancialYear.of(self.period_start).start_year

    @property
    def period_label(self) -> str:
        return f"{self.period_start:%-d %B %Y} to {self.period_end:%-d %B %Y}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_RETURN_STATUSES


# A grantee may write in these; submitted returns wait for review and approved ones are final.
EDITABLE_RETURN_STATUSES = frozenset({ReturnStatus.UPCOMING, ReturnStatus.OPEN, ReturnStatus.RETURNED})


class ReturnSpend(models.Model):
    monitoring_return = models.ForeignKey(MonitoringReturn, on_delete=models.CASCADE, related_name="spend")
    financial_year = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=20, choices=CostCategory.choices)
    amount = money_field()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["monitoring_return", "financial_year", "category"], name="return_spend_unique"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="return_spend_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{fy.label(self.financial_year)} {self.get_category_display()}: £{self.amount}"


class ReturnSaving(models.Model):
    monitoring_return = models.ForeignKey(MonitoringReturn, on_delete=models.CASCADE, related_name="savings")
    financial_year = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=SavingKind.choices)
    realised_by = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    care_setting = models.CharField(max_length=20, choices=CareSetting.choices)
    amount = money_field()
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="return_saving_not_negative")]

    def __str__(self) -> str:
        return f"{fy.label(self.financial_year)} {self.get_kind_display()}: £{self.amount}"


class ReturnMeasureActual(models.Model):
    monitoring_return = models.ForeignKey(MonitoringReturn, on_delete=models.CASCADE, related_name="measure_actuals")
    measure = models.ForeignKey(BenefitMeasure, on_delete=models.PROTECT, related_name="actuals")
    value = models.DecimalField(max_digits=14, decimal_places=2)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["monitoring_return", "measure"], name="return_measure_unique")]

    def __str__(self) -> str:
        return f"{self.measure.name}: {self.value}"


class Reinvestment(models.Model):
    """Savings put back into local services, and where they went."""

    monitoring_return = models.ForeignKey(MonitoringReturn, on_delete=models.CASCADE, related_name="reinvestments")
    amount = money_field()
    destination = models.CharField(max_length=300)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="reinvestment_not_negative")]

    def __str__(self) -> str:
        return f"£{self.amount} to {self.destination}"


class MilestoneProgress(models.TextChoices):
    DONE = "done", "Done"
    ON_TRACK = "on_track", "On track"
    SLIPPED = "slipped", "Slipped"


class ReturnMilestone(models.Model):
    """Where one of the bid's milestones stands at the end of the period."""

    monitoring_return = models.ForeignKey(MonitoringReturn, on_delete=models.CASCADE, related_name="milestone_updates")
    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=20, choices=MilestoneProgress.choices)
    revised_date = models.DateField(null=True, blank=True, help_text="The new date of a slipped milestone.")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["milestone__due_date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["monitoring_return", "milestone"], name="return_milestone_unique"),
            models.CheckConstraint(
                condition=~Q(status="slipped") | Q(revised_date__isnull=False), name="return_milestone_slipped_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.milestone.title}: {self.get_status_display()}"


class ReminderKind(models.TextChoices):
    OPENED = "opened", "Return opened"
    DUE_SOON = "due_soon", "Due soon"  # before reminders went at 14, 3 and 1 days: kept for old rows
    DUE_14 = "due_14", "Due in 14 days"
    DUE_3 = "due_3", "Due in 3 days"
    DUE_1 = "due_1", "Due in 1 day"
    OVERDUE = "overdue", "Overdue"


class ReminderSent(models.Model):
    """A record that a reminder went out, written in the same transaction as its notifications:
    the unique constraint makes each reminder go once for each due date (a variation that moves
    the due date earns a fresh reminder for the new date)."""

    monitoring_return = models.ForeignKey(MonitoringReturn, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    due_date = models.DateField(help_text="The return's due date when the reminder was sent.")
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.JSONField(default=list)
    notifications = models.ManyToManyField(Notification, blank=True, related_name="monitoring_reminders")

    class Meta:
        ordering = ["sent_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["monitoring_return", "kind", "due_date"], name="reminder_once_per_kind_and_date"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} reminder for {self.monitoring_return}"


class ReportScope(models.TextChoices):
    FUND = "fund", "Fund"
    CALL = "call", "Call"
    POT = "pot", "Pot"
    NETWORK = "network", "Network"


class ImpactReport(models.Model):
    """What a report covers. Each build is a ReportVersion with the data it used."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="impact_reports")
    scope = models.CharField(max_length=10, choices=ReportScope.choices, default=ReportScope.FUND)
    call = models.ForeignKey("governance.Call", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    pot = models.ForeignKey("governance.Pot", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    network = models.ForeignKey(Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    title = models.CharField(max_length=200)
    period_start = models.DateField()
    period_end = models.DateField()
    scheduled_quarterly = models.BooleanField(default=False, help_text="Rebuild each quarter automatically.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="report_period_in_order"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def audit_fund(self) -> Fund:
        return self.fund


class Publication(models.TextChoices):
    """Whether a built version is on the public list: its second lifecycle, apart from the build."""

    UNPUBLISHED = "unpublished", "Not published"
    PUBLISHED = "published", "Published"
    WITHDRAWN = "withdrawn", "Withdrawn"


def publication_from_dates(published_at, unpublished_at) -> str:
    """The publication state the dates describe (a withdrawn version keeps when it was published)."""
    if unpublished_at is not None:
        return Publication.WITHDRAWN
    return Publication.PUBLISHED if published_at is not None else Publication.UNPUBLISHED


def report_file_path(instance: ReportVersion, filename: str) -> str:
    return f"reports/{instance.report_id}/v{instance.number}/{filename}"


class ReportVersion(models.Model):
    # Set on the instance that asked for a build, not stored: its outbox message, if any.
    build_message: OutboxMessage | None

    report = models.ForeignKey(ImpactReport, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.QUEUED)
    step = models.CharField(max_length=100, blank=True, help_text="What the worker is doing now.")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    data_cutoff = models.DateTimeField(null=True, blank=True)
    snapshot = models.JSONField(null=True, blank=True, help_text="The figures the build used.")
    pdf = models.FileField(upload_to=report_file_path, blank=True, max_length=300)
    csv = models.FileField(upload_to=report_file_path, blank=True, max_length=300)
    xlsx = models.FileField(upload_to=report_file_path, blank=True, max_length=300)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True, help_text="When the build was last sent to the workers.")
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="The building worker's last sign of life; a stale one means the build was lost.",
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    unpublished_at = models.DateTimeField(null=True, blank=True)
    unpublished_reason = models.TextField(blank=True)
    # Publication's own state, kept in step with the dates above on every save (rows written
    # with the dates alone, by fixtures or the admin, get the state the dates describe).
    publication = models.CharField(max_length=12, choices=Publication.choices, default=Publication.UNPUBLISHED)

    class Meta:
        ordering = ["report", "-number"]
        constraints = [models.UniqueConstraint(fields=["report", "number"], name="report_version_unique")]
        indexes = [models.Index(fields=["status", "enqueued_at"], name="report_version_status_idx")]

    def __str__(self) -> str:
        return f"{self.report.title} v{self.number}"

    def save(self, *args, **kwargs) -> None:
        self.publication = publication_from_dates(self.published_at, self.unpublished_at)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and {"published_at", "unpublished_at"} & set(update_fields):
            kwargs["update_fields"] = {*update_fields, "publication"}
        super().save(*args, **kwargs)

    @property
    def audit_fund(self) -> Fund:
        return self.report.fund

    @property
    def is_public(self) -> bool:
        return publication_from_dates(self.published_at, self.unpublished_at) == Publication.PUBLISHED


def _publication_state(version: ReportVersion) -> str:
    if version.is_public:
        return "published"
    return "withdrawn" if version.unpublished_at else "not_published"


# Whether a report version is on the public list (its build has the "document" tags).
status_tags("publication", state=_publication_state, colours={
    "published": "aqua-green", "withdrawn": "orange", "not_published": "white",
}, labels={"published": "Published", "withdrawn": "Withdrawn", "not_published": "Not published"})


# The register's read model -------------------------------------------------------------------


class RegisterEntry(models.Model):
    """One row per award ``awards.visibility.published_awards`` gives now or will give once its
    releases are due, with what the register lists, filters, sorts and searches on, so a page of
    the register reads one indexed table. ``visible_from`` is when it becomes public (the later of
    its decision's release and its call's release of decisions): the register shows rows with
    ``visible_from <= now``, exactly ``published_awards(now)``.

    Written only by ``reporting.register.read_model.register_sync`` inside the transaction of the
    change (see ``reporting.apps``); ``python manage.py rebuild_register`` makes it from scratch."""

    award = models.OneToOneField(Award, on_delete=models.CASCADE, primary_key=True, related_name="register_entry")
    visible_from = models.DateTimeField()
    reference = models.CharField(max_length=30, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField()
    amount = money_field()
    paid = money_field()
    status = models.CharField(max_length=20)
    start_date = models.DateField()
    end_date = models.DateField()
    decided_at = models.DateTimeField()
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True)
    bid_id = models.BigIntegerField(db_index=True)
    recipient = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    recipient_name = models.CharField(max_length=200)
    recipient_ods_code = models.CharField(max_length=20, blank=True)
    recipient_kind = models.CharField(max_length=30)
    recipient_region = models.CharField(max_length=20, blank=True)
    recipient_network = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, related_name="+",
                                          db_constraint=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    call_purpose = models.CharField(max_length=30)
    innovation_type = models.CharField(max_length=30, blank=True)
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    # PostgreSQL: the title and summary as a full-text vector (``SearchVector("title", "description",
    # config="english")``), stored so searching and ranking read it instead of parsing the text;
    # GIN-indexed by migration 0005. Empty on SQLite, whose search matches the text itself.
    search = SearchVectorField(null=True, editable=False)

    class Meta:
        indexes = [
            # The sort keys, each ending in the award's id (the tie-break of every order).
            models.Index(fields=["-decided_at", "-award"], name="register_newest"),
            models.Index(fields=["amount", "award"], name="register_amount"),
            models.Index(fields=["title", "award"], name="register_title"),
            models.Index(fields=["recipient_name", "title", "award"], name="register_recipient_name"),
            models.Index(fields=["visible_from"], name="register_visible_from"),
            models.Index(fields=["recipient_region", "call_purpose", "amount"], name="register_region_purpose"),
            models.Index(fields=["recipient"], name="register_recipient"),
            models.Index(fields=["fund"], name="register_fund"),
            models.Index(fields=["call"], name="register_call"),
            models.Index(fields=["status"], name="register_status"),
        ]

    def __str__(self) -> str:
        return self.reference


class RegisterVersion(models.Model):
    """One row: a number that goes up in the transaction of every change to the register's read
    model. Cached totals are keyed by it, so a change is never served stale.

    It also keeps the running totals of every row of the read model (visible yet or not): how
    many, their amounts and what has been paid on them. ``register_sync`` changes them by the
    difference it makes, holding this row's lock, so the unfiltered register's totals are these
    less the few rows whose release is still to come (``read_model.public_totals``)."""

    number = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(default=timezone.now)
    entries = models.BigIntegerField(default=0)
    # Sums of many awards: wider than one award's amount.
    awarded = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0.00"))
    paid = models.DecimalField(max_digits=18, decimal_places=2, default=Decimal("0.00"))

    def __str__(self) -> str:
        return f"register version {self.number}"
