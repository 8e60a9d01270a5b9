"""People, organisations, funds, pots, calls, criteria, panels and the audit trail.

Models hold fields, constraints and small derived properties. Rules live in services.py
(writes) and selectors.py (reads).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from . import fy
from .money import money_field
from .status_tags import status_tags

# People ------------------------------------------------------------------------------------


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra) -> User:
        if not email:
            raise ValueError("Users sign in by email, so an email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their email address."""

    # Remembered on the request's user object, not stored (governance.second_factor).
    _portal_is_staff_role: bool

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    job_title = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False, help_text="Can sign in to the site admin.")
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Raised by "sign out everywhere": every session signed in before no longer matches.
    session_generation = models.PositiveIntegerField(default=0, editable=False)
    # How the person is emailed: each notification as it happens, or one digest a day.
    DELIVERY_IMMEDIATE = "immediate"
    DELIVERY_DIGEST = "digest"
    notification_delivery = models.CharField(
        "how you get emails", max_length=10, default="immediate",
        choices=[("immediate", "An email for each notification, straight away"),
                 ("digest", "One email a day listing the day's notifications")],
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = type(self).objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.full_name

    def _get_session_auth_hash(self, secret=None) -> str:
        """Django's session check, which also ends every session when the generation goes up
        (as a new password does). Generation 0 gives Django's own hash, so no one is signed out
        by this code arriving."""
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        value = self.password if not self.session_generation else f"{self.password}:{self.session_generation}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


# Organisations -----------------------------------------------------------------------------


class Region(models.TextChoices):
    """NHS England regions; the value is the region's ONS code (used in open data)."""

    NORTH_EAST_AND_YORKSHIRE = "E40000012", "North East and Yorkshire"
    NORTH_WEST = "E40000010", "North West"
    MIDLANDS = "E40000011", "Midlands"
    EAST_OF_ENGLAND = "E40000007", "East of England"
    LONDON = "E40000003", "London"
    SOUTH_EAST = "E40000005", "South East"
    SOUTH_WEST = "E40000006", "South West"


class OrganisationKind(models.TextChoices):
    HEALTH_INNOVATION_NETWORK = "hin", "Health Innovation Network"
    NHS_TRUST = "nhs_trust", "NHS trust"
    FOUNDATION_TRUST = "foundation_trust", "NHS foundation trust"
    NHS_SITE = "nhs_site", "NHS trust site"
    ICB = "icb", "Integrated care board (ICB)"
    SUB_ICB = "sub_icb", "Sub-ICB location"
    PRIMARY_CARE_NETWORK = "pcn", "Primary care network"
    GP_PRACTICE = "gp_practice", "GP practice"
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    SOCIAL_CARE_PROVIDER = "social_care", "Social care provider"
    UNIVERSITY = "university", "University"
    COMPANY = "company", "Company"
    CHARITY = "charity", "Charity"


COMMISSIONING_KINDS = frozenset({OrganisationKind.ICB, OrganisationKind.SUB_ICB})

# ODS code shapes by organisation kind. Codes are stored upper case without spaces.
ODS_CODE_PATTERNS: dict[str, re.Pattern[str]] = {
    OrganisationKind.NHS_TRUST: re.compile(r"^[RT][A-Z0-9]{2}$"),
    OrganisationKind.FOUNDATION_TRUST: re.compile(r"^[RT][A-Z0-9]{2}$"),
    OrganisationKind.NHS_SITE: re.compile(r"^[RT][A-Z0-9]{4}$"),
    OrganisationKind.ICB: re.compile(r"^Q[A-Z0-9]{2}$"),
    OrganisationKind.SUB_ICB: re.compile(r"^[0-9]{2}[A-Z0-9]$|^[A-Z0-9]{5}$"),
    OrganisationKind.PRIMARY_CARE_NETWORK: re.compile(r"^U[0-9]{5}$"),
    OrganisationKind.GP_PRACTICE: re.compile(r"^[A-Z][0-9]{5}$"),
}
ODS_CODE_GENERAL = re.compile(r"^[A-Z0-9]{3,8}$")
ODS_CODE_EXAMPLES: dict[str, str] = {
    OrganisationKind.NHS_TRUST: "3 characters starting with R or T, like RH8",
    OrganisationKind.FOUNDATION_TRUST: "3 characters starting with R or T, like RH8",
    OrganisationKind.NHS_SITE: "5 characters starting with its trust's code, like RH801",
    OrganisationKind.ICB: "3 characters starting with Q, like QJK",
    OrganisationKind.SUB_ICB: "3 characters, like 15N",
    OrganisationKind.PRIMARY_CARE_NETWORK: "U followed by 5 digits, like U12345",
    OrganisationKind.GP_PRACTICE: "a letter followed by 5 digits, like L83001",
}
COMPANY_NUMBER_RE = re.compile(r"^([0-9]{8}|(SC|NI|OC|SO|NC|FC)[0-9]{6})$")
CHARITY_NUMBER_RE = re.compile(r"^[0-9]{6,8}(-[0-9]{1,2})?$")
# UK Register of Learning Providers number (org-id GB-UKPRN-...): 8 digits starting with 1.
UKPRN_RE = re.compile(r"^1[0-9]{7}$")
# Department for Education's Get Information about Schools URN (org-id GB-EDU-...): 6 digits.
EDU_URN_RE = re.compile(r"^[0-9]{6}$")
# An org-id.guide identifier: a list code (country, register) and the organisation's id there.
ORG_ID_RE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{2,10}-[A-Za-z0-9][A-Za-z0-9._-]*$")
# ONS GSS codes: a local authority (county, unitary, district, borough) and an ICB.
ONS_LOCAL_AUTHORITY_RE = re.compile(r"^(E0[6-9]|E10|W06|S12|N09)[0-9]{6}$")
ONS_ICB_RE = re.compile(r"^E54[0-9]{6}$")
POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")


def normalise_code(value: str | None) -> str:
    return re.sub(r"\s+", "", value or "").upper()


ODS_CODE_TAKEN = "An organisation with this ODS code is already registered"


def normalise_postcode(value: str | None) -> str:
    """Upper case, with one space before the inward code (the last three characters)."""
    compact = normalise_code(value)
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 4 else compact


def register_number_errors(**values: str) -> dict[str, str]:
    """Format errors of register numbers and codes, by field (empty values are fine)."""
    checks = {
        "ukprn": (UKPRN_RE, "Enter a UKPRN: 8 digits starting with 1, like 10007798"),
        "edu_urn": (EDU_URN_RE, "Enter a schools and colleges URN: 6 digits"),
        "official_org_id": (ORG_ID_RE, "Enter an org-id like GB-COH-08123456, GB-CHC-1123456 or GB-NHS-RH8"),
        "postcode": (POSTCODE_RE, "Enter a full UK postcode, like EX2 5DW"),
        "ons_local_authority_code": (ONS_LOCAL_AUTHORITY_RE, "Enter a local authority's ONS code, like E10000008"),
        "ons_icb_code": (ONS_ICB_RE, "Enter an ICB's ONS code: E54 and 6 digits, like E54000037"),
        "company_number": (COMPANY_NUMBER_RE, "Enter a Companies House number: 8 digits, or 2 letters and 6 digits"),
        "charity_number": (CHARITY_NUMBER_RE, "Enter a charity number of 6 to 8 digits"),
    }
    errors = {}
    for field, value in values.items():
        text = normalise_postcode(value) if field == "postcode" else (
            (value or "").strip() if field == "official_org_id" else normalise_code(value))
        pattern, message = checks[field]
        if text and not pattern.match(text):
            errors[field] = message
    return errors


class Organisation(models.Model):
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=OrganisationKind.choices)
    ods_code = models.CharField(
        "ODS code", max_length=8, blank=True, null=True, unique=True,
        error_messages={"unique": ODS_CODE_TAKEN},
        help_text="The NHS Organisation Data Service code, for example RH8.",
    )
    company_number = models.CharField(max_length=10, blank=True)
    charity_number = models.CharField(max_length=12, blank=True)
    region = models.CharField(max_length=9, choices=Region.choices, blank=True)
    network = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="members_of_network",
        limit_choices_to={"kind": OrganisationKind.HEALTH_INNOVATION_NETWORK},
        help_text="The Health Innovation Network whose area this organisation is in.",
    )
    short_name = models.CharField(
        max_length=12, blank=True,
        help_text="For networks: the prefix of bid and award references, like HISW.",
    )
    website = models.URLField(blank=True)
    ukprn = models.CharField("UKPRN", max_length=8, blank=True,
                             help_text="UK Register of Learning Providers number, 8 digits, like 10007798.")
    edu_urn = models.CharField("Schools and colleges URN", max_length=6, blank=True,
                               help_text="Get Information about Schools unique reference number, 6 digits.")
    official_org_id = models.CharField(
        "Official org-id", max_length=60, blank=True,
        help_text="The organisation's identifier on org-id.guide, like GB-COH-08123456. Open data names funders by it.",
    )
    # From the NHS Organisation Data Service (``governance.ods``) or the organisation's register.
    postcode = models.CharField(max_length=8, blank=True)
    ods_role = models.CharField("ODS role", max_length=60, blank=True)
    opened_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True, help_text="Closed (or merged) on this day, per ODS.")
    successor = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="predecessors",
        help_text="After a merger: the organisation that took this one over.",
    )
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children",
        help_text="ODS parent: a practice's commissioner, a site's trust.",
    )
    ons_local_authority_code = models.CharField("Local authority (ONS code)", max_length=9, blank=True)
    ons_local_authority_name = models.CharField("Local authority", max_length=100, blank=True)
    ons_icb_code = models.CharField("ICB (ONS code)", max_length=9, blank=True)
    ons_icb_name = models.CharField("ICB", max_length=100, blank=True)
    # Open data exports name organisations: their ETag changes when one is renamed.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["short_name"], condition=~Q(short_name=""), name="organisation_short_name_unique"
            ),
        ]
        indexes = [models.Index(fields=["kind"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})" if self.ods_code else self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        self.ods_code = normalise_code(self.ods_code) or None
        self.company_number = normalise_code(self.company_number)
        self.charity_number = normalise_code(self.charity_number)
        if self.ods_code:
            pattern = ODS_CODE_PATTERNS.get(self.kind, ODS_CODE_GENERAL)
            if not pattern.match(self.ods_code):
                example = ODS_CODE_EXAMPLES.get(self.kind, "3 to 8 letters and digits")
                errors["ods_code"] = f"Enter a valid ODS code for this kind of organisation: {example}"
        if self.company_number and not COMPANY_NUMBER_RE.match(self.company_number):
            errors["company_number"] = "Enter a Companies House number: 8 digits, or 2 letters and 6 digits"
        if self.charity_number and not CHARITY_NUMBER_RE.match(self.charity_number):
            errors["charity_number"] = "Enter a charity number of 6 to 8 digits"
        errors.update(register_number_errors(
            ukprn=self.ukprn, edu_urn=self.edu_urn, official_org_id=self.official_org_id,
            postcode=self.postcode, ons_local_authority_code=self.ons_local_authority_code,
            ons_icb_code=self.ons_icb_code,
        ))
        self.ukprn, self.edu_urn = normalise_code(self.ukprn), normalise_code(self.edu_urn)
        self.official_org_id = (self.official_org_id or "").strip()
        self.postcode = normalise_postcode(self.postcode)
        if self.successor_id and self.successor_id == self.pk:
            errors["successor"] = "An organisation cannot succeed itself"
        if self.closed_on and self.opened_on and self.closed_on < self.opened_on:
            errors["closed_on"] = "The closing date must be on or after the opening date"
        if self.network_id and self.network_id == self.pk:
            errors["network"] = "An organisation cannot be its own network"
        if self.kind == OrganisationKind.HEALTH_INNOVATION_NETWORK and not self.short_name:
            errors["short_name"] = "Give the network a short name for references, like HISW"
        if errors:
            raise ValidationError(errors)

    @property
    def is_network(self) -> bool:
        return self.kind == OrganisationKind.HEALTH_INNOVATION_NETWORK

    @property
    def is_commissioner(self) -> bool:
        return self.kind in COMMISSIONING_KINDS

    @property
    def home_network(self) -> Organisation | None:
        """The network an organisation competes in: itself for a network, else its area's."""
        return self if self.is_network else self.network

    @property
    def is_closed(self) -> bool:
        return self.closed_on is not None

    @property
    def current(self) -> Organisation:
        """The organisation that carries on this one's work: its successor after a merger (the
        last in a chain), or itself."""
        seen, organisation = {self.pk}, self
        while organisation.successor_id and organisation.successor_id not in seen:
            seen.add(organisation.successor_id)
            successor = organisation.successor
            if successor is None:
                break
            organisation = successor
        return organisation

    @property
    def org_identifier(self) -> str:
        """Identifier for open data (org-id.guide): the official org-id set for it, else ODS,
        Companies House, charity, UKPRN, schools' URN, else one of the portal's own."""
        if self.official_org_id:
            return self.official_org_id
        if self.ods_code:
            return f"GB-NHS-{self.ods_code}"
        if self.company_number:
            return f"GB-COH-{self.company_number}"
        if self.charity_number:
            return f"GB-CHC-{self.charity_number}"
        if self.ukprn:
            return f"GB-UKPRN-{self.ukprn}"
        if self.edu_urn:
            return f"GB-EDU-{self.edu_urn}"
        return f"360G-{settings.GRANTNAV_PREFIX}-ORG-{self.pk}"


class MembershipRole(models.TextChoices):
    MEMBER = "member", "Member (writes and manages bids and awards)"
    FUND_MANAGER = "fund_manager", "Fund manager"


MANAGER_AUDITS_FUND = (
    "This person audits {funds}, which this network hosts: an auditor cannot also manage the funds they audit"
)
MEMBER_AUDITS_FUND_BID_IN = (
    "This person audits {funds}, in which this organisation has a bid: an auditor cannot be a member of a bidder"
)
AUDITOR_IS_MANAGER = "A fund manager of the network that hosts this fund cannot also audit it"
AUDITOR_IS_BIDDER = (
    "This person is a member of {organisations}, which has a bid in this fund: a bidder cannot audit the fund"
)


def auditor_bidder_organisations(user_id: int | None, fund_id: int | None) -> list[str]:
    """The organisations of ``user_id`` with a bid (leading or partnering) in ``fund_id``: each
    one stops the person auditing the fund. Empty if none."""
    from .extensions import funds_bid_in

    if user_id is None or fund_id is None:
        return []
    mine = Membership.objects.filter(user_id=user_id).values_list("organisation_id", flat=True)
    bidders = funds_bid_in(list(mine)).get(fund_id, set())
    return sorted(Organisation.objects.filter(pk__in=bidders).values_list("name", flat=True))


class Membership(models.Model):
    """A person's place in an organisation. Being a member of an ICB makes one a commissioner."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=MembershipRole.choices, default=MembershipRole.MEMBER)
    is_authorised_signatory = models.BooleanField(
        default=False, help_text="May accept or decline award offers for the organisation."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.organisation} ({self.get_role_display()})"

    def clean(self) -> None:
        # Auditors are independent of the funds they audit: the host network's fund managers
        # may not audit, and an auditor may not become one (whichever comes first is refused).
        if self.role == MembershipRole.FUND_MANAGER and self.user_id and self.organisation_id:
            audited = list(FundRole.objects.filter(user_id=self.user_id, role=FundRoleKind.AUDITOR,
                                                   fund__host_network_id=self.organisation_id)
                           .values_list("fund__name", flat=True))
            if audited:
                raise ValidationError({"role": MANAGER_AUDITS_FUND.format(funds=", ".join(sorted(audited)))})
        # Nor may an auditor join an organisation with a bid in a fund they audit.
        if self.user_id and self.organisation_id:
            from .extensions import funds_bid_in

            bid_in = funds_bid_in([self.organisation_id])
            audited = sorted(FundRole.objects.filter(user_id=self.user_id, role=FundRoleKind.AUDITOR,
                                                     fund_id__in=list(bid_in)).values_list("fund__name", flat=True))
            if audited:
                raise ValidationError({"user": MEMBER_AUDITS_FUND_BID_IN.format(funds=", ".join(audited))})


# Funds and pots ----------------------------------------------------------------------------


class AllocationModel(models.TextChoices):
    RING_FENCED = "ring_fenced", "Ring-fenced by region: one pot per network"
    NATIONAL = "national", "National competitive: one pot, all bids ranked together"


class Fund(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    host_network = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="hosted_funds",
        limit_choices_to={"kind": OrganisationKind.HEALTH_INNOVATION_NETWORK},
    )
    description = models.TextField()
    priorities = models.TextField(blank=True, help_text="The investment priorities, one per line.")
    allocation_model = models.CharField(max_length=20, choices=AllocationModel.choices)
    first_year = models.PositiveSmallIntegerField(
        "first financial year", validators=[MinValueValidator(fy.MIN_YEAR), MaxValueValidator(fy.MAX_YEAR)]
    )
    last_year = models.PositiveSmallIntegerField(
        "last financial year", validators=[MinValueValidator(fy.MIN_YEAR), MaxValueValidator(fy.MAX_YEAR)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(last_year__gte=models.F("first_year")), name="fund_years_in_order"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("governance:fund_detail", kwargs={"slug": self.slug})

    @property
    def years(self) -> list[int]:
        return fy.years_between(self.first_year, self.last_year)

    @property
    def years_label(self) -> str:
        return f"{fy.label(self.first_year)} to {fy.label(self.last_year)}"

    @property
    def audit_fund(self) -> Fund:
        return self

    @property
    def priority_list(self) -> list[str]:
        return [line.strip() for line in self.priorities.splitlines() if line.strip()]


class FundRoleKind(models.TextChoices):
    AUDITOR = "auditor", "Auditor (reads everything of the fund, changes nothing)"


class FundRole(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="fund_roles")
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(max_length=20, choices=FundRoleKind.choices, default=FundRoleKind.AUDITOR)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "fund", "role"], name="fund_role_unique")]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_role_display()} of {self.fund}"

    def clean(self) -> None:
        # Auditors are independent: neither a fund manager of the host network nor a member of
        # an organisation with a bid in the fund (Membership.clean refuses the other way round).
        if self.role != FundRoleKind.AUDITOR or not self.user_id or not self.fund_id:
            return
        if Membership.objects.filter(user_id=self.user_id, organisation_id=self.fund.host_network_id,
                                     role=MembershipRole.FUND_MANAGER).exists():
            raise ValidationError({"user": AUDITOR_IS_MANAGER})
        if bidders := auditor_bidder_organisations(self.user_id, self.fund_id):
            raise ValidationError({"user": AUDITOR_IS_BIDDER.format(organisations=", ".join(bidders))})


class Pot(models.Model):
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="pots")
    name = models.CharField(max_length=200)
    network = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="pots",
        limit_choices_to={"kind": OrganisationKind.HEALTH_INNOVATION_NETWORK},
        help_text="For a ring-fenced fund, the network whose bids compete for this pot.",
    )

    class Meta:
        ordering = ["fund", "name"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "network"], name="pot_one_per_network"),
            models.UniqueConstraint(fields=["fund", "name"], name="pot_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.fund})"

    @property
    def audit_fund(self) -> Fund:
        return self.fund


class PotBudget(models.Model):
    """A pot's budget for one financial year. Awards lock these rows when they commit money."""

    pot = models.ForeignKey(Pot, on_delete=models.CASCADE, related_name="budgets")
    financial_year = models.PositiveSmallIntegerField()
    amount = money_field("budget")

    class Meta:
        ordering = ["pot", "financial_year"]
        constraints = [
            models.UniqueConstraint(fields=["pot", "financial_year"], name="pot_budget_one_per_year"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="pot_budget_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.pot.name} {fy.label(self.financial_year)}: £{self.amount}"

    @property
    def year_label(self) -> str:
        return fy.label(self.financial_year)

    @property
    def audit_fund(self) -> Fund:
        return self.pot.fund


# Panels ------------------------------------------------------------------------------------


class Panel(models.Model):
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="panels")
    name = models.CharField(max_length=200)
    terms_of_reference = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["fund", "name"], name="panel_name_unique")]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_fund(self) -> Fund:
        return self.fund


class PanelRole(models.TextChoices):
    CHAIR = "chair", "Chair"
    # Chairs the moderation and decision of the bids every chair is conflicted on.
    DEPUTY_CHAIR = "deputy_chair", "Deputy chair"
    ASSESSOR = "assessor", "Assessor"
    LAY_MEMBER = "lay_member", "Lay or patient member"
    OBSERVER = "observer", "Observer"


class PanelMember(models.Model):
    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="panel_memberships")
    role = models.CharField(max_length=20, choices=PanelRole.choices)
    affiliations = models.ManyToManyField(
        Organisation, blank=True, related_name="panel_affiliations",
        help_text="Organisations the member works for or with; they are never assigned those bids.",
    )

    class Meta:
        ordering = ["panel", "role", "user__full_name"]
        constraints = [models.UniqueConstraint(fields=["panel", "user"], name="panel_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.panel})"

    @property
    def scores_bids(self) -> bool:
        return self.role in (PanelRole.ASSESSOR, PanelRole.CHAIR, PanelRole.DEPUTY_CHAIR, PanelRole.LAY_MEMBER)

    @property
    def audit_fund(self) -> Fund:
        return self.panel.fund


# Expertise: the managed list assessors and call themes are drawn from ---------------------


class Expertise(models.Model):
    """An area of expertise (like "Frailty" or "Digital health"): assessors declare theirs, a
    call names its themes from the same list, and automatic assignment matches the two. Site
    admins keep the list (Django admin)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True)
    is_active = models.BooleanField(default=True, help_text="Retired areas stay on old records but are not offered.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "areas of expertise"

    def __str__(self) -> str:
        return self.name


# Calls and criteria ------------------------------------------------------------------------


class CallPurpose(models.TextChoices):
    ADOPTION = "adoption", "Adoption of proven innovation"
    DIFFUSION = "diffusion", "Diffusion of innovation already in the NHS"
    PUMP_PRIMING = "pump_priming", "Pump-priming new innovation"


class InnovationType(models.TextChoices):
    MEDICINE = "medicine", "Medicine"
    DEVICE = "device", "Medical device"
    DIAGNOSTIC = "diagnostic", "Diagnostic"
    DIGITAL = "digital", "Digital technology"
    SERVICE_MODEL = "service_model", "Service model"


class PartnerKind(models.TextChoices):
    COMMISSIONER = "commissioner", "Commissioner"
    PRIMARY_CARE = "primary_care", "Primary care"
    SECONDARY_CARE = "secondary_care", "Secondary care"
    COMMUNITY = "community", "Community care"
    SOCIAL_CARE = "social_care", "Social care"
    ACADEMIC = "academic", "Academic"
    INDUSTRY = "industry", "Industry"
    PATIENT_GROUP = "patient_group", "Patient group"


class CallStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Published, opening soon"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    ASSESSMENT = "assessment", "In assessment"
    DECIDED = "decided", "Decided"
    CLOSED_OUT = "closed_out", "Closed out"


# Statuses in which the call and its criteria are public and frozen.
PUBLISHED_CALL_STATUSES = frozenset(CallStatus.values) - {CallStatus.DRAFT}


status_tags("call", CallStatus, colours={
    CallStatus.DRAFT: "yellow", CallStatus.SCHEDULED: "blue", CallStatus.OPEN: "green", CallStatus.CLOSED: "grey",
    CallStatus.ASSESSMENT: "purple", CallStatus.DECIDED: "aqua-green", CallStatus.CLOSED_OUT: "white",
    "upcoming": "blue",  # the public list's word for a call not yet open
}, labels={
    CallStatus.SCHEDULED: "Opening soon", CallStatus.OPEN: "Open for bids", CallStatus.ASSESSMENT: "Closed: in assessment",
    "upcoming": "Opening soon",
})


# A part of a draft call on its set-up page: complete, or with problems still to fix.
status_tags("call_task", colours={"incomplete": "blue", "complete": "plain"},
            labels={"incomplete": "Incomplete", "complete": "Complete"})


class Call(models.Model):
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="calls")
    host_network = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="hosted_calls",
        limit_choices_to={"kind": OrganisationKind.HEALTH_INNOVATION_NETWORK},
    )
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    summary = models.TextField()
    purpose = models.CharField(max_length=20, choices=CallPurpose.choices)
    innovation_types = models.JSONField(default=list, help_text="InnovationType values accepted.")
    pots = models.ManyToManyField(Pot, related_name="calls")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    # Set when a published call's closing time is first extended: bidders see what moved and why.
    published_closes_at = models.DateTimeField(
        "closing time as first published", null=True, blank=True,
    )
    closing_extension_reason = models.TextField(blank=True)
    # Eligibility
    eligible_org_kinds = models.JSONField(default=list, help_text="OrganisationKind values that may lead a bid.")
    min_amount = money_field("minimum amount per bid")
    max_amount = money_field("maximum amount per bid")
    max_duration_years = models.PositiveSmallIntegerField(
        "maximum duration in years", validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    required_partner_kinds = models.JSONField(default=list, blank=True, help_text="PartnerKind values required.")
    # Area: empty (both) means anywhere in England; else the lead organisation must be in one of
    # these NHS regions or in the area of one of these Health Innovation Networks.
    eligible_regions = models.JSONField(default=list, blank=True, help_text="Region codes whose organisations may lead a bid.")
    eligible_networks = models.JSONField(
        default=list, blank=True, help_text="Ids of the Health Innovation Networks whose area's organisations may lead a bid.")
    endorsement_required = models.BooleanField("commissioner endorsement required", default=True)
    # Two-stage calls: a short expression of interest first; only those invited write a full bid.
    eoi_stage = models.BooleanField(
        "expression of interest stage", default=False,
        help_text="Bidders send a short expression of interest first; only those invited may start a full bid.",
    )
    eoi_opens_at = models.DateTimeField("expressions of interest open", null=True, blank=True)
    eoi_closes_at = models.DateTimeField("expressions of interest close", null=True, blank=True)
    eoi_criteria = models.TextField(
        "how expressions of interest are shortlisted", blank=True,
        help_text="Published on the call's page. The fund manager invites each one or not, with the reason.",
    )
    # Assessment settings
    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, null=True, blank=True, related_name="calls")
    assessors_per_bid = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1), MaxValueValidator(10)])
    moderation_threshold = models.DecimalField(
        max_digits=4, decimal_places=1, default=2,
        help_text="Scores on a criterion that differ by more than this are flagged for moderation.",
    )
    normalise_scores = models.BooleanField(
        default=False, help_text="Convert each assessor's scores to z-scores before they are combined."
    )
    assessment_due_date = models.DateField(null=True, blank=True)
    panel_meeting_date = models.DateField(null=True, blank=True)
    decisions_expected_date = models.DateField(null=True, blank=True)
    questions_close_at = models.DateTimeField(
        "deadline for questions", null=True, blank=True,
        help_text="Bidders may ask questions on the call page until then (before the closing time).",
    )
    themes = models.ManyToManyField(
        Expertise, blank=True, related_name="calls",
        help_text="The areas of expertise the call's bids need: automatic assignment prefers assessors who have them.",
    )
    partner_sign_off_required = models.BooleanField(
        "partners sign off before submission", default=True,
        help_text="Every partner organisation named on a bid signs off its part before the bid can be submitted.",
    )
    # Lifecycle
    status = models.CharField(max_length=20, choices=CallStatus.choices, default=CallStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    decisions_released_at = models.DateTimeField(null=True, blank=True)
    copied_from = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="call_closes_after_opening"),
            models.CheckConstraint(condition=Q(max_amount__gte=models.F("min_amount")), name="call_amounts_in_order"),
            models.CheckConstraint(condition=Q(min_amount__gte=0), name="call_min_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(moderation_threshold__gte=0), name="call_moderation_threshold_not_negative"
            ),
            models.CheckConstraint(condition=Q(assessors_per_bid__gte=1), name="call_assessors_per_bid_positive"),
            models.CheckConstraint(
                condition=Q(eoi_stage=False)
                | (Q(eoi_closes_at__gt=models.F("eoi_opens_at")) & Q(eoi_closes_at__lte=models.F("opens_at"))),
                name="call_eoi_timetable_in_order",
            ),
        ]
        indexes = [models.Index(fields=["status", "closes_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("governance:call_public", kwargs={"slug": self.slug})

    @property
    def audit_fund(self) -> Fund:
        return self.fund

    @property
    def is_published(self) -> bool:
        return self.status in PUBLISHED_CALL_STATUSES

    @property
    def criteria_frozen(self) -> bool:
        return self.status != CallStatus.DRAFT

    def phase(self, now: dt.datetime | None = None) -> str:
        """The status as it stands at ``now``, even if the beat task has not run yet.

        A published call is open from ``opens_at`` until ``closes_at``; nothing is accepted
        after the closing time whatever the stored status says.
        """
        now = now or timezone.now()
        if self.status in (CallStatus.SCHEDULED, CallStatus.OPEN):
            if now < self.opens_at:
                return CallStatus.SCHEDULED
            if now < self.closes_at:
                return CallStatus.OPEN
            return CallStatus.CLOSED
        return self.status

    def phase_label(self, now: dt.datetime | None = None) -> str:
        return CallStatus(self.phase(now)).label

    def is_accepting_bids(self, now: dt.datetime | None = None) -> bool:
        return self.phase(now) == CallStatus.OPEN

    def eoi_phase(self, now: dt.datetime | None = None) -> str:
        """"" (no EOI stage or not published), "upcoming", "open" or "closed": judged on the clock,
        so nothing is accepted after the EOI closing time whatever a task has done."""
        if not self.eoi_stage or not self.is_published or not self.eoi_opens_at or not self.eoi_closes_at:
            return ""
        now = now or timezone.now()
        if now < self.eoi_opens_at:
            return "upcoming"
        if now < self.eoi_closes_at:
            return "open"
        return "closed"

    def is_accepting_eois(self, now: dt.datetime | None = None) -> bool:
        return self.eoi_phase(now) == "open"

    @property
    def total_weight(self) -> int:
        return sum(criterion.weight for criterion in self.criteria.all())

    @property
    def common_scale(self) -> tuple[int, int] | None:
        """(lowest, highest) score when every criterion uses the same scale, else None."""
        scales = {(criterion.scale_min, criterion.scale_max) for criterion in self.criteria.all()}
        return scales.pop() if len(scales) == 1 else None

    @property
    def gateway_criteria(self) -> list[Criterion]:
        return [criterion for criterion in self.criteria.all() if criterion.gateway_min_score is not None]

    @property
    def example_score(self) -> Decimal | None:
        """The 0-100 score of a bid scored one below the top of every criterion's scale.

        Each criterion's mean score counts as its share of the scale (lowest 0, highest 1),
        weighted by the criterion's weight; the weighted mean is scaled to 0-100.
        """
        criteria = list(self.criteria.all())
        total_weight = sum(criterion.weight for criterion in criteria)
        if not criteria or not total_weight:
            return None
        weighted = sum(
            Decimal(criterion.weight) * Decimal(criterion.scale_max - 1 - criterion.scale_min)
            / Decimal(criterion.scale_max - criterion.scale_min)
            for criterion in criteria
        )
        return (weighted / Decimal(total_weight) * 100).quantize(Decimal("0.1"))

    @property
    def innovation_type_labels(self) -> list[str]:
        return [InnovationType(v).label for v in self.innovation_types if v in InnovationType.values]

    @property
    def eligible_org_kind_labels(self) -> list[str]:
        return [OrganisationKind(v).label for v in self.eligible_org_kinds if v in OrganisationKind.values]

    @property
    def required_partner_kind_labels(self) -> list[str]:
        return [PartnerKind(v).label for v in self.required_partner_kinds if v in PartnerKind.values]

    @property
    def has_area(self) -> bool:
        return bool(self.eligible_regions or self.eligible_networks)

    @property
    def eligible_area_labels(self) -> list[str]:
        """The areas whose organisations may lead a bid, in words ("London region", "the area of ...")."""
        labels = [f"the {Region(v).label} region" for v in self.eligible_regions if v in Region.values]
        networks = Organisation.objects.filter(pk__in=self.eligible_networks or []).order_by("name")
        labels += [f"the area of {network.name}" for network in networks]
        return labels

    def area_allows(self, organisation: Organisation) -> bool:
        """May an organisation in ``organisation``'s place lead a bid? (Anywhere, if the call names no area.)"""
        if not self.has_area:
            return True
        networks = {int(n) for n in self.eligible_networks or []}
        return (organisation.region in (self.eligible_regions or []) and bool(organisation.region)) \
            or organisation.network_id in networks or organisation.pk in networks


class CriterionKind(models.TextChoices):
    COST_SAVING = "cost_saving", "Cost saving"
    PATIENT_BENEFIT = "patient_benefit", "Patient benefit"
    DELIVERABILITY = "deliverability", "Deliverability"
    SCALABILITY = "scalability", "Scalability and spread"
    COLLABORATION = "collaboration", "Collaboration across the pathway"
    VALUE_FOR_MONEY = "value_for_money", "Value for money"
    OTHER = "other", "Other"


class Criterion(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="criteria")
    kind = models.CharField(max_length=20, choices=CriterionKind.choices)
    title = models.CharField(max_length=200)
    guidance_for_applicants = models.TextField()
    guidance_for_assessors = models.TextField()
    weight = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(100)])
    scale_min = models.PositiveSmallIntegerField(default=0)
    scale_max = models.PositiveSmallIntegerField(default=4, validators=[MaxValueValidator(10)])
    gateway_min_score = models.PositiveSmallIntegerField(
        null=True, blank=True,
        help_text="If set, a bid scoring below this on this criterion cannot be funded.",
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["call", "position", "pk"]
        verbose_name_plural = "criteria"
        constraints = [
            models.CheckConstraint(condition=Q(weight__gte=1) & Q(weight__lte=100), name="criterion_weight_1_to_100"),
            models.CheckConstraint(condition=Q(scale_max__gt=models.F("scale_min")), name="criterion_scale_in_order"),
            models.CheckConstraint(
                condition=Q(gateway_min_score__isnull=True)
                | (Q(gateway_min_score__gte=models.F("scale_min")) & Q(gateway_min_score__lte=models.F("scale_max"))),
                name="criterion_gateway_within_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.weight}%)"

    @property
    def audit_fund(self) -> Fund:
        return self.call.fund

    @property
    def scale(self) -> list[int]:
        return list(range(self.scale_min, self.scale_max + 1))


class RubricDescriptor(models.Model):
    """What a given score on a criterion means."""

    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="descriptors")
    score = models.PositiveSmallIntegerField()
    descriptor = models.TextField()

    class Meta:
        ordering = ["criterion", "score"]
        constraints = [models.UniqueConstraint(fields=["criterion", "score"], name="descriptor_one_per_score")]

    def __str__(self) -> str:
        return f"{self.score}: {self.descriptor[:40]}"

    @property
    def audit_fund(self) -> Fund:
        return self.criterion.call.fund


# Notifications -----------------------------------------------------------------------------


class Notification(models.Model):
    """A message to a person (a user, or a public subscriber by email address alone): emailed
    and, for a user, listed on their notifications page.

    ``idempotency_key`` (kind, object, recipient, occasion) is unique: a message the catalogue
    (``governance.notifications``) sends goes once, however often the change or beat runs.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications", null=True, blank=True)
    email = models.EmailField(blank=True, help_text="Where to write when there is no user (a public subscriber).")
    kind = models.CharField(max_length=60, blank=True, help_text="The catalogue entry it was written from.")
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=300, blank=True)
    unsubscribe_link = models.CharField(max_length=500, blank=True)
    in_digest = models.BooleanField(default=False, help_text="Emailed in the person's daily digest, not on its own.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True, help_text="Set by the worker once the email is sent.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"]), models.Index(fields=["in_digest", "emailed_at"])]
        constraints = [models.CheckConstraint(
            condition=Q(user__isnull=False) | ~Q(email=""), name="notification_has_recipient")]

    def __str__(self) -> str:
        return self.subject

    @property
    def recipient_email(self) -> str:
        return self.user.email if self.user is not None else self.email


class NotificationWording(models.Model):
    """A fund's own wording of one catalogue message (placeholders checked by the service)."""

    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="notification_wordings")
    kind = models.CharField(max_length=60)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    updated_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["fund", "kind"]
        constraints = [models.UniqueConstraint(fields=["fund", "kind"], name="notification_wording_unique")]

    def __str__(self) -> str:
        return f"{self.fund}: {self.kind}"

    @property
    def audit_fund(self) -> Fund:
        return self.fund


# Questions on an open call ---------------------------------------------------------------------


class CallQuestion(models.Model):
    """A bidder's question on an open call; its answer is published without the asker's name."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="questions")
    asked_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="call_questions")
    question = models.TextField()
    asked_at = models.DateTimeField(default=timezone.now)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    answered_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "pk"]
        constraints = [models.CheckConstraint(
            condition=Q(published_at__isnull=True) | Q(answered_at__isnull=False), name="call_question_published_answered")]

    def __str__(self) -> str:
        return f"Question {self.pk} on {self.call}"

    @property
    def audit_fund(self) -> Fund:
        return self.call.fund


def _question_state(question: CallQuestion) -> str:
    return "published" if question.published_at else "answered" if question.answered_at else "waiting"


status_tags("question", state=_question_state, colours={"published": "green", "answered": "blue", "waiting": "grey"},
            labels={"published": "Published", "answered": "Answered, not published", "waiting": "Waiting"})


# Alerts for the public ----------------------------------------------------------------------------


class CallAlertSubscription(models.Model):
    """An email address told of new calls matching its filters (empty filter: any), once the
    address is confirmed (double opt-in) and until it unsubscribes."""

    email = models.EmailField()
    networks = models.ManyToManyField(Organisation, blank=True, related_name="+",
                                      limit_choices_to={"kind": OrganisationKind.HEALTH_INNOVATION_NETWORK})
    purposes = models.JSONField(default=list, blank=True, help_text="CallPurpose values.")
    regions = models.JSONField(default=list, blank=True, help_text="Region values.")
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["email"])]

    def __str__(self) -> str:
        return self.email

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


# The outbox: side effects recorded with the change that needs them --------------------------


class OutboxStatus(models.TextChoices):
    WAITING = "waiting", "Waiting to be handed to the workers"
    DISPATCHED = "dispatched", "Handed to the workers"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class OutboxMessage(models.Model):
    """A Celery task a change needs, saved in the change's own transaction.

    After the commit it is handed to the broker; if the broker refuses, it waits and the
    beat's ``dispatch_outbox`` hands it over later, with backoff. The task runs with
    ``task_id`` as its Celery id, so the worker marks this row done and a redelivered
    message for a done row is not run again (see ``governance.outbox``).
    """

    task_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.WAITING)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now,
                                           help_text="The beat does not hand it over before this time.")
    attempts = models.PositiveIntegerField(default=0, help_text="Times it was offered to the broker.")
    dispatched_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The beat reads the few waiting (or long-dispatched) rows; health reads the oldest.
            models.Index(fields=["status", "next_attempt_at"], name="outbox_status_next_idx"),
            models.Index(fields=["created_at"], condition=Q(status="waiting"), name="outbox_waiting_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task_name}{tuple(self.args)} ({self.status})"


# Audit trail -------------------------------------------------------------------------------


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Audit events are append-only; they cannot be updated")

    def delete(self):
        raise TypeError("Audit events are append-only; they cannot be deleted")


class AuditEvent(models.Model):
    """One append-only record: who did what to which object, when, before and after."""

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="People who have acted are deactivated, never deleted, so the trail stays whole.",
    )
    actor_label = models.CharField(max_length=200, help_text="Who acted, kept even if the user is removed.")
    action = models.CharField(max_length=60, db_index=True, help_text="Like call.opened or bid.submitted.")
    target_type = models.CharField(max_length=60)
    target_id = models.CharField(max_length=40)
    target_label = models.CharField(max_length=300)
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events")
    message = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # What the event belongs to, found from its target when written (``audit.audit_links``), so
    # every event is found by its call, bid and award whatever its target (a condition, a score).
    call_ref = models.CharField(max_length=80, null=True, blank=True, db_index=True, help_text="The call's slug.")
    bid_ref = models.CharField(max_length=40, null=True, blank=True, db_index=True, help_text="The bid's reference.")
    award_ref = models.CharField(max_length=40, null=True, blank=True, db_index=True, help_text="The award's reference.")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["fund", "-occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_label}: {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Audit events are append-only; they cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are append-only; they cannot be deleted")


class OrganisationRequestStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a fund manager"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class OrganisationRequest(models.Model):
    """Someone asks for an organisation the portal does not hold yet (a charity, a company, a
    university, anything ODS has not given it); a fund manager of the chosen network approves it
    (which creates the organisation) or rejects it, and the person is told."""

    requested_by = models.ForeignKey("User", on_delete=models.PROTECT, related_name="organisation_requests")
    network = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="organisation_requests_to_decide",
        limit_choices_to={"kind": OrganisationKind.HEALTH_INNOVATION_NETWORK},
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=OrganisationKind.choices)
    company_number = models.CharField(max_length=10, blank=True)
    charity_number = models.CharField(max_length=12, blank=True)
    ukprn = models.CharField("UKPRN", max_length=8, blank=True)
    edu_urn = models.CharField("Schools and colleges URN", max_length=6, blank=True)
    ods_code = models.CharField("ODS code", max_length=8, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    website = models.URLField(blank=True)
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=OrganisationRequestStatus.choices,
                              default=OrganisationRequestStatus.PENDING)
    decided_by = models.ForeignKey("User", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["network", "status"])]

    def __str__(self) -> str:
        return f"Request for {self.name}"
