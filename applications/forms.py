"""Forms for writing bids. They read and tidy what was typed; the rules live in services.

Every section form carries the version of the section its writer opened, so the service
can refuse a save that would overwrite a colleague's.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms

from governance import fy, uploads
from governance.forms import MoneyField, NHSDateField, model_choice_field, needed_when
from governance.models import InnovationType, Organisation, PartnerKind

from . import checks
from .models import (
    BidStatus,
    CareSetting,
    CostCategory,
    CostNature,
    EndorsementStatus,
    RiskLevel,
    SavingKind,
)

TEXT_LIMIT = 5000
SHORT_TEXT_LIMIT = 2000
YEAR_OUTSIDE_PROJECT = "Choose a financial year within the project, {first} to {last}"
CHOOSE_ORGANISATION = "Choose the organisation that will lead the bid"
DECIMAL_LIMIT = Decimal("999999999999.99")


class SavesBlank:
    """A field the bid needs before it is submitted, which a section may still be saved
    without: shown as required (no "(optional)"), but an empty value is accepted. The
    check-your-answers page lists what is still missing."""

    def validate(self, value):
        if value in self.empty_values or value == []:
            return
        super().validate(value)


class DraftCharField(SavesBlank, forms.CharField):
    pass


class DraftChoiceField(SavesBlank, forms.ChoiceField):
    pass


class DraftMultipleChoiceField(SavesBlank, forms.MultipleChoiceField):
    pass


class DraftModelChoiceField(SavesBlank, forms.ModelChoiceField):
    pass


class DraftFileField(SavesBlank, forms.FileField):
    pass


class DraftDateField(NHSDateField):
    def clean(self, value):
        self.required = False
        try:
            return super().clean(value)
        finally:
            self.required = True


def _text(label: str, *, limit: int = TEXT_LIMIT, help_text: str = "", required: bool = False, rows: int = 5,
          draft: bool = False):
    field_class = DraftCharField if draft else forms.CharField
    return field_class(label=label, required=required or draft, max_length=limit, help_text=help_text,
                       widget=forms.Textarea(attrs={"rows": rows}))


def _choice(label: str, choices, *, required: bool = True, blank: str = "Choose") -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=required, choices=[("", blank), *choices])


class YearField(forms.TypedChoiceField):
    """A financial year of the project, shown as 2027/28 and returned as 2027."""

    def __init__(self, years: list[int], **kwargs):
        first, last = (fy.label(years[0]), fy.label(years[-1])) if years else ("", "")
        kwargs.setdefault("label", "Financial year")
        super().__init__(
            choices=[("", "Choose a year"), *fy.year_choices(years[0], years[-1])] if years else [("", "Choose a year")],
            coerce=int, empty_value=None,
            error_messages={"invalid_choice": YEAR_OUTSIDE_PROJECT.format(first=first, last=last),
                            "required": "Choose the financial year"},
            **kwargs,
        )


class OrganisationChoiceField(forms.TypedChoiceField):
    """One of the organisations on the bid, from a list read once for every row of a section."""

    def __init__(self, organisations=(), **kwargs):
        by_id = {str(org.pk): org for org in organisations}

        def coerce(value):
            if isinstance(value, Organisation):
                return value
            try:
                return by_id[str(value)]
            except KeyError:
                raise ValueError(value) from None

        kwargs.setdefault("error_messages", {"invalid_choice": "Choose one of the organisations on the bid"})
        super().__init__(choices=[("", "Choose"), *[(key, str(org)) for key, org in by_id.items()]],
                         coerce=coerce, empty_value=None, **kwargs)


class SectionForm(forms.Form):
    use_required_attribute = False
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


# Starting a bid ----------------------------------------------------------------------------------


class BidStartForm(forms.Form):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), widget=forms.RadioSelect, label="Which organisation will lead the bid?",
        error_messages={"required": CHOOSE_ORGANISATION, "invalid_choice": CHOOSE_ORGANISATION},
    )
    title = forms.CharField(label="Title of the bid", max_length=200,
                            help_text="A short name for the project, like \u201cRemote monitoring for frailty in North Devon\u201d.",
                            error_messages={"required": checks.TITLE_MISSING})

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        self.fields["organisation"].label_from_instance = lambda org: f"{org.name} ({org.get_kind_display()})"


# Text sections ----------------------------------------------------------------------------------


class SummaryForm(SectionForm):
    title = forms.CharField(label="Title of the bid", max_length=200, error_messages={"required": checks.TITLE_MISSING})
    summary = _text("Summary of the project", limit=SHORT_TEXT_LIMIT, draft=True,
                    help_text="What you will do, where, with whom and for which patients. This is published if the bid is funded.")
    problem = _text("The problem it solves", limit=SHORT_TEXT_LIMIT, draft=True,
                    help_text="The need or gap in care today, with figures where you have them.")
    start_date = DraftDateField(label="Start date", help_text="For example, 1 4 2027")
    end_date = DraftDateField(label="End date", help_text="For example, 31 3 2029")

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["end_date"].help_text = (
            f"The project can last up to {call.max_duration_years} years, within the fund's years "
            f"{fy.label(call.fund.first_year)} to {fy.label(call.fund.last_year)}."
        )


class InnovationForm(SectionForm):
    innovation_type = DraftChoiceField(label="Type of innovation", widget=forms.RadioSelect)
    innovation_description = _text("Describe the innovation", draft=True,
                                   help_text="What it is, who makes or runs it, and how it works.")
    evidence_base = _text("Evidence base", draft=True, help_text="Evaluations, trials and results where it is already in use.")
    nice_evidence = _text("NICE or other evidence", help_text="NICE guidance, technology appraisals, MedTech innovation briefings or other independent evidence.")

    def __init__(self, *args, call, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["innovation_type"].choices = [
            (value, InnovationType(value).label) for value in call.innovation_types if value in InnovationType.values
        ]


class PathwayForm(SectionForm):
    care_settings = DraftMultipleChoiceField(
        label="Which parts of the care pathway does the project cover?",
        choices=CareSetting.choices, widget=forms.CheckboxSelectMultiple, help_text="Select all that apply.",
    )
    pathway_description = _text("Describe the care pathway", draft=True,
                                help_text="How patients move between services, and where the innovation changes that.")


class DeliveryForm(SectionForm):
    delivery_plan = _text("Delivery plan", draft=True, help_text="How and when you will set up, run and evaluate the project; who does what.")
    sustainability_plan = _text("Sustainability plan", help_text="How the service continues after the funding ends, and who pays.")


# Partners ----------------------------------------------------------------------------------------


class PartnerSearchForm(forms.Form):
    use_required_attribute = False
    q = DraftCharField(label="Organisation name or ODS code", max_length=100, help_text="For example, Royal Devon or RH8.")


class PartnerForm(forms.Form):
    role = forms.ChoiceField(label="Role in the project", choices=PartnerKind.choices, widget=forms.RadioSelect,
                             error_messages={"required": "Choose the partner's role"})
    contribution = _text("What will they contribute?", limit=SHORT_TEXT_LIMIT, required=True, rows=4,
                         help_text="For example, clinical leadership, referrals, data, staff time or match funding.")
    contribution.error_messages["required"] = "Describe what the partner will contribute"


class PartnerChangeForm(SectionForm, PartnerForm):
    pass


class CommissionerForm(SectionForm):
    commissioner = DraftModelChoiceField(
        queryset=Organisation.objects.none(), label="Commissioning organisation that will endorse the bid",
        empty_label="Choose an organisation",
    )

    def __init__(self, *args, commissioners, required: bool, **kwargs):
        super().__init__(*args, **kwargs)
        field = model_choice_field(self, "commissioner")
        field.queryset = commissioners
        # Said at once, in the list itself: an organisation nobody on the portal can endorse for.
        field.label_from_instance = lambda org: (  # type: ignore[method-assign, assignment]  # Django's documented way to relabel choices
            f"{org} (no one on the portal can endorse for it yet)" if not getattr(org, "has_endorser", True) else str(org))
        if required:
            field.help_text = "This call needs the commissioner's endorsement before the bid can be submitted."
        else:
            field.required = False
            field.label = "Commissioning organisation"


# Rows: costs, match funding, savings, measures, milestones, risks -------------------------------


class _RowForm(forms.Form):
    def __init__(self, *args, years: list[int] | None = None, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if "financial_year" in self.fields:
            self.fields["financial_year"] = YearField(years or [])
        for name in ("organisation", "realised_by"):
            if name in self.fields:
                old = self.fields[name]
                self.fields[name] = OrganisationChoiceField(organisations or [], label=old.label,
                                                            required=old.required, help_text=old.help_text)


class CostForm(_RowForm):
    financial_year = forms.IntegerField()
    category = _choice("Category", CostCategory.choices)
    nature = _choice("Capital or revenue", CostNature.choices, blank="Choose")
    description = forms.CharField(label="Description", max_length=300, required=False)
    amount = MoneyField(label="Amount (£)")
    amount.widget.attrs["data-amount"] = "cost"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].error_messages["required"] = "Enter the amount"


class MatchFundingForm(_RowForm):
    organisation = OrganisationChoiceField(label="Organisation")
    financial_year = forms.IntegerField()
    description = forms.CharField(label="What it pays for", max_length=300, required=False)
    amount = MoneyField(label="Amount (£)")


class SavingForm(_RowForm):
    financial_year = forms.IntegerField()
    kind = _choice("Cashable or non-cashable", SavingKind.choices)
    realised_by = OrganisationChoiceField(label="Whose budget it falls in")
    care_setting = _choice("Where on the pathway", CareSetting.choices)
    amount = MoneyField(label="Amount (£)")
    amount.widget.attrs["data-amount"] = "saving"
    assumptions = _text("Assumptions", limit=SHORT_TEXT_LIMIT, required=True, rows=3,
                        help_text="How you worked the figure out, for example 300 fewer admissions at £3,200 each.")
    evidence = _text("Evidence", limit=SHORT_TEXT_LIMIT, rows=3)


class MeasureForm(_RowForm):
    name = forms.CharField(label="Measure", max_length=200, help_text="For example, bed days avoided.")
    unit = forms.CharField(label="Unit", max_length=60, help_text="For example, days or patients.")
    baseline = forms.DecimalField(label="Baseline", max_digits=14, decimal_places=2, max_value=DECIMAL_LIMIT, min_value=-DECIMAL_LIMIT,
                                  widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "nhsuk-input--width-10"}))
    target = forms.DecimalField(label="Target", max_digits=14, decimal_places=2, max_value=DECIMAL_LIMIT, min_value=-DECIMAL_LIMIT,
                                widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "nhsuk-input--width-10"}))
    target_date = NHSDateField(label="Target date")
    higher_is_better = forms.TypedChoiceField(
        label="Is a higher figure better?", choices=[("yes", "Yes, higher is better"), ("no", "No, lower is better")],
        coerce=lambda value: value == "yes", widget=forms.RadioSelect, initial="yes",
    )


class MilestoneForm(_RowForm):
    title = forms.CharField(label="Milestone", max_length=200)
    due_date = NHSDateField(label="Due date")
    description = forms.CharField(label="Description", max_length=SHORT_TEXT_LIMIT, required=False)


class RiskForm(_RowForm):
    description = _text("Risk", limit=SHORT_TEXT_LIMIT, required=True, rows=2)
    likelihood = _choice("Likelihood", RiskLevel.choices)
    impact = _choice("Impact", RiskLevel.choices)
    mitigation = _text("How you will manage it", limit=SHORT_TEXT_LIMIT, required=True, rows=2)


class RowFormSet(forms.BaseFormSet):
    """Rows of a section. Blank extra rows are ignored; ticked rows are removed."""

    def __init__(self, *args, years=None, organisations=None, **kwargs):
        self.years = years
        self._organisation_source, self._organisations = organisations, None
        super().__init__(*args, **kwargs)

    @property
    def organisations(self):
        """The organisations a row may name, read once, and only if a row is built."""
        if self._organisations is None and self._organisation_source is not None:
            self._organisations = list(self._organisation_source)
        return self._organisations

    def get_form_kwargs(self, index):
        return {"years": self.years, "organisations": self.organisations}

    @property
    def empty_form(self):
        form = self.form(auto_id=self.auto_id, prefix=self.add_prefix("__prefix__"), empty_permitted=True,
                         use_required_attribute=False, years=self.years, organisations=self.organisations,
                         renderer=self.renderer)
        self.add_fields(form, None)
        return form

    def add_fields(self, form, index):
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove this row when saving"

    def rows(self) -> list[dict]:
        """The rows to keep: every saved row not ticked for removal, and each new row filled in."""
        kept = []
        for index, form in enumerate(self.forms):
            is_new = index >= self.initial_form_count()
            if (is_new and not form.has_changed()) or not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            kept.append(form.cleaned_data)
        return kept


def row_formset(form_class, *, extra: int):
    return forms.formset_factory(form_class, formset=RowFormSet, extra=extra, can_delete=True, can_delete_extra=False, max_num=60,
                                 validate_max=True, absolute_max=60)


# Attachments, endorsement, submission, fund managers ----------------------------------------------


class AttachmentForm(forms.Form):
    file = DraftFileField(label="Upload a file", help_text=uploads.BID_ATTACHMENT.hint,
                          error_messages={"empty": uploads.FILE_EMPTY, "required": uploads.FILE_NEEDED})
    description = forms.CharField(label="What is it?", max_length=200, required=False,
                                  help_text="For example, evaluation report or letter of support.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = uploads.BID_ATTACHMENT.accept


class EndorsementForm(forms.Form):
    decision = forms.ChoiceField(
        label="Does your organisation endorse this bid?", widget=forms.RadioSelect,
        choices=[("endorse", "Yes, we endorse it"), ("decline", "No, we decline to endorse it")],
        error_messages={"required": "Choose whether you endorse the bid"},
    )
    comment = needed_when(_text("Comment for the bid's writers", limit=SHORT_TEXT_LIMIT, rows=4,
                                help_text="Needed if you decline: say what would change your mind."))


class OfflineEndorsementForm(forms.Form):
    endorsed_by_name = forms.CharField(label="Who endorsed the bid?", max_length=200,
                                       help_text="Their name and role at the commissioner, for example Jo Smith, Director of Commissioning.",
                                       error_messages={"required": "Enter who endorsed the bid and their role at the commissioner"})
    file = forms.FileField(label="Their endorsement", help_text=uploads.BID_ATTACHMENT.hint,
                           error_messages={"empty": uploads.FILE_EMPTY, "required": uploads.FILE_NEEDED})
    comment = forms.CharField(label="Note (optional)", required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = uploads.BID_ATTACHMENT.accept


class SubmitForm(forms.Form):
    DECLARATIONS = [
        ("accurate", "The information in this bid is complete and accurate to the best of my knowledge."),
        ("authority", "I am authorised by the lead organisation to submit this bid on its behalf."),
        ("partners", "The partners named have agreed to take part in the way the bid describes."),
        ("conflicts", "Any conflicts of interest have been declared to the fund."),
    ]
    declarations = forms.MultipleChoiceField(
        label="Declarations", choices=DECLARATIONS, widget=forms.CheckboxSelectMultiple, required=False,
        help_text="Confirm each statement.",
    )

    def confirmed(self) -> bool:
        return set(self.cleaned_data.get("declarations") or []) == {key for key, _ in self.DECLARATIONS}


class IneligibleForm(forms.Form):
    reason = _text("Why is the bid ineligible?", limit=SHORT_TEXT_LIMIT, required=True, rows=4,
                   help_text="The applicant will see this.")
    reason.error_messages["required"] = "Give the reason the bid is ineligible: the applicant will see it"


class CallBidFilterForm(forms.Form):
    """Filters, each of which may be left blank (shown without "(optional)", as filters are)."""

    use_required_attribute = False
    q = DraftCharField(label="Reference, title or organisation", max_length=100)
    status = DraftChoiceField(label="State")
    endorsement = DraftChoiceField(label="Endorsement")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "All states"), *BidStatus.choices]
        self.fields["endorsement"].choices = [("", "Any"), *EndorsementStatus.choices]



# Two-stage calls ---------------------------------------------------------------------------------


class EoiForm(BidStartForm):
    """A short expression of interest: who leads, the idea, the problem, a cost and partners."""

    title = forms.CharField(label="Title of your idea", max_length=200, required=False)
    summary = forms.CharField(label="Summary of the idea", required=False, widget=forms.Textarea(attrs={"rows": 5}),
                              help_text="What you would do, where, and for which patients. This is carried into your full bid.")
    problem = forms.CharField(label="The problem it solves", required=False, widget=forms.Textarea(attrs={"rows": 4}),
                              help_text="The need or gap in care today. This is carried into your full bid.")
    estimated_cost = MoneyField(label="Estimated cost", required=False, help_text="In pounds, over the whole project.")
    partners = forms.CharField(label="Partners you expect to work with (optional)", required=False,
                               widget=forms.Textarea(attrs={"rows": 3}),
                               help_text="Organisations across the care pathway, and the commissioner.")


EOI_DECISIONS = [("invite", "Invite to write a full bid"), ("decline", "Do not invite")]


class EoiDecisionForm(forms.Form):
    decision = forms.ChoiceField(label="Your decision", choices=EOI_DECISIONS, widget=forms.RadioSelect,
                                 error_messages={"required": "Choose whether to invite a full bid"})
    reason = forms.CharField(label="Reason", required=False, widget=forms.Textarea(attrs={"rows": 4}),
                             help_text="Required if you do not invite: the organisation reads it as feedback.")


# The bid team ------------------------------------------------------------------------------------


class TeamInviteForm(forms.Form):
    email = DraftCharField(label="Their email address", widget=forms.EmailInput(attrs={"spellcheck": "false"}))
    organisation = forms.TypedChoiceField(label="Who they speak for", choices=(), coerce=int, required=False, empty_value=None,
                                          help_text="Your organisation, or a partner named on the bid.")
    role = DraftChoiceField(label="What they may do", widget=forms.RadioSelect, choices=(
        ("read", "Read the bid"), ("comment", "Read and comment on sections"), ("edit", "Edit sections")))
    sections = DraftMultipleChoiceField(label="Sections they are responsible for (optional)", widget=forms.CheckboxSelectMultiple,
                                        help_text="Editors change only these sections; leave empty for every section.",
                                        choices=())

    def __init__(self, *args, organisations=(), sections=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organisations = {o.pk: o for o in organisations}
        self.fields["organisation"].choices = [("", "Choose")] + [(o.pk, o.name) for o in organisations]
        self.fields["sections"].choices = list(sections)

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {"email": data.get("email") or "", "organisation": self.organisations.get(data.get("organisation")),
                "role": data.get("role") or "", "sections": data.get("sections") or []}


class CommentForm(forms.Form):
    body = DraftCharField(label="Your comment", widget=forms.Textarea(attrs={"rows": 4}),
                          help_text="Seen only by the bid team: never by assessors or the fund.")


class SignOffForm(forms.Form):
    organisation = forms.TypedChoiceField(label="Sign off for", choices=(), coerce=int, widget=forms.RadioSelect,
                                          required=False, empty_value=None)
    confirm = forms.BooleanField(label="I confirm my organisation agrees to its part of this bid as written",
                                 required=True, error_messages={"required": "Confirm your organisation agrees to its part"})

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.organisations = {o.pk: o for o in organisations}
        self.fields["organisation"].choices = [(o.pk, o.name) for o in organisations]
