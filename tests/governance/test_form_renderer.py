"""The fast widget renderer gives exactly the bytes the widget templates give."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import TemplatesSetting
from django.utils.safestring import mark_safe

from governance.form_renderer import FastWidgetRenderer
from governance.templatetags.portal import nhsuk_widget


class Everything(forms.Form):
    title = forms.CharField(max_length=20, help_text="A hint", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    amount = forms.DecimalField(required=False, widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}))
    email = forms.EmailField(required=False)
    link = forms.URLField(required=False, assume_scheme="https")
    phone = forms.CharField(required=False, widget=forms.TextInput(attrs={"type": "tel"}))
    secret = forms.CharField(required=False, widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(required=False, widget=forms.HiddenInput)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    search = forms.CharField(required=False, widget=forms.TextInput(attrs={"type": "search", "spellcheck": False}))
    agree = forms.BooleanField(required=False)
    kind = forms.ChoiceField(choices=[("", "Choose"), ("a", "Alpha & <beta>"), ("b", mark_safe("<b>Bold</b>")), (3, "Three")])
    grouped = forms.ChoiceField(required=False, choices=[("Group <1>", [("x", "X"), ("y", "Y")]), ("z", "Zed")])
    many = forms.MultipleChoiceField(required=False, choices=[("p", "P"), ("q", "Q")])
    notes = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    disabled = forms.CharField(required=False, disabled=True, initial="fixed")


VALUES = [
    {},
    {"title": 'Quote " and <tag> & ampersand', "amount": "12.50", "email": "a@b.example", "kind": "a", "grouped": "y",
     "many": ["p", "q"], "notes": "Line one\nline <two> & three", "agree": "on", "day": "2026-12-04", "search": "x"},
    {"title": "", "amount": "not a number", "kind": "3", "notes": "", "hidden": "h&i", "secret": "s<e>cret"},
]


@pytest.mark.parametrize("data", VALUES)
@pytest.mark.parametrize("bound", [True, False])
def test_every_widget_renders_the_same_bytes_as_its_template(data, bound):
    initial = {"amount": Decimal("3.10"), "day": dt.date(2026, 4, 1), "kind": "b", "notes": "Initial <text>"}
    fast = Everything(data if bound else None, initial=initial, renderer=FastWidgetRenderer())
    slow = Everything(data if bound else None, initial=initial, renderer=TemplatesSetting())
    if bound:
        fast.is_valid(), slow.is_valid()
    for name in fast.fields:
        assert str(fast[name]) == str(slow[name]), name
        assert nhsuk_widget(fast[name], "extra") == nhsuk_widget(slow[name], "extra"), name
        assert nhsuk_widget(fast[name]) == nhsuk_widget(slow[name]), name


def test_the_site_uses_the_fast_renderer():
    from django.forms.renderers import get_default_renderer

    assert isinstance(get_default_renderer(), FastWidgetRenderer)


class RowFields(Everything):
    """The fields a bid's row formsets have, plus every other kind ``nhsuk/field.html`` knows."""

    upload = forms.FileField(required=False, help_text="PDF, at most 10 MB")
    counted = forms.CharField(max_length=300, widget=forms.Textarea, help_text=mark_safe("Say <em>why</em>"))
    quiet = forms.CharField(required=False)
    choice = forms.ChoiceField(required=False, widget=forms.RadioSelect, choices=[("a", "A"), ("b", "B")])
    labelled = forms.CharField(required=False, label="Your <b>name</b> (optional)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quiet"].say_optional = False


@pytest.mark.parametrize("data", [*VALUES, {"counted": "x" * 400, "quiet": "q"}])
@pytest.mark.parametrize("options", [{}, {"wrapper_class": "app-row__wide"}, {"prefix": "£", "say_optional": False},
                                     {"wrapper_class": 'a"b', "prefix": "<p>"}])
def test_a_field_written_in_python_is_the_templates_bytes(data, options):
    """``{% nhsuk_field %}`` against ``{% include "nhsuk/field.html" %}`` for every field, bound
    and unbound, with errors, hints, a prefix, a wrapper class and a character count."""
    from django.template import Context, Template

    included = Template('{% include "nhsuk/field.html" %}')
    tag = Template("{% load portal %}{% nhsuk_field field wrapper_class=wrapper_class prefix=prefix "
                   "say_optional=say_optional %}")
    for form in (RowFields(data), RowFields(initial={"title": "Start"})):
        form.is_valid()
        for name in form.fields:
            context = {"wrapper_class": "", "prefix": "", "say_optional": None, **options, "field": form[name]}
            assert tag.render(Context(context)) == included.render(Context(context)), name
