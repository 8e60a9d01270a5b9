"""Fund managers' pages: each piece of bad input from the issue shows a clear message next to
its field and changes nothing; and the good paths save through the services."""

import datetime as dt
import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from governance import services
from governance.forms import FY_NOT_VALID, NO_SUCH_USER
from governance.models import (
    AuditEvent,
    Call,
    CallStatus,
    CriterionKind,
    Fund,
    PanelRole,
    PotBudget,
)
from governance.money import NEGATIVE, NOT_MONEY, TOO_MANY_DECIMALS
from tests.factories.governance import CallFactory, FundFactory, FundRoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def field_error(response, field: str) -> str:
    """The error message shown next to a field (NHS.UK error message), or ''."""
    match = re.search(rf'<span class="nhsuk-error-message" id="id_{field}-error">(.*?)</span>\s*(?:<|$)',
                      response.content.decode(), re.S)
    if not match:
        return ""
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1)).replace("Error: ", "")).strip()


def summary_errors(response) -> str:
    match = re.search(r'<div class="nhsuk-error-summary".*?</ul>', response.content.decode(), re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(0))) if match else ""


@pytest.fixture
def manager(client, world):
    client.force_login(world.people.manager)
    return client


def _split_datetime(name: str, moment: dt.datetime) -> dict:
    local = timezone.localtime(moment)
    return {f"{name}_day": local.day, f"{name}_month": local.month, f"{name}_year": local.year,
            f"{name}_time": local.strftime("%H:%M")}


def _call_post(world, **overrides):
    data = {
        "title": "Digital front door", "slug": "", "summary": "Adopt a digital front door.", "purpose": "adoption",
        "innovation_types": ["digital"], "host_network": world.host.pk, "pots": [world.host_pot.pk],
        **_split_datetime("opens_at", timezone.now() + dt.timedelta(days=1)),
        **_split_datetime("closes_at", timezone.now() + dt.timedelta(days=30)),
        "eligible_org_kinds": ["nhs_trust", "icb"], "min_amount": "", "max_amount": "200,000",
        "max_duration_years": "2", "required_partner_kinds": ["commissioner"], "endorsement_required": "True",
        "panel": world.panel.pk, "assessors_per_bid": "3", "moderation_threshold": "1.5",
    }
    data.update(overrides)
    return data


# Funds ------------------------------------------------------------------------------------


def _fund_post(world, **overrides):
    return {"name": "Diagnostics Fund", "slug": "", "host_network": world.host.pk, "description": "Money.",
            "priorities": "One\nTwo", "allocation_model": "national", "first_year": "2026/27", "last_year": "2028/29",
            **overrides}


def test_a_fund_manager_creates_a_fund_for_their_network(manager, world):
    response = manager.post(reverse("governance:fund_create"), _fund_post(world))
    fund = Fund.objects.get(slug="diagnostics-fund")
    assert response.status_code == 302
    assert response["Location"] == fund.get_absolute_url()
    assert (fund.first_year, fund.last_year, fund.host_network) == (2026, 2028, world.host)


def test_a_fund_manager_cannot_host_a_fund_in_another_network(manager, world):
    response = manager.post(reverse("governance:fund_create"), _fund_post(world, host_network=world.other.pk))
    assert response.status_code == 200
    assert field_error(response, "host_network")
    assert not Fund.objects.filter(name="Diagnostics Fund").exists()


def test_a_duplicate_fund_slug_is_shown_next_to_the_slug(manager, world):
    response = manager.post(reverse("governance:fund_create"), _fund_post(world, slug="spread-fund"))
    assert field_error(response, "slug") == services.FUND_SLUG_TAKEN
    assert response.context["form"].errors
    assert "<title>Error: " in response.content.decode()
    assert Fund.objects.count() == 1


def test_a_financial_year_that_is_not_one_is_shown_next_to_the_field(manager, world):
    response = manager.post(reverse("governance:fund_create"), _fund_post(world, first_year="2026-27"))
    assert field_error(response, "first_year") == FY_NOT_VALID
    assert not Fund.objects.filter(name="Diagnostics Fund").exists()


def test_shrinking_a_funds_years_past_its_budgets_is_shown_next_to_the_year(manager, world):
    data = _fund_post(world, name="Spread Fund", slug="spread-fund", allocation_model="ring_fenced", last_year="2027/28")
    response = manager.post(reverse("governance:fund_edit", args=[world.fund.slug]), data)
    assert field_error(response, "last_year").startswith(services.FUND_YEARS_EXCLUDE_BUDGETS)
    world.fund.refresh_from_db()
    assert world.fund.last_year == 2028


# Pots and budgets -------------------------------------------------------------------------


def _budget_url(world):
    return reverse("governance:pot_budget", args=[world.fund.slug, world.host_pot.pk])


def test_a_budget_is_set_for_a_year(manager, world):
    response = manager.post(_budget_url(world), {"financial_year": "2027/28", "amount": "£1,500,000.25"})
    assert response.status_code == 302
    assert PotBudget.objects.get(pot=world.host_pot, financial_year=2027).amount == Decimal("1500000.25")


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-100", NEGATIVE), ("one million", NOT_MONEY), ("100.999", TOO_MANY_DECIMALS)],
)
def test_a_bad_budget_is_shown_next_to_the_amount_and_nothing_changes(manager, world, amount, message):
    response = manager.post(_budget_url(world), {"financial_year": "2026/27", "amount": amount})
    assert response.status_code == 200
    assert field_error(response, "amount") == message
    assert PotBudget.objects.get(pot=world.host_pot, financial_year=2026).amount == Decimal("1000000.00")
    assert not AuditEvent.objects.filter(action="pot.budget_set").exists()


@pytest.mark.parametrize("year", ["2025/26", "2029/30"])
def test_a_year_outside_the_funds_years_is_shown_next_to_the_year(manager, world, year):
    response = manager.post(_budget_url(world), {"financial_year": year, "amount": "1000"})
    assert field_error(response, "financial_year") == f"{services.YEAR_OUTSIDE_FUND}: 2026/27 to 2028/29"
    assert PotBudget.objects.filter(pot=world.host_pot).count() == 3


def test_a_pot_for_a_network_that_already_has_one_is_shown_next_to_the_network(manager, world):
    response = manager.post(reverse("governance:pot_create", args=[world.fund.slug]),
                            {"name": "Second South West pot", "network": world.host.pk})
    assert field_error(response, "network") == services.POT_NETWORK_TAKEN
    assert world.fund.pots.count() == 2


def test_a_new_pot_goes_to_its_budget_page(manager, world):
    response = manager.post(reverse("governance:pot_create", args=[world.fund.slug]),
                            {"name": "North East pot", "network": world.other.pk})
    pot = world.fund.pots.get(network=world.other)
    assert response["Location"] == reverse("governance:pot_budget", args=[world.fund.slug, pot.pk])


# Panels -----------------------------------------------------------------------------------


def test_a_member_is_added_by_email_and_an_affiliation_declared(manager, world):
    person = UserFactory(email="lay.member@example.com")
    url = reverse("governance:panel_detail", args=[world.fund.slug, world.panel.pk])
    response = manager.post(url, {"email": "Lay.Member@example.com", "role": PanelRole.LAY_MEMBER})
    member = world.panel.members.get(user=person)
    assert response["Location"] == reverse("governance:panel_member", args=[world.fund.slug, world.panel.pk, member.pk])
    member_url = response["Location"]
    found = manager.get(member_url, {"q": "Devon"})
    assert world.trust in found.context["results"]
    manager.post(member_url, {"action": "add_affiliation", "organisation": world.trust.pk})
    assert list(member.affiliations.all()) == [world.trust]
    manager.post(member_url, {"action": "remove_affiliation", "organisation": world.trust.pk})
    assert not member.affiliations.exists()
    for bad in ("x", "", "-1", "1e3"):
        assert manager.post(member_url, {"action": "add_affiliation", "organisation": bad}).status_code == 404


def test_an_unknown_email_is_shown_next_to_the_email(manager, world):
    url = reverse("governance:panel_detail", args=[world.fund.slug, world.panel.pk])
    response = manager.post(url, {"email": "nobody@example.com", "role": PanelRole.ASSESSOR})
    assert field_error(response, "email") == NO_SUCH_USER
    assert world.panel.members.count() == 2


def test_a_person_already_on_the_panel_is_shown_next_to_the_email(manager, world):
    url = reverse("governance:panel_detail", args=[world.fund.slug, world.panel.pk])
    response = manager.post(url, {"email": "assessor@example.com", "role": PanelRole.CHAIR})
    assert field_error(response, "email") == services.PANEL_MEMBER_TAKEN


# Auditors ---------------------------------------------------------------------------------


def test_an_auditor_is_added_by_email_and_then_reads_the_fund(manager, world):
    person = UserFactory(email="internal.audit@example.com")
    url = reverse("governance:fund_auditors", args=[world.fund.slug])
    response = manager.post(url, {"action": "add", "email": "Internal.Audit@example.com"})
    assert response["Location"] == url
    assert world.fund.roles.filter(user=person).exists()
    event = AuditEvent.objects.get(action="fund.auditor_added")
    assert (event.actor, event.fund, event.after) == (world.people.manager, world.fund, {"auditor": person.email})
    page = manager.get(url)
    assert person.email in page.content.decode()
    manager.logout()
    manager.force_login(person)
    assert manager.get(reverse("governance:fund_audit", args=[world.fund.slug])).status_code == 200
    assert manager.get(reverse("governance:fund_edit", args=[world.fund.slug])).status_code == 403


@pytest.mark.parametrize(("email", "message"), [
    ("nobody@example.com", NO_SUCH_USER),
    ("auditor@example.com", services.FUND_AUDITOR_TAKEN),
    ("manager@example.com", services.FUND_AUDITOR_IS_MANAGER),
])
def test_an_auditor_who_cannot_be_added_is_shown_next_to_the_email(manager, world, email, message):
    response = manager.post(reverse("governance:fund_auditors", args=[world.fund.slug]),
                            {"action": "add", "email": email})
    assert response.status_code == 200
    assert field_error(response, "email") == message
    assert response.context["form"].errors
    assert list(world.fund.roles.values_list("user__email", flat=True)) == ["auditor@example.com"]
    assert not AuditEvent.objects.filter(action="fund.auditor_added").exists()


def test_an_auditor_is_removed_and_can_no_longer_read_the_fund(manager, world):
    role = world.fund.roles.get(user=world.people.auditor)
    url = reverse("governance:fund_auditors", args=[world.fund.slug])
    # Another fund's auditor cannot be removed through this fund's page.
    elsewhere = FundRoleFactory(user=world.people.auditor, fund=FundFactory(host_network=world.other))
    assert manager.post(url, {"action": "remove", "auditor": elsewhere.pk}).status_code == 404
    assert manager.post(url, {"action": "remove", "auditor": "x"}).status_code == 404
    assert manager.post(url, {"action": "remove", "auditor": role.pk})["Location"] == url
    assert list(world.people.auditor.fund_roles.all()) == [elsewhere]
    assert AuditEvent.objects.get(action="fund.auditor_removed").before == {"auditor": "auditor@example.com"}
    manager.logout()
    manager.force_login(world.people.auditor)
    assert manager.get(reverse("governance:fund_detail", args=[world.fund.slug])).status_code == 403


# Calls ------------------------------------------------------------------------------------


def test_a_fund_manager_creates_a_draft_call(manager, world):
    response = manager.post(reverse("governance:call_create", args=[world.fund.slug]), _call_post(world))
    call = Call.objects.get(slug="digital-front-door")
    assert response["Location"] == reverse("governance:call_manage", args=[call.slug])
    assert call.status == CallStatus.DRAFT
    assert call.max_amount == Decimal("200000.00")
    assert call.min_amount == Decimal("0.00")
    assert call.required_partner_kinds == ["commissioner"]
    assert list(call.pots.all()) == [world.host_pot]


def test_a_closing_time_before_the_opening_time_is_shown_next_to_closes(manager, world):
    data = _call_post(world, **_split_datetime("closes_at", timezone.now() - dt.timedelta(days=1)))
    response = manager.post(reverse("governance:call_create", args=[world.fund.slug]), data)
    assert field_error(response, "closes_at") == services.CLOSES_BEFORE_OPENS
    assert not Call.objects.filter(title="Digital front door").exists()


def test_a_duplicate_call_slug_is_shown_next_to_the_slug(manager, world):
    response = manager.post(reverse("governance:call_create", args=[world.fund.slug]), _call_post(world, slug="draft-call"))
    assert field_error(response, "slug") == services.CALL_SLUG_TAKEN
    assert Call.objects.count() == 1


def test_a_published_call_offers_only_its_later_timetable_and_refuses_the_rest(manager, world):
    services.call_publish(actor=world.people.manager, call=world.call)
    url = reverse("governance:call_edit", args=[world.call.slug])
    form = manager.get(url).context["form"]
    assert set(form.fields) == set(services.CALL_FIELDS_EDITABLE_WHEN_PUBLISHED)
    manager.post(url, {"max_amount": "1", "panel_meeting_date_day": "", "title": "Changed"})
    world.call.refresh_from_db()
    assert world.call.title == "Draft call"
    assert world.call.max_amount == Decimal("500000.00")


def test_a_call_is_copied_with_its_criteria(manager, world):
    data = {"title": "Second round", "slug": "",
            **_split_datetime("opens_at", timezone.now() + dt.timedelta(days=100)),
            **_split_datetime("closes_at", timezone.now() + dt.timedelta(days=130))}
    response = manager.post(reverse("governance:call_copy", args=[world.call.slug]), data)
    copy = Call.objects.get(slug="second-round")
    assert response["Location"] == reverse("governance:call_manage", args=[copy.slug])
    assert copy.criteria.count() == 2
    assert copy.copied_from == world.call


# Criteria and publishing ---------------------------------------------------------------------


def _criterion_post(**overrides):
    return {"kind": CriterionKind.DELIVERABILITY, "title": "Deliverability", "guidance_for_applicants": "Show the plan.",
            "guidance_for_assessors": "Score the plan.", "weight": "10", "scale_min": "0", "scale_max": "4",
            "gateway_min_score": "", **{f"descriptor_{n}": f"Score {n}" for n in range(5)}, **overrides}


def test_a_criterion_is_added_with_its_rubric(manager, world):
    world.call.criteria.update(weight=45)
    response = manager.post(reverse("governance:call_criterion_add", args=[world.call.slug]), _criterion_post())
    assert response.status_code == 302
    criterion = world.call.criteria.get(title="Deliverability")
    assert [d.descriptor for d in criterion.descriptors.all()] == [f"Score {n}" for n in range(5)]


def test_a_rubric_with_a_score_undescribed_is_shown_next_to_that_score(manager, world):
    world.call.criteria.update(weight=45)
    response = manager.post(reverse("governance:call_criterion_add", args=[world.call.slug]),
                            _criterion_post(descriptor_3=""))
    assert field_error(response, "descriptor_3") == "Describe what a score of 3 means"
    assert not world.call.criteria.filter(title="Deliverability").exists()


def test_changing_the_scale_asks_for_the_new_scores_descriptors(manager, world):
    criterion = world.call.criteria.first()
    url = reverse("governance:call_criterion_edit", args=[world.call.slug, criterion.pk])
    response = manager.post(url, _criterion_post(kind=criterion.kind, title=criterion.title, weight="50", scale_max="6"))
    assert field_error(response, "descriptor_5") == "Describe what a score of 5 means"
    assert field_error(response, "descriptor_6") == "Describe what a score of 6 means"
    criterion.refresh_from_db()
    assert criterion.scale_max == 4
    manager.post(url, _criterion_post(kind=criterion.kind, title=criterion.title, weight="50", scale_max="6",
                                      descriptor_5="Very good", descriptor_6="Outstanding"))
    criterion.refresh_from_db()
    assert criterion.scale_max == 6
    assert criterion.descriptors.count() == 7


def test_a_criterion_taking_the_weights_over_100_is_shown_next_to_the_weight(manager, world):
    response = manager.post(reverse("governance:call_criterion_add", args=[world.call.slug]), _criterion_post())
    assert field_error(response, "weight").startswith(services.WEIGHTS_OVER_100)
    assert world.call.criteria.count() == 2


def test_weights_not_totalling_100_are_shown_with_the_weights(manager, world):
    first, second = world.call.criteria.all()
    url = reverse("governance:call_criteria_weights", args=[world.call.slug])
    response = manager.post(url, {f"weight_{first.pk}": "60", f"weight_{second.pk}": "30"})
    page = response.content.decode()
    assert f"{services.WEIGHTS_NOT_100}: they add up to 90" in html.unescape(
        re.search(r'id="weights-error">(.*?)</span>\s*<', page, re.S).group(1))
    assert sorted(world.call.criteria.values_list("weight", flat=True)) == [50, 50]


def test_editing_the_criteria_of_an_open_call_is_refused_with_the_reason(manager, world):
    call = CallFactory(fund=world.fund, host_network=world.host, status=CallStatus.OPEN)
    criterion = call.criteria.first()
    url = reverse("governance:call_criterion_edit", args=[call.slug, criterion.pk])
    page = manager.get(url)
    assert services.CRITERIA_FROZEN in page.content.decode()
    response = manager.post(url, _criterion_post(title="Quietly changed", weight="50"))
    assert response.status_code == 400
    assert services.CRITERIA_FROZEN in summary_errors(response)
    criterion.refresh_from_db()
    assert criterion.title != "Quietly changed"
    weights = manager.post(reverse("governance:call_criteria_weights", args=[call.slug]), {})
    assert weights.status_code == 400
    removal = manager.post(reverse("governance:call_criterion_remove", args=[call.slug, criterion.pk]))
    assert removal.status_code == 400
    assert services.CRITERIA_FROZEN in removal.content.decode()
    assert call.criteria.count() == 2


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda call: call.criteria.filter(kind="cost_saving").update(kind="other"), services.NO_COST_SAVING),
        (lambda call: call.criteria.filter(kind="patient_benefit").update(kind="other"), services.NO_PATIENT_BENEFIT),
        (lambda call: call.criteria.filter(kind="cost_saving").update(weight=20), services.WEIGHTS_NOT_100),
        (lambda call: Call.objects.filter(pk=call.pk).update(opens_at=timezone.now() - dt.timedelta(days=9),
                                                              closes_at=timezone.now() - dt.timedelta(days=1)),
         services.CLOSES_IN_PAST),
    ],
)
def test_publishing_an_incomplete_call_shows_why_and_changes_nothing(manager, world, breakage, message):
    breakage(world.call)
    url = reverse("governance:call_publish", args=[world.call.slug])
    checklist = manager.get(reverse("governance:call_manage", args=[world.call.slug])).content.decode()
    assert html.escape(message) in checklist or message in html.unescape(checklist)
    response = manager.post(url)
    assert message in summary_errors(response)
    assert "<title>Error: " in response.content.decode()
    world.call.refresh_from_db()
    assert world.call.status == CallStatus.DRAFT
    assert world.call.published_at is None


def test_publishing_a_complete_call_schedules_it_and_closing_early_needs_a_reason(manager, world):
    response = manager.post(reverse("governance:call_publish", args=[world.call.slug]))
    assert response.status_code == 302
    world.call.refresh_from_db()
    assert world.call.status == CallStatus.SCHEDULED
    open_call = CallFactory(fund=world.fund, host_network=world.host)
    close_url = reverse("governance:call_close", args=[open_call.slug])
    refused = manager.post(close_url, {"reason": ""})
    assert field_error(refused, "reason") == services.CLOSE_EARLY_REASON
    open_call.refresh_from_db()
    assert open_call.status == CallStatus.OPEN
    manager.post(close_url, {"reason": "Budget withdrawn"})
    open_call.refresh_from_db()
    assert open_call.status == CallStatus.CLOSED


def test_a_closing_time_is_extended_from_the_call_page_and_the_public_page_says_why(manager, world, client):
    call = CallFactory(fund=world.fund, host_network=world.host, assessment_due_date=None, panel_meeting_date=None,
                       decisions_expected_date=None)
    first = call.closes_at
    assert reverse("governance:call_extend", args=[call.slug]) in manager.get(
        reverse("governance:call_manage", args=[call.slug])).content.decode()
    url = reverse("governance:call_extend", args=[call.slug])
    later = first + dt.timedelta(days=14)
    refused = [
        ({**_split_datetime("closes_at", later), "reason": ""}, "reason", services.EXTENSION_REASON),
        ({**_split_datetime("closes_at", first - dt.timedelta(days=1)), "reason": "More time"}, "closes_at",
         services.EXTENSION_NOT_LATER),
        ({"closes_at_day": "31", "closes_at_month": "2", "closes_at_year": "2027", "closes_at_time": "12:00",
          "reason": "More time"}, "closes_at", None),
        ({**_split_datetime("closes_at", later), "closes_at_time": "25:99", "reason": "More time"}, "closes_at", None),
    ]
    for data, field, message in refused:
        response = manager.post(url, data)
        assert response.status_code == 200
        shown = field_error(response, field)
        assert shown, data
        assert message is None or shown == message, (data, shown)
    call.refresh_from_db()
    assert call.closes_at == first
    response = manager.post(url, {**_split_datetime("closes_at", later), "reason": "<b>Winter</b> pressures"})
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.closes_at == later.replace(second=0, microsecond=0)
    public = client.get(call.get_absolute_url()).content.decode()
    assert "The closing time was extended from" in public
    assert "&lt;b&gt;Winter&lt;/b&gt; pressures" in public
    assert "<b>Winter</b>" not in public


def test_a_scheduled_call_is_taken_back_to_draft_from_the_call_page_and_leaves_the_public_pages(manager, world):
    call = world.call
    services.call_publish(actor=world.people.manager, call=call)
    assert manager.get(call.get_absolute_url()).status_code == 200
    page = manager.get(reverse("governance:call_manage", args=[call.slug])).content.decode()
    url = reverse("governance:call_unpublish", args=[call.slug])
    assert url in page
    refused = manager.post(url, {"reason": ""})
    assert field_error(refused, "reason") == services.UNPUBLISH_REASON
    call.refresh_from_db()
    assert call.status == CallStatus.SCHEDULED
    assert manager.post(url, {"reason": "Wrong pot chosen"}).status_code == 302
    call.refresh_from_db()
    assert call.status == CallStatus.DRAFT
    assert manager.get(call.get_absolute_url()).status_code == 404
    # An open call offers no way back to draft, and a typed URL is refused with the reason.
    open_call = CallFactory(fund=world.fund, host_network=world.host)
    url = reverse("governance:call_unpublish", args=[open_call.slug])
    assert url not in manager.get(reverse("governance:call_manage", args=[open_call.slug])).content.decode()
    response = manager.post(url, {"reason": "Mistake"})
    assert services.CALL_ALREADY_OPENED in html.unescape(response.content.decode())
    open_call.refresh_from_db()
    assert open_call.status == CallStatus.OPEN


def test_assessment_is_started_and_a_call_closed_out_from_the_call_page(manager, world):
    call = CallFactory(fund=world.fund, host_network=world.host, status=CallStatus.CLOSED)
    url = reverse("governance:call_status", args=[call.slug])
    started = manager.post(url, {"action": "start_assessment"})
    call.refresh_from_db()
    assert call.status == CallStatus.ASSESSMENT
    # Next comes assigning the assessors: the manager lands there, not back on the call page.
    assert started.url == reverse("assessment:call", args=[call.slug]) + "#assign"
    response = manager.post(url, {"action": "close_out"}, follow=True)
    assert services.CALL_NOT_DECIDED in response.content.decode()
    call.refresh_from_db()
    assert call.status == CallStatus.ASSESSMENT


# Audit trail ------------------------------------------------------------------------------


def test_the_audit_trail_filters_by_action_actor_object_and_date(client, world):
    services.fund_update(actor=world.people.manager, fund=world.fund, description="New description")
    services.pot_budget_set(actor=world.people.manager, pot=world.host_pot, financial_year=2026, amount="5")
    services.call_publish(actor=world.people.manager, call=world.call)
    client.force_login(world.people.auditor)
    url = reverse("governance:fund_audit", args=[world.fund.slug])

    def actions(**query):
        response = client.get(url, query)
        assert response.status_code == 200
        return sorted(event.action for event in response.context["page"].object_list)

    assert actions() == ["call.published", "fund.changed", "pot.budget_set"]
    assert actions(action="pot.budget_set") == ["pot.budget_set"]
    assert actions(target_type="governance.call") == ["call.published"]
    assert actions(target="South West pot") == ["pot.budget_set"]
    assert actions(actor="Manager <manager@example.com>") == ["call.published", "fund.changed", "pot.budget_set"]
    today = timezone.localdate()
    assert len(actions(date_from_day=today.day, date_from_month=today.month, date_from_year=today.year)) == 3
    tomorrow = today + dt.timedelta(days=1)
    assert actions(date_from_day=tomorrow.day, date_from_month=tomorrow.month, date_from_year=tomorrow.year) == []


def test_an_audit_date_range_the_wrong_way_round_is_shown_next_to_the_field(client, world):
    client.force_login(world.people.auditor)
    response = client.get(reverse("governance:fund_audit", args=[world.fund.slug]), {
        "date_from_day": "10", "date_from_month": "5", "date_from_year": "2026",
        "date_to_day": "1", "date_to_month": "5", "date_to_year": "2026",
    })
    assert field_error(response, "date_to")
