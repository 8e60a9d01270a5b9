"""The NHS.UK crispy pack: every field is drawn by nhsuk/field.html, and layouts add groups,
headings, prefixes and search boxes without losing labels, hints or linked errors."""

from django import forms
from django.template import Context, Template
from django.utils.html import format_html

from governance.form_layout import (
    GroupFieldset,
    Heading,
    Markup,
    NhsField,
    SearchInput,
    fields_helper,
)


class _ProfileForm(forms.Form):
    name = forms.CharField(label="Name")
    year_2026 = forms.CharField(label="2026/27", required=False)
    year_2027 = forms.CharField(label="2027/28", required=False)
    note = forms.CharField(label="Note (optional)", required=False)

    def clean(self):
        raise forms.ValidationError("The years must add up to the amount")

    @property
    def helper(self):
        years = [NhsField(name, prefix="£", say_optional=False) for name in ("year_2026", "year_2027")]
        return fields_helper(
            "name", Heading("Money <by year>"),
            GroupFieldset("Profile by financial year", *years, name="profile", hint="Leave a year empty for £0."),
            Markup(format_html('<p class="nhsuk-body-s">{}</p>', "{{ not a template }}")), "note",
        )


def _crispy(form) -> str:
    return Template("{% load crispy_forms_tags %}{% crispy form %}").render(Context({"form": form}))


def test_a_helper_draws_fields_only_in_its_layout_order():
    html = _crispy(_ProfileForm())
    assert "<form" not in html
    assert "csrfmiddlewaretoken" not in html
    assert "nhsuk-error-summary" not in html  # the page puts the summary at its top
    order = [html.index(text) for text in ('for="id_name"', "Money &lt;by year&gt;", 'id="profile"', 'for="id_note"')]
    assert order == sorted(order)
    assert "{{ not a template }}" in html  # ready-made markup is not read as a template


def test_a_group_shows_its_legend_hint_and_the_forms_own_errors_linked_to_the_fieldset():
    form = _ProfileForm(data={"name": "x"})
    assert not form.is_valid()
    html = _crispy(form)
    assert '<div class="nhsuk-form-group nhsuk-form-group--error" id="profile">' in html
    assert '<fieldset class="nhsuk-fieldset" aria-describedby="profile-hint profile-error">' in html
    assert '<legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">Profile by financial year</legend>' in html
    assert '<div class="nhsuk-hint" id="profile-hint">Leave a year empty for £0.</div>' in html
    assert 'id="profile-error"><span class="nhsuk-u-visually-hidden">Error: </span>The years must add up' in html


def test_a_prefixed_field_keeps_its_label_and_says_optional_only_where_asked():
    html = _crispy(_ProfileForm())
    assert '<label class="nhsuk-label" for="id_year_2026">2026/27</label>' in html
    assert '<div class="nhsuk-input-wrapper__prefix" aria-hidden="true">£</div>' in html
    assert "Note (optional)</label>" in html  # a label that says so already is not told twice
    assert "(optional) (optional)" not in html


class _ScoreForm(forms.Form):
    score = forms.ChoiceField(label="Your score", choices=[("1", "1"), ("2", "2")], widget=forms.RadioSelect)
    q = forms.CharField(label="Search awards", required=False, help_text="Words from the title",
                        widget=SearchInput(attrs={"spellcheck": "false"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["score"].choice_hints = {"2": "Good: clear evidence"}
        self.fields["q"].say_optional = False


def test_radio_options_carry_their_own_hints_linked_to_each_input():
    html = Template("{% load crispy_forms_tags %}{{ form.score|as_crispy_field }}").render(Context({"form": _ScoreForm()}))
    assert 'id="id_score_1" name="score" type="radio" value="2" aria-describedby="id_score_1-item-hint"' in html
    assert '<div class="nhsuk-hint nhsuk-radios__hint" id="id_score_1-item-hint">Good: clear evidence</div>' in html
    assert 'value="1">' in html  # an option without a hint is not described by one


def test_a_search_field_is_the_nhsuk_search_input_with_its_label_hint_and_error():
    form = _ScoreForm(data={"q": "x"})
    form.is_valid()
    form.add_error("q", "Enter fewer words")
    html = Template("{% load crispy_forms_tags %}{{ form.q|as_crispy_field }}").render(Context({"form": form}))
    assert '<div class="nhsuk-form-group nhsuk-search-input nhsuk-form-group--error" id="div_id_q">' in html
    assert '<label class="nhsuk-label nhsuk-label--s" for="id_q">Search awards</label>' in html
    assert 'type="search"' in html
    assert 'aria-describedby="id_q-hint id_q-error"' in html
    assert 'aria-label="Search"' in html
