"""Funds, pots, budgets and panels: every rule, allowed and refused, and the audit trail."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from governance import extensions, services
from governance.models import AllocationModel, AuditEvent, Fund, PanelRole, Pot, PotBudget
from governance.money import NEGATIVE, NOT_MONEY, TOO_MANY_DECIMALS
from tests.factories.governance import FundFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _fund_fields(world, **overrides):
    fields = {
        "host_network": world.host, "name": "Frailty Fund", "description": "Money for frailty care.",
        "allocation_model": AllocationModel.NATIONAL, "first_year": 2026, "last_year": 2028,
    }
    return {**fields, **overrides}


# Funds -------------------------------------------------------------------------------------


def test_a_fund_is_created_with_a_slug_from_its_name_and_audited(world):
    fund = services.fund_create(actor=world.people.manager, **_fund_fields(world))
    assert fund.slug == "frailty-fund"
    assert fund.years == [2026, 2027, 2028]
    event = AuditEvent.objects.get(action="fund.created", target_id=str(fund.pk))
    assert event.fund == fund
    assert event.actor == world.people.manager
    assert event.after["name"] == "Frailty Fund"


def test_a_duplicate_fund_slug_is_refused_on_the_slug(world):
    with pytest.raises(ValidationError) as caught:
        services.fund_create(actor=world.people.manager, **_fund_fields(world, slug="spread-fund"))
    assert caught.value.message_dict["slug"] == [services.FUND_SLUG_TAKEN]
    assert Fund.objects.filter(slug="spread-fund").count() == 1


def test_a_fund_slug_that_would_hide_a_page_is_refused(world):
    with pytest.raises(ValidationError) as caught:
        services.fund_create(actor=world.people.manager, **_fund_fields(world, slug="new"))
    assert caught.value.message_dict["slug"] == [services.FUND_SLUG_RESERVED]


def test_a_fund_whose_last_year_is_before_its_first_is_refused(world):
    with pytest.raises(ValidationError) as caught:
        services.fund_create(actor=world.people.manager, **_fund_fields(world, first_year=2028, last_year=2026))
    assert caught.value.message_dict["last_year"] == [services.FUND_YEARS_OUT_OF_ORDER]
    assert not Fund.objects.filter(name="Frailty Fund").exists()


def test_a_fund_must_be_hosted_by_a_network(world):
    with pytest.raises(ValidationError) as caught:
        services.fund_create(actor=world.people.admin, **_fund_fields(world, host_network=world.trust))
    assert caught.value.message_dict["host_network"] == [services.NOT_A_NETWORK]


def test_a_fund_update_is_audited_with_before_and_after(world):
    services.fund_update(actor=world.people.manager, fund=world.fund, name="Spread Fund 2026")
    event = AuditEvent.objects.get(action="fund.changed")
    assert event.before == {"name": "Spread Fund"}
    assert event.after == {"name": "Spread Fund 2026"}


def test_an_unchanged_fund_update_writes_no_event(world):
    services.fund_update(actor=world.people.manager, fund=world.fund, name="Spread Fund")
    assert not AuditEvent.objects.filter(action="fund.changed").exists()


def test_a_fund_cannot_shrink_its_years_past_its_budgets(world):
    with pytest.raises(ValidationError) as caught:
        services.fund_update(actor=world.people.manager, fund=world.fund, last_year=2027)
    assert services.FUND_YEARS_EXCLUDE_BUDGETS in caught.value.message_dict["last_year"][0]
    world.fund.refresh_from_db()
    assert world.fund.last_year == 2028


def test_a_fund_with_several_pots_cannot_become_national(world):
    with pytest.raises(ValidationError) as caught:
        services.fund_update(actor=world.people.manager, fund=world.fund, allocation_model=AllocationModel.NATIONAL)
    assert caught.value.message_dict["allocation_model"] == [services.FUND_NATIONAL_HAS_POTS]


def test_a_fund_with_calls_keeps_its_hosting_network(world):
    with pytest.raises(ValidationError) as caught:
        services.fund_update(actor=world.people.admin, fund=world.fund, host_network=world.other)
    assert caught.value.message_dict["host_network"] == [services.FUND_HOST_HAS_CALLS]


# Pots -------------------------------------------------------------------------------------


def test_a_ring_fenced_fund_has_one_pot_per_network(world):
    with pytest.raises(ValidationError) as caught:
        services.pot_create(actor=world.people.manager, fund=world.fund, name="Another South West pot", network=world.host)
    assert caught.value.message_dict["network"] == [services.POT_NETWORK_TAKEN]
    pot = services.pot_create(actor=world.people.manager, fund=world.fund, name="North East pot", network=world.other)
    assert pot.network == world.other
    assert AuditEvent.objects.filter(action="pot.created", target_id=str(pot.pk), fund=world.fund).exists()


def test_a_ring_fenced_pot_needs_a_network(world):
    with pytest.raises(ValidationError) as caught:
        services.pot_create(actor=world.people.manager, fund=world.fund, name="Loose pot")
    assert caught.value.message_dict["network"] == [services.POT_NETWORK_REQUIRED]


def test_a_national_fund_has_exactly_one_pot_with_no_network(world):
    fund = FundFactory(host_network=world.host, allocation_model=AllocationModel.NATIONAL)
    with pytest.raises(ValidationError) as caught:
        services.pot_create(actor=world.people.manager, fund=fund, name="National pot", network=world.host)
    assert caught.value.message_dict["network"] == [services.POT_NATIONAL_NO_NETWORK]
    services.pot_create(actor=world.people.manager, fund=fund, name="National pot")
    with pytest.raises(ValidationError) as caught:
        services.pot_create(actor=world.people.manager, fund=fund, name="Second pot")
    assert caught.value.message_dict["name"] == [services.POT_NATIONAL_ONLY_ONE]
    assert Pot.objects.filter(fund=fund).count() == 1


def test_pot_names_are_unique_within_a_fund(world):
    with pytest.raises(ValidationError) as caught:
        services.pot_create(actor=world.people.manager, fund=world.fund, name="london POT", network=world.other)
    assert caught.value.message_dict["name"] == [services.POT_NAME_TAKEN]


def test_a_pot_used_by_a_published_call_keeps_its_network(world):
    services.call_publish(actor=world.people.manager, call=world.call)
    with pytest.raises(ValidationError) as caught:
        services.pot_update(actor=world.people.manager, pot=world.host_pot, name=world.host_pot.name, network=world.other)
    assert caught.value.message_dict["network"] == [services.POT_NETWORK_IN_USE]


# Budgets ----------------------------------------------------------------------------------


def test_a_budget_is_set_for_a_year_and_audited_with_before_and_after(world):
    budget = services.pot_budget_set(actor=world.people.manager, pot=world.host_pot, financial_year=2027,
                                     amount="£1,250,000.50")
    assert budget.amount == Decimal("1250000.50")
    event = AuditEvent.objects.get(action="pot.budget_set")
    assert event.before == {"financial_year": 2027, "amount": "1000000.00"}
    assert event.after == {"financial_year": 2027, "amount": "1250000.50"}
    assert event.fund == world.fund


def test_setting_the_same_budget_again_writes_nothing(world):
    services.pot_budget_set(actor=world.people.manager, pot=world.host_pot, financial_year=2027, amount=Decimal("1000000"))
    assert not AuditEvent.objects.filter(action="pot.budget_set").exists()


@pytest.mark.parametrize(
    ("amount", "message"),
    [("-5", NEGATIVE), ("lots", NOT_MONEY), ("100.125", TOO_MANY_DECIMALS), ("", NOT_MONEY)],
)
def test_a_bad_budget_amount_is_refused_on_the_amount(world, amount, message):
    with pytest.raises(ValidationError) as caught:
        services.pot_budget_set(actor=world.people.manager, pot=world.host_pot, financial_year=2026, amount=amount)
    assert caught.value.message_dict["amount"] == [message]
    assert PotBudget.objects.get(pot=world.host_pot, financial_year=2026).amount == Decimal("1000000.00")


@pytest.mark.parametrize("year", [2025, 2029])
def test_a_budget_for_a_year_outside_the_fund_is_refused(world, year):
    with pytest.raises(ValidationError) as caught:
        services.pot_budget_set(actor=world.people.manager, pot=world.host_pot, financial_year=year, amount="100")
    assert caught.value.message_dict["financial_year"][0].startswith(services.YEAR_OUTSIDE_FUND)
    assert "2026/27 to 2028/29" in caught.value.message_dict["financial_year"][0]
    assert not PotBudget.objects.filter(financial_year=year).exists()


def test_a_budget_cannot_fall_below_what_awards_have_committed(world):
    def source(pot_ids):
        return {(world.host_pot.pk, 2026): Decimal("400000.00")}

    extensions.register_commitment_source(source)
    try:
        with pytest.raises(ValidationError) as caught:
            services.pot_budget_set(actor=world.people.manager, pot=world.host_pot, financial_year=2026, amount="399999.99")
        assert caught.value.message_dict["amount"][0].startswith(services.BUDGET_BELOW_COMMITTED)
        services.pot_budget_set(actor=world.people.manager, pot=world.host_pot, financial_year=2026, amount="400000")
    finally:
        extensions.commitment_sources.remove(source)
    assert PotBudget.objects.get(pot=world.host_pot, financial_year=2026).amount == Decimal("400000.00")


# Panels -----------------------------------------------------------------------------------


def test_a_panel_is_created_and_its_name_is_unique_in_the_fund(world):
    panel = services.panel_create(actor=world.people.manager, fund=world.fund, name="Second panel")
    assert AuditEvent.objects.filter(action="panel.created", target_id=str(panel.pk), fund=world.fund).exists()
    with pytest.raises(ValidationError) as caught:
        services.panel_create(actor=world.people.manager, fund=world.fund, name="second PANEL")
    assert caught.value.message_dict["name"] == [services.PANEL_NAME_TAKEN]


def test_panel_members_have_a_role_and_declared_affiliations(world):
    person = UserFactory()
    member = services.panel_member_add(actor=world.people.manager, panel=world.panel, user=person,
                                       role=PanelRole.LAY_MEMBER)
    assert services.panel_member_affiliation_add(actor=world.people.manager, member=member, organisation=world.trust)
    assert not services.panel_member_affiliation_add(actor=world.people.manager, member=member, organisation=world.trust)
    assert list(member.affiliations.all()) == [world.trust]
    services.panel_member_update(actor=world.people.manager, member=member, role=PanelRole.ASSESSOR)
    assert services.panel_member_affiliation_remove(actor=world.people.manager, member=member, organisation=world.trust)
    actions = list(AuditEvent.objects.filter(target_type="governance.panelmember").values_list("action", flat=True))
    assert sorted(actions) == sorted(["panel.member_added", "panel.affiliation_added", "panel.member_changed",
                                      "panel.affiliation_removed"])
    assert AuditEvent.objects.filter(target_type="governance.panelmember", fund=world.fund).count() == 4


def test_a_person_is_on_a_panel_once(world):
    with pytest.raises(ValidationError) as caught:
        services.panel_member_add(actor=world.people.manager, panel=world.panel, user=world.people.assessor, role=PanelRole.CHAIR)
    assert caught.value.message_dict["email"] == [services.PANEL_MEMBER_TAKEN]


def test_removing_a_member_is_audited(world):
    member = world.panel.members.get(user=world.people.assessor)
    services.panel_member_remove(actor=world.people.manager, member=member)
    assert not world.panel.members.filter(user=world.people.assessor).exists()
    assert AuditEvent.objects.get(action="panel.member_removed").before["user"] == "assessor@example.com"


def test_an_affiliation_can_be_any_organisation(world):
    member = world.panel.members.get(user=world.people.chair)
    university = OrganisationFactory(name="University of Exeter", network=world.host)
    services.panel_member_affiliation_add(actor=world.people.manager, member=member, organisation=university)
    assert university in member.affiliations.all()


# Auditors -------------------------------------------------------------------------------------


def test_an_auditor_is_added_once_audited_and_removed(world):
    person = UserFactory(email="audit@example.com")
    role = services.fund_auditor_add(actor=world.people.manager, fund=world.fund, user=person)
    assert (role.user, role.role) == (person, "auditor")
    with pytest.raises(ValidationError) as refused:
        services.fund_auditor_add(actor=world.people.manager, fund=world.fund, user=person)
    assert refused.value.message_dict == {"email": [services.FUND_AUDITOR_TAKEN]}
    services.fund_auditor_remove(actor=world.people.manager, role=role)
    assert not world.fund.roles.filter(user=person).exists()
    assert list(AuditEvent.objects.filter(fund=world.fund, action__startswith="fund.auditor_")
                .order_by("pk").values_list("action", flat=True)) == ["fund.auditor_added", "fund.auditor_removed"]


def test_the_funds_own_managers_cannot_audit_it_but_another_networks_can(world):
    with pytest.raises(ValidationError) as refused:
        services.fund_auditor_add(actor=world.people.manager, fund=world.fund, user=world.people.manager)
    assert refused.value.message_dict == {"email": [services.FUND_AUDITOR_IS_MANAGER]}
    services.fund_auditor_add(actor=world.people.manager, fund=world.fund, user=world.people.other_manager)
    assert world.fund.roles.filter(user=world.people.other_manager).exists()


def test_an_auditor_cannot_then_become_a_fund_manager_of_the_network_hosting_the_fund(world):
    from governance.models import MANAGER_AUDITS_FUND, Membership

    auditor = world.people.auditor
    assert world.fund.roles.filter(user=auditor, role="auditor").exists()
    expected = MANAGER_AUDITS_FUND.format(funds=world.fund.name)
    with pytest.raises(ValidationError) as refused:
        services.membership_add(actor=world.people.admin, user=auditor, organisation=world.host, role="fund_manager")
    assert refused.value.message_dict == {"role": [expected]}
    assert not Membership.objects.filter(user=auditor, organisation=world.host).exists()
    # The same rule holds where the site admin edits memberships (the admin runs the model's checks).
    with pytest.raises(ValidationError) as refused:
        Membership(user=auditor, organisation=world.host, role="fund_manager").full_clean()
    assert refused.value.message_dict["role"] == [expected]
    # Another network's manager role, or a plain membership, is fine.
    services.membership_add(actor=world.people.admin, user=auditor, organisation=world.other, role="fund_manager")
    services.membership_add(actor=world.people.admin, user=auditor, organisation=world.host, role="member")
