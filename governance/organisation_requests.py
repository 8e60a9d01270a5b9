"""Requests for a missing organisation: anyone signed in asks, a fund manager of the network they
chose approves (the organisation is created from its register number) or rejects with a reason.
Each step is audited and the requester is told, so nobody waits for a site admin.

Services (writes) and selectors (reads) of the one lifecycle ``pending -> approved | rejected``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from .audit import audit_record, snapshot
from .models import (
    ODS_CODE_EXAMPLES,
    ODS_CODE_PATTERNS,
    ODS_CODE_TAKEN,
    Membership,
    MembershipRole,
    Organisation,
    OrganisationKind,
    OrganisationRequest,
    User,
    normalise_code,
    normalise_postcode,
    register_number_errors,
)
from .organisation_request_lifecycle import (
    ALREADY_DECIDED as ALREADY_DECIDED,  # the message, where it always was
    ORGANISATION_REQUEST_LIFECYCLE,
)
from .services import notify

REQUEST_FIELDS = ("name", "kind", "company_number", "charity_number", "ukprn", "edu_urn", "ods_code", "postcode",
                  "website", "reason", "network", "status", "decision_note", "organisation")

NAME_MISSING = "Enter the organisation's name"
NETWORK_NOT_A_NETWORK = "Choose the Health Innovation Network whose area the organisation is in"
NUMBER_NEEDED: dict[str, tuple[str, str]] = {
    OrganisationKind.CHARITY: ("charity_number", "Enter the charity's number from the Charity Commission register"),
    OrganisationKind.COMPANY: ("company_number", "Enter the company's number from Companies House"),
    OrganisationKind.UNIVERSITY: ("ukprn", "Enter the university's UKPRN (or its schools and colleges URN)"),
}
REQUESTABLE_KINDS = frozenset(OrganisationKind.values) - {OrganisationKind.HEALTH_INNOVATION_NETWORK}
KIND_NOT_REQUESTABLE = "Choose what kind of organisation it is"
ODS_KINDS_HINT = "NHS organisations come from ODS: search for it by name or ODS code, or enter its ODS code"
ALREADY_REGISTERED = "%(name)s is already registered with this number: search for it instead"
REJECTION_NOTE_MISSING = "Tell the person why, so they know what to do next"


def _already_registered(fields: dict) -> Organisation | None:
    checks = Q()
    for name in ("company_number", "charity_number", "ukprn", "edu_urn", "ods_code"):
        if fields.get(name):
            checks |= Q(**{name: fields[name]})
    return Organisation.objects.filter(checks).first() if checks else None


@transaction.atomic
def organisation_request_submit(*, actor: User, network: Organisation, name: str, kind: str, company_number: str = "",
                                charity_number: str = "", ukprn: str = "", edu_urn: str = "", ods_code: str = "",
                                postcode: str = "", website: str = "", reason: str = "") -> OrganisationRequest:
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied
    fields = {
        "company_number": normalise_code(company_number), "charity_number": normalise_code(charity_number),
        "ukprn": normalise_code(ukprn), "edu_urn": normalise_code(edu_urn), "ods_code": normalise_code(ods_code),
    }
    errors: dict[str, str] = register_number_errors(
        company_number=company_number, charity_number=charity_number, ukprn=ukprn, edu_urn=edu_urn, postcode=postcode,
    )
    if not (name or "").strip():
        errors["name"] = NAME_MISSING
    if network is None or network.kind != OrganisationKind.HEALTH_INNOVATION_NETWORK:
        errors["network"] = NETWORK_NOT_A_NETWORK
    needed = NUMBER_NEEDED.get(kind)
    if needed and not fields[needed[0]] and not (kind == OrganisationKind.UNIVERSITY and fields["edu_urn"]):
        errors.setdefault(needed[0], needed[1])
    if kind not in REQUESTABLE_KINDS:
        errors["kind"] = KIND_NOT_REQUESTABLE
    elif kind in ODS_CODE_PATTERNS:
        if not fields["ods_code"]:
            errors.setdefault("ods_code", ODS_KINDS_HINT)
        elif not ODS_CODE_PATTERNS[kind].match(fields["ods_code"]):
            errors.setdefault("ods_code", f"Enter a valid ODS code: {ODS_CODE_EXAMPLES[kind]}")
    if not errors and (existing := _already_registered(fields)) is not None:
        errors["name"] = ALREADY_REGISTERED % {"name": existing.name}
    if errors:
        raise ValidationError(errors)
    request = OrganisationRequest(
        requested_by=actor, network=network, name=name.strip(), kind=kind, postcode=normalise_postcode(postcode),
        website=website.strip(), reason=reason.strip(), **fields,
    )
    request.full_clean()
    request.save()
    audit_record(actor=actor, action="organisation_request.submitted", target=request,
                 after=snapshot(request, REQUEST_FIELDS))
    link = reverse("governance:organisation_request_decide", args=[request.pk])
    for manager in User.objects.filter(memberships__organisation=network, memberships__role=MembershipRole.FUND_MANAGER,
                                       is_active=True).distinct():
        notify(user=manager, subject=f"New organisation to approve: {request.name}",
               body=f"{actor.full_name or actor.email} asks for {request.name} ({request.get_kind_display()}) to be added.",
               link=link)
    return request


def _locked_pending(actor: User, request: OrganisationRequest, action: str) -> OrganisationRequest:
    """Who may and whether it is still waiting, checked on the locked row before anything is made."""
    return ORGANISATION_REQUEST_LIFECYCLE.check(request, action, actor=actor)


@transaction.atomic
def organisation_request_approve(*, actor: User, request: OrganisationRequest, note: str = "") -> Organisation:
    """Create the organisation, in the network's area, and tell the person who asked."""
    request = _locked_pending(actor, request, "approve")
    if request.ods_code and Organisation.objects.filter(ods_code=request.ods_code).exists():
        raise ValidationError({"ods_code": ODS_CODE_TAKEN})
    if (existing := _already_registered({f: getattr(request, f) for f in ("company_number", "charity_number", "ukprn", "edu_urn")})):
        raise ValidationError(ALREADY_REGISTERED, code="registered", params={"name": existing.name})
    organisation = Organisation(
        name=request.name, kind=request.kind, company_number=request.company_number,
        charity_number=request.charity_number, ukprn=request.ukprn, edu_urn=request.edu_urn,
        ods_code=request.ods_code or None, postcode=request.postcode, website=request.website,
        network=request.network, region=request.network.region,
    )
    organisation.full_clean()
    organisation.save()
    audit_record(actor=actor, action="organisation.created", target=organisation,
                 after={"name": organisation.name, "kind": organisation.kind, "from_request": request.pk})
    ORGANISATION_REQUEST_LIFECYCLE.apply(
        request, "approve", actor=actor, locked=request, clean=False, recorded=REQUEST_FIELDS,
        changes={"organisation": organisation, "decided_by": actor, "decided_at": timezone.now(),
                 "decision_note": note.strip()})
    notify(user=request.requested_by, subject=f"{organisation.name} has been added",
           body=f"{organisation.name} is now on the portal: you can choose it as a partner or lead organisation."
           + (f"\n\n{request.decision_note}" if request.decision_note else ""),
           link=reverse("governance:organisation_requests_mine"))
    return organisation


@transaction.atomic
def organisation_request_reject(*, actor: User, request: OrganisationRequest, note: str) -> OrganisationRequest:
    if not (note or "").strip():
        raise ValidationError({"note": REJECTION_NOTE_MISSING})
    request = _locked_pending(actor, request, "reject")
    ORGANISATION_REQUEST_LIFECYCLE.apply(
        request, "reject", actor=actor, locked=request, clean=False, recorded=REQUEST_FIELDS,
        changes={"decided_by": actor, "decided_at": timezone.now(), "decision_note": note.strip()})
    notify(user=request.requested_by, subject=f"Your request to add {request.name} was not approved",
           body=request.decision_note, link=reverse("governance:organisation_requests_mine"))
    return request


# Selectors ----------------------------------------------------------------------------------


def organisation_requests_to_decide(user: User) -> QuerySet[OrganisationRequest]:
    """Requests to the networks the person manages (every request for a site admin)."""
    requests = OrganisationRequest.objects.select_related("requested_by", "network", "organisation")
    if user.is_superuser:
        return requests
    networks = Membership.objects.filter(user=user, role=MembershipRole.FUND_MANAGER).values("organisation_id")
    return requests.filter(network_id__in=networks)


def organisation_requests_of(user: User) -> QuerySet[OrganisationRequest]:
    return OrganisationRequest.objects.filter(requested_by=user).select_related("network", "organisation")
