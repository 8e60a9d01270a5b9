"""Form fields and widgets in the NHS.UK style, shared by every app's forms.

Dates are typed as day, month and year (the NHS.UK date input); money is read with
``parse_money`` so "£12,500" works and "12.345" gets a clear message.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone

from . import fy
from .form_layout import GroupFieldset, Heading, fields_helper
from .models import (
    AllocationModel,
    CallPurpose,
    CriterionKind,
    Fund,
    InnovationType,
    Organisation,
    OrganisationKind,
    Panel,
    PanelRole,
    PartnerKind,
    Pot,
    Region,
    User,
)
from .money import parse_money

DATE_INCOMPLETE = "Enter a full date: day, month and year"
DATE_NOT_REAL = "Enter a real date"
TIME_NOT_REAL = "Enter a time like 12:00 or 17:30 (24-hour clock)"


class NHSDateWidget(forms.MultiWidget):
    template_name = "nhsuk/widgets/date.html"

    def __init__(self, attrs=None):
        widgets = {
            "day": forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
            "month": forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
            "year": forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-4"}),
        }
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if isinstance(value, dt.date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class NHSDateTimeWidget(forms.MultiWidget):
    """Day, month, year and a 24-hour time, read in Europe/London."""

    template_name = "nhsuk/widgets/datetime.html"

    def __init__(self, attrs=None):
        widgets = {
            "day": forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
            "month": forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
            "year": forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-4"}),
            "time": forms.TextInput(attrs={"class": "nhsuk-input--width-5"}),
        }
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if isinstance(value, dt.datetime):
            local = timezone.localtime(value, zoneinfo.ZoneInfo(settings.TIME_ZONE))
            return [local.day, local.month, local.year, local.strftime("%H:%M")]
        return [None, None, None, None]


def _to_date(day, month, year) -> dt.date:
    if not (day and month and year):
        raise ValidationError(DATE_INCOMPLETE, code="incomplete")
    try:
        day_n, month_n, year_n = int(str(day).strip()), int(str(month).strip()), int(str(year).strip())
        if not 1900 <= year_n <= 2100:
            raise ValueError
        return dt.date(year_n, month_n, day_n)
    except (TypeError, ValueError):
        raise ValidationError(DATE_NOT_REAL, code="invalid") from None


class NHSDateField(forms.MultiValueField):
    widget = NHSDateWidget

    def __init__(self, **kwargs):
        fields = (forms.CharField(), forms.CharField(), forms.CharField())
        kwargs.setdefault("require_all_fields", False)
        super().__init__(fields=fields, **kwargs)

    def clean(self, value):
        values = value if isinstance(value, list | tuple) else self.widget.decompress(value)
        if not any(str(v or "").strip() for v in values):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        result = _to_date(*values)
        self.validate(result)
        self.run_validators(result)
        return result

    def compress(self, data_list):  # pragma: no cover - clean() does the work
        return _to_date(*data_list) if data_list else None


class NHSDateTimeField(forms.MultiValueField):
    """A moment typed in UK time; stored as an aware datetime."""

    widget = NHSDateTimeWidget

    def __init__(self, **kwargs):
        fields = (forms.CharField(), forms.CharField(), forms.CharField(), forms.CharField())
        kwargs.setdefault("require_all_fields", False)
        super().__init__(fields=fields, **kwargs)

    def clean(self, value):
        values = value if isinstance(value, list | tuple) else self.widget.decompress(value)
        if not any(str(v or "").strip() for v in values):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return None
        day, month, year, time_text = values
        date = _to_date(day, month, year)
        try:
            time = dt.time.fromisoformat(str(time_text or "").strip().zfill(5))
        except ValueError:
            raise ValidationError(TIME_NOT_REAL, code="invalid_time") from None
        result = dt.datetime.combine(date, time, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
        self.validate(result)
        self.run_validators(result)
        return result

    def compress(self, data_list):  # pragma: no cover - clean() does the work
        return None


AnyField = TypeVar("AnyField", bound=forms.Field)


def needed_when(field: AnyField) -> AnyField:
    """Mark a field that is needed only in some cases (its hint says which, and the service
    checks it): the label then shows no "(optional)", which would mislead."""
    field.conditional = True  # type: ignore[attr-defined]  # the portal's own mark, read by the field template
    return field


# ``form.fields`` is typed as holding plain fields: these give a form's field as the kind it is.


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{name} is not a choice field")
    return field


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{name} is not a model choice field")
    return field


class MoneyField(forms.CharField):
    """An amount in pounds and pence, returned as ``Decimal``; never a float."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "class": "nhsuk-input--width-10", "spellcheck": "false"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        return parse_money(value)

    def prepare_value(self, value):
        return "" if value is None else str(value)


class EmailAuthenticationForm(AuthenticationForm):
    """Sign in with an email address."""

    error_messages = {
        "invalid_login": "Enter a correct email address and password. Both are case-sensitive except the email.",
        "inactive": "This account is inactive.",
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email address"
        self.fields["username"].widget = forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"})
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"


class SecondFactorCodeForm(forms.Form):
    """A code from the authenticator app (or, when verifying, a recovery code)."""

    code = forms.CharField(
        label="Code from your authenticator app", max_length=40, strip=True,
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false",
                                      "autocapitalize": "none", "class": "nhsuk-input--width-10"}),
    )

    def __init__(self, *args, recovery_allowed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if recovery_allowed:
            self.fields["code"].help_text = ("The 6-digit code your app shows now. Lost your phone? "
                                             "Enter one of your recovery codes instead.")
        else:
            self.fields["code"].help_text = "The 6-digit code your app shows now"
            self.fields["code"].widget.attrs["inputmode"] = "numeric"


class ReauthenticationForm(forms.Form):
    """Password and code again, before money, decisions and awards."""

    password = forms.CharField(
        label="Password", strip=False,
        error_messages={"required": "Enter your password"},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = forms.CharField(
        label="Code from your authenticator app", max_length=40, strip=True, required=False,
        help_text="The 6-digit code your app shows now, or one of your recovery codes",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false",
                                      "autocapitalize": "none", "class": "nhsuk-input--width-10"}),
    )

    def __init__(self, *args, ask_code: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not ask_code:
            del self.fields["code"]


# Funds, pots, panels, calls and criteria ---------------------------------------------------------
# (Forms for the governance stage's management pages; the fields above are shared by every app.)

FY_NOT_VALID = "Enter a financial year like 2026/27"
NO_SUCH_USER = "No one with this email address has an account on the portal: ask the site admin to add them"
DATES_OUT_OF_ORDER = "The end date must be the same as the start date or after it"
YES_NO = [(True, "Yes"), (False, "No")]


class FinancialYearField(forms.CharField):
    """A financial year typed as ``2026/27`` (or ``2026``), returned as its start year."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"class": "nhsuk-input--width-5", "spellcheck": "false"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return fy.FinancialYear.parse(value).start_year
        except ValueError:
            raise ValidationError(FY_NOT_VALID, code="invalid") from None

    def prepare_value(self, value):
        return fy.label(value) if isinstance(value, int) else value


# Where a service error goes: a field of the form, (another form, its field) such as a row of a
# formset, or None for the top of the form.
ErrorPlace = str | tuple[forms.BaseForm, str | None] | None
FieldMap = Mapping[str, str] | Callable[[str, ValidationError], ErrorPlace]


def add_service_errors(form: forms.BaseForm, error: ValidationError, field_map: FieldMap | None = None) -> None:
    """Show a service's ``ValidationError`` on the form, each message kept whole (code and params).

    A message keyed by one of the form's fields goes next to that field. Other keys are placed by
    ``field_map`` (a dict of service key to field name, or a function ``(key, error)`` answering
    a field name, a ``(form, field)`` pair or None), else by the form's own
    ``service_error_field(key, error)`` when it has one; what is left goes at the top of the form
    (the error summary)."""
    if not hasattr(error, "error_dict"):
        for each in error.error_list:
            form.add_error(None, each)
        return
    place = _placer(form, field_map)
    for key, errors in error.error_dict.items():
        for each in errors:
            target, field = (form, key) if key in form.fields else _resolve(form, place(key, each))
            target.add_error(field, each)


def _placer(form: forms.BaseForm, field_map: FieldMap | None) -> Callable[[str, ValidationError], ErrorPlace]:
    if field_map is None:
        return getattr(form, "service_error_field", lambda key, error: None)
    if callable(field_map):
        return field_map
    return lambda key, error: field_map.get(key)


def _resolve(form: forms.BaseForm, place: ErrorPlace) -> tuple[forms.BaseForm, str | None]:
    target, field = place if isinstance(place, tuple) else (form, place)
    return target, field if field in target.fields else None


def submit_form(request: HttpRequest, form: forms.BaseForm, save: Callable[[], Any]) -> Any:
    """The usual POST: when the form is posted and valid, run ``save()`` (a service call) and
    return what it returns (True if nothing); a service's ``ValidationError`` goes on the form
    (``add_service_errors``) and None is returned, as it is for a GET or an invalid form."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        result = save()
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    return True if result is None else result


class SectionsMixin:
    """Forms long enough to read in parts: ``section_layout`` is [(heading, [field names])], drawn
    by ``{% crispy form %}`` as each heading followed by its fields."""

    section_layout: list[tuple[str, list[str]]] = []

    @property
    def helper(self):
        parts = []
        for heading, names in self.section_layout:
            present = [name for name in names if name in self.fields]
            if present:
                parts += [Heading(heading), *present]
        return fields_helper(*parts)


class FundForm(forms.Form):
    name = forms.CharField(label="Fund name", max_length=200)
    slug = forms.SlugField(
        label="Web address name", max_length=80, required=False,
        help_text="Lower-case letters, numbers and hyphens, like south-west-adoption-fund. Leave it blank to make one from the name.",
    )
    host_network = forms.ModelChoiceField(label="Hosting network", queryset=Organisation.objects.none(), empty_label=None)
    description = forms.CharField(label="Description", widget=forms.Textarea(attrs={"rows": 4}))
    priorities = forms.CharField(
        label="Investment priorities", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One per line.",
    )
    allocation_model = forms.ChoiceField(label="How the money is allocated", choices=AllocationModel.choices, widget=forms.RadioSelect)
    first_year = FinancialYearField(label="First financial year", help_text="Like 2026/27.")
    last_year = FinancialYearField(label="Last financial year", help_text="Like 2028/29. A fund may span several budget periods.")

    def __init__(self, *args, networks=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["host_network"].queryset = networks if networks is not None else Organisation.objects.none()


class PotForm(forms.Form):
    name = forms.CharField(label="Pot name", max_length=200)
    network = forms.ModelChoiceField(
        label="Network", queryset=Organisation.objects.none(), required=False, empty_label="Choose a network",
        help_text="The fund is ring-fenced by region: only bids from this network's area compete for this pot.",
    )

    def __init__(self, *args, fund: Fund, networks=None, **kwargs):
        super().__init__(*args, **kwargs)
        if fund.allocation_model == AllocationModel.RING_FENCED:
            model_choice_field(self, "network").queryset = networks if networks is not None else Organisation.objects.none()
            self.fields["network"].required = True
        else:
            del self.fields["network"]


class PotBudgetForm(forms.Form):
    financial_year = FinancialYearField(label="Financial year")
    amount = MoneyField(label="Budget for the year", help_text="In pounds, like 1500000 or 1,500,000.00.")

    def __init__(self, *args, fund: Fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["financial_year"].help_text = (
            f"Like {fy.label(fund.first_year)}. The fund covers {fy.label(fund.first_year)} to {fy.label(fund.last_year)}."
        )


class PanelForm(forms.Form):
    name = forms.CharField(label="Panel name", max_length=200)
    terms_of_reference = forms.CharField(
        label="Terms of reference", required=False, widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What the panel does and how it works. Published on the calls it assesses.",
    )


class PortalUserForm(forms.Form):
    """Finds the active account with the ``email`` given; it is ``self.user`` once valid."""

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        self.user = User.objects.filter(email__iexact=email, is_active=True).first()
        if self.user is None:
            raise ValidationError(NO_SUCH_USER)
        return email


PANEL_ROLE_HELP = (
    "The chair moderates and records the panel's decisions; a deputy chair does so for the bids the chair is "
    "conflicted on. Chairs, deputy chairs, assessors and lay members score bids; observers do not."
)


class PanelMemberForm(PortalUserForm):
    email = forms.EmailField(label="Email address", help_text="The address they sign in to the portal with.")
    role = forms.ChoiceField(label="Role on the panel", choices=PanelRole.choices, widget=forms.RadioSelect,
                             help_text=PANEL_ROLE_HELP)


class FundAuditorForm(PortalUserForm):
    email = forms.EmailField(
        label="Email address of the auditor",
        help_text="The address they sign in to the portal with. They will read everything of this fund and change nothing.",
    )


class PanelMemberRoleForm(forms.Form):
    role = forms.ChoiceField(label="Role on the panel", choices=PanelRole.choices, widget=forms.RadioSelect,
                             help_text=PANEL_ROLE_HELP)


class OrganisationSearchForm(forms.Form):
    q = forms.CharField(
        label="Find an organisation", max_length=100, required=False,
        help_text="Part of its name, or its ODS code, like RH8.",
    )


LEAD_ORG_KINDS = [(value, label) for value, label in OrganisationKind.choices if value != OrganisationKind.HEALTH_INNOVATION_NETWORK]


class CallForm(SectionsMixin, forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    slug = forms.SlugField(
        label="Web address name", max_length=80, required=False,
        help_text="The call's page will be /calls/this-name/. Leave it blank to make one from the title.",
    )
    summary = forms.CharField(label="Summary", widget=forms.Textarea(attrs={"rows": 5}), help_text="What the call funds and why.")
    purpose = forms.ChoiceField(label="Purpose", choices=CallPurpose.choices, widget=forms.RadioSelect)
    innovation_types = forms.MultipleChoiceField(
        label="Types of innovation accepted", choices=InnovationType.choices, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose the kinds of innovation the call accepts"},
    )
    host_network = forms.ModelChoiceField(label="Hosting network", queryset=Organisation.objects.none(), empty_label=None)
    pots = forms.ModelMultipleChoiceField(
        label="Pots the awards are paid from", queryset=Pot.objects.none(), widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    opens_at = NHSDateTimeField(label="Opens", help_text="UK time. For example, 1 4 2026 and 09:00.")
    closes_at = NHSDateTimeField(label="Closes", help_text="UK time. Bids are refused after this moment.")
    questions_close_at = NHSDateTimeField(
        label="Deadline for questions", required=False,
        help_text="UK time, before the closing time. Bidders may ask questions on the call page until then. "
                  "Leave blank to take questions until the call closes.",
    )
    assessment_due_date = NHSDateField(label="Assessors' scores due", required=False)
    panel_meeting_date = NHSDateField(label="Panel meeting", required=False)
    decisions_expected_date = NHSDateField(label="Decisions announced by", required=False)
    eligible_org_kinds = forms.MultipleChoiceField(
        label="Organisations that may lead a bid", choices=LEAD_ORG_KINDS, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose the kinds of organisation that may lead a bid"},
    )
    eoi_stage = forms.BooleanField(
        label="Ask for an expression of interest first (a two-stage call)", required=False,
        help_text="Bidders send a short expression of interest; only those you invite may start a full bid.",
    )
    eoi_opens_at = NHSDateTimeField(label="Expressions of interest open", required=False, help_text="UK time.")
    eoi_closes_at = NHSDateTimeField(
        label="Expressions of interest close", required=False,
        help_text="UK time. Before the call opens for full bids; late expressions of interest are refused.",
    )
    eoi_criteria = forms.CharField(
        label="How expressions of interest are shortlisted", required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Published on the call's page. You invite each one or not, with the reason the bidder reads.",
    )
    min_amount = MoneyField(label="Minimum amount per bid", required=False, help_text="In pounds. Leave blank for no minimum.")
    max_amount = MoneyField(label="Maximum amount per bid", help_text="In pounds, over the whole project.")
    max_duration_years = forms.IntegerField(
        label="Maximum duration in years", min_value=1, max_value=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
    )
    required_partner_kinds = forms.MultipleChoiceField(
        label="Partners every bid must have", choices=PartnerKind.choices, widget=forms.CheckboxSelectMultiple,
        required=False, help_text="Collaboration across the pathway: choose none if partners are welcome but not required.",
    )
    eligible_regions = forms.MultipleChoiceField(
        label="NHS regions whose organisations may lead a bid", choices=Region.choices,
        widget=forms.CheckboxSelectMultiple, required=False,
        help_text="Choose no region and no network for a call open to all of England.",
    )
    eligible_networks = forms.TypedMultipleChoiceField(
        label="Health Innovation Networks whose area's organisations may lead a bid", coerce=int,
        widget=forms.CheckboxSelectMultiple, required=False,
    )
    endorsement_required = forms.TypedChoiceField(
        label="Must a commissioner endorse each bid before it is assessed?", choices=YES_NO,
        coerce=lambda value: value in (True, "True"), widget=forms.RadioSelect,
    )
    partner_sign_off_required = forms.BooleanField(
        label="Every partner organisation signs off its part before a bid is submitted", required=False, initial=True,
    )
    panel = forms.ModelChoiceField(label="Assessment panel", queryset=Panel.objects.none(), required=False, empty_label="Choose a panel")
    assessors_per_bid = forms.IntegerField(
        label="Assessors per bid", min_value=1, max_value=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
    )
    moderation_threshold = forms.DecimalField(
        label="Moderation threshold", min_value=0, max_digits=4, decimal_places=1,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "nhsuk-input--width-3"}),
        help_text="If assessors' scores for a criterion differ by more than this many points, the panel chair moderates.",
    )
    normalise_scores = forms.BooleanField(
        label="Normalise each assessor's scores", required=False,
        help_text="Convert each assessor's scores to z-scores against their own mean and spread, so generous and strict assessors count equally.",
    )

    section_layout = [
        ("About the call", ["title", "slug", "summary", "purpose", "innovation_types", "host_network"]),
        ("Money", ["pots"]),
        ("Expressions of interest", ["eoi_stage", "eoi_opens_at", "eoi_closes_at", "eoi_criteria"]),
        ("Timetable", ["opens_at", "closes_at", "questions_close_at", "assessment_due_date", "panel_meeting_date", "decisions_expected_date"]),
        ("Eligibility", ["eligible_org_kinds", "eligible_regions", "eligible_networks", "min_amount", "max_amount",
                         "max_duration_years", "required_partner_kinds", "endorsement_required", "partner_sign_off_required"]),
        ("Assessment", ["panel", "assessors_per_bid", "moderation_threshold", "normalise_scores"]),
    ]

    def __init__(self, *args, fund: Fund, hosts=None, pots=None, panels=None, only: tuple[str, ...] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "host_network").queryset = hosts if hosts is not None else Organisation.objects.none()
        model_choice_field(self, "pots").queryset = pots if pots is not None else Pot.objects.none()
        model_choice_field(self, "pots").label_from_instance = lambda pot: pot.name  # type: ignore[method-assign, assignment]  # Django's documented way to relabel choices
        model_choice_field(self, "panel").queryset = panels if panels is not None else Panel.objects.none()
        if "eligible_networks" in self.fields:
            choice_field(self, "eligible_networks").choices = list(Organisation.objects.filter(
                kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).order_by("name").values_list("pk", "name"))
        if only is not None:
            for name in list(self.fields):
                if name not in only:
                    del self.fields[name]

    @staticmethod
    def initial_from(call) -> dict:
        initial = {name: getattr(call, name) for name in (
            "title", "slug", "summary", "purpose", "innovation_types", "host_network", "opens_at", "closes_at",
            "assessment_due_date", "panel_meeting_date", "decisions_expected_date", "eligible_org_kinds",
            "min_amount", "max_amount", "max_duration_years", "required_partner_kinds", "endorsement_required",
            "panel", "assessors_per_bid", "moderation_threshold", "normalise_scores", "questions_close_at",
            "eligible_regions", "eligible_networks",
            "eoi_stage", "eoi_opens_at", "eoi_closes_at", "eoi_criteria",
            "partner_sign_off_required",
        )}
        initial["pots"] = list(call.pots.all())
        return initial

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("pots", None)
        if "min_amount" in data and data["min_amount"] is None:
            data["min_amount"] = Decimal("0.00")
        return data


class CallCopyForm(forms.Form):
    title = forms.CharField(label="Title of the new call", max_length=200)
    slug = forms.SlugField(
        label="Web address name", max_length=80, required=False,
        help_text="Leave it blank to make one from the title.",
    )
    opens_at = NHSDateTimeField(label="Opens", help_text="UK time.")
    closes_at = NHSDateTimeField(label="Closes", help_text="UK time.")


class CallCloseForm(forms.Form):
    reason = needed_when(forms.CharField(
        label="Why is the call closing before its published closing time?", required=False,
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Recorded on the fund's audit trail.",
    ))


class CallUnpublishForm(forms.Form):
    reason = forms.CharField(
        label="Why is the call going back to draft?", max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded on the fund's audit trail.",
        error_messages={"required": "Give the reason for taking the call back to draft: it is recorded on the fund's "
                                    "audit trail"},
    )


class CallExtendForm(forms.Form):
    closes_at = NHSDateTimeField(label="New closing time", help_text="UK time. Bids are refused after this moment.")
    reason = forms.CharField(
        label="Why is the closing time moving?", max_length=1000, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give the reason for the extension: it is shown on the call's public page"},
        help_text="Shown on the call's public page and sent to everyone with a draft bid.",
    )


def _scale_bounds(data, default: tuple[int, int]) -> tuple[int, int]:
    """The scale the rubric fields are drawn for: as typed if it is sensible, else the default."""
    try:
        low, high = int(str(data.get("scale_min", "")).strip()), int(str(data.get("scale_max", "")).strip())
    except (TypeError, ValueError):
        return default
    if 0 <= low < high <= 10:
        return low, high
    return default


class CriterionForm(SectionsMixin, forms.Form):
    kind = forms.ChoiceField(label="Kind of criterion", choices=CriterionKind.choices)
    title = forms.CharField(label="Title", max_length=200)
    guidance_for_applicants = forms.CharField(
        label="Guidance for applicants", widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Published with the call: what a strong bid shows against this criterion.",
    )
    guidance_for_assessors = forms.CharField(
        label="Guidance for assessors", widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Shown to assessors while they score.",
    )
    weight = forms.IntegerField(
        label="Weight", min_value=1, max_value=100,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-3"}),
    )
    scale_min = forms.IntegerField(
        label="Lowest score", min_value=0, max_value=9, initial=0,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
    )
    scale_max = forms.IntegerField(
        label="Highest score", min_value=1, max_value=10, initial=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
        help_text="Most calls score from 0 to 4.",
    )
    gateway_min_score = forms.IntegerField(
        label="Gateway minimum score", required=False, min_value=0, max_value=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-2"}),
        help_text="If set, a bid scoring below this on this criterion cannot be funded, whatever its total.",
    )

    def __init__(self, *args, criterion=None, other_weights: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        default = (criterion.scale_min, criterion.scale_max) if criterion else (0, 4)
        low, high = _scale_bounds(self.data, default) if self.is_bound else default
        self.scale = list(range(low, high + 1))
        self.fields["weight"].help_text = (
            f"A percentage. All the call's criteria add up to 100; the others add up to {other_weights}."
        )
        existing = {d.score: d.descriptor for d in criterion.descriptors.all()} if criterion else {}
        for score in self.scale:
            self.fields[f"descriptor_{score}"] = forms.CharField(
                label=f"What a score of {score} means", widget=forms.Textarea(attrs={"rows": 2}),
                initial=existing.get(score, ""),
                error_messages={"required": f"Describe what a score of {score} means"},
            )
        if criterion is not None and not self.is_bound:
            for name in ("kind", "title", "guidance_for_applicants", "guidance_for_assessors", "weight",
                         "scale_min", "scale_max", "gateway_min_score"):
                self.initial[name] = getattr(criterion, name)

    @property
    def section_layout(self):
        return [
            ("Criterion", ["kind", "title", "guidance_for_applicants", "guidance_for_assessors", "weight"]),
            ("Scale and gateway", ["scale_min", "scale_max", "gateway_min_score"]),
            ("Rubric", [f"descriptor_{score}" for score in self.scale]),
        ]

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in (
            "kind", "title", "guidance_for_applicants", "guidance_for_assessors", "weight",
            "scale_min", "scale_max", "gateway_min_score",
        )}

    def descriptors(self) -> dict[int, str]:
        return {score: self.cleaned_data.get(f"descriptor_{score}", "") for score in self.scale}


class CriteriaWeightsForm(forms.Form):
    def __init__(self, *args, criteria, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            self.fields[f"weight_{criterion.pk}"] = forms.IntegerField(
                label=f"{criterion.title} ({criterion.get_kind_display()})", min_value=1, max_value=100,
                initial=criterion.weight,
                widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-3"}),
            )

    @property
    def helper(self):
        return fields_helper(GroupFieldset("Weight of each criterion, as a percentage", *self.fields, name="weights",
                                           hint="The weights must add up to 100.", legend_size="s"))

    def weights(self) -> dict[int, int]:
        return {c.pk: self.cleaned_data[f"weight_{c.pk}"] for c in self.criteria}


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label="Action", required=False)
    actor = forms.ChoiceField(label="Who", required=False)
    target_type = forms.ChoiceField(label="Kind of object", required=False)
    target = forms.CharField(label="Object name contains", required=False, max_length=100)
    reference = forms.CharField(
        label="Call, bid or award reference", required=False, max_length=80,
        help_text="Every event of that call, bid or award: its conditions, payments and returns too. "
                  "For example, HISW-2627-0007",
    )
    date_from = NHSDateField(label="From", required=False)
    date_to = NHSDateField(label="To", required=False)

    def __init__(self, *args, options: dict, **kwargs):
        super().__init__(*args, **kwargs)
        choice_field(self, "action").choices = [("", "Any action"), *options["actions"]]
        choice_field(self, "actor").choices = [("", "Anyone"), *options["actors"]]
        choice_field(self, "target_type").choices = [("", "Any kind"), *options["target_types"]]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", DATES_OUT_OF_ORDER)
        return data


# Notifications, questions and alerts ------------------------------------------------------------


class NotificationDeliveryForm(forms.Form):
    delivery = forms.ChoiceField(
        label="How do you want to get emails?", widget=forms.RadioSelect,
        choices=[("immediate", "An email for each notification, straight away"),
                 ("digest", "One email a day listing the day's notifications")],
        error_messages={"required": "Choose how you get emails"},
    )


class NotificationWordingForm(forms.Form):
    subject = forms.CharField(label="Subject", max_length=200, required=False)
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 8}), required=False)


class CallQuestionForm(forms.Form):
    question = forms.CharField(
        label="Your question", widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The answer is published on this page for everyone, without your name. "
                  "Do not include personal or confidential information.",
        error_messages={"required": "Enter your question"},
    )


class CallAnswerForm(forms.Form):
    answer = forms.CharField(label="Answer", widget=forms.Textarea(attrs={"rows": 5}),
                             error_messages={"required": "Enter the answer"})


class CallAlertForm(forms.Form):
    email = forms.EmailField(
        label="Email address", error_messages={"required": "Enter your email address",
                                               "invalid": "Enter an email address like name@example.nhs.uk"},
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    networks = forms.ModelMultipleChoiceField(
        label="Health innovation networks", queryset=Organisation.objects.none(), required=False,
        widget=forms.CheckboxSelectMultiple, help_text="Choose none for calls from every network.",
    )
    purposes = forms.MultipleChoiceField(
        label="Purposes", choices=CallPurpose.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Choose none for every purpose.",
    )
    regions = forms.MultipleChoiceField(
        label="NHS regions", choices=Region.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Choose none for every region.",
    )

    def __init__(self, *args, networks=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["networks"].queryset = networks if networks is not None else Organisation.objects.none()
