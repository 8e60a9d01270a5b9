"""Forms for the assessment pages. They only read what was typed; the services hold the rules
(scales, required comments, conflicts, amounts) and their messages are shown on these fields."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import cached_property

from governance.form_layout import fields_helper
from governance.forms import MoneyField, NHSDateField

from .models import ConflictKind, DecisionOutcome, DeclineReason
from .services import SCORE_NOT_WHOLE

if TYPE_CHECKING:
    from governance.models import Expertise, Organisation

YES_NO = [("no", "No, I have no conflict of interest with this bid"), ("yes", "Yes, I have a conflict of interest")]


class ServiceChecked:
    """A field the service checks: needed always or only in some cases (a comment when the sheet
    is submitted, conditions when funding with conditions), with the service's own message. The
    form lets an empty value through, and the label carries no "(optional)"."""

    def validate(self, value):
        if value in self.empty_values:
            return
        super().validate(value)


class CheckedText(ServiceChecked, forms.CharField):
    pass


class CheckedChoice(ServiceChecked, forms.ChoiceField):
    pass


class CheckedMoney(ServiceChecked, MoneyField):
    pass


class ScoreField(ServiceChecked, forms.CharField):
    """A score chosen from the criterion's scale. Anything typed that is not a number is refused
    here; whether it is a whole number on the scale is the service's rule (``SCORE_*``)."""

    def __init__(self, *, criterion, **kwargs):
        kwargs.setdefault("widget", forms.RadioSelect(choices=[(str(s), str(s)) for s in criterion.scale]))
        super().__init__(**kwargs)
        self.criterion = criterion

    @cached_property
    def choice_hints(self) -> dict[str, str]:
        """Each score's rubric descriptor, shown as that radio's hint."""
        return {str(d.score): d.descriptor for d in self.criterion.descriptors.all()}

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValidationError(SCORE_NOT_WHOLE.format(criterion=self.criterion.title), code="invalid") from None
        if not number.is_finite():
            raise ValidationError(SCORE_NOT_WHOLE.format(criterion=self.criterion.title), code="invalid")
        return number


def _text(label: str, *, rows: int = 4, help_text: str = "") -> forms.CharField:
    """A text box the service checks (see ``ServiceChecked``)."""
    return CheckedText(label=label, help_text=help_text, strip=True, widget=forms.Textarea(attrs={"rows": rows}))


class DeclarationForm(forms.Form):
    has_conflict = CheckedChoice(
        label="Do you have a conflict of interest with this bid?", choices=YES_NO, widget=forms.RadioSelect,
        help_text="For example, you work for or with one of its organisations, you would gain from it, or you "
                  "know the people behind it well.",
    )
    kind = CheckedChoice(label="What kind of conflict is it?", choices=ConflictKind.choices, widget=forms.RadioSelect,
                         help_text="Only if you have a conflict.")
    description = _text("Describe the conflict", rows=3,
                        help_text="Only if you have a conflict. It is recorded in the fund's conflicts of interest register.")

    def service_fields(self) -> dict:
        answer = self.cleaned_data.get("has_conflict")
        return {
            "has_conflict": {"yes": True, "no": False}.get(answer or ""),
            "kind": self.cleaned_data.get("kind") or "",
            "description": self.cleaned_data.get("description") or "",
        }


class ScoreSheetForm(forms.Form):
    """A score and a comment for each of the call's criteria."""

    def __init__(self, *args, criteria, scores=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        scores = scores or {}
        for criterion in self.criteria:
            saved = scores.get(criterion.pk)
            self.fields[f"score_{criterion.pk}"] = ScoreField(
                criterion=criterion, label=f"Your score for {criterion.title}",
                initial=str(saved.score) if saved and saved.score is not None else None,
            )
            self.fields[f"comment_{criterion.pk}"] = _text(
                f"Your comment on {criterion.title}", rows=5,
                help_text="Explain your score against the descriptors. The applicant will read it, without your name.",
            )
            self.fields[f"comment_{criterion.pk}"].initial = saved.comment if saved else ""

    def scores(self) -> dict[int, tuple]:
        data = self.cleaned_data
        return {c.pk: (data.get(f"score_{c.pk}"), data.get(f"comment_{c.pk}") or "") for c in self.criteria}

    def row(self, criterion) -> tuple:
        return self[f"score_{criterion.pk}"], self[f"comment_{criterion.pk}"]


class ModerationForm(forms.Form):
    helper = fields_helper()

    def __init__(self, *args, criterion, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["score"] = ScoreField(criterion=criterion, label="The moderated score")
        self.fields["rationale"] = _text(
            "Why did the panel agree this score?",
            help_text="Recorded with the score on the fund's audit trail. The applicant's feedback says the score was "
                      "moderated because the assessors differed, but does not show this reason.",
        )


class DecisionForm(forms.Form):
    outcome = CheckedChoice(label="The panel's decision", choices=DecisionOutcome.choices, widget=forms.RadioSelect)
    amount_approved = CheckedMoney(label="Amount approved")
    conditions = _text("Conditions of funding", rows=4,
                       help_text="Only for a decision to fund with conditions: one condition on each line.")
    public_reason = _text(
        "The public reason for the decision", rows=4,
        help_text="Published: the applicant reads it with their feedback, and for a funded bid it is shown on the "
                  "public award register, its API and open data. Write it for anyone to read; if the decision departs "
                  "from the ranking, say why here too.",
    )
    internal_rationale = _text(
        "The panel's internal rationale (optional)", rows=5,
        help_text="Not published: seen only by the panel, the fund's managers and its auditors. The applicant "
                  "does not see it.",
    )
    departure_rationale = _text(
        "Why does the panel depart from the ranking?", rows=4,
        help_text="Only needed to fund a bid below the funding line (or one below a gateway minimum), or not to "
                  "fund a bid above it. Not published: seen only by the panel, the fund's managers and its auditors.",
    )

    def __init__(self, *args, requested=None, **kwargs):
        super().__init__(*args, **kwargs)
        if requested is not None:
            self.fields["amount_approved"].help_text = (
                f"Only to fund the bid: no more than the £{requested:,.2f} it asks for."
            )

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "outcome": data.get("outcome") or "",
            "amount_approved": data.get("amount_approved"),
            "conditions": (data.get("conditions") or "").splitlines(),
            "public_reason": data.get("public_reason") or "",
            "internal_rationale": data.get("internal_rationale") or "",
            "departure_rationale": data.get("departure_rationale") or "",
        }


def _candidate_label(candidate) -> str:
    member = candidate.member
    load = f"{candidate.load} bid{'s' if candidate.load != 1 else ''} in this call"
    if candidate.conflict:
        return f"{member.user.full_name} ({member.get_role_display().lower()}): cannot take this bid. {candidate.conflict}"
    return f"{member.user.full_name} ({member.get_role_display().lower()}), {load}"


class AssignForm(forms.Form):
    assessor = forms.ChoiceField(label="Who should assess this bid?", widget=forms.RadioSelect,
                                 error_messages={"required": "Choose the assessor"})
    due_date = NHSDateField(label="Scores due by", required=False,
                            help_text="Leave it blank to use the call's assessment due date.")

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {str(c.member.user_id): c for c in candidates}
        self.fields["assessor"].choices = [(key, _candidate_label(c)) for key, c in self.candidates.items()]

    def chosen(self):
        return self.candidates[self.cleaned_data["assessor"]].member.user


class ReassignForm(forms.Form):
    reason = _text("Why is the assessor coming off this bid?", rows=3, help_text="They will see this.")
    replacement = forms.ChoiceField(label="Who takes the bid instead?", widget=forms.RadioSelect,
                                    error_messages={"required": "Choose who takes the bid instead"})

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {str(c.member.user_id): c for c in candidates}
        self.fields["replacement"].choices = [
            ("auto", "Choose for me: the least-loaded panel member who is free to take it"),
            *[(key, _candidate_label(c)) for key, c in self.candidates.items()],
            ("none", "Nobody for now"),
        ]
        self.fields["replacement"].initial = "auto"

    def service_fields(self) -> dict:
        choice = self.cleaned_data["replacement"]
        return {
            "reason": self.cleaned_data.get("reason") or "",
            "replacement": self.candidates[choice].member.user if choice in self.candidates else None,
            "auto": choice == "auto",
        }


class ReasonForm(forms.Form):
    reason = _text("Why are you reopening the score sheet?", rows=3,
                   help_text="The assessor will see this; it is kept on the fund's audit trail.")


class ClarificationAskForm(forms.Form):
    question = _text("Your question for the applicant", rows=5,
                     help_text="The applicant's organisation reads it on their bid. Ask one clear question.")
    reply_by = NHSDateField(label="Reply by", required=False,
                            help_text="For example, 18 12 2026. Scores on the bid wait until the reply or this date.")


class ClarificationReplyForm(forms.Form):
    reply = _text("Your reply", rows=6, help_text="The panel reads your reply with the bid.")
    attachment = forms.FileField(label="Add a file (optional)", required=False,
                                 help_text="PDF, DOCX, XLSX, ODT, ODS, PNG or JPEG, smaller than 10MB.")


# The assessor pool, invitations and panel packs ------------------------------------------------------


def _active_expertise():
    from governance.models import Expertise

    return Expertise.objects.filter(is_active=True).order_by("name")


class PoolAddForm(forms.Form):
    email = CheckedText(label="Their email address", help_text="The address they sign in with.",
                        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    organisation: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(label="Their organisation (optional)", queryset=None, required=False,
                                          help_text="They are never assigned bids their organisation is on.")
    expertise: forms.ModelMultipleChoiceField[Expertise] = forms.ModelMultipleChoiceField(label="Their expertise (optional)", queryset=None, required=False,
                                               widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        from governance.models import Organisation

        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.order_by("name")
        self.fields["expertise"].queryset = _active_expertise()


class PoolEntryForm(forms.Form):
    organisation: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(label="Their organisation", queryset=None, required=False)
    expertise: forms.ModelMultipleChoiceField[Expertise] = forms.ModelMultipleChoiceField(label="Their expertise", queryset=None, required=False,
                                               widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        from governance.models import Organisation

        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.order_by("name")
        self.fields["expertise"].queryset = _active_expertise()


class PoolShareForm(forms.Form):
    shared_with: forms.ModelChoiceField[Organisation] = forms.ModelChoiceField(label="Network to share the pool with", queryset=None, required=False,
                                         help_text="Their fund managers will be able to invite people from your pool.")

    def __init__(self, *args, network=None, **kwargs):
        from governance.models import Organisation, OrganisationKind

        super().__init__(*args, **kwargs)
        queryset = Organisation.objects.filter(kind=OrganisationKind.HEALTH_INNOVATION_NETWORK).order_by("name")
        if network is not None:
            queryset = queryset.exclude(pk=network.pk)
        self.fields["shared_with"].queryset = queryset


class AssessorDeclarationForm(forms.Form):
    interests = _text("Your interests", rows=4,
                      help_text="Jobs, directorships, shareholdings, consultancies, research funding, relatives: anything "
                                "a bidder might see as a conflict. Write \u201cNone\u201d if you have none.")
    interest_organisations: forms.ModelMultipleChoiceField[Organisation] = forms.ModelMultipleChoiceField(
        label="Organisations you have an interest in (optional)", queryset=None, required=False,
        help_text="You will never be assigned their bids. Hold Ctrl (or Cmd) to choose more than one.",
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    expertise: forms.ModelMultipleChoiceField[Expertise] = forms.ModelMultipleChoiceField(label="Your expertise", queryset=None, required=False,
                                               widget=forms.CheckboxSelectMultiple)
    accept_terms = forms.BooleanField(label="I accept the confidentiality terms", required=False)

    def __init__(self, *args, **kwargs):
        from governance.models import Organisation

        super().__init__(*args, **kwargs)
        self.fields["interest_organisations"].queryset = Organisation.objects.order_by("name")
        self.fields["expertise"].queryset = _active_expertise()


class InviteForm(forms.Form):
    invitees = forms.MultipleChoiceField(label="People to invite", choices=(), required=False,
                                         widget=forms.CheckboxSelectMultiple)
    days = forms.IntegerField(label="Days they have to answer", initial=7, min_value=1, max_value=60)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.people = {str(p.user_id): p.user for p in people}
        self.fields["invitees"].choices = [
            (str(p.user_id), f"{p.user.full_name}" + (f", {p.organisation.name}" if p.organisation_id else "")
             + (f" ({', '.join(e.name for e in p.expertise.all())})" if p.expertise.all() else ""))
            for p in people
        ]

    def chosen(self) -> list:
        return [self.people[value] for value in self.cleaned_data.get("invitees") or [] if value in self.people]


class ThemesForm(forms.Form):
    themes: forms.ModelMultipleChoiceField[Expertise] = forms.ModelMultipleChoiceField(label="The call's themes", queryset=None, required=False,
                                            widget=forms.CheckboxSelectMultiple,
                                            help_text="Automatic assignment prefers assessors with these areas of expertise.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["themes"].queryset = _active_expertise()


DECISION_CHOICES = [("accept", "Yes, I will assess the bids on this call"), ("decline", "No, I cannot")]


class InvitationResponseForm(forms.Form):
    decision = CheckedChoice(label="Will you assess the bids on this call?", choices=DECISION_CHOICES,
                             widget=forms.RadioSelect)
    reason = CheckedChoice(label="If not, why not?", choices=DeclineReason.choices, widget=forms.RadioSelect,
                           help_text="Only if you cannot assess.")

    def service_fields(self) -> dict:
        decision = self.cleaned_data.get("decision")
        return {"accept": {"accept": True, "decline": False}.get(decision or ""), "reason": self.cleaned_data.get("reason") or ""}
