"""What the one error summary lists: every problem on a page, each linked to its field.

``{% error_summary form %}`` (also a formset, a section page, several of them, plain ``errors=``
with an optional ``link=``, or ready-made ``items=`` of (href, message)) renders
``templates/includes/error_summary.html``: the NHS.UK error summary, shown only when there is
something to list. A link goes to the field's first input (a date's day, a radio group's first
option) so the browser focuses what needs changing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.forms import BaseForm, BaseFormSet, BoundField

# Widgets whose first input, not the field's own id, is what a link should focus.
FIRST_INPUT_WIDGETS = frozenset({"nhsdate", "radioselect", "checkboxselectmultiple"})

Item = tuple[str, str]


def field_anchor(field: BoundField) -> str:
    return f"#{field.auto_id}_0" if field.widget_type in FIRST_INPUT_WIDGETS else f"#{field.auto_id}"


def form_items(form: BaseForm, prefix: str = "", own_anchor: str = "") -> list[Item]:
    label = f"{prefix}: " if prefix else ""
    items = [(own_anchor, f"{label}{error}") for error in form.non_field_errors()]
    for field in form.visible_fields():
        items += [(field_anchor(field), f"{label}{error}") for error in field.errors]
    for field in form.hidden_fields():
        items += [("", f"{label}{error}") for error in field.errors]
    return items


def formset_items(formset: BaseFormSet) -> list[Item]:
    return [("", str(error)) for error in formset.non_form_errors()]


def section_page_items(page: Any) -> list[Item]:
    """A section page (monitoring returns): its own errors, its form's, each row's, the formset's."""
    items = [("", str(error)) for error in page.page_errors]
    if page.form is not None:
        items += form_items(page.form)
    for number, row in enumerate(page.rows(), start=1):
        items += form_items(row["form"], prefix=row["legend"], own_anchor=f"#row-{number}")
    if getattr(page, "formset", None) is not None:
        items += formset_items(page.formset)
    return items


def summary_items(*sources: Any, errors: Iterable[Any] | None = None, items: Iterable[Item] | None = None,
                  link: str = "") -> list[Item]:
    found: list[Item] = []
    for source in sources:
        if source is None or source == "":
            continue
        if isinstance(source, BaseFormSet):
            found += formset_items(source)
        elif isinstance(source, BaseForm):
            found += form_items(source)
        elif hasattr(source, "page_errors"):
            found += section_page_items(source)
        else:
            raise TypeError(f"error_summary cannot list the errors of {type(source).__name__}")
    found += [(link, str(error)) for error in errors or ()]
    found += [(href, str(message)) for href, message in items or ()]
    return found
