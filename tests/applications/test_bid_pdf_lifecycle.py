"""Every (state, action, role) of a bid PDF's lifecycle table: the worker (the portal itself)
makes it; anyone who may read the bid may ask again for a failed copy; nobody else changes it."""

from __future__ import annotations

import pytest

from applications.lifecycle import BID_PDF_LIFECYCLE
from applications.models import BidPdf, PdfStatus
from governance.lifecycle import Transition
from tests.factories.applications import BidFactory
from tests.factories.governance import FundManagerFactory, MembershipFactory, UserFactory
from tests.lifecycle_walk import check_step, walk_cases

pytestmark = pytest.mark.django_db

ROLES = {
    "fund_manager": lambda pdf: FundManagerFactory(organisation=pdf.bid.call.fund.host_network).user,
    "applicant": lambda pdf: MembershipFactory(organisation=pdf.bid.lead_organisation).user,
    "public": lambda pdf: UserFactory(),
    "portal": lambda pdf: None,
}
READERS = {"fund_manager", "applicant"}


def may(row: Transition, role: str) -> bool:
    return bool(row.permission) and role in READERS


def make_pdf(status: str) -> BidPdf:
    bid = BidFactory()
    return BidPdf.objects.create(bid=bid, content_version="v1", status=status, requested_by=UserFactory())


@pytest.mark.parametrize(("state", "action", "role"), walk_cases(BID_PDF_LIFECYCLE, ROLES))
def test_every_bid_pdf_transition_for_every_role(state, action, role):
    check_step(BID_PDF_LIFECYCLE, state=state, action=action, role=role, roles=ROLES, make=make_pdf, may=may)


def test_a_ready_copy_is_never_marked_failed_by_a_late_run():
    assert not BID_PDF_LIFECYCLE.allows(PdfStatus.READY, "fail")
