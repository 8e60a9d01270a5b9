"""Forms for impact reports: what a request covers, and why a report is withdrawn."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from governance import fy
from governance.forms import choice_field, model_choice_field, needed_when
from governance.models import Call, Fund, Organisation, OrganisationKind, Pot

from ..models import ReportScope
from .services import REASON_REQUIRED

QUARTER_NOT_REAL = "Choose a quarter from the list"
SCOPE_CHOICES = [(ReportScope.FUND, "The whole fund"), (ReportScope.CALL, "A call"), (ReportScope.POT, "A pot"),
                 (ReportScope.NETWORK, "A network")]


def quarter_value(year: int, quarter: int) -> str:
    return f"{year}-Q{quarter}"


def quarter_choices(fund: Fund) -> list[tuple[str, str]]:
    choices = []
    for year in fund.years:
        for quarter in (1, 2, 3, 4):
            first, last = fy.FinancialYear(year).quarter(quarter)
            choices.append((quarter_value(year, quarter), f"Q{quarter} {fy.label(year)} ({first:%B} to {last:%B %Y})"))
    return choices


def parse_quarter(value: str) -> tuple[int, int]:
    try:
        year, quarter = value.split("-Q")
        year_n, quarter_n = int(year), int(quarter)
        fy.FinancialYear(year_n).quarter(quarter_n)
    except (ValueError, AttributeError):
        raise forms.ValidationError(QUARTER_NOT_REAL) from None
    return year_n, quarter_n


class ReportRequestForm(forms.Form):
    scope = forms.ChoiceField(
        label="What should the report cover?", choices=SCOPE_CHOICES, initial=ReportScope.FUND,
        widget=forms.RadioSelect,
        help_text="For a call, a pot or a network, choose which one below.",
    )
    call = needed_when(forms.ModelChoiceField(label="Call", queryset=Call.objects.none(), required=False,
                                              empty_label="Choose a call", help_text="Only if the report covers a call."))
    pot = needed_when(forms.ModelChoiceField(label="Pot", queryset=Pot.objects.none(), required=False,
                                             empty_label="Choose a pot", help_text="Only if the report covers a pot."))
    network = needed_when(forms.ModelChoiceField(
        label="Network", queryset=Organisation.objects.none(), required=False, empty_label="Choose a network",
        help_text="Only if the report covers a network: its ring-fenced pot and the awards made in its area."))
    period_start = forms.ChoiceField(label="From the start of", help_text="Choose Q1 to Q4 of the same years for whole financial years.")
    period_end = forms.ChoiceField(label="To the end of")
    title = forms.CharField(label="Title", max_length=200, required=False,
                            help_text="Leave it blank for a title like “South West Innovation Adoption Fund: impact report 2025/26”.")
    scheduled_quarterly = forms.BooleanField(
        label="Rebuild this report every quarter", required=False,
        help_text="A new version is built with the latest data at the start of each NHS quarter, ready for you to publish.",
    )

    def __init__(self, *args, fund: Fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fund = fund
        model_choice_field(self, "call").queryset = fund.calls.exclude(status="draft").order_by("-closes_at")
        model_choice_field(self, "pot").queryset = fund.pots.order_by("name")
        model_choice_field(self, "network").queryset = Organisation.objects.filter(kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).order_by("name")
        choices = quarter_choices(fund)
        choice_field(self, "period_start").choices = choices
        choice_field(self, "period_end").choices = choices
        this_year = min(max(fy.FinancialYear.of(timezone.localdate()).start_year, fund.first_year), fund.last_year)
        self.fields["period_start"].initial = quarter_value(fund.first_year, 1)
        self.fields["period_end"].initial = quarter_value(this_year, 4)

    def clean_period_start(self) -> dt.date:
        year, quarter = parse_quarter(self.cleaned_data["period_start"])
        return fy.FinancialYear(year).quarter(quarter)[0]

    def clean_period_end(self) -> dt.date:
        year, quarter = parse_quarter(self.cleaned_data["period_end"])
        return fy.FinancialYear(year).quarter(quarter)[1]


class UnpublishForm(forms.Form):
    reason = forms.CharField(
        label="Why are you withdrawing this report?", widget=forms.Textarea(attrs={"rows": 4}), max_length=2000,
        help_text="This is recorded in the audit trail. For example: a grantee corrected figures in an approved return.",
        error_messages={"required": REASON_REQUIRED},
    )


class ScheduleForm(forms.Form):
    scheduled_quarterly = forms.BooleanField(
        label="Rebuild this report every quarter", required=False,
        help_text="A new version is built with the latest data at the start of each NHS quarter, for you to preview and publish.",
    )
