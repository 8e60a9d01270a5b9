"""The lifecycle of a request to add an organisation: waiting for a fund manager → approved (the
organisation is created) or rejected (with a note to the person who asked). The services in
``governance/organisation_requests.py`` check the rest (duplicates, the note) and decide
through this table."""

from __future__ import annotations

from governance.lifecycle import Lifecycle, Transition

from .models import OrganisationRequest, OrganisationRequestStatus

ALREADY_DECIDED = "This request has already been %(status)s"
DECIDE = "governance.decide_organisation_request"

ORGANISATION_REQUEST_LIFECYCLE: Lifecycle[OrganisationRequest] = Lifecycle(
    name="organisation_request",
    model=OrganisationRequest,
    states=OrganisationRequestStatus,
    transitions=[
        Transition("approve", [OrganisationRequestStatus.PENDING], OrganisationRequestStatus.APPROVED,
                   permission=DECIDE, audit="organisation_request.approved", verb="approved"),
        Transition("reject", [OrganisationRequestStatus.PENDING], OrganisationRequestStatus.REJECTED,
                   permission=DECIDE, audit="organisation_request.rejected", verb="rejected"),
    ],
    thing="request to add an organisation",
    refusal=ALREADY_DECIDED,
    refusal_code="decided",
)
