"""Starting a bid: its reference (``HISW-2627-0001``), the pot it competes for, the checks on
the lead organisation, and the answers an invited expression of interest carries forward."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import fy
from governance.audit import audit_record, snapshot
from governance.models import AllocationModel, Call, Membership, Organisation, Pot, User

from .. import checks
from ..checks import uk_datetime
from ..messages import (
    AUDITOR_IN_ORGANISATION,
    CALL_CLOSED,
    CALL_NOT_OPEN,
    NO_ORGANISATION,
    NO_POT_FOR_NETWORK,
    NOT_INVITED_TO_BID,
    NOT_YOUR_ORGANISATION,
    TITLE_NEEDED,
)
from ..models import (
    Bid,
    BidReferenceSequence,
    BidSection,
    BidSectionState,
    BidStatus,
    EndorsementStatus,
    EoiStatus,
    ExpressionOfInterest,
    SectionStatus,
)
from ..selectors import fund_auditor_among_members
from ._shared import _clean_text, _is_member

# References ------------------------------------------------------------------------------------


def reference_prefix(call: Call) -> str:
    """``HISW-2627``: the host network's short name and the financial year the call opened in."""
    year = fy.FinancialYear.of(timezone.localtime(call.opens_at).date()).start_year
    return f"{call.host_network.short_name}-{year % 100:02d}{(year + 1) % 100:02d}"


def _highest_reference_number(prefix: str) -> int:
    highest = 0
    for reference in Bid.objects.filter(reference__startswith=f"{prefix}-").values_list(
        "reference", flat=True
    ):
        tail = reference[len(prefix) + 1 :]
        if tail.isdigit():
            highest = max(highest, int(tail))
    return highest


def next_reference(call: Call) -> str:
    """The next reference for the call's prefix, taken under a row lock (call inside a transaction)."""
    prefix = reference_prefix(call)
    sequence = BidReferenceSequence.objects.select_for_update().filter(prefix=prefix).first()
    if sequence is None:
        try:
            with transaction.atomic():
                sequence = BidReferenceSequence.objects.create(prefix=prefix, last_number=0)
        except IntegrityError:  # someone else created it a moment ago
            pass
        sequence = BidReferenceSequence.objects.select_for_update().get(prefix=prefix)
    # References made elsewhere (the demo data, an import) are never handed out twice.
    sequence.last_number = max(sequence.last_number, _highest_reference_number(prefix)) + 1
    sequence.save(update_fields=["last_number"])
    return f"{prefix}-{sequence.last_number:04d}"


# Starting a bid --------------------------------------------------------------------------------


def pot_for(call: Call, organisation: Organisation) -> Pot | None:
    """The pot a bid led by ``organisation`` competes for on ``call``."""
    pots = list(call.pots.all())
    if call.fund.allocation_model == AllocationModel.RING_FENCED:
        network = organisation.home_network
        return next(
            (pot for pot in pots if network is not None and pot.network_id == network.pk), None
        )
    return next((pot for pot in pots if pot.network_id is None), pots[0] if pots else None)


def bid_start(
    *,
    actor: User,
    call: Call,
    organisation: Organisation,
    title: str,
    now: dt.datetime | None = None,
) -> Bid:
    """Start a draft bid on an open call for one of the actor's organisations.

    The lead organisation's eligibility is checked at once, with the reason.
    """
    now = now or timezone.now()
    title = _clean_text(title)
    if not Membership.objects.filter(user=actor).exists():
        raise ValidationError(NO_ORGANISATION, code="no_organisation")
    if not _is_member(actor, organisation.pk):
        raise ValidationError({"organisation": NOT_YOUR_ORGANISATION}, code="not_member")
    if not call.is_accepting_bids(now):
        if call.is_published and now >= call.closes_at:
            raise ValidationError(
                CALL_CLOSED.format(closed=uk_datetime(call.closes_at)), code="closed"
            )
        raise ValidationError(CALL_NOT_OPEN, code="not_open")
    if reason := checks.lead_eligibility_problem(call, organisation):
        raise ValidationError({"organisation": reason}, code="not_eligible")
    pot = pot_for(call, organisation)
    if pot is None:
        network = organisation.home_network
        raise ValidationError(
            {
                "organisation": NO_POT_FOR_NETWORK.format(
                    network=network.name if network else "its region",
                    organisation=organisation.name,
                )
            },
            code="no_pot",
        )
    if not title:
        raise ValidationError({"title": TITLE_NEEDED}, code="required")
    if fund_auditor_among_members(call.fund_id, organisation.pk):
        raise ValidationError(
            {"organisation": AUDITOR_IN_ORGANISATION.format(organisation=organisation.name)},
            code="auditor_member",
        )
    eoi = None
    if call.eoi_stage:
        eoi = ExpressionOfInterest.objects.filter(
            call=call, lead_organisation=organisation, status=EoiStatus.INVITED, bid__isnull=True
        ).first()
        if eoi is None:
            raise ValidationError({"organisation": NOT_INVITED_TO_BID}, code="not_invited")
    with transaction.atomic():
        if eoi is not None:  # one full bid per invitation, even when two colleagues start at once
            eoi = ExpressionOfInterest.objects.select_for_update().get(pk=eoi.pk)
            if eoi.bid_id is not None:
                raise ValidationError({"organisation": NOT_INVITED_TO_BID}, code="not_invited")
        bid = Bid(
            call=call,
            lead_organisation=organisation,
            pot=pot,
            title=title,
            status=BidStatus.DRAFT,
            reference="pending",
            created_by=actor,
            created_at=now,
            endorsement_status=(
                EndorsementStatus.NOT_REQUESTED
                if call.endorsement_required
                else EndorsementStatus.NOT_REQUIRED
            ),
        )
        bid.full_clean(exclude=["reference"])
        bid.reference = next_reference(call)
        bid.save()
        BidSectionState.objects.bulk_create(
            BidSectionState(bid=bid, section=section) for section in BidSection.values
        )
        audit_record(
            actor=actor,
            action="bid.created",
            target=bid,
            message=f"Bid started for {organisation.name}",
            after=snapshot(
                bid, ("reference", "title", "lead_organisation", "call", "pot", "status")
            ),
        )
        if eoi is not None:
            _carry_forward(actor, eoi, bid, now)
    return bid


def _carry_forward(actor: User, eoi: ExpressionOfInterest, bid: Bid, now: dt.datetime) -> None:
    """The invited expression of interest's answers start the bid's summary; the bid keeps a
    link to it, so its estimated cost and partners stay in sight while the bid is written."""
    bid.summary, bid.problem = eoi.summary, eoi.problem
    bid.save(update_fields=["summary", "problem", "updated_at"])
    BidSectionState.objects.filter(bid=bid, section=BidSection.SUMMARY).update(
        status=SectionStatus.IN_PROGRESS, version=1, updated_by=actor, updated_at=now
    )
    eoi.bid = bid
    eoi.save(update_fields=["bid"])
    audit_record(
        actor=actor,
        action="eoi.carried_forward",
        target=eoi,
        message=f"Expression of interest carried forward into bid {bid.reference}",
        after={"bid": bid.reference},
    )
