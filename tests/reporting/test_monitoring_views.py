"""Monitoring pages: the permission matrix for every view and role, the section pages and check
page through the browser's eyes (forms, errors next to fields, nothing changed on bad input), the
review page, and the grantee's dashboard panel."""

import html as html_module
import re
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from awards import services as award_services
from awards.models import InstalmentStatus
from governance.money import NEGATIVE, TOO_LARGE
from reporting.models import MonitoringReturn, ReturnSpend, ReturnStatus
from reporting.monitoring import services
from reporting.monitoring.selectors import can_submit_from, period_profile, return_sections
from tests.factories.applications import BenefitMeasureFactory
from tests.reporting.conftest import complete, submitted

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "signatory", "member", "outsider", "commissioner", "assessor", "chair", "manager",
         "other_manager", "auditor"]


@pytest.fixture
def scene(mw):
    """An award with an open return (the last quarter) and a submitted one (the quarter before)."""
    first, last = mw.ended()
    services.returns_open_ended()
    waiting = submitted(mw, first)
    last.refresh_from_db()
    return {"mw": mw, "open": last, "submitted": waiting}


def _url(name, scene):
    award, open_, waiting = scene["mw"].award, scene["open"], scene["submitted"]
    return {
        "portfolio": reverse("reporting:portfolio"),
        "return_list": reverse("reporting:return_list"),
        "award_returns": reverse("reporting:award_returns", args=[award.reference]),
        "schedule_sync": reverse("reporting:schedule_sync", args=[award.reference]),
        "return_detail": open_.get_absolute_url(),
        "return_section": reverse("reporting:return_section", args=[open_.pk, "spend"]),
        "return_submit": reverse("reporting:return_submit", args=[open_.pk]),
        "return_review": reverse("reporting:return_review", args=[waiting.pk]),
        "return_release_payment": reverse("reporting:return_release_payment", args=[waiting.pk]),
    }[name]


GRANTEE = {"signatory": 200, "member": 200}
# view: (method, {role: status}, default status for the roles not named)
MATRIX = {
    "portfolio": ("get", {"manager": 200, "other_manager": 200, "auditor": 200}, 403),
    "return_list": ("get", {}, 200),
    "award_returns": ("get", {**GRANTEE, "manager": 200, "auditor": 200}, 404),
    "schedule_sync": ("post", {"signatory": 403, "member": 403, "manager": 302, "auditor": 403}, 404),
    "return_detail": ("get", {**GRANTEE, "manager": 200, "auditor": 200}, 404),
    "return_section": ("get", {**GRANTEE, "manager": 403, "auditor": 403}, 404),
    "return_submit": ("get", {**GRANTEE, "manager": 403, "auditor": 403}, 404),
    "return_review": ("get", {"signatory": 403, "member": 403, "manager": 200, "auditor": 403}, 404),
    "return_release_payment": ("post", {"signatory": 403, "member": 403, "manager": 302, "auditor": 403}, 404),
}


@pytest.mark.parametrize("view", list(MATRIX))
def test_permission_matrix(client, scene, view):
    """Every role against the view; all mismatches are reported together."""
    method, expected, default = MATRIX[view]
    world = scene["mw"].world
    wrong = []
    for role in ROLES:
        status = 302 if role == "anonymous" else expected.get(role, default)
        client.logout()
        if role != "anonymous":
            client.force_login(getattr(world, role))
        response = getattr(client, method)(_url(view, scene))
        if response.status_code != status:
            wrong.append(f"{role}: {response.status_code}, expected {status}")
        elif role == "anonymous" and not response["Location"].startswith("/accounts/login/"):
            wrong.append(f"anonymous redirected to {response['Location']}")
        elif status == 200 and b"<h1" not in response.content:
            wrong.append(f"{role}: no page heading")
        elif status in (403, 404) and scene["mw"].award.title.encode() in response.content:
            wrong.append(f"{role}: the refusal shows the award")
    assert not wrong, f"{view}: " + "; ".join(wrong)


def test_every_monitoring_url_is_in_the_matrix():
    from reporting.urls import monitoring_patterns

    assert {pattern.name for pattern in monitoring_patterns} == set(MATRIX)


def test_every_section_page_opens_for_the_grantee(client, scene):
    client.force_login(scene["mw"].member)
    final = scene["mw"].returns()[-1]
    for ret in (scene["open"], final):
        for section in return_sections(ret):
            response = client.get(reverse("reporting:return_section", args=[ret.pk, section.value]))
            assert response.status_code == 200, section
            assert f"<h1>{section.label}</h1>" in response.content.decode()
    # The sustainability questions belong to the final return only.
    assert client.get(reverse("reporting:return_section", args=[scene["open"].pk, "sustainability"])).status_code == 404
    assert client.get(reverse("reporting:return_section", args=[scene["open"].pk, "nonsense"])).status_code == 404


def test_an_outsider_sees_nothing_of_another_organisations_return(client, scene):
    world, ret = scene["mw"].world, scene["open"]
    client.force_login(world.outsider)
    for url in (ret.get_absolute_url(), reverse("reporting:return_section", args=[ret.pk, "risks"]),
                reverse("reporting:return_submit", args=[ret.pk])):
        response = client.get(url)
        assert response.status_code == 404
        assert scene["mw"].award.title.encode() not in response.content
    response = client.post(reverse("reporting:return_section", args=[ret.pk, "risks"]),
                           {"section-version": "0", "section-risks_update": "Taken over"})
    assert response.status_code == 404
    ret.refresh_from_db()
    assert ret.risks_update == ""
    listing = client.get(reverse("reporting:return_list"))
    assert scene["mw"].award.reference.encode() not in listing.content


# Saving sections through the pages -------------------------------------------------------------------


def _error_next_to(response, field_id: str) -> str:
    html = response.content.decode().replace('<span class="nhsuk-u-visually-hidden">Error: </span>', "")
    match = re.search(rf'id="{field_id}-error">(.*?)</span>', html, re.S)
    assert match, f"no error shown next to {field_id}"
    return html_module.unescape(" ".join(match.group(1).split()))


def _section(client, ret, section, data, version=0):
    return client.post(reverse("reporting:return_section", args=[ret.pk, section]),
                       {"section-version": str(version), **data})


def _rows(prefix_rows: list[dict], initial: int = 0) -> dict:
    data = {"rows-TOTAL_FORMS": str(len(prefix_rows)), "rows-INITIAL_FORMS": str(initial),
            "rows-MIN_NUM_FORMS": "0", "rows-MAX_NUM_FORMS": "1000"}
    for index, row in enumerate(prefix_rows):
        data.update({f"rows-{index}-{key}": value for key, value in row.items()})
    return data


def test_the_grantee_saves_spend_through_the_page(client, scene):
    ret = scene["open"]
    client.force_login(scene["mw"].member)
    profile = period_profile(ret)
    response = _section(client, ret, "spend", {"section-amount_staff": f"£{profile:,}", "section-amount_evaluation": ""})
    assert response.status_code == 302
    assert response["Location"] == ret.get_absolute_url() + "#sections"
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Spend against the profile saved."]
    assert list(ReturnSpend.objects.filter(monitoring_return=ret).values_list("category", "amount")) == [("staff", profile)]
    page = client.get(ret.get_absolute_url())
    assert f"£{profile:,}".encode() in page.content


@pytest.mark.parametrize(("amount", "message"), [
    ("-500", NEGATIVE),
    ("1000000000", TOO_LARGE),
    ("250000", services.SPEND_ABOVE_AWARD % {"award": "£200,000.00"}),
])
def test_negative_or_absurd_spend_is_shown_next_to_its_field(client, scene, amount, message):
    ret = scene["open"]
    client.force_login(scene["mw"].member)
    response = _section(client, ret, "spend", {"section-amount_staff": amount, "section-explanation": "Why"})
    assert response.status_code == 200
    assert "<title>Error: " in response.content.decode()
    assert _error_next_to(response, "id_section-amount_staff") == message
    assert not ReturnSpend.objects.filter(monitoring_return=ret).exists()
    ret.refresh_from_db()
    assert ret.section_versions == {}


def test_a_variance_without_an_explanation_is_shown_next_to_the_explanation(client, scene):
    ret = scene["open"]
    client.force_login(scene["mw"].member)
    over = (period_profile(ret) * Decimal("1.25")).quantize(Decimal("0.01"))
    response = _section(client, ret, "spend", {"section-amount_staff": str(over)})
    message = _error_next_to(response, "id_section-explanation")
    assert message.startswith("Spend is 25.0% over the profile of £")
    assert not ReturnSpend.objects.filter(monitoring_return=ret).exists()


@pytest.mark.parametrize(("amount", "message"), [("-1", NEGATIVE), ("2000000000", TOO_LARGE)])
def test_negative_or_absurd_savings_are_shown_next_to_the_amount(client, scene, amount, message):
    ret, mw = scene["open"], scene["mw"]
    client.force_login(mw.member)
    response = _section(client, ret, "savings", _rows([
        {"kind": "cashable", "realised_by": mw.lead.pk, "care_setting": "secondary", "amount": "100"},
        {"kind": "cashable", "realised_by": mw.icb.pk, "care_setting": "community", "amount": amount},
        {},
    ]))
    assert response.status_code == 200
    assert _error_next_to(response, "id_rows-1-amount") == message
    assert not ret.savings.exists()


def test_savings_rows_are_saved_and_blank_rows_ignored(client, scene):
    ret, mw = scene["open"], scene["mw"]
    client.force_login(mw.member)
    response = _section(client, ret, "savings", _rows([
        {"kind": "cashable", "realised_by": mw.lead.pk, "care_setting": "secondary", "amount": "1,200.50", "note": "Beds"},
        {}, {},
    ]))
    assert response.status_code == 302
    assert list(ret.savings.values_list("kind", "realised_by", "amount")) == [("cashable", mw.lead.pk, Decimal("1200.50"))]
    # The saved row comes back with a "remove" box; removing it leaves none.
    page = client.get(reverse("reporting:return_section", args=[ret.pk, "savings"]))
    assert "Remove this saving" in page.content.decode()
    response = _section(client, ret, "savings", _rows([
        {"kind": "cashable", "realised_by": mw.lead.pk, "care_setting": "secondary", "amount": "1200.50", "DELETE": "on"},
        {}, {},
    ], initial=1), version=1)
    assert response.status_code == 302
    assert not ret.savings.exists()


def test_actuals_for_a_measure_of_another_award_are_refused_on_the_page(client, scene):
    ret, mw = scene["open"], scene["mw"]
    other = BenefitMeasureFactory()
    client.force_login(mw.member)
    response = _section(client, ret, "benefits", _rows([
        {"measure": mw.measures[0].pk, "value": "10"},
        {"measure": mw.measures[1].pk, "value": "30"},
        {"measure": other.pk, "value": "99"},  # a row added by hand to the form
    ], initial=2))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Error: " in html
    row = html[html.index('id="row-3"'):]
    row = row[:row.index("</fieldset>")]
    assert html_module.unescape(services.MEASURE_NOT_IN_AWARD) in html_module.unescape(row)
    assert not ret.measure_actuals.exists()


def test_a_missing_measure_value_is_shown_next_to_it(client, scene):
    ret, mw = scene["open"], scene["mw"]
    client.force_login(mw.member)
    response = _section(client, ret, "benefits", _rows([
        {"measure": mw.measures[0].pk, "value": "10"}, {"measure": mw.measures[1].pk, "value": ""},
    ], initial=2))
    assert _error_next_to(response, "id_rows-1-value") == "Enter the actual value for this measure"
    assert not ret.measure_actuals.exists()


def test_a_section_saved_meanwhile_by_someone_else_is_not_overwritten(client, scene):
    ret, mw = scene["open"], scene["mw"]
    services.return_risks_save(actor=mw.signatory, monitoring_return=ret, version=0, risks="Signatory's answer")
    client.force_login(mw.member)
    response = _section(client, ret, "risks", {"section-risks_update": "Member's answer"}, version=0)
    assert response.status_code == 200
    html = html_module.unescape(response.content.decode())
    assert services.SECTION_CHANGED in html
    assert "Signatory's answer" in html  # their answers are shown now, with the new version
    assert 'name="section-version" value="1"' in html
    ret.refresh_from_db()
    assert ret.risks_update == "Signatory's answer"


def test_an_approved_return_cannot_be_edited_through_the_pages(client, scene):
    mw, ret = scene["mw"], scene["submitted"]
    services.return_approve(actor=mw.manager, monitoring_return=ret)
    client.force_login(mw.member)
    url = reverse("reporting:return_section", args=[ret.pk, "risks"])
    response = client.get(url)
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [services.RETURN_APPROVED_LOCKED]
    response = client.post(url, {"section-version": "1", "section-risks_update": "Rewritten"})
    assert response.status_code == 302
    ret.refresh_from_db()
    assert ret.risks_update == "None new."
    page = client.get(ret.get_absolute_url())
    assert b"Fill in the return" not in page.content
    assert reverse("reporting:return_section", args=[ret.pk, "risks"]).encode() not in page.content


def test_a_return_whose_period_has_not_ended_cannot_be_submitted_from_the_check_page(client, scene):
    mw = scene["mw"]
    ret = complete(mw, mw.future())
    client.force_login(mw.member)
    url = reverse("reporting:return_submit", args=[ret.pk])
    page = client.get(url)
    assert "You cannot submit this return yet" in page.content.decode()
    # No submit button for a period not ended: the page says from when it can be sent instead.
    assert "Submit the return</button>" not in page.content.decode()
    assert f"not before {can_submit_from(ret):%-d %B %Y}" in page.content.decode()
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 200
    html = html_module.unescape(response.content.decode())
    assert "<title>Error: " in html
    assert "This return covers a period that has not ended yet: it can be submitted from" in html
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.UPCOMING


def test_the_grantee_submits_from_the_check_page_after_confirming(client, scene):
    mw, ret = scene["mw"], scene["open"]
    complete(mw, ret)
    client.force_login(mw.member)
    url = reverse("reporting:return_submit", args=[ret.pk])
    response = client.post(url, {})
    assert _error_next_to(response, "id_confirm") == "Confirm that the return is accurate and complete"
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.SUBMITTED


# Reviewing -----------------------------------------------------------------------------------------------


def test_sending_back_without_comments_is_shown_next_to_the_comments(client, scene):
    mw, ret = scene["mw"], scene["submitted"]
    client.force_login(mw.manager)
    response = client.post(reverse("reporting:return_review", args=[ret.pk]), {"decision": "send_back", "comments": ""})
    assert _error_next_to(response, "id_comments") == services.COMMENTS_MISSING
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.SUBMITTED


def test_the_manager_approves_and_the_payment_is_released(client, scene):
    mw, ret = scene["mw"], scene["submitted"]
    client.force_login(mw.manager)
    response = client.post(reverse("reporting:return_review", args=[ret.pk]), {"decision": "approve", "comments": ""})
    assert response.status_code == 302
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith(f"Return approved. The {ret.instalment.label} instalment")
    ret.refresh_from_db()
    assert ret.instalment.status == InstalmentStatus.RELEASED


def test_the_manager_sees_why_a_payment_is_not_released(client, scene):
    mw, ret = scene["mw"], scene["submitted"]
    award_services.award_suspend(actor=mw.manager, award=mw.award, reason="Paused")
    client.force_login(mw.manager)
    response = client.post(reverse("reporting:return_review", args=[ret.pk]), {"decision": "approve"}, follow=True)
    html = html_module.unescape(response.content.decode())
    reason = award_services.AWARD_NOT_ACTIVE % {"status": "suspended"}
    assert f"Return approved, but its payment is not released yet: {reason}" in html
    assert "Payment not released yet" in html
    assert "Try to release the payment again" in html
    assert MonitoringReturn.objects.get(pk=ret.pk).status == ReturnStatus.APPROVED


# Dashboards -------------------------------------------------------------------------------------------


def test_the_grantees_dashboard_lists_due_returns_drafts_feedback_and_history(client, scene):
    mw, ret, waiting = scene["mw"], scene["open"], scene["submitted"]
    services.return_send_back(actor=mw.manager, monitoring_return=waiting, comments="Add the savings evidence.")
    future = mw.future()
    services.return_risks_save(actor=mw.member, monitoring_return=future, version=0, risks="Draft")
    client.force_login(mw.member)
    html = html_module.unescape(client.get(reverse("dashboard")).content.decode())
    assert "Your monitoring returns" in html
    assert f"{mw.award.reference} return for {ret.period_label}" in html
    assert f"due {ret.due_date:%-d %B %Y}" in html
    assert "Fund manager's feedback: Add the savings evidence." in html
    assert f"{mw.award.reference} return for {future.period_label}" in html
    assert "draft started (1 section saved)" in html


def test_the_managers_dashboard_counts_returns_to_review(client, scene):
    client.force_login(scene["mw"].manager)
    html = client.get(reverse("dashboard")).content.decode()
    assert "Returns awaiting your review</a>: 1" in html
    assert reverse("reporting:portfolio") in html
