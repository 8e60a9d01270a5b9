"""Every (state, action, role) of the organisation request's lifecycle table: only the fund
managers of the network asked decide, once; nobody else changes anything."""

from __future__ import annotations

import pytest

from governance.lifecycle import Transition
from governance.models import OrganisationKind, OrganisationRequest, OrganisationRequestStatus
from governance.organisation_request_lifecycle import ORGANISATION_REQUEST_LIFECYCLE
from tests.factories.governance import FundManagerFactory, NetworkFactory, UserFactory
from tests.lifecycle_walk import check_step, walk_cases

pytestmark = pytest.mark.django_db

ROLES = {
    "network_fund_manager": lambda request: FundManagerFactory(organisation=request.network).user,
    "other_fund_manager": lambda request: FundManagerFactory(organisation=NetworkFactory()).user,
    "requester": lambda request: request.requested_by,
    "public": lambda request: UserFactory(),
    "portal": lambda request: None,
}


def may(row: Transition, role: str) -> bool:
    return role == "network_fund_manager"


def make_request(status: str) -> OrganisationRequest:
    return OrganisationRequest.objects.create(
        requested_by=UserFactory(), network=NetworkFactory(), name="Devon Carers Trust",
        kind=OrganisationKind.CHARITY, charity_number="1123456", status=status)


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(ORGANISATION_REQUEST_LIFECYCLE, ROLES))
def test_every_organisation_request_transition_for_every_role(state, action, role):
    check_step(ORGANISATION_REQUEST_LIFECYCLE, state=state, action=action, role=role, roles=ROLES,
               make=make_request, may=may)


def test_a_decided_request_says_how_it_was_decided():
    request = make_request(OrganisationRequestStatus.REJECTED)
    error = ORGANISATION_REQUEST_LIFECYCLE.refuse(request, ORGANISATION_REQUEST_LIFECYCLE.transition("approve"))
    assert error.code == "decided"
    assert error.messages == ["This request has already been rejected"]
