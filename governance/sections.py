"""The one section-page machine, for records written in sections: a bid's sections
(``applications.sections``) and a monitoring return's (``reporting.monitoring.forms``).

A ``SectionPage`` is one section of one record: the forms it shows (``forms``; the first is the
main form, carrying the version of the section the writer opened), ``save(actor)`` calling the
one service that saves the section, and ``field_for(key)`` saying where a service error keyed
by something other than a main-form field goes (a row of a formset, say). ``edit_section`` is
the page's POST: a valid page is saved, "<title> saved." is said and the writer goes on; a
service's refusal is shown next to the fields it is about; a save refused because someone saved
the section after the writer opened it marks the page ``stale`` (and, where the app wants it,
reopens the page at the latest version). Reading a page writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm, BaseFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from .forms import ErrorPlace, add_service_errors

AnyForm = BaseForm | BaseFormSet


def has_code(error: ValidationError, code: str) -> bool:
    """Does the error, or any message in it, carry ``code``?"""
    return getattr(error, "code", None) == code or any(
        getattr(each, "code", None) == code for each in getattr(error, "error_list", []))


def form_has_errors(form: AnyForm) -> bool:
    """Errors to show on a form or formset (a page not yet posted has none)."""
    if isinstance(form, BaseFormSet):
        return form.is_bound and bool(form.total_error_count())
    return bool(form.errors)


class SectionPage:
    """One section's page for one record. Subclasses give ``forms``, ``save`` and ``title``
    (and may give ``field_for``, ``context`` and ``template``)."""

    template = ""
    stale_code = "conflict"  # the service's code for "saved by someone else since you opened it"

    def __init__(self, record: Any) -> None:
        self.record = record
        self.page_errors: list[str] = []  # about the page as a whole, shown at the top
        self.stale = False

    @property
    def title(self) -> str:  # pragma: no cover - every page names itself
        raise NotImplementedError

    @property
    def forms(self) -> dict[str, AnyForm]:  # pragma: no cover - every page has forms
        raise NotImplementedError

    @property
    def main(self) -> BaseForm:
        form = next(iter(self.forms.values()))
        if not isinstance(form, BaseForm):
            raise TypeError("a section page's first form is a form, not a formset")
        return form

    def save(self, actor: Any) -> Any:  # pragma: no cover - every page saves through its service
        raise NotImplementedError

    def field_for(self, key: str) -> ErrorPlace:
        """Where a service error keyed ``key`` (not a main-form field) goes: None for the top."""
        return None

    def context(self) -> dict[str, Any]:
        """What else the page's template shows."""
        return {}

    def is_valid(self) -> bool:
        results = [form.is_valid() for form in self.forms.values()]  # every form, so each shows its errors
        return all(results)

    @property
    def has_errors(self) -> bool:
        return bool(self.page_errors) or any(form_has_errors(form) for form in self.forms.values())

    def add_errors(self, error: ValidationError) -> None:
        if not self.main.is_bound:  # a page reopened afresh: the errors go at the top
            self.page_errors.extend(error.messages)
            return
        add_service_errors(self.main, error, field_map=lambda key, each: self.field_for(key))


Page = TypeVar("Page", bound=SectionPage)


def edit_section(request: HttpRequest, page: Page, *, saved_url: str,
                 reopen: Callable[[], Page] | None = None) -> tuple[Page, HttpResponse | None]:
    """A section page's POST: save a valid page and answer a redirect to ``saved_url`` with
    "<title> saved."; otherwise answer the page to show (None for the redirect), with the
    service's errors on it. A stale save is reopened with ``reopen()`` when one is given."""
    if request.method != "POST" or not page.is_valid():
        return page, None
    try:
        page.save(request.user)
    except ValidationError as error:
        stale = has_code(error, page.stale_code)
        if stale and reopen is not None:
            page = reopen()
        page.stale = stale
        page.add_errors(error)
        return page, None
    messages.success(request, f"{page.title} saved.")
    return page, redirect(saved_url)
