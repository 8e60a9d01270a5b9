"""The form renderer: Django's ``TemplatesSetting`` (so the project's templates can change any
widget), with the commonest widgets written out in Python.

A bid's costs or savings page renders a few hundred text inputs and selects; through templates
each costs an include of ``input.html`` and ``attrs.html`` (about 1.5 ms a widget with its
options), which made widget rendering half of those pages' CPU. The functions here give exactly
the bytes the templates give (Django's ``input.html``, ``select.html``, ``select_option.html``,
``textarea.html`` and the project's ``templates/django/forms/widgets/attrs.html``, which never
writes ``maxlength``): ``tests/governance/test_form_renderer.py`` renders many widgets both ways
and compares them, so a change to those templates shows up there. Any other template (radios,
checkboxes lists, file inputs with a current file, multi-widgets) is rendered by its template.
"""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting
from django.utils.html import conditional_escape, escape

INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "number", "email", "url", "tel", "password", "hidden", "date", "datetime", "time",
                 "search", "checkbox", "color")
)
SELECT = "django/forms/widgets/select.html"
OPTION = "django/forms/widgets/select_option.html"
TEXTAREA = "django/forms/widgets/textarea.html"


def _attrs(attrs: dict) -> str:
    """The project's ``attrs.html``: every attribute but ``maxlength`` (fields never cut people
    off silently), ``True`` as a bare name, ``False`` left out; ends with its newline."""
    parts = []
    for name, value in attrs.items():
        if name == "maxlength" or value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{escape(str(value))}"')
    parts.append("\n")
    return "".join(parts)


def render_input(widget: dict) -> str:
    value = widget["value"]
    shown = "" if value is None else f' value="{escape(str(value))}"'
    return (f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
            f'{shown}{_attrs(widget["attrs"])}>')


def render_select(widget: dict) -> str | None:
    out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        for option in group_choices:
            if option["template_name"] != OPTION:
                return None
            out.append(f'\n  <option value="{escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                       f'{conditional_escape(option["label"])}</option>\n')
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def render_textarea(widget: dict) -> str:
    value = widget["value"]
    return (f'<textarea name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>\n'
            f'{conditional_escape(value) if value else ""}</textarea>')


class FastWidgetRenderer(TemplatesSetting):
    """Django's renderer strips what a template gives (not what its includes give): so do these."""

    def render(self, template_name, context, request=None):
        widget = context.get("widget") if request is None else None
        if widget is not None:
            if template_name in INPUT_TEMPLATES:
                return render_input(widget)
            if template_name == TEXTAREA:
                return render_textarea(widget)
            if template_name == SELECT and (made := render_select(widget)) is not None:
                return made
        return super().render(template_name, context, request)
