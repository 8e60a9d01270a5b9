"""NHS.UK layouts for crispy forms: what a form's ``helper`` builds its fields from.

Every field is drawn by the template pack's ``templates/nhsuk/field.html`` (label, hint, error
linked by ``aria-describedby``, widget). The objects here add what one field cannot say on its
own: a heading between parts of a long form, a fieldset whose legend, hint and errors belong to
a group of fields (a profile of money by year, the weights of the criteria), a prefix such as
"£", and a label that does not say "(optional)" where that would mislead.

A page writes ``{% error_summary form %}`` near its top, then, inside its own ``<form>``,
``{% crispy form %}``: the helper draws fields only (no form tag, CSRF token or summary).
"""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout, LayoutObject
from crispy_forms.utils import TEMPLATE_PACK
from django import forms
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString


def fields_helper(*fields) -> FormHelper:
    """A helper that draws ``fields`` (names or layout objects) in order, or with none given
    every field of the form, and nothing around them."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.form_show_errors = False  # the page shows the error summary at its top
    if fields:
        helper.layout = Layout(*fields)
    return helper


class Heading(LayoutObject):
    """A heading between parts of a form. Its words are escaped, never read as a template."""

    def __init__(self, text: str, *, css_class: str = "nhsuk-heading-m"):
        self.text = text
        self.css_class = css_class
        self.fields: list[str] = []

    def render(self, form, context, template_pack=TEMPLATE_PACK, **kwargs) -> SafeString:
        return format_html('<h2 class="{}">{}</h2>\n', self.css_class, self.text)


class Markup(LayoutObject):
    """Ready-made HTML between fields (build it with ``format_html``); not read as a template."""

    def __init__(self, html: SafeString):
        self.html = html
        self.fields: list[str] = []

    def render(self, form, context, template_pack=TEMPLATE_PACK, **kwargs) -> SafeString:
        return self.html


class NhsField(Field):
    """A field with the pack's extras: a ``prefix`` shown before the input ("£"), and
    ``say_optional=False`` for a field whose group's hint already says what may be left empty."""

    def __init__(self, *fields, prefix: str = "", say_optional: bool = True, **kwargs):
        super().__init__(*fields, **kwargs)
        self.prefix = prefix
        self.say_optional = say_optional

    def render(self, form, context, template_pack=TEMPLATE_PACK, extra_context=None, **kwargs):
        extra = {**(extra_context or {}), "prefix": self.prefix, "say_optional": self.say_optional}
        return super().render(form, context, template_pack=template_pack, extra_context=extra, **kwargs)


class GroupFieldset(LayoutObject):
    """Fields asked as one question: a fieldset with a legend and a hint, showing the form's own
    (non-field) errors, which are about the group. ``name`` gives the ids: the group is
    ``#name`` (where the error summary links), its hint ``name-hint``, its error ``name-error``."""

    template = "%s/layout/group_fieldset.html"

    def __init__(self, legend: str, *fields, name: str, hint: str = "", legend_size: str = "m"):
        self.legend = legend
        self.fields = list(fields)
        self.name = name
        self.hint = hint
        self.legend_size = legend_size

    def render(self, form, context, template_pack=TEMPLATE_PACK, **kwargs) -> SafeString:
        fields = self.get_rendered_fields(form, context, template_pack, **kwargs)
        return render_to_string(self.get_template_name(template_pack), {
            "legend": self.legend, "hint": self.hint, "name": self.name, "legend_size": self.legend_size,
            "errors": form.non_field_errors(), "fields": fields,
        })


class SearchInput(forms.TextInput):
    """A search box: the pack draws it as the NHS.UK search input, its button beside it."""

    input_type = "search"
