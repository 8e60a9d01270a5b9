"""Every (state, action, role) of the call's lifecycle table: only the call's fund managers move
a call on (and the portal itself opens and closes it on time); nobody else, and nothing from a
state the table does not start the action from."""

from __future__ import annotations

import pytest

from governance.call_lifecycle import CALL_LIFECYCLE
from governance.lifecycle import Transition
from governance.models import Call
from tests.factories.applications import BidFactory
from tests.factories.governance import (
    CallFactory,
    FundFactory,
    FundManagerFactory,
    MembershipFactory,
    PanelMemberFactory,
    UserFactory,
)
from tests.lifecycle_walk import check_step, walk_cases

pytestmark = pytest.mark.django_db

ROLES = {
    "fund_manager": lambda call: FundManagerFactory(organisation=call.fund.host_network).user,
    "other_fund_manager": lambda call: FundManagerFactory(organisation=FundFactory().host_network).user,
    "applicant": lambda call: _applicant(call),
    "assessor": lambda call: PanelMemberFactory(panel=call.panel).user,
    "public": lambda call: UserFactory(),
    "portal": lambda call: None,
}


def _applicant(call: Call):
    """A member of the organisation leading a bid on the call."""
    bid = BidFactory(call=call)
    return MembershipFactory(organisation=bid.lead_organisation).user


def may(row: Transition, role: str) -> bool:
    assert row.permission == "governance.manage_call"
    return role == "fund_manager"


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(CALL_LIFECYCLE, ROLES))
def test_every_call_transition_for_every_role(state, action, role):
    check_step(CALL_LIFECYCLE, state=state, action=action, role=role, roles=ROLES,
               make=lambda status: CallFactory(status=status), may=may)


def test_the_portal_only_opens_and_closes_calls():
    assert {row.action for row in CALL_LIFECYCLE.transitions if row.system} == {"open", "close"}
