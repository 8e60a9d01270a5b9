"""The partners section: adding, changing and removing partner organisations, and naming
the commissioning organisation that will endorse the bid."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError

from governance.audit import snapshot
from governance.models import COMMISSIONING_KINDS, Organisation, PartnerKind, User

from .. import checks
from ..messages import (
    AUDITOR_IN_ORGANISATION,
    PARTNER_ALREADY_ADDED,
    PARTNER_CONTRIBUTION_NEEDED,
    PARTNER_IS_LEAD,
    PARTNER_NOT_ON_BID,
    PARTNER_ROLE_NEEDED,
)
from ..models import Bid, BidPartner, BidSection, EndorsementStatus
from ..selectors import fund_auditor_among_members
from ._shared import _clean_text, _editing

NOT_A_COMMISSIONING_ORG = checks.COMMISSIONER_NOT_COMMISSIONING


# Sections: partners and the commissioner -------------------------------------------------------


def _clean_partner(
    locked: Bid,
    organisation: Organisation,
    role: str,
    contribution: str,
    partner: BidPartner | None = None,
) -> None:
    errors = {}
    if organisation.pk == locked.lead_organisation_id:
        errors["organisation"] = PARTNER_IS_LEAD
    elif (
        locked.partners.filter(organisation=organisation)
        .exclude(pk=partner.pk if partner else None)  # type: ignore[misc]  # Django takes None; the stubs do not
        .exists()
    ):
        errors["organisation"] = PARTNER_ALREADY_ADDED.format(organisation=organisation.name)
    elif partner is None and fund_auditor_among_members(locked.call.fund_id, organisation.pk):
        errors["organisation"] = AUDITOR_IN_ORGANISATION.format(organisation=organisation.name)
    if role not in PartnerKind.values:
        errors["role"] = PARTNER_ROLE_NEEDED
    if not _clean_text(contribution):
        errors["contribution"] = PARTNER_CONTRIBUTION_NEEDED
    if errors:
        raise ValidationError(errors)


def bid_partner_add(
    *,
    actor: User,
    bid: Bid,
    organisation: Organisation,
    role: str,
    contribution: str,
    now: dt.datetime | None = None,
) -> BidPartner:
    with _editing(
        actor=actor,
        bid=bid,
        now=now,
        section=BidSection.PARTNERS,
        version=None,
        message=f"Partner added: {organisation.name}",
    ) as (locked, record):
        _clean_partner(locked, organisation, role, contribution)
        partner = BidPartner(
            bid=locked, organisation=organisation, role=role, contribution=_clean_text(contribution)
        )
        partner.full_clean()
        partner.save()
        record.update(
            action="bid.partner_added", after={"organisation": organisation.pk, "role": role}
        )
    return partner


def bid_partner_change(
    *,
    actor: User,
    bid: Bid,
    version: int,
    partner: BidPartner,
    role: str,
    contribution: str,
    now: dt.datetime | None = None,
) -> BidPartner:
    with _editing(
        actor=actor,
        bid=bid,
        now=now,
        section=BidSection.PARTNERS,
        version=version,
        message=f"Partner changed: {partner.organisation.name}",
    ) as (locked, record):
        current = locked.partners.filter(pk=partner.pk).select_related("organisation").first()
        if current is None:
            raise ValidationError(PARTNER_NOT_ON_BID)
        partner = current
        _clean_partner(locked, partner.organisation, role, contribution, partner=partner)
        before = {"role": partner.role, "contribution": partner.contribution}
        partner.role, partner.contribution = role, _clean_text(contribution)
        partner.full_clean()
        partner.save()
        record.update(
            action="bid.partner_changed",
            before=before,
            after={"role": role, "contribution": partner.contribution},
        )
    return partner


def bid_partner_remove(
    *, actor: User, bid: Bid, partner: BidPartner, now: dt.datetime | None = None
) -> None:
    with _editing(
        actor=actor,
        bid=bid,
        now=now,
        section=BidSection.PARTNERS,
        version=None,
        message=f"Partner removed: {partner.organisation.name}",
    ) as (locked, record):
        found = locked.partners.filter(pk=partner.pk).first()
        if found is None:
            raise ValidationError(PARTNER_NOT_ON_BID)
        record.update(
            action="bid.partner_removed",
            before={"organisation": found.organisation_id, "role": found.role},
        )
        found.delete()


def bid_partners_save(
    *,
    actor: User,
    bid: Bid,
    version: int,
    commissioner: Organisation | None,
    now: dt.datetime | None = None,
) -> Bid:
    """Save the partners section: the commissioning organisation that will endorse the bid.

    Naming a different commissioner withdraws any earlier request or endorsement.
    """
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.PARTNERS, version=version) as (
        locked,
        record,
    ):
        before = snapshot(locked, ("commissioner", "endorsement_status"))
        if commissioner is not None and commissioner.kind not in COMMISSIONING_KINDS:
            raise ValidationError({"commissioner": NOT_A_COMMISSIONING_ORG})
        new_id = commissioner.pk if commissioner else None
        if new_id != locked.commissioner_id:
            locked.commissioner = commissioner
            if locked.call.endorsement_required:
                locked.endorsement_status = EndorsementStatus.NOT_REQUESTED
                locked.endorsement_comment = ""
                locked.endorsed_by = None
                locked.endorsed_at = None
            locked.full_clean()
            locked.save()
        record.update(before=before, after=snapshot(locked, ("commissioner", "endorsement_status")))
    return bid
