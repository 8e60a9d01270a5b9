"""Every fund and call page × every role → the status they get.

A network's fund managers manage only what their network hosts; managers of a network with a
pot in a jointly managed fund read it but change nothing; auditors read everything of the fund
and change nothing; everyone else is refused (403), or sent to sign in when anonymous.
"""

import pytest
from django.urls import reverse

from governance import services
from governance.models import CallQuestion, Fund

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "applicant", "other_applicant", "commissioner", "assessor", "chair", "manager",
         "partner_manager", "other_manager", "auditor", "admin"]

# Who may do what, by permission.
MANAGE = {"manager", "admin"}
VIEW = {"manager", "partner_manager", "auditor", "admin"}
AUDIT = {"manager", "auditor", "admin"}
ANY_MANAGER = {"manager", "partner_manager", "other_manager", "admin"}
SIGNED_IN = set(ROLES) - {"anonymous"}


def _pages(world):
    fund, call, pot, panel = world.fund, world.call, world.host_pot, world.panel
    member = panel.members.first()
    criterion = call.criteria.first()
    question = CallQuestion.objects.create(call=call, asked_by=world.people.applicant, question="May a PCN lead?")
    return [
        ("governance:email_preference", [], SIGNED_IN),
        ("governance:notification_wordings", [fund.slug], MANAGE),
        ("governance:notification_wording_edit", [fund.slug, "bid_submitted"], MANAGE),
        ("governance:call_questions", [call.slug], VIEW),
        ("governance:call_question_answer", [call.slug, question.pk], MANAGE),
        ("governance:funds", [], SIGNED_IN),
        ("governance:fund_create", [], ANY_MANAGER),
        ("governance:fund_detail", [fund.slug], VIEW),
        ("governance:fund_edit", [fund.slug], MANAGE),
        ("governance:fund_audit", [fund.slug], AUDIT),
        ("governance:fund_audit_csv", [fund.slug], AUDIT),
        ("governance:fund_auditors", [fund.slug], AUDIT),
        ("governance:pot_create", [fund.slug], MANAGE),
        ("governance:pot_budget", [fund.slug, pot.pk], VIEW),
        ("governance:pot_edit", [fund.slug, pot.pk], MANAGE),
        ("governance:panel_create", [fund.slug], MANAGE),
        ("governance:panel_detail", [fund.slug, panel.pk], VIEW),
        ("governance:panel_edit", [fund.slug, panel.pk], MANAGE),
        ("governance:panel_member", [fund.slug, panel.pk, member.pk], VIEW),
        ("governance:call_create", [fund.slug], MANAGE),
        ("governance:call_manage", [call.slug], VIEW),
        ("governance:call_edit", [call.slug], MANAGE),
        ("governance:call_copy", [call.slug], MANAGE),
        ("governance:call_publish", [call.slug], MANAGE),
        ("governance:call_close", [call.slug], MANAGE),
        ("governance:call_extend", [call.slug], MANAGE),
        ("governance:call_unpublish", [call.slug], MANAGE),
        ("governance:call_criterion_add", [call.slug], MANAGE),
        ("governance:call_criteria_weights", [call.slug], MANAGE),
        ("governance:call_criterion_edit", [call.slug, criterion.pk], MANAGE),
        ("governance:call_criterion_remove", [call.slug, criterion.pk], MANAGE),
    ]


def _client_as(client, world, role):
    if role != "anonymous":
        client.force_login(getattr(world.people, role))
    return client


@pytest.mark.parametrize("role", ROLES)
def test_every_fund_and_call_page_answers_each_role_as_expected(client, world, role):
    _client_as(client, world, role)
    results = {}
    for name, args, allowed in _pages(world):
        response = client.get(reverse(name, args=args))
        expected = 302 if role == "anonymous" else 200 if role in allowed else 403
        results[name] = (response.status_code, expected)
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")
    wrong = {name: got for name, got in results.items() if got[0] != got[1]}
    assert not wrong, f"{role}: (got, expected) {wrong}"


@pytest.mark.parametrize("role", ROLES)
def test_the_public_call_pages_answer_everyone_and_drafts_no_one(client, world, role):
    _client_as(client, world, role)
    assert client.get(reverse("governance:calls")).status_code == 200
    assert client.get(reverse("governance:call_public", args=[world.call.slug])).status_code == 404
    services.call_publish(actor=world.people.manager, call=world.call)
    assert client.get(reverse("governance:call_public", args=[world.call.slug])).status_code == 200


@pytest.mark.parametrize("role", ["other_manager", "partner_manager", "auditor", "applicant"])
def test_a_manager_of_another_network_cannot_change_a_fund(client, world, role):
    _client_as(client, world, role)
    response = client.post(reverse("governance:fund_edit", args=[world.fund.slug]), {
        "name": "Taken over", "host_network": world.other.pk, "description": "x", "allocation_model": "national",
        "first_year": "2026/27", "last_year": "2028/29",
    })
    assert response.status_code == 403
    assert Fund.objects.get(pk=world.fund.pk).name == "Spread Fund"


@pytest.mark.parametrize("role", ["other_manager", "partner_manager", "auditor"])
def test_readers_cannot_change_budgets_panels_or_calls(client, world, role):
    _client_as(client, world, role)
    fund, call = world.fund, world.call
    posts = [
        (reverse("governance:pot_budget", args=[fund.slug, world.host_pot.pk]), {"financial_year": "2026/27", "amount": "1"}),
        (reverse("governance:panel_detail", args=[fund.slug, world.panel.pk]), {"email": "x@example.com", "role": "chair"}),
        (reverse("governance:fund_auditors", args=[fund.slug]), {"action": "add", "email": world.people.applicant.email}),
        (reverse("governance:fund_auditors", args=[fund.slug]),
         {"action": "remove", "auditor": fund.roles.get(user=world.people.auditor).pk}),
        (reverse("governance:call_publish", args=[call.slug]), {}),
        (reverse("governance:call_extend", args=[call.slug]), {"reason": "Taken over"}),
        (reverse("governance:call_unpublish", args=[call.slug]), {"reason": "Taken over"}),
        (reverse("governance:call_status", args=[call.slug]), {"action": "start_assessment"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    call.refresh_from_db()
    assert call.status == "draft"
    assert list(fund.roles.values_list("user__email", flat=True)) == [world.people.auditor.email]
    assert world.host_pot.budgets.get(financial_year=2026).amount == 1000000


def test_a_partner_network_manages_the_call_it_hosts_but_not_the_fund(client, world):
    call = services.call_create(actor=world.people.manager, fund=world.fund, host_network=world.partner, pots=[world.partner_pot],
                                title="London call", summary="s", purpose="adoption", opens_at=world.call.opens_at,
                                closes_at=world.call.closes_at, max_amount=1000, max_duration_years=1,
                                innovation_types=["digital"], eligible_org_kinds=["nhs_trust"])
    client.force_login(world.people.partner_manager)
    assert client.get(reverse("governance:call_edit", args=[call.slug])).status_code == 200
    assert client.get(reverse("governance:call_edit", args=[world.call.slug])).status_code == 403
    assert client.get(reverse("governance:fund_edit", args=[world.fund.slug])).status_code == 403


def test_the_site_admin_reads_funds_and_calls_in_the_django_admin_but_changes_them_only_through_the_portal(
        client, world):
    """The portal's pages change these through services that check the rules and write the
    audit trail; the Django admin must not be a way round them."""
    client.force_login(world.people.admin)
    call_url = reverse("admin:governance_call_change", args=[world.call.pk])
    assert client.get(call_url).status_code == 200
    assert client.post(call_url, {"status": "open"}).status_code == 403
    pot_url = reverse("admin:governance_pot_change", args=[world.host_pot.pk])
    assert client.post(pot_url, {"name": "Renamed"}).status_code == 403
    assert client.get(reverse("admin:governance_fund_add")).status_code == 403
    world.call.refresh_from_db()
    assert world.call.status == "draft"
    # Accounts and fund roles are still set up in the admin.
    assert client.get(reverse("admin:governance_user_add")).status_code == 200
    assert client.get(reverse("admin:governance_fundrole_add")).status_code == 200
