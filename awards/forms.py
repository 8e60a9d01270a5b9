"""Forms for awards. They read input; the services decide what is allowed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from governance import fy, uploads
from governance.form_layout import GroupFieldset, Heading, Markup, NhsField, fields_helper
from governance.forms import MoneyField, NHSDateField, choice_field, needed_when
from governance.money import ZERO, format_money

from .models import ConditionTemplate, VariationKind
from .selectors import condition_templates_for, suggested_profile, years_for
from .services import (
    DECLINE_REASON_MISSING,
    EVIDENCE_EMPTY,
    EVIDENCE_MISSING,
    EVIDENCE_TOO_LARGE,
    FIRST_PAYMENT,
    NO_PAYMENT,
    PAID_ON_MISSING,
    PAYMENT_REFERENCE_MISSING,
    RETURN_FREQUENCIES,
    RETURN_FREQUENCY_NOT_ALLOWED,
    VARIATION_REASONS_MISSING,
    ConditionSpec,
)

OTHER_CONDITION_TOO_LONG = "Enter each condition in 200 characters or fewer"
CONFIRM_MISSING = "Confirm that you are authorised to accept this offer"
DECISION_MISSING = "Select whether you approve or reject the variation"
REVIEW_MISSING = "Select what to do with this condition"


def year_field_name(year: int) -> str:
    return f"year_{year}"


class ProfileFieldsMixin:
    """One money field per financial year (``year_2026``...), read back as a profile."""

    profile_years: list[int]
    # From the form the mixin is used with.
    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def add_profile_fields(self, years: list[int], initial: dict[int, Decimal] | None = None) -> None:
        self.profile_years = list(years)
        for year in years:
            self.fields[year_field_name(year)] = MoneyField(
                label=fy.label(year), required=False,
                initial=(initial or {}).get(year),
            )

    @property
    def profile_fields(self):
        return [self[year_field_name(year)] for year in self.profile_years]

    def profile_fieldset(self, legend: str, hint: str) -> GroupFieldset:
        """The years as one question; errors about the whole profile show on it (``#profile``)."""
        years = [NhsField(year_field_name(year), prefix="£", say_optional=False) for year in self.profile_years]
        return GroupFieldset(legend, *years, name="profile", hint=hint)

    def cleaned_profile(self) -> dict[int, Decimal]:
        return {
            year: self.cleaned_data.get(year_field_name(year)) or ZERO
            for year in self.profile_years
            if self.cleaned_data.get(year_field_name(year))
        }

    def service_error_field(self, key: str, error: ValidationError) -> str | None:
        """Where a service error not keyed by a field goes (``add_service_errors``): a profile
        error that names a year goes next to that year's field."""
        if key not in ("profile", "decision"):
            return None
        label = (getattr(error, "params", None) or {}).get("year")
        for year in self.profile_years:
            if fy.label(year) == label:
                return year_field_name(year)
        return None


def _return_frequency_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label="Monitoring returns", coerce=int, initial=3, widget=forms.RadioSelect,
        choices=[(months, label) for months, label in RETURN_FREQUENCIES.items()],
        help_text="Each payment after the first waits for the approved return of the period before it.",
        error_messages={"required": RETURN_FREQUENCY_NOT_ALLOWED, "invalid_choice": RETURN_FREQUENCY_NOT_ALLOWED},
    )


class ReturnFrequencyForm(forms.Form):
    return_frequency_months = _return_frequency_field()


class AwardIssueForm(ProfileFieldsMixin, forms.Form):
    amount = MoneyField(label="Amount awarded", help_text="No more than the amount the panel approved.")
    start_date = NHSDateField(label="Start date", help_text="For example, 1 4 2027")
    end_date = NHSDateField(label="End date", help_text="For example, 31 3 2029")
    offer_deadline = NHSDateField(
        label="Offer deadline", help_text="The recipient must accept by this date or the offer lapses."
    )
    return_frequency_months = _return_frequency_field()
    decision_conditions = forms.MultipleChoiceField(
        label="Conditions set by the panel", required=False, widget=forms.CheckboxSelectMultiple,
    )
    templates = forms.ModelMultipleChoiceField(
        label="Standard conditions", required=False, queryset=ConditionTemplate.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    other_conditions = forms.CharField(
        label="Other conditions", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One condition per line.",
    )
    conditions_hold_back = forms.ChoiceField(
        label="Which payment do these conditions hold back?", widget=forms.RadioSelect, initial=FIRST_PAYMENT,
        required=False,
        choices=[(FIRST_PAYMENT, "The first payment (and so every payment) until each is met or waived"),
                 (NO_PAYMENT, "No payment: each is tracked by its due date")],
        help_text="Standard conditions marked \"not before payment\" hold back no payment. You can change each "
                  "condition's payment and due date on the award page later.",
    )
    conditions_due_date = NHSDateField(
        label="Conditions due by (optional)", required=False,
        help_text="The date the conditions must be met by. For example, 30 6 2027",
    )

    def __init__(self, *args, decision, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision = decision
        bid = decision.bid
        self.fund = bid.call.fund
        amount = decision.amount_approved or ZERO
        self.fields["amount"].help_text = f"No more than {format_money(amount, pence=True)}, the amount the panel approved."
        self.fields["decision_conditions"].choices = [(str(i), text) for i, text in enumerate(decision.conditions)]
        templates = condition_templates_for(self.fund)
        self.fields["templates"].queryset = templates
        self.fields["templates"].label_from_instance = lambda t: f"{t.title}{'' if t.pre_start else ' (not before payment)'}"
        if not self.is_bound:
            start = bid.start_date or dt.date(self.fund.first_year, 4, 1)
            end = bid.end_date or fy.FinancialYear(self.fund.first_year).end
            self.initial.update({
                "amount": amount, "start_date": start, "end_date": end,
                "offer_deadline": timezone.localdate() + dt.timedelta(days=28),
                "decision_conditions": [str(i) for i in range(len(decision.conditions))],
                "templates": [t.pk for t in templates if t.for_digital and bid.innovation_type == "digital"],
            })
            initial_profile = suggested_profile(bid, amount, years_for(start, end, self.fund))
        else:
            initial_profile = {}
        self.add_profile_fields(self.fund.years, initial_profile)

    def service_error_field(self, key: str, error: ValidationError) -> str | None:
        if key == "conditions" and getattr(error, "code", "") in ("condition_due_past", "condition_due_after_end"):
            return "conditions_due_date"
        return super().service_error_field(key, error)

    @property
    def helper(self):
        conditions_link = format_html(
            '<p class="nhsuk-body-s"><a href="{}">Add a standard condition for {}</a></p>\n',
            reverse("awards:fund_conditions", args=[self.fund.slug]), self.fund.name)
        return fields_helper(
            "amount", "start_date", "end_date",
            self.profile_fieldset("Profile by financial year", "Pre-filled from the bid's costs in proportion. It must "
                                  "add up to the amount awarded, and use only years within the award's dates. Leave "
                                  "a year empty for £0."),
            "offer_deadline", "return_frequency_months",
            Heading("Conditions"),
            *(["decision_conditions"] if self.fields["decision_conditions"].choices else []),
            "templates", Markup(conditions_link), "other_conditions", "conditions_hold_back", "conditions_due_date",
        )

    def clean_other_conditions(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["other_conditions"].splitlines() if line.strip()]
        if any(len(line) > 200 for line in lines):
            raise ValidationError(OTHER_CONDITION_TOO_LONG)
        return lines

    def condition_specs(self) -> list[ConditionSpec]:
        held = self.cleaned_data.get("conditions_hold_back") or FIRST_PAYMENT
        due = self.cleaned_data.get("conditions_due_date")
        specs = [ConditionSpec(self.decision.conditions[int(i)], "", held, due)
                 for i in self.cleaned_data["decision_conditions"]]
        specs += [ConditionSpec(t.title, t.description, held if t.pre_start else NO_PAYMENT, due)
                  for t in self.cleaned_data["templates"]]
        specs += [ConditionSpec(line, "", held, due) for line in self.cleaned_data["other_conditions"]]
        return specs


class OfferAcceptForm(forms.Form):
    confirm = forms.BooleanField(label="", error_messages={"required": CONFIRM_MISSING})

    def __init__(self, *args, award, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirm"].label = (
            f"I am an authorised signatory of {award.recipient.name} and accept the offer on the terms in the offer letter"
        )


class OfferDeclineForm(forms.Form):
    reason = forms.CharField(
        label="Why are you declining the offer?", widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": DECLINE_REASON_MISSING},
        help_text="The fund manager reads this. The money returns to the pot for other projects.",
    )


class EvidenceForm(forms.Form):
    """The file is required here as in the service, with the same message next to the field."""

    file = forms.FileField(
        label="Upload evidence", error_messages={"required": EVIDENCE_MISSING, "empty": EVIDENCE_EMPTY},
        help_text=f"{uploads.CONDITION_EVIDENCE.hint} Documents with macros are not accepted.",
    )
    note = forms.CharField(label="Note for the fund manager", required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, too_large: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        self.fields["file"].widget.attrs["accept"] = uploads.CONDITION_EVIDENCE.accept
        if too_large:
            # The upload was stopped at the limit while it streamed in, so no file arrived.
            self.fields["file"].required = False

    def clean_file(self):
        if self.too_large:
            raise ValidationError(EVIDENCE_TOO_LARGE, code="too_large")
        return self.cleaned_data.get("file")


class ConditionReviewForm(forms.Form):
    action = forms.ChoiceField(
        label="What do you want to do?", widget=forms.RadioSelect, error_messages={"required": REVIEW_MISSING},
        choices=[
            ("met", "Sign off: the evidence shows the condition is met"),
            ("return", "Send the evidence back for more"),
            ("waive", "Waive the condition"),
        ],
    )
    note = needed_when(forms.CharField(
        label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed to send evidence back or to waive the condition. The grantee sees it.",
    ))

    def __init__(self, *args, has_evidence: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not has_evidence:
            choice_field(self, "action").choices = [("waive", "Waive the condition")]


class ReasonForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, reason_required: bool = False, hint: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if not reason_required:
            self.fields["reason"].label = "Note"
        self.fields["reason"].help_text = hint


class VariationRequestForm(ProfileFieldsMixin, forms.Form):
    kind = forms.ChoiceField(
        label="What do you want to change?", widget=forms.RadioSelect, choices=VariationKind.choices,
        error_messages={"required": "Select the kind of variation"},
    )
    reasons = forms.CharField(label="Reasons", widget=forms.Textarea(attrs={"rows": 4}),
                              error_messages={"required": VARIATION_REASONS_MISSING},
                              help_text="Why the change is needed and what happens if it is not approved.")
    proposed_end_date = NHSDateField(
        label="New end date", required=False, help_text="For an extension only. For example, 30 6 2029"
    )
    proposed_scope = forms.CharField(
        label="New scope", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For a change of scope only: the project as it would be after the change.",
    )

    def __init__(self, *args, award, current_profile: dict[int, Decimal], **kwargs):
        super().__init__(*args, **kwargs)
        self.award = award
        self.add_profile_fields(award.pot.fund.years, current_profile if not self.is_bound else {})

    @property
    def helper(self):
        return fields_helper(
            "kind", "reasons",
            self.profile_fieldset("New profile by financial year", "For a re-profile (and, if the money moves, an "
                                  "extension): the amounts must still add up to the award, and no year can go below "
                                  "what has been released or paid in it. Leave the current profile as it is for a "
                                  "change of scope."),
            "proposed_end_date", "proposed_scope",
        )


class VariationDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Your decision", widget=forms.RadioSelect, error_messages={"required": DECISION_MISSING},
        choices=[("approve", "Approve the variation"), ("reject", "Reject the variation")],
    )
    note = needed_when(forms.CharField(label="Note to the grantee", required=False,
                                       widget=forms.Textarea(attrs={"rows": 3}), help_text="Needed to reject."))


class ConditionTemplateForm(forms.Form):
    title = forms.CharField(label="Condition", max_length=200)
    description = forms.CharField(label="What evidence shows it is met", widget=forms.Textarea(attrs={"rows": 3}))
    for_digital = forms.BooleanField(label="Suggest it for digital technologies", required=False)
    pre_start = forms.BooleanField(label="Must be met before the first payment", required=False, initial=True)


class AwardFilterForm(forms.Form):
    q = forms.CharField(label="Reference, title or recipient", required=False)
    status = forms.ChoiceField(label="Status", required=False)
    needs = forms.ChoiceField(label="Waiting for", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import AwardStatus
        from .selectors import AWARD_NEEDS

        self.fields["status"].choices = [("", "Any status"), *AwardStatus.choices]
        self.fields["needs"].choices = [("", "Anything"), *AWARD_NEEDS]


class PaymentForm(forms.Form):
    """Recording a payment: the service checks the date, the amount and the reference."""

    paid_on = NHSDateField(label="Date paid", help_text="As the finance system shows it. For example, 4 12 2026",
                           error_messages={"required": PAID_ON_MISSING})
    amount = MoneyField(label="Amount paid")
    reference = forms.CharField(
        label="Finance system payment reference", max_length=200, error_messages={"required": PAYMENT_REFERENCE_MISSING},
        help_text="For example, AP-2026-004512. The grantee sees it on their remittance.",
        widget=forms.TextInput(attrs={"spellcheck": "false", "class": "nhsuk-input--width-20"}),
    )
    note = needed_when(forms.CharField(
        label="Reason the amount differs", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed only if the amount paid is not the instalment's amount. The grantee sees it.",
    ))

    def __init__(self, *args, instalment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = (
            f"The instalment is {format_money(instalment.amount, pence=True)}: enter what was actually paid.")
        if not self.is_bound:
            self.initial.update({"paid_on": timezone.localdate(), "amount": instalment.amount})


class ConditionScheduleForm(forms.Form):
    due_date = NHSDateField(label="Due date", required=False,
                            help_text="When the condition must be met by. Leave empty for none. For example, 30 6 2027")
    holds_back = forms.ChoiceField(label="Which payment does it hold back?", widget=forms.RadioSelect,
                                   help_text="That payment and every later one wait until the condition is met or waived.")

    def __init__(self, *args, condition, instalments, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(NO_PAYMENT, "None: it does not stop any payment")]
        for instalment in instalments:
            if instalment.status == "scheduled" or instalment.pk == condition.holds_back_id:
                choices.append((f"{instalment.financial_year}-{instalment.quarter}",
                                f"{instalment.label} ({format_money(instalment.amount, pence=True)}, "
                                f"{instalment.get_status_display().lower()})"))
        self.fields["holds_back"].choices = choices
        if not self.is_bound:
            held = condition.holds_back
            self.initial.update({
                "due_date": condition.due_date,
                "holds_back": f"{held.financial_year}-{held.quarter}" if held else NO_PAYMENT,
            })
