"""Template helpers used across the site: money, financial years, status tags, NHS.UK form widgets
and the shared table and summary-list partials.

Loaded as a template builtin (see settings), so no ``{% load %}`` is needed.
"""

from django import template
from django.forms import BoundField
from django.template.base import TextNode, token_kwargs
from django.template.loader import render_to_string
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from governance import fy, timefmt
from governance.error_summary import summary_items
from governance.money import format_money
from governance.status_tags import render_status_tag

register = template.Library()

WIDGET_CLASSES = {
    "textarea": "nhsuk-textarea",
    "select": "nhsuk-select",
    "selectmultiple": "nhsuk-select",
    "file": "nhsuk-file-upload__input",
    "clearablefile": "nhsuk-file-upload__input",
}


@register.filter
def money(amount) -> str:
    """£12,500 (pence shown only when there are any)."""
    return format_money(amount)


@register.filter
def money_pence(amount) -> str:
    return format_money(amount, pence=True)


@register.filter
def fy_label(start_year) -> str:
    """2026 → 2026/27."""
    try:
        return fy.label(int(start_year))
    except (TypeError, ValueError):
        return ""


@register.filter
def nhs_time(moment) -> str:
    """10:01pm, 9:40am, midday, midnight (UK time): the one time format of the portal."""
    return timefmt.nhs_time(moment)


@register.filter
def nhs_date(day, style: str = "") -> str:
    """4 December 2026; ``nhs_date:"short"`` gives 4 Dec 2026 for tables."""
    return timefmt.nhs_date(day, short=style == "short")


@register.filter
def nhs_datetime(moment, style: str = "") -> str:
    """4 December 2026 at 10:01pm; styles "short" (4 Dec 2026) and "weekday" (Friday 4 December 2026)."""
    return timefmt.nhs_datetime(moment, short=style == "short", weekday=style == "weekday")


@register.filter
def decimal(value) -> str:
    """A measure as entered: 8.1 stays 8.1, 6.50 shows as 6.5, 1200 as 1,200; never rounded."""
    return timefmt.format_decimal(value)


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key) if hasattr(mapping, "get") else mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


@register.simple_tag
def field_describedby(field: BoundField) -> str:
    ids = []
    if field.help_text:
        ids.append(f"{field.auto_id}-hint")
    if field.errors:
        ids.append(f"{field.auto_id}-error")
    return " ".join(ids)


@register.simple_tag
def nhsuk_widget(field: BoundField, extra_class: str = "") -> str:
    """Render a field's widget with NHS.UK classes, hint and error references."""
    widget_type = field.widget_type
    css = WIDGET_CLASSES.get(widget_type, "nhsuk-input")
    if field.errors:
        css += f" {css.split()[0]}--error"
    existing = field.field.widget.attrs.get("class", "")
    classes = [c for part in (css, existing, extra_class) for c in part.split()]
    attrs: dict[str, str | bool] = {"class": " ".join(dict.fromkeys(classes))}  # each class once, in order
    describedby = field_describedby(field)
    if widget_type == "textarea" and getattr(field.field, "max_length", None):
        attrs["class"] = f"{attrs['class']} nhsuk-js-character-count"
        describedby = f"{field.auto_id}-info {describedby}".strip()
    if describedby:
        attrs["aria-describedby"] = describedby
    return field.as_widget(attrs=attrs)


# Field kinds ``nhsuk/field.html`` lays out with a fieldset, a checkbox or a search button: those
# are rendered by the template; every other field by ``nhsuk_field`` in Python.
_FIELDS_BY_TEMPLATE = frozenset(
    {"radioselect", "checkboxselectmultiple", "nhsdate", "nhsdatetime", "checkbox", "search"}
)


@register.simple_tag
def nhsuk_field(field: BoundField, wrapper_class: str = "", prefix: str = "", say_optional=None) -> str:
    """``{% nhsuk_field field wrapper_class="…" %}``: what ``{% include "nhsuk/field.html" %}``
    gives, byte for byte, for a text, number, select, text area or file field, written out in
    Python (a bid's costs and savings pages render dozens of row fields; through the template
    each cost an include and its error include). Other kinds, and hidden fields, go through the
    template. ``tests/governance/test_form_renderer.py`` renders fields both ways and compares."""
    widget_type = field.widget_type
    if field.is_hidden or widget_type in _FIELDS_BY_TEMPLATE:
        return render_to_string("nhsuk/field.html", {
            "field": field, "wrapper_class": wrapper_class, "prefix": prefix, "say_optional": say_optional})
    auto_id = conditional_escape(field.auto_id)
    max_length = getattr(field.field, "max_length", None) if widget_type == "textarea" else None
    group = "nhsuk-form-group"
    if field.errors:
        group += " nhsuk-form-group--error"
    if max_length:
        group += " nhsuk-character-count"
    if widget_type in ("file", "clearablefile"):
        group += " nhsuk-file-upload"
    if wrapper_class:
        group += f" {conditional_escape(wrapper_class)}"
    counter = (f' data-module="nhsuk-character-count" data-maxlength="{conditional_escape(max_length)}"'
               if max_length else "")
    label = conditional_escape(field.label)
    optional = (not field.field.required and not getattr(field.field, "conditional", None)
                and say_optional is not False and getattr(field.field, "say_optional", None) is not False
                and "(optional)" not in str(field.label))
    hint = f'<div class="nhsuk-hint" id="{auto_id}-hint">{field.help_text}</div>' if field.help_text else ""
    error = ""
    if field.errors:
        messages = "<br>".join(
            f'<span class="nhsuk-u-visually-hidden">Error: </span>{conditional_escape(str(message))}'
            for message in field.errors)
        error = f'<span class="nhsuk-error-message" id="{auto_id}-error">{messages}</span>'
    widget = nhsuk_widget(field)
    if prefix:
        widget = (f'<div class="nhsuk-input-wrapper">\n      <div class="nhsuk-input-wrapper__prefix" '
                  f'aria-hidden="true">{conditional_escape(prefix)}</div>\n      {widget}\n    </div>')
    count = (f'<div class="nhsuk-hint nhsuk-character-count__message" id="{auto_id}-info">You can enter up to '
             f'{conditional_escape(max_length)} characters</div>' if max_length else "")
    return mark_safe(  # noqa: S308 (every value above is escaped, or is help text the code wrote)
        f'\n\n\n\n  <div class="{group}" id="div_{auto_id}"{counter}>\n'
        f'    <label class="nhsuk-label" for="{auto_id}">{label}{" (optional)" if optional else ""}</label>\n'
        f"    {hint}\n    {error}\n\n    {widget}\n    {count}\n  </div>\n\n\n\n")


@register.simple_tag
def status_tag(kind: str, value, label: str | None = None):
    """``{% status_tag "bid" bid.status %}``: the one way a state is shown (governance.status_tags)."""
    return render_status_tag(kind, value, label)


@register.inclusion_tag("includes/error_summary.html")
def error_summary(*sources, errors=None, items=None, heading: str = "", link: str = "") -> dict:
    """``{% error_summary form %}``: the one error summary (``governance.error_summary``)."""
    return {"items": summary_items(*sources, errors=errors, items=items, link=link),
            "heading": heading or "There is a problem"}


# Shared partials that wrap what a page writes ---------------------------------------------------


class PartialNode(template.Node):
    """Renders ``partial`` with the tag's keyword arguments and what stands between the tag and
    its end tag as ``body`` (and nothing else of the page's context): the page keeps its own rows,
    the partial keeps the markup around them. A tag given ``sections`` may split its content with
    them, in their order (``{% caption %}…{% head %}…{% body %}…``, each optional): each part is
    passed under its own name. Without ``body`` among them, what comes first is the body
    (``{% task %}<status>{% hint %}…``)."""

    def __init__(self, partial: str, nodelists: dict, kwargs: dict):
        self.partial = partial
        self.nodelists = nodelists
        self.kwargs = kwargs

    def render(self, context) -> str:
        values = {name: value.resolve(context) for name, value in self.kwargs.items()}
        # rendered (and escaped) by the template engine; a part that renders to nothing is empty
        parts = {name: mark_safe(nodelist.render(context).strip()) for name, nodelist in self.nodelists.items()}  # noqa: S308
        partial = context.template.engine.get_template(self.partial)
        return partial.render(context.new({**values, **parts}))  # only what it is given, as include … only


def _partial_tag(name: str, partial: str, *, sections: tuple[str, ...] = ()):
    def compile_tag(parser, token):
        bits = token.split_contents()[1:]
        kwargs = token_kwargs(bits, parser)
        if bits:
            raise template.TemplateSyntaxError(f"{{% {name} %}} takes only name=value arguments")
        end = f"end{name}"
        nodelist = parser.parse((*sections, end))
        section = parser.next_token().contents
        if section == end:
            return PartialNode(partial, {"body": nodelist}, kwargs)
        if "body" not in sections:
            nodelists = {"body": nodelist}
        elif any(not isinstance(node, TextNode) or node.s.strip() for node in nodelist):
            message = f"{{% {name} %}}: nothing may come before {{% {section} %}}"
            raise template.TemplateSyntaxError(message)
        else:
            nodelists = {}
        while section != end:  # each section ends at a later one or at the end tag
            later = sections[sections.index(section) + 1 :]
            nodelists[section] = parser.parse((*later, end))
            section = parser.next_token().contents
        if "caption" in nodelists and "label" not in kwargs:
            message = f"{{% {name} %}} with a {{% caption %}} needs label= (the region's name)"
            raise template.TemplateSyntaxError(message)
        return PartialNode(partial, nodelists, kwargs)

    register.tag(name, compile_tag)


# {% table caption="Awards, newest first" headers="Reference|Amount:numeric" %}<tr>…</tr>{% endtable %}, or
# with a header row built from data: {% table caption=… %}{% head %}{% column "Pot" %}…{% body %}<tr>…</tr>{% endtable %},
# and a caption written in the page (markup, conditions): {% table label=… %}{% caption %}…{% head %}…{% body %}…
_partial_tag("table", "includes/table.html", sections=("caption", "head", "body"))
# {% summary_list %}{% summary_row key="Project" %}{{ bid.title }}{% endsummary_row %}…{% endsummary_list %}
_partial_tag("summary_list", "includes/summary_list.html")
_partial_tag("summary_row", "includes/summary_row.html")
# {% task_list %}{% task name="Budget" url=… id="task-budget" %}{% status_tag … %}{% hint %}…{% endtask %}…{% endtask_list %}
_partial_tag("task_list", "includes/task_list.html")
_partial_tag("task", "includes/task.html", sections=("hint",))

COLUMN_CLASSES = {"numeric": "app-table__cell--numeric", "nowrap": "app-nowrap"}


@register.filter
def table_headers(spec: str) -> list[tuple[str, str, bool]]:
    """``"Reference|Amount:numeric|Action:hidden"`` -> (label, classes, read only by screen readers)
    for each column: [("Reference", "", False), ("Amount", "app-table__cell--numeric", False), …]."""
    columns = []
    for column in spec.split("|"):
        label, _, kinds = column.partition(":")
        columns.append(_column(label, *[kind for kind in kinds.split(",") if kind]))
    return columns


def _column(label: str, *kinds: str) -> tuple[str, str, bool]:
    return label, " ".join(COLUMN_CLASSES[kind] for kind in kinds if kind != "hidden"), "hidden" in kinds


@register.inclusion_tag("includes/table_column.html")
def column(label: str, *kinds: str, css: str = "") -> dict:
    """``{% column "Budget" "numeric" %}``: one column heading of a ``{% table %}`` whose header row
    is built from data (``{% head %}``); kinds as in ``table_headers``, and ``css="…"`` for a class
    of the page's own (a column's width)."""
    label, classes, hidden = _column(label, *kinds)
    return {"heading": label, "css": " ".join(c for c in (classes, css) if c), "hidden": hidden}
