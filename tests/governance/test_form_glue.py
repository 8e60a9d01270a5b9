"""The one glue between forms and services (``governance.forms.add_service_errors`` and
``submit_form``) and the one section-page machine (``governance.sections``)."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError

from governance.forms import add_service_errors, submit_form
from governance.sections import SectionPage, edit_section, has_code


class NameForm(forms.Form):
    name = forms.CharField()
    year_2027 = forms.CharField(required=False)


class ProfileForm(NameForm):
    def service_error_field(self, key, error):
        return "year_2027" if key == "profile" and error.params.get("year") == "2027/28" else None


def posted(**data):
    form = NameForm({"name": "Ada", **data})
    assert form.is_valid()
    return form


def test_an_error_keyed_by_a_field_goes_next_to_it_with_its_code_and_params():
    form = posted()
    add_service_errors(form, ValidationError({"name": ValidationError("%(who)s is taken", code="taken",
                                                                      params={"who": "Ada"})}))
    assert form.errors["name"] == ["Ada is taken"]
    assert form.has_error("name", code="taken")
    assert "name" not in form.cleaned_data


def test_a_list_or_an_unknown_key_goes_at_the_top():
    form = posted()
    add_service_errors(form, ValidationError(["First", ValidationError("Second", code="second")]))
    add_service_errors(form, ValidationError({"elsewhere": "Third", "__all__": "Fourth"}))
    assert form.non_field_errors() == ["First", "Second", "Third", "Fourth"]
    assert form.has_error(forms.forms.NON_FIELD_ERRORS, code="second")


def test_a_field_map_or_the_form_places_other_keys():
    form = posted()
    add_service_errors(form, ValidationError({"profile": "Too much"}), field_map={"profile": "year_2027"})
    assert form.errors["year_2027"] == ["Too much"]
    profile = ProfileForm({"name": "Ada"})
    assert profile.is_valid()
    add_service_errors(profile, ValidationError({"profile": [
        ValidationError("Over in %(year)s", params={"year": "2027/28"}),
        ValidationError("Over in %(year)s", params={"year": "2030/31"})]}))
    assert profile.errors["year_2027"] == ["Over in 2027/28"]
    assert profile.non_field_errors() == ["Over in 2030/31"]


def test_a_field_map_may_send_an_error_to_another_form_and_a_missing_field_goes_to_its_top():
    form, row = posted(), posted()
    add_service_errors(form, ValidationError({"line-0-name": "Row name", "line-0-gone": "Row top"}),
                       field_map=lambda key, error: (row, key.split("-", 2)[2]))
    assert row.errors["name"] == ["Row name"]
    assert row.non_field_errors() == ["Row top"]
    assert not form.errors


def test_submit_form_runs_the_service_only_for_a_valid_post_and_shows_its_refusal(rf):
    calls = []
    assert submit_form(rf.get("/"), NameForm(), lambda: calls.append(1)) is None
    assert submit_form(rf.post("/"), NameForm({}), lambda: calls.append(1)) is None
    assert calls == []
    assert submit_form(rf.post("/"), NameForm({"name": "Ada"}), lambda: None) is True
    assert submit_form(rf.post("/"), NameForm({"name": "Ada"}), lambda: "made") == "made"
    form = NameForm({"name": "Ada"})

    def refuse():
        raise ValidationError({"name": "Taken"})

    assert submit_form(rf.post("/"), form, refuse) is None
    assert form.errors["name"] == ["Taken"]


def test_has_code_looks_inside_a_list():
    assert has_code(ValidationError("x", code="conflict"), "conflict")
    assert has_code(ValidationError([ValidationError("a"), ValidationError("b", code="conflict")]), "conflict")
    assert not has_code(ValidationError({"name": ValidationError("x", code="conflict")}), "other")


class NamePage(SectionPage):
    title = "Name"

    def __init__(self, record, data=None, *, refuse=None):
        super().__init__(record)
        self.form = NameForm(data)
        self.refuse = refuse
        self.saved_by = None

    @property
    def forms(self):
        return {"main": self.form}

    def save(self, actor):
        if self.refuse is not None:
            raise self.refuse
        self.saved_by = actor


def _request(rf, method="post", data=None):
    request = getattr(rf, method)("/", data or {})
    request.user = "writer"
    request.session = SessionBase()
    request._messages = FallbackStorage(request)
    return request


def test_a_valid_section_is_saved_said_and_left(rf):
    request = _request(rf, data={"name": "Ada"})
    page, saved = edit_section(request, NamePage("record", request.POST), saved_url="/next/")
    assert saved is not None
    assert saved["Location"] == "/next/"
    assert page.saved_by == "writer"
    assert [str(m) for m in request._messages] == ["Name saved."]


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_section_not_posted_or_not_valid_is_shown_again(rf, method):
    request = _request(rf, method)
    page, saved = edit_section(request, NamePage("record", request.POST if method == "post" else None),
                               saved_url="/next/")
    assert saved is None
    assert page.has_errors == (method == "post")


def test_a_stale_save_is_marked_or_reopened_with_the_reason_at_the_top(rf):
    stale = ValidationError("Someone else saved it", code="conflict")
    request = _request(rf, data={"name": "Ada"})
    page, saved = edit_section(request, NamePage("record", request.POST, refuse=stale), saved_url="/next/")
    assert saved is None
    assert page.stale
    assert page.form.non_field_errors() == ["Someone else saved it"]
    page, saved = edit_section(request, NamePage("record", request.POST, refuse=stale), saved_url="/next/",
                               reopen=lambda: NamePage("fresh record"))
    assert saved is None
    assert page.stale
    assert page.record == "fresh record"
    assert page.page_errors == ["Someone else saved it"]
    assert page.has_errors
    assert not page.form.is_bound
