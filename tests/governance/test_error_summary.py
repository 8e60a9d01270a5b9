"""The one error summary: every problem listed once, linked to the input that needs changing."""

from django import forms
from django.template import Context, Template

from governance.error_summary import summary_items


class _Form(forms.Form):
    title = forms.CharField()
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    token = forms.CharField(widget=forms.HiddenInput)

    def clean(self):
        raise forms.ValidationError("The whole form is wrong")


def test_a_form_lists_its_own_errors_then_each_field_linked_to_its_first_input():
    form = _Form(data={"title": "", "kind": "", "token": ""})
    assert not form.is_valid()
    assert summary_items(form) == [
        ("", "The whole form is wrong"),
        ("#id_title", "This field is required."),
        ("#id_kind_0", "This field is required."),  # a radio group: its first option
        ("", "This field is required."),  # a hidden field: nothing to link to
    ]


def test_an_unbound_form_and_plain_messages():
    assert summary_items(_Form()) == []
    assert summary_items(errors=["Set the weights first"], link="/manage/") == [("/manage/", "Set the weights first")]
    assert summary_items(items=[("#x", "Pick one")]) == [("#x", "Pick one")]


def test_a_formset_lists_its_own_errors():
    formset_class = forms.formset_factory(_Form, max_num=1, validate_max=True)
    data = {"form-TOTAL_FORMS": "2", "form-INITIAL_FORMS": "0"}
    formset = formset_class(data)
    formset.is_valid()
    assert summary_items(formset) == [("", "Please submit at most 1 form.")]


def test_the_template_tag_shows_nothing_without_errors_and_escapes_messages():
    template = Template("{% error_summary form errors=extra %}")
    assert template.render(Context({"form": _Form(), "extra": []})).strip() == ""
    html = template.render(Context({"form": _Form(), "extra": ["<b>bad</b>"]}))
    assert 'class="nhsuk-error-summary"' in html
    assert 'role="alert"' in html
    assert "&lt;b&gt;bad&lt;/b&gt;" in html
    assert "There is a problem" in html
