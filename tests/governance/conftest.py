"""A small world for the fund and call tests: one jointly managed, ring-fenced fund and a person
in each role that matters to it."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from governance.models import AllocationModel, MembershipRole, PanelRole
from tests.factories.governance import (
    DraftCallFactory,
    FundFactory,
    FundRoleFactory,
    ICBFactory,
    MembershipFactory,
    NetworkFactory,
    OrganisationFactory,
    PanelFactory,
    PanelMemberFactory,
    PotBudgetFactory,
    PotFactory,
    UserFactory,
)


@pytest.fixture
def world(db):
    host = NetworkFactory(name="Health Innovation South West", short_name="HISW")
    partner = NetworkFactory(name="UCLPartners", short_name="UCLP")
    other = NetworkFactory(name="Health Innovation North East", short_name="HINE")
    fund = FundFactory(
        name="Spread Fund", slug="spread-fund", host_network=host, allocation_model=AllocationModel.RING_FENCED,
        first_year=2026, last_year=2028,
    )
    host_pot = PotFactory(fund=fund, name="South West pot", network=host)
    partner_pot = PotFactory(fund=fund, name="London pot", network=partner)
    for pot in (host_pot, partner_pot):
        for year in (2026, 2027, 2028):
            PotBudgetFactory(pot=pot, financial_year=year, amount=Decimal("1000000.00"))
    panel = PanelFactory(fund=fund, name="Spread Fund panel")
    call = DraftCallFactory(fund=fund, host_network=host, slug="draft-call", title="Draft call", panel=panel,
                            pots=[host_pot])

    def person(email, **kwargs):
        return UserFactory(email=email, full_name=email.split("@")[0].replace(".", " ").title(), **kwargs)

    trust = OrganisationFactory(name="Devon Trust", network=host)
    other_trust = OrganisationFactory(name="Tyne Trust", network=other)
    icb = ICBFactory(name="Devon ICB", network=host)
    people = SimpleNamespace(
        manager=person("manager@example.com"),
        partner_manager=person("partner.manager@example.com"),
        other_manager=person("other.manager@example.com"),
        auditor=person("auditor@example.com"),
        applicant=person("applicant@example.com"),
        other_applicant=person("other.applicant@example.com"),
        commissioner=person("commissioner@example.com"),
        assessor=person("assessor@example.com"),
        chair=person("chair@example.com"),
        admin=person("admin@example.com", is_superuser=True, is_staff=True),
    )
    MembershipFactory(user=people.manager, organisation=host, role=MembershipRole.FUND_MANAGER)
    MembershipFactory(user=people.partner_manager, organisation=partner, role=MembershipRole.FUND_MANAGER)
    MembershipFactory(user=people.other_manager, organisation=other, role=MembershipRole.FUND_MANAGER)
    MembershipFactory(user=people.applicant, organisation=trust)
    MembershipFactory(user=people.other_applicant, organisation=other_trust)
    MembershipFactory(user=people.commissioner, organisation=icb)
    FundRoleFactory(user=people.auditor, fund=fund)
    PanelMemberFactory(panel=panel, user=people.assessor, role=PanelRole.ASSESSOR)
    PanelMemberFactory(panel=panel, user=people.chair, role=PanelRole.CHAIR)
    return SimpleNamespace(
        host=host, partner=partner, other=other, fund=fund, host_pot=host_pot, partner_pot=partner_pot,
        panel=panel, call=call, trust=trust, icb=icb, people=people,
    )
