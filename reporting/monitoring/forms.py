"""Forms for monitoring returns. They read input; the services decide what is allowed.

Each section of a return has a ``SectionPage``: its form (and, for sections made of rows, a
formset), the call to its service, and the placing of the service's errors next to the fields
they are about. Every section form carries the version of the section it was opened at.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.forms import BaseForm

from applications.models import CareSetting, CostCategory, SavingKind
from governance import fy
from governance.forms import (
    YES_NO,
    ErrorPlace,
    MoneyField,
    NHSDateField,
    choice_field,
    model_choice_field,
    needed_when,
)
from governance.money import format_money
from governance.sections import SectionPage as BaseSectionPage

from ..models import RAG, MilestoneProgress, MonitoringReturn, ReturnSection, ReturnStatus
from . import services
from .selectors import pathway_organisations, period_profile, period_profile_by_category

if TYPE_CHECKING:
    from governance.models import Call, Fund, Organisation, Pot

NOT_A_NUMBER = "Enter a number, like 120 or 12.5"
WHOLE_NUMBER = "Enter a whole number, like 12"
DECISION_MISSING = "Select whether you approve the return or send it back"
SAVING_ORGANISATION_MISSING = "Select whose budget the saving fell in"
SAVING_AMOUNT_MISSING = "Enter the amount realised"
MEASURE_VALUE_REQUIRED = "Enter the actual value for this measure"
MILESTONE_STATUS_REQUIRED = "Select whether the milestone is done, on track or slipped"
CONFIRM_MISSING = "Confirm that the return is accurate and complete"


class NumberField(forms.CharField):
    """A decimal number typed by a person: "1,200" and "12.5" are fine; returned as Decimal."""

    def __init__(self, *, places: int = 2, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "class": "nhsuk-input--width-10",
                                                           "spellcheck": "false"}))
        self.places = places
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            number = Decimal(str(value).replace(",", "").strip())
        except InvalidOperation:
            raise ValidationError(NOT_A_NUMBER, code="invalid") from None
        if not number.is_finite():
            raise ValidationError(NOT_A_NUMBER, code="invalid")
        if number.as_tuple().exponent < -self.places:
            raise ValidationError(f"Enter a number with no more than {self.places} decimal places", code="places")
        return number

    def prepare_value(self, value):
        return "" if value is None else str(value)


class CountField(forms.CharField):
    """A whole number (people, sites, organisations); negative numbers reach the service, which refuses them."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-10",
                                                           "spellcheck": "false"}))
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        text = str(value).replace(",", "").strip()
        if not text.lstrip("-").isdigit():
            raise ValidationError(WHOLE_NUMBER, code="invalid")
        return int(text)


def _text(label: str, *, required: str = "", rows: int = 4, hint: str = "") -> forms.CharField:
    """A long answer; ``required`` is the message when it is left empty (optional if none)."""
    return forms.CharField(label=label, required=bool(required), help_text=hint, widget=forms.Textarea(attrs={"rows": rows}),
                           error_messages={"required": required} if required else {})


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


# Row forms ---------------------------------------------------------------------------------------


class SavingRowForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of saving", choices=[("", "Select")] + SavingKind.choices,
                             error_messages={"required": services.SAVING_KIND_MISSING})
    realised_by: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(label="Whose budget it fell in", queryset=None, empty_label="Select",
                                         error_messages={"required": SAVING_ORGANISATION_MISSING})
    care_setting = forms.ChoiceField(label="Where on the pathway", choices=[("", "Select")] + CareSetting.choices,
                                     error_messages={"required": services.SAVING_SETTING_MISSING})
    amount = MoneyField(label="Amount realised in the period", error_messages={"required": SAVING_AMOUNT_MISSING})
    note = forms.CharField(label="How it was worked out", required=False, max_length=300,
                           widget=forms.TextInput(attrs={"class": "nhsuk-input--width-30"}))

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["realised_by"].queryset = organisations


class ReinvestmentRowForm(forms.Form):
    amount = MoneyField(label="Amount reinvested", error_messages={"required": services.REINVESTMENT_AMOUNT_MISSING})
    destination = forms.CharField(label="Where it went", max_length=300,
                                  help_text="The local service or project, like extra community falls classes.",
                                  error_messages={"required": services.REINVESTMENT_DESTINATION_MISSING},
                                  widget=forms.TextInput(attrs={"class": "nhsuk-input--width-30"}))
    organisation: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(label="Organisation that received it", required=False, queryset=None,
                                          empty_label="Not one of the award's organisations")

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class BenefitRowForm(forms.Form):
    measure = forms.IntegerField(widget=forms.HiddenInput)
    value = NumberField(label="Actual value at the end of the period",
                        error_messages={"required": MEASURE_VALUE_REQUIRED})
    note = forms.CharField(label="Note", required=False, max_length=300,
                           widget=forms.TextInput(attrs={"class": "nhsuk-input--width-30"}))


class MilestoneRowForm(forms.Form):
    milestone = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label="Where it stands", choices=MilestoneProgress.choices,
                               widget=forms.RadioSelect(attrs={"inline": True}),
                               error_messages={"required": MILESTONE_STATUS_REQUIRED})
    revised_date = NHSDateField(label="New date, if it slipped", required=False, help_text="For example, 30 9 2027")
    note = forms.CharField(label="Note", required=False, max_length=300,
                           widget=forms.TextInput(attrs={"class": "nhsuk-input--width-30"}))


# Section pages -------------------------------------------------------------------------------------


class SectionPage(BaseSectionPage):
    """One section of a return, on the one section-page machine (``governance.sections``): a
    form with the version, an optional formset of rows, the service that saves it, and its
    errors put next to the fields they are about."""

    section: ReturnSection
    form_class: type[forms.Form] = VersionForm
    row_form: type[forms.Form] | None = None
    row_legend = "Row"
    extra_rows = 0
    template = "reporting/monitoring/section.html"
    intro = ""
    fields_after_rows = False  # the form's own fields below the rows (a summary after the details)
    stale_code = "section_changed"

    def __init__(self, monitoring_return: MonitoringReturn, data=None):
        super().__init__(monitoring_return)
        self.monitoring_return = monitoring_return
        self.award = monitoring_return.award
        version = int((monitoring_return.section_versions or {}).get(self.section.value, 0))
        self.form = self.form_class(data, initial={"version": version, **self.initial()}, prefix="section",
                                    **self.form_kwargs())
        self.formset = None
        if self.row_form is not None:
            factory = forms.formset_factory(self.row_form, extra=self.extra_rows, can_delete=self.extra_rows > 0)
            self.formset = factory(data, initial=self.row_initial(), prefix="rows", form_kwargs=self.row_kwargs())

    # What each section provides
    def initial(self) -> dict:
        """The saved answers: the return's fields named like the form's."""
        names = [name for name in self.form_class.base_fields if name != "version"]
        return {name: getattr(self.monitoring_return, name) for name in names if hasattr(self.monitoring_return, name)}

    def row_initial(self) -> list[dict]:
        return []

    def row_kwargs(self) -> dict:
        return {}

    def form_kwargs(self) -> dict:
        return {}

    # Shared behaviour
    @property
    def forms(self) -> dict:
        return {"section": self.form} | ({"rows": self.formset} if self.formset is not None else {})

    @property
    def title(self) -> str:
        return self.section.label

    @property
    def version(self) -> int:
        return self.form.cleaned_data["version"]

    def rows(self) -> list[dict]:
        if self.formset is None:
            return []
        existing = self.formset.initial_form_count()
        rows = []
        for index, form in enumerate(self.formset):
            if "DELETE" in form.fields:
                form.fields["DELETE"].label = f"Remove this {self.row_legend.lower()}"
            rows.append({"form": form, "legend": self.row_legend_for(index, form), "existing": index < existing})
        return rows

    def row_legend_for(self, index: int, form) -> str:
        return f"{self.row_legend} {index + 1}"

    def kept_rows(self) -> list[BaseForm]:
        """Rows to save: not marked for removal, and not blank extra rows."""
        formset = self.formset
        if formset is None:
            return []
        deleted = set(map(id, formset.deleted_forms)) if formset.can_delete else set()
        return [form for form in formset if id(form) not in deleted and form.cleaned_data
                and (form.has_changed() or form in formset.initial_forms)]


class _Rows(SectionPage):
    """Map "line-<n>-<field>" errors to the n-th kept row."""

    def field_for(self, key: str) -> ErrorPlace:
        if key.startswith("line-"):
            _, index, field = key.split("-", 2)
            rows = self.kept_rows()
            if int(index) < len(rows):
                return rows[int(index)], field
        return super().field_for(key)


def _posted(form, name: str) -> int | None:
    """A row's hidden id as posted (rows beyond the initial ones have no initial)."""
    try:
        return int(form[name].value())
    except (TypeError, ValueError):
        return None


def _category_field(category: str) -> str:
    return f"amount_{category}"


class SpendForm(VersionForm):
    explanation = _text("Explain the variance", hint="Needed when spend is more than 10% above or below the profile "
                                                     "for the period: what happened, and the plan to recover.")

    def __init__(self, *args, profile_by_category=None, **kwargs):
        super().__init__(*args, **kwargs)
        explanation = self.fields.pop("explanation")
        for category, label in CostCategory.choices:
            planned = (profile_by_category or {}).get(category)
            hint = f"The profile for this period: {format_money(planned, pence=True)}" if planned else ""
            self.fields[_category_field(category)] = MoneyField(label=label, required=False, help_text=hint)
        self.fields["explanation"] = explanation

    def amounts(self) -> dict:
        return {category: self.cleaned_data.get(_category_field(category)) for category, _ in CostCategory.choices
                if self.cleaned_data.get(_category_field(category)) is not None}


class SpendPage(SectionPage):
    section = ReturnSection.SPEND
    form_class = SpendForm
    intro = ("What the project spent in this period from the award, by kind of cost. Leave a kind blank if "
             "nothing was spent on it.")

    def __init__(self, monitoring_return, data=None):
        self.profile_total = period_profile(monitoring_return)
        self.profile_by_category = period_profile_by_category(monitoring_return, self.profile_total)
        super().__init__(monitoring_return, data)

    def form_kwargs(self):
        return {"profile_by_category": self.profile_by_category}

    def initial(self) -> dict:
        values = {_category_field(row.category): row.amount for row in self.monitoring_return.spend.all()}
        return {**values, "explanation": self.monitoring_return.spend_variance_explanation}

    def context(self) -> dict:
        return {"profile_total": self.profile_total, "year": fy.label(self.monitoring_return.financial_year)}

    def save(self, actor):
        return services.return_spend_save(actor=actor, monitoring_return=self.monitoring_return, version=self.version,
                                          amounts=self.form.amounts(), explanation=self.form.cleaned_data["explanation"])

    def field_for(self, key):
        if key in dict(CostCategory.choices):
            return self.form, _category_field(key)
        return super().field_for(key)


class SavingsPage(_Rows, SectionPage):
    section = ReturnSection.SAVINGS
    row_form = SavingRowForm
    row_legend = "Saving"
    extra_rows = 2
    intro = ("Savings realised in this period because of the innovation: cashable (money no longer spent) or "
             "non-cashable (time or capacity released), whose budget they fell in, and where on the care pathway. "
             "Leave the rows blank if none were realised yet. Save to get more rows.")

    def row_initial(self):
        return [{"kind": s.kind, "realised_by": s.realised_by_id, "care_setting": s.care_setting, "amount": s.amount,
                 "note": s.note} for s in self.monitoring_return.savings.order_by("pk")]

    def row_kwargs(self):
        return {"organisations": pathway_organisations(self.award)}

    def save(self, actor):
        lines = [services.SavingLine(kind=f.cleaned_data["kind"], realised_by=f.cleaned_data["realised_by"],
                                     care_setting=f.cleaned_data["care_setting"], amount=f.cleaned_data["amount"],
                                     note=f.cleaned_data["note"]) for f in self.kept_rows()]
        return services.return_savings_save(actor=actor, monitoring_return=self.monitoring_return,
                                            version=self.version, lines=lines)


class BenefitsPage(SectionPage):
    section = ReturnSection.BENEFITS
    row_form = BenefitRowForm
    intro = "The value of each patient-benefit measure at the end of this period, against its baseline and target."

    def __init__(self, monitoring_return, data=None):
        self.measures = {m.pk: m for m in monitoring_return.award.bid.benefit_measures.all()}
        super().__init__(monitoring_return, data)

    def row_initial(self):
        actuals = {a.measure_id: a for a in self.monitoring_return.measure_actuals.all()}
        return [{"measure": pk, "value": getattr(actuals.get(pk), "value", None), "note": getattr(actuals.get(pk), "note", "")}
                for pk in self.measures]

    def rows(self):
        rows = []
        for index, form in enumerate(self.formset):
            measure = self.measures.get(form.initial.get("measure") or _posted(form, "measure"))
            rows.append({"form": form, "legend": measure.name if measure else f"Measure {index + 1}", "measure": measure})
        return rows

    def save(self, actor):
        actuals = {f.cleaned_data["measure"]: (f.cleaned_data["value"], f.cleaned_data["note"]) for f in self.formset}
        return services.return_benefits_save(actor=actor, monitoring_return=self.monitoring_return,
                                             version=self.version, actuals=actuals)

    def field_for(self, key):
        if key.startswith("measure-"):
            measure_id = int(key.split("-", 1)[1])
            for form in self.formset:
                if form.cleaned_data.get("measure") == measure_id:
                    return form, "value" if measure_id in self.measures else None
        return super().field_for(key)


class AdoptionForm(VersionForm):
    organisations_adopting = CountField(label="Organisations now using the innovation",
                                        error_messages={"required": "Enter the number of organisations, or 0"})
    sites_adopting = CountField(label="Sites now using it", help_text="Wards, practices, pharmacies, teams.",
                                error_messages={"required": "Enter the number of sites, or 0"})
    patients_reached = CountField(label="Patients reached so far",
                                  error_messages={"required": "Enter the number of patients, or 0"})
    adoption_notes = _text("Spread to other places", hint="Who else is adopting it, or has asked about it.")


class AdoptionPage(SectionPage):
    section = ReturnSection.ADOPTION
    form_class = AdoptionForm
    intro = "How far the innovation has spread by the end of this period."

    def save(self, actor):
        data = self.form.cleaned_data
        return services.return_adoption_save(
            actor=actor, monitoring_return=self.monitoring_return, version=self.version,
            organisations=data["organisations_adopting"], sites=data["sites_adopting"],
            patients=data["patients_reached"], notes=data["adoption_notes"])


class MilestonesForm(VersionForm):
    milestones_update = _text("Anything else about progress", hint="What was delivered in the period.")


class MilestonesPage(SectionPage):
    section = ReturnSection.MILESTONES
    form_class = MilestonesForm
    row_form = MilestoneRowForm
    fields_after_rows = True
    intro = "Where each milestone in the bid's delivery plan stands. Give the new date of any that slipped."

    def __init__(self, monitoring_return, data=None):
        self.milestones = {m.pk: m for m in monitoring_return.award.bid.milestones.all()}
        super().__init__(monitoring_return, data)

    def row_initial(self):
        updates = {u.milestone_id: u for u in self.monitoring_return.milestone_updates.all()}
        return [{"milestone": pk, "status": getattr(updates.get(pk), "status", None),
                 "revised_date": getattr(updates.get(pk), "revised_date", None), "note": getattr(updates.get(pk), "note", "")}
                for pk in self.milestones]

    def rows(self):
        rows = []
        for index, form in enumerate(self.formset):
            milestone = self.milestones.get(form.initial.get("milestone") or _posted(form, "milestone"))
            legend = f"{milestone.title} (due {milestone.due_date:%-d %B %Y})" if milestone else f"Milestone {index + 1}"
            rows.append({"form": form, "legend": legend})
        return rows

    def save(self, actor):
        updates = [services.MilestoneUpdate(milestone_id=f.cleaned_data["milestone"], status=f.cleaned_data["status"],
                                            revised_date=f.cleaned_data["revised_date"], note=f.cleaned_data["note"])
                   for f in self.formset]
        return services.return_milestones_save(actor=actor, monitoring_return=self.monitoring_return, version=self.version,
                                               updates=updates, summary=self.form.cleaned_data["milestones_update"])

    def field_for(self, key):
        if key.startswith("milestone-"):
            parts = key.split("-", 2)
            milestone_id, field = int(parts[1]), parts[2] if len(parts) > 2 else None
            for form in self.formset:
                if form.cleaned_data.get("milestone") == milestone_id:
                    return form, field
        return super().field_for(key)


class RisksForm(VersionForm):
    risks_update = _text("Risks and issues", rows=6, required=services.RISKS_MISSING, hint="New risks, issues that happened, and what you are doing "
                                                          "about them. Say if there are none.")


class RisksPage(SectionPage):
    section = ReturnSection.RISKS
    form_class = RisksForm

    def save(self, actor):
        return services.return_risks_save(actor=actor, monitoring_return=self.monitoring_return, version=self.version,
                                          risks=self.form.cleaned_data["risks_update"])


class RagForm(VersionForm):
    rag = forms.ChoiceField(label="Overall RAG status", choices=RAG.choices, widget=forms.RadioSelect,
                            error_messages={"required": services.RAG_MISSING},
                            help_text="Red: at risk of not delivering. Amber: behind, with a plan to recover. "
                                      "Green: on track.")
    rag_reason = _text("Reason for the status", required=services.RAG_REASON_MISSING)


class RagPage(SectionPage):
    section = ReturnSection.RAG
    form_class = RagForm

    def save(self, actor):
        data = self.form.cleaned_data
        return services.return_rag_save(actor=actor, monitoring_return=self.monitoring_return, version=self.version,
                                        rag=data["rag"], reason=data["rag_reason"])


class NarrativeForm(VersionForm):
    narrative = _text("How the project went in this period", rows=8, required=services.NARRATIVE_MISSING)
    lessons_learned = _text("Lessons learned", rows=6, required=services.LESSONS_MISSING,
                            hint="What others adopting this innovation should know.")

    def __init__(self, *args, is_final: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not is_final:
            self.fields["lessons_learned"].required = False
            self.fields["lessons_learned"].label = "Lessons learned so far"


class NarrativePage(SectionPage):
    section = ReturnSection.NARRATIVE
    form_class = NarrativeForm

    def form_kwargs(self):
        return {"is_final": self.monitoring_return.is_final}

    def save(self, actor):
        data = self.form.cleaned_data
        return services.return_narrative_save(actor=actor, monitoring_return=self.monitoring_return, version=self.version,
                                              narrative=data["narrative"], lessons_learned=data["lessons_learned"])


class ReinvestmentPage(_Rows, SectionPage):
    section = ReturnSection.REINVESTMENT
    row_form = ReinvestmentRowForm
    row_legend = "Reinvestment"
    extra_rows = 2
    intro = ("Savings put back into local services in this period, and where they went. Leave the rows blank if "
             "none were reinvested. Save to get more rows.")

    def row_initial(self):
        return [{"amount": r.amount, "destination": r.destination, "organisation": r.organisation_id}
                for r in self.monitoring_return.reinvestments.order_by("pk")]

    def row_kwargs(self):
        return {"organisations": pathway_organisations(self.award)}

    def save(self, actor):
        lines = [services.ReinvestmentLine(amount=f.cleaned_data["amount"], destination=f.cleaned_data["destination"],
                                           organisation=f.cleaned_data["organisation"]) for f in self.kept_rows()]
        return services.return_reinvestment_save(actor=actor, monitoring_return=self.monitoring_return,
                                                 version=self.version, lines=lines)


class SustainabilityForm(VersionForm):
    will_be_sustained = forms.TypedChoiceField(
        label="Will the innovation carry on after the award ends?", choices=YES_NO,
        coerce=lambda value: value in (True, "True"), empty_value=None, widget=forms.RadioSelect,
        error_messages={"required": services.SUSTAINED_MISSING},
    )
    sustained_funding_by = needed_when(forms.CharField(
        label="Who will fund it, and from which budget", required=False, max_length=300,
        help_text="Needed if it will carry on.", widget=forms.TextInput(attrs={"class": "nhsuk-input--width-30"})))
    sustainability_notes = needed_when(_text("The plan, or why it will not carry on", hint="Needed if it will not carry on."))


class SustainabilityPage(SectionPage):
    section = ReturnSection.SUSTAINABILITY
    form_class = SustainabilityForm
    intro = "The final return asks whether the innovation will be sustained once the award ends, and who pays for it."

    def save(self, actor):
        data = self.form.cleaned_data
        return services.return_sustainability_save(
            actor=actor, monitoring_return=self.monitoring_return, version=self.version,
            will_be_sustained=data["will_be_sustained"], funded_by=data["sustained_funding_by"],
            notes=data["sustainability_notes"])


SECTION_PAGES: dict[str, type[SectionPage]] = {
    page.section.value: page
    for page in (SpendPage, SavingsPage, BenefitsPage, AdoptionPage, MilestonesPage, RisksPage, ReinvestmentPage,
                 RagPage, NarrativePage, SustainabilityPage)
}


# Submitting and reviewing ---------------------------------------------------------------------------


class SubmitForm(forms.Form):
    confirm = forms.BooleanField(
        label="I confirm the return is accurate and complete, and I may submit it for my organisation",
        error_messages={"required": CONFIRM_MISSING},
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label="Do you approve the return?", choices=[("approve", "Approve the return"), ("send_back", "Send it back for changes")],
        widget=forms.RadioSelect, error_messages={"required": DECISION_MISSING},
    )
    comments = _text("Comments for the grantee", rows=5,
                     hint="Needed when you send the return back: say what to change.")


# The portfolio's filters ----------------------------------------------------------------------------


class PortfolioFilterForm(forms.Form):
    """``/monitoring/?fund=&call=&pot=&network=&year=&rag=``: a GET form that works without JavaScript."""

    fund: forms.ModelChoiceField[Fund] = forms.ModelChoiceField(label="Fund", queryset=None, required=False, empty_label="All funds")
    call: forms.ModelChoiceField[Call] = forms.ModelChoiceField(label="Call", queryset=None, required=False, empty_label="All calls")
    pot: forms.ModelChoiceField[Pot] = forms.ModelChoiceField(label="Pot", queryset=None, required=False, empty_label="All pots")
    network: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(label="Network", queryset=None, required=False, empty_label="All networks")
    year = forms.TypedChoiceField(label="Financial year", required=False, coerce=int, empty_value=None)
    rag = forms.ChoiceField(label="Latest RAG status", required=False,
                            choices=[("", "Any status"), *RAG.choices, ("none", "Not reported yet")])

    def __init__(self, *args, choices: dict, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "fund").queryset = choices["funds"]
        model_choice_field(self, "call").queryset = choices["calls"]
        model_choice_field(self, "call").label_from_instance = lambda call: f"{call.title} ({call.fund.name})"  # type: ignore[method-assign, assignment]  # Django's documented way to relabel choices
        model_choice_field(self, "pot").queryset = choices["pots"]
        model_choice_field(self, "pot").label_from_instance = lambda pot: f"{pot.name} ({pot.fund.name})"  # type: ignore[method-assign, assignment]  # Django's documented way to relabel choices
        model_choice_field(self, "network").queryset = choices["networks"]
        choice_field(self, "year").choices = [("", "All years"), *choices["years"]]
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "nhsuk-select")


class ReturnStatusFilterForm(forms.Form):
    """``/monitoring/returns/?status=``: which returns the list shows; any other value shows them all."""

    status = forms.ChoiceField(label="Status", required=False, choices=[
        ("", "All returns"), *ReturnStatus.choices, ("overdue", "Overdue")])

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "%s")
        super().__init__(*args, **kwargs)
        self.fields["status"].say_optional = False  # a filter: leaving it is the ordinary case
