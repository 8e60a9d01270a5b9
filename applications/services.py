"""Writes for bids: one function per change, each in a transaction with its audit event.

Every write to a bid locks the bid's row first (``SELECT ... FOR UPDATE``), so a section
save, an endorsement and a submission never interleave: once a submission commits, any
save waiting behind it finds a submitted bid and is refused, and a second submission
(double click, two tabs) finds the first one and changes nothing.

Each section carries a version. A save names the version its writer opened; if a
colleague has saved the section since, the save is refused with ``SECTION_CONFLICT`` and
nothing is overwritten.

A bid's and an expression of interest's state changes go through their tables in
``lifecycle.py``, after the service has checked its own rules (the clock, a complete bid).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone

from governance import fy, notifications, uploads
from governance.access import require_actor
from governance.audit import audit_record, snapshot
from governance.models import (
    COMMISSIONING_KINDS,
    AllocationModel,
    Call,
    CallStatus,
    Membership,
    Organisation,
    PartnerKind,
    Pot,
    User,
)
from governance.money import format_money, parse_money
from governance.outbox import outbox_enqueue
from governance.selectors import call_managers
from governance.services import notify
from governance.uploads import ScanStatus

from . import checks
from .checks import uk_datetime
from .lifecycle import BID_LIFECYCLE, BID_PDF_LIFECYCLE, EOI_LIFECYCLE, clean_bid as _clean_bid
from .messages import (  # the messages live beside the services; kept importable from here
    AUDITOR_IN_ORGANISATION as AUDITOR_IN_ORGANISATION,
    BID_ALREADY_SUBMITTED as BID_ALREADY_SUBMITTED,
    BID_LOCKED as BID_LOCKED,
    CALL_CLOSED as CALL_CLOSED,
    CALL_CLOSED_FOR_CHANGES as CALL_CLOSED_FOR_CHANGES,
    CALL_NOT_OPEN as CALL_NOT_OPEN,
    CARE_SETTING_UNKNOWN as CARE_SETTING_UNKNOWN,
    COMMENT_NEEDED as COMMENT_NEEDED,
    DECLARATIONS_NEEDED as DECLARATIONS_NEEDED,
    DECLINE_NEEDS_COMMENT as DECLINE_NEEDS_COMMENT,
    ENDORSEMENT_ALREADY_ASKED as ENDORSEMENT_ALREADY_ASKED,
    ENDORSEMENT_ALREADY_RECORDED as ENDORSEMENT_ALREADY_RECORDED,
    ENDORSEMENT_BID_NOT_DRAFT as ENDORSEMENT_BID_NOT_DRAFT,
    ENDORSEMENT_EVIDENCE_MISSING as ENDORSEMENT_EVIDENCE_MISSING,
    ENDORSEMENT_NEEDS_COMMISSIONER as ENDORSEMENT_NEEDS_COMMISSIONER,
    ENDORSEMENT_NOT_PENDING as ENDORSEMENT_NOT_PENDING,
    ENDORSEMENT_NOT_REQUIRED as ENDORSEMENT_NOT_REQUIRED,
    ENDORSER_NAME_MISSING as ENDORSER_NAME_MISSING,
    EOI_ALREADY_SENT as EOI_ALREADY_SENT,
    EOI_CLOSED as EOI_CLOSED,
    EOI_COST_NEEDED as EOI_COST_NEEDED,
    EOI_COST_TOO_HIGH as EOI_COST_TOO_HIGH,
    EOI_NO_STAGE as EOI_NO_STAGE,
    EOI_NOT_OPEN as EOI_NOT_OPEN,
    EOI_NOT_WAITING as EOI_NOT_WAITING,
    EOI_PROBLEM_NEEDED as EOI_PROBLEM_NEEDED,
    EOI_REASON_NEEDED as EOI_REASON_NEEDED,
    EOI_STILL_OPEN as EOI_STILL_OPEN,
    EOI_SUMMARY_NEEDED as EOI_SUMMARY_NEEDED,
    EOI_TITLE_NEEDED as EOI_TITLE_NEEDED,
    INELIGIBLE_REASON_NEEDED as INELIGIBLE_REASON_NEEDED,
    INNOVATION_TYPE_UNKNOWN as INNOVATION_TYPE_UNKNOWN,
    MATCH_FUNDER_NOT_ON_BID as MATCH_FUNDER_NOT_ON_BID,
    NO_ORGANISATION as NO_ORGANISATION,
    NO_POT_FOR_NETWORK as NO_POT_FOR_NETWORK,
    NOT_INVITED_TO_BID as NOT_INVITED_TO_BID,
    NOT_YOUR_ORGANISATION as NOT_YOUR_ORGANISATION,
    NOT_YOUR_SECTION as NOT_YOUR_SECTION,
    PARTNER_ALREADY_ADDED as PARTNER_ALREADY_ADDED,
    PARTNER_CONTRIBUTION_NEEDED as PARTNER_CONTRIBUTION_NEEDED,
    PARTNER_IS_LEAD as PARTNER_IS_LEAD,
    PARTNER_NOT_ON_BID as PARTNER_NOT_ON_BID,
    PARTNER_ROLE_NEEDED as PARTNER_ROLE_NEEDED,
    PARTNERS_NOT_SIGNED_OFF as PARTNERS_NOT_SIGNED_OFF,
    SAVER_NOT_ON_BID as SAVER_NOT_ON_BID,
    SECTION_CONFLICT as SECTION_CONFLICT,
    SIGN_OFF_ALREADY as SIGN_OFF_ALREADY,
    SIGN_OFF_NOT_PARTNER as SIGN_OFF_NOT_PARTNER,
    TEAM_ALREADY_INVITED as TEAM_ALREADY_INVITED,
    TEAM_EMAIL_NEEDED as TEAM_EMAIL_NEEDED,
    TEAM_INVITATION_EXPIRED as TEAM_INVITATION_EXPIRED,
    TEAM_INVITATION_OTHER_ACCOUNT as TEAM_INVITATION_OTHER_ACCOUNT,
    TEAM_INVITATION_USED as TEAM_INVITATION_USED,
    TEAM_ORGANISATION_NEEDED as TEAM_ORGANISATION_NEEDED,
    TEAM_ROLE_NEEDED as TEAM_ROLE_NEEDED,
    TEAM_SECTIONS_UNKNOWN as TEAM_SECTIONS_UNKNOWN,
    TITLE_NEEDED as TITLE_NEEDED,
    TOO_MANY_ATTACHMENTS as TOO_MANY_ATTACHMENTS,
    WITHDRAW_AFTER_CLOSE as WITHDRAW_AFTER_CLOSE,
    WITHDRAW_ONLY_SUBMITTED as WITHDRAW_ONLY_SUBMITTED,
)
from .models import (
    Attachment,
    BenefitMeasure,
    Bid,
    BidCollaborator,
    BidCost,
    BidPartner,
    BidPdf,
    BidReferenceSequence,
    BidSection,
    BidSectionComment,
    BidSectionState,
    BidStatus,
    CareSetting,
    EndorsementStatus,
    EoiStatus,
    ExpressionOfInterest,
    InvitationState,
    MatchFunding,
    Milestone,
    PartnerSignOff,
    PdfStatus,
    ProjectedSaving,
    Risk,
    SectionStatus,
    TeamRole,
)
from .selectors import (
    commissioner_users,
    fund_auditor_among_members,
    fund_manager_users,
    lead_org_member_users,
    organisation_member_users,
)

# Files: the messages of the upload pipeline every upload goes through (governance.uploads).
FILE_NEEDED = uploads.FILE_NEEDED
FILE_EMPTY = uploads.FILE_EMPTY
FILE_TOO_LARGE = uploads.FILE_TOO_LARGE
FILE_TYPE_NOT_ALLOWED = uploads.BID_ATTACHMENT.type_message
FILE_HAS_MACROS = uploads.FILE_HAS_MACROS
FILE_ARCHIVE_UNSAFE = uploads.FILE_ARCHIVE_UNSAFE
ATTACHMENT_LIMIT = 20
NOT_A_COMMISSIONING_ORG = checks.COMMISSIONER_NOT_COMMISSIONING
# A change the bid's state does not allow: the table refuses it with this.
TRANSITION_NOT_ALLOWED = BID_LIFECYCLE.refusal


SUMMARY_FIELDS = ("title", "summary", "problem", "start_date", "end_date")
INNOVATION_FIELDS = ("innovation_type", "innovation_description", "evidence_base", "nice_evidence")
PATHWAY_FIELDS = ("care_settings", "pathway_description")
DELIVERY_FIELDS = ("delivery_plan", "sustainability_plan")
STATE_FIELDS = ("status", "endorsement_status", "submitted_at", "withdrawn_at", "ineligible_reason")


# Helpers ---------------------------------------------------------------------------------------


def _is_member(user: User | None, organisation_id: int | None) -> bool:
    if user is None or organisation_id is None or not user.is_authenticated:
        return False
    return Membership.objects.filter(user=user, organisation_id=organisation_id).exists()


def _require_lead_member(actor: User, bid: Bid) -> None:
    if not _is_member(actor, bid.lead_organisation_id):
        raise PermissionDenied("Only members of the lead organisation can change this bid")


def _require_section_writer(actor: User, bid: Bid, section: str) -> None:
    """Members of the lead organisation write every section; a team editor writes the
    sections they are responsible for (all of them if none were named)."""
    if _is_member(actor, bid.lead_organisation_id):
        return
    member = (BidCollaborator.objects.filter(bid=bid, user=actor, state=InvitationState.ACCEPTED, role=TeamRole.EDIT)
              .first() if actor is not None and actor.is_authenticated else None)
    if member is None:
        raise PermissionDenied("Only members of the lead organisation and the bid team's editors can change this bid")
    if member.sections and section not in member.sections:
        raise ValidationError(NOT_YOUR_SECTION.format(section=BidSection(section).label), code="not_your_section")


def _lock(bid: Bid) -> Bid:
    """The bid's row, locked until the transaction ends, with its call."""
    return (Bid.objects.select_for_update(of=("self",))
            .select_related("call", "call__fund", "lead_organisation", "commissioner").get(pk=bid.pk))


def _check_changeable(bid: Bid, now: dt.datetime) -> None:
    if bid.status != BidStatus.DRAFT:
        raise ValidationError(BID_LOCKED.format(status=bid.get_status_display().lower()), code="locked")
    if not bid.call.is_accepting_bids(now):
        raise ValidationError(CALL_CLOSED_FOR_CHANGES.format(closed=uk_datetime(bid.call.closes_at)), code="closed")


def _section_state(bid: Bid, section: str) -> BidSectionState:
    state, _ = BidSectionState.objects.get_or_create(bid=bid, section=section)
    return state


def _conflict(state: BidSectionState) -> ValidationError:
    who = state.updated_by.full_name if state.updated_by else "Someone else"
    when = uk_datetime(state.updated_at) if state.updated_at else "an earlier date"
    return ValidationError(SECTION_CONFLICT.format(who=who, when=when), code="conflict")


@contextmanager
def _editing(*, actor: User, bid: Bid, section: str, version: int | None, message: str = "",
             now: dt.datetime | None = None) -> Iterator[tuple[Bid, dict[str, Any]]]:
    """Lock the bid, check it can change and the section has not moved on, then (after the
    body has written) move the section to its next version and record who saved it.

    ``version=None`` skips the conflict check: used for adding or removing one item
    (a partner, a file), which cannot overwrite anyone's work. ``now`` is when the request
    reached the service (``governance.request_time``): the closing time is judged against it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(bid)
        _require_section_writer(actor, locked, section)
        _check_changeable(locked, now)
        state = _section_state(locked, section)
        if version is not None and version != state.version:
            raise _conflict(state)
        record: dict[str, Any] = {}
        yield locked, record
        state.version += 1
        state.updated_by = actor
        state.updated_at = now
        state.status = checks.status_of(state.version, checks.problems_in_section(locked, section))
        state.save()
        audit_record(
            actor=actor, action=record.get("action", "bid.section_saved"), target=locked,
            message=message or f"{BidSection(section).label} saved (version {state.version})",
            before=record.get("before"), after=record.get("after"),
        )
    bid.refresh_from_db()


def _parse_amount(value: Any, field_errors: list[str]) -> Decimal | None:
    try:
        return parse_money(value)
    except ValidationError as error:
        field_errors.extend(error.messages)
        return None


def _require_project_years(bid: Bid) -> list[int]:
    if not bid.years:
        raise ValidationError(checks.COSTS_NEED_DATES, code="no_dates")
    return bid.years


def _clean_text(value: Any) -> str:
    return (value or "").strip() if isinstance(value, str) else ("" if value is None else str(value).strip())


# References ------------------------------------------------------------------------------------


def reference_prefix(call: Call) -> str:
    """``HISW-2627``: the host network's short name and the financial year the call opened in."""
    year = fy.FinancialYear.of(timezone.localtime(call.opens_at).date()).start_year
    return f"{call.host_network.short_name}-{year % 100:02d}{(year + 1) % 100:02d}"


def _highest_reference_number(prefix: str) -> int:
    highest = 0
    for reference in Bid.objects.filter(reference__startswith=f"{prefix}-").values_list("reference", flat=True):
        tail = reference[len(prefix) + 1:]
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
        return next((pot for pot in pots if network is not None and pot.network_id == network.pk), None)
    return next((pot for pot in pots if pot.network_id is None), pots[0] if pots else None)


def bid_start(*, actor: User, call: Call, organisation: Organisation, title: str, now: dt.datetime | None = None) -> Bid:
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
            raise ValidationError(CALL_CLOSED.format(closed=uk_datetime(call.closes_at)), code="closed")
        raise ValidationError(CALL_NOT_OPEN, code="not_open")
    if reason := checks.lead_eligibility_problem(call, organisation):
        raise ValidationError({"organisation": reason}, code="not_eligible")
    pot = pot_for(call, organisation)
    if pot is None:
        network = organisation.home_network
        raise ValidationError({"organisation": NO_POT_FOR_NETWORK.format(
            network=network.name if network else "its region", organisation=organisation.name)}, code="no_pot")
    if not title:
        raise ValidationError({"title": TITLE_NEEDED}, code="required")
    if fund_auditor_among_members(call.fund_id, organisation.pk):
        raise ValidationError({"organisation": AUDITOR_IN_ORGANISATION.format(organisation=organisation.name)},
                              code="auditor_member")
    eoi = None
    if call.eoi_stage:
        eoi = ExpressionOfInterest.objects.filter(call=call, lead_organisation=organisation,
                                                  status=EoiStatus.INVITED, bid__isnull=True).first()
        if eoi is None:
            raise ValidationError({"organisation": NOT_INVITED_TO_BID}, code="not_invited")
    with transaction.atomic():
        if eoi is not None:  # one full bid per invitation, even when two colleagues start at once
            eoi = ExpressionOfInterest.objects.select_for_update().get(pk=eoi.pk)
            if eoi.bid_id is not None:
                raise ValidationError({"organisation": NOT_INVITED_TO_BID}, code="not_invited")
        bid = Bid(
            call=call, lead_organisation=organisation, pot=pot, title=title, status=BidStatus.DRAFT,
            reference="pending", created_by=actor, created_at=now,
            endorsement_status=(EndorsementStatus.NOT_REQUESTED if call.endorsement_required
                                else EndorsementStatus.NOT_REQUIRED),
        )
        bid.full_clean(exclude=["reference"])
        bid.reference = next_reference(call)
        bid.save()
        BidSectionState.objects.bulk_create(BidSectionState(bid=bid, section=section) for section in BidSection.values)
        audit_record(actor=actor, action="bid.created", target=bid, message=f"Bid started for {organisation.name}",
                     after=snapshot(bid, ("reference", "title", "lead_organisation", "call", "pot", "status")))
        if eoi is not None:
            _carry_forward(actor, eoi, bid, now)
    return bid


def _carry_forward(actor: User, eoi: ExpressionOfInterest, bid: Bid, now: dt.datetime) -> None:
    """The invited expression of interest's answers start the bid's summary; the bid keeps a
    link to it, so its estimated cost and partners stay in sight while the bid is written."""
    bid.summary, bid.problem = eoi.summary, eoi.problem
    bid.save(update_fields=["summary", "problem", "updated_at"])
    BidSectionState.objects.filter(bid=bid, section=BidSection.SUMMARY).update(
        status=SectionStatus.IN_PROGRESS, version=1, updated_by=actor, updated_at=now)
    eoi.bid = bid
    eoi.save(update_fields=["bid"])
    audit_record(actor=actor, action="eoi.carried_forward", target=eoi,
                 message=f"Expression of interest carried forward into bid {bid.reference}",
                 after={"bid": bid.reference})


# Sections: text ---------------------------------------------------------------------------------


def _save_fields(*, actor: User, bid: Bid, section: str, version: int, fields: tuple[str, ...],
                 values: Mapping[str, Any], validate: Callable[[Bid], None] | None = None, now: dt.datetime | None = None) -> Bid:
    with _editing(actor=actor, bid=bid, now=now, section=section, version=version) as (locked, record):
        before = snapshot(locked, fields)
        for name in fields:
            value = values.get(name)
            if isinstance(value, str):
                value = value.strip()
            setattr(locked, name, value if value is not None else ("" if name not in ("start_date", "end_date") else None))
        if validate:
            validate(locked)
        _clean_bid(locked)
        locked.save(update_fields=[*fields, "updated_at"])
        record.update(before=before, after=snapshot(locked, fields))
    return bid


def bid_summary_save(*, actor: User, bid: Bid, version: int, title: str, summary: str = "", problem: str = "",
                     start_date: dt.date | None = None, end_date: dt.date | None = None, now: dt.datetime | None = None) -> Bid:
    def validate(locked: Bid) -> None:
        errors = {}
        if not locked.title:
            errors["title"] = TITLE_NEEDED
        if locked.start_date and locked.end_date:
            message = checks.duration_problem(locked.call, locked.start_date, locked.end_date) or \
                checks.fund_years_problem(locked.call, locked.start_date, locked.end_date)
            if message:
                errors["end_date"] = message
        if errors:
            raise ValidationError(errors)

    return _save_fields(
        actor=actor, bid=bid, now=now, section=BidSection.SUMMARY, version=version, fields=SUMMARY_FIELDS, validate=validate,
        values={"title": title, "summary": summary, "problem": problem, "start_date": start_date, "end_date": end_date},
    )


def bid_innovation_save(*, actor: User, bid: Bid, version: int, innovation_type: str = "",
                        innovation_description: str = "", evidence_base: str = "", nice_evidence: str = "", now: dt.datetime | None = None) -> Bid:
    def validate(locked: Bid) -> None:
        if locked.innovation_type and locked.innovation_type not in (locked.call.innovation_types or []):
            raise ValidationError({"innovation_type": INNOVATION_TYPE_UNKNOWN})

    return _save_fields(
        actor=actor, bid=bid, now=now, section=BidSection.INNOVATION, version=version, fields=INNOVATION_FIELDS, validate=validate,
        values={"innovation_type": innovation_type, "innovation_description": innovation_description,
                "evidence_base": evidence_base, "nice_evidence": nice_evidence},
    )


def bid_pathway_save(*, actor: User, bid: Bid, version: int, care_settings: Iterable[str] = (),
                     pathway_description: str = "", now: dt.datetime | None = None) -> Bid:
    settings_list = [value for value in CareSetting.values if value in set(care_settings)]
    if set(care_settings) - set(CareSetting.values):
        raise ValidationError({"care_settings": CARE_SETTING_UNKNOWN})
    return _save_fields(
        actor=actor, bid=bid, now=now, section=BidSection.PATHWAY, version=version, fields=PATHWAY_FIELDS,
        values={"care_settings": settings_list, "pathway_description": pathway_description},
    )


def bid_delivery_save(*, actor: User, bid: Bid, version: int, delivery_plan: str = "", sustainability_plan: str = "",
                      milestones: Sequence[Mapping[str, Any]] = (), now: dt.datetime | None = None) -> Bid:
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.DELIVERY, version=version) as (locked, record):
        before = {**snapshot(locked, DELIVERY_FIELDS), "milestones": list(locked.milestones.values_list("title", "due_date"))}
        locked.delivery_plan = _clean_text(delivery_plan)
        locked.sustainability_plan = _clean_text(sustainability_plan)
        _clean_bid(locked)
        locked.save(update_fields=[*DELIVERY_FIELDS, "updated_at"])
        rows = [Milestone(bid=locked, title=_clean_text(row.get("title")), due_date=row.get("due_date"),  # type: ignore[misc]  # the row is checked by full_clean; the stubs refuse None
                          description=_clean_text(row.get("description"))) for row in milestones]
        _replace(locked.milestones, rows)
        record.update(before=before, after={**snapshot(locked, DELIVERY_FIELDS),
                                            "milestones": [(row.title, row.due_date) for row in rows]})
    return bid


def _replace(manager: Any, rows: Sequence[models.Model]) -> None:
    """Swap a section's rows for the new ones, each checked by its model first."""
    errors = []
    for row in rows:
        try:
            row.full_clean(exclude=["bid"])
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(sorted(set(errors)))
    manager.all().delete()
    manager.model.objects.bulk_create(rows)


# Sections: partners and the commissioner -------------------------------------------------------


def _clean_partner(locked: Bid, organisation: Organisation, role: str, contribution: str, partner: BidPartner | None = None) -> None:
    errors = {}
    if organisation.pk == locked.lead_organisation_id:
        errors["organisation"] = PARTNER_IS_LEAD
    elif locked.partners.filter(organisation=organisation).exclude(pk=partner.pk if partner else None).exists():  # type: ignore[misc]  # Django takes None; the stubs do not
        errors["organisation"] = PARTNER_ALREADY_ADDED.format(organisation=organisation.name)
    elif partner is None and fund_auditor_among_members(locked.call.fund_id, organisation.pk):
        errors["organisation"] = AUDITOR_IN_ORGANISATION.format(organisation=organisation.name)
    if role not in PartnerKind.values:
        errors["role"] = PARTNER_ROLE_NEEDED
    if not _clean_text(contribution):
        errors["contribution"] = PARTNER_CONTRIBUTION_NEEDED
    if errors:
        raise ValidationError(errors)


def bid_partner_add(*, actor: User, bid: Bid, organisation: Organisation, role: str, contribution: str, now: dt.datetime | None = None) -> BidPartner:
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.PARTNERS, version=None,
                  message=f"Partner added: {organisation.name}") as (locked, record):
        _clean_partner(locked, organisation, role, contribution)
        partner = BidPartner(bid=locked, organisation=organisation, role=role, contribution=_clean_text(contribution))
        partner.full_clean()
        partner.save()
        record.update(action="bid.partner_added", after={"organisation": organisation.pk, "role": role})
    return partner


def bid_partner_change(*, actor: User, bid: Bid, version: int, partner: BidPartner, role: str, contribution: str, now: dt.datetime | None = None) -> BidPartner:
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.PARTNERS, version=version,
                  message=f"Partner changed: {partner.organisation.name}") as (locked, record):
        current = locked.partners.filter(pk=partner.pk).select_related("organisation").first()
        if current is None:
            raise ValidationError(PARTNER_NOT_ON_BID)
        partner = current
        _clean_partner(locked, partner.organisation, role, contribution, partner=partner)
        before = {"role": partner.role, "contribution": partner.contribution}
        partner.role, partner.contribution = role, _clean_text(contribution)
        partner.full_clean()
        partner.save()
        record.update(action="bid.partner_changed", before=before, after={"role": role, "contribution": partner.contribution})
    return partner


def bid_partner_remove(*, actor: User, bid: Bid, partner: BidPartner, now: dt.datetime | None = None) -> None:
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.PARTNERS, version=None,
                  message=f"Partner removed: {partner.organisation.name}") as (locked, record):
        found = locked.partners.filter(pk=partner.pk).first()
        if found is None:
            raise ValidationError(PARTNER_NOT_ON_BID)
        record.update(action="bid.partner_removed", before={"organisation": found.organisation_id, "role": found.role})
        found.delete()


def bid_partners_save(*, actor: User, bid: Bid, version: int, commissioner: Organisation | None, now: dt.datetime | None = None) -> Bid:
    """Save the partners section: the commissioning organisation that will endorse the bid.

    Naming a different commissioner withdraws any earlier request or endorsement.
    """
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.PARTNERS, version=version) as (locked, record):
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


# Sections: money -------------------------------------------------------------------------------


def bid_costs_save(*, actor: User, bid: Bid, version: int, costs: Sequence[Mapping[str, Any]],
                   match_funding: Sequence[Mapping[str, Any]] = (), now: dt.datetime | None = None) -> Bid:
    """Replace the bid's costs and match funding. The total must fall within the call's
    minimum and maximum and every year within the project's years."""
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.COSTS, version=version) as (locked, record):
        years = _require_project_years(locked)
        errors: list[str] = []
        cost_rows: list[BidCost] = []
        for row in costs:
            amount = _parse_amount(row.get("amount"), errors)
            year = row.get("financial_year")
            if year not in years:
                errors.append(checks.year_outside_project(checks.COST_YEAR_OUTSIDE_PROJECT, locked, int(year or 0)))
            cost_rows.append(BidCost(bid=locked, financial_year=year, category=row.get("category"),  # type: ignore[misc]  # the row is checked by full_clean; the stubs refuse None
                                     nature=row.get("nature") or "revenue", description=_clean_text(row.get("description")),
                                     amount=amount))
        funders = set(_bid_organisation_ids(locked))
        match_rows: list[MatchFunding] = []
        for row in match_funding:
            amount = _parse_amount(row.get("amount"), errors)
            organisation = row.get("organisation")
            year = row.get("financial_year")
            if organisation is None or organisation.pk not in funders:
                errors.append(MATCH_FUNDER_NOT_ON_BID)
            if year not in years:
                errors.append(checks.year_outside_project(checks.COST_YEAR_OUTSIDE_PROJECT, locked, int(year or 0)))
            match_rows.append(MatchFunding(bid=locked, organisation=organisation, financial_year=year, amount=amount,  # type: ignore[misc]  # the row is checked by full_clean; the stubs refuse None
                                           description=_clean_text(row.get("description"))))
        if errors:
            raise ValidationError(list(dict.fromkeys(errors)))
        total = sum((row.amount for row in cost_rows), Decimal("0.00"))
        if message := checks.total_problem(locked.call, total):
            raise ValidationError(message, code="total")
        before = {"total": str(sum(locked.costs.values_list("amount", flat=True), Decimal("0.00")))}
        _replace(locked.costs, cost_rows)
        _replace(locked.match_funding, match_rows)
        record.update(before=before, after={
            "total": str(total), "by_year": {str(y): str(sum((r.amount for r in cost_rows if r.financial_year == y), Decimal(0)))
                                             for y in years},
            "match_funding": str(sum((row.amount for row in match_rows), Decimal("0.00"))),
        })
    return bid


def _bid_organisation_ids(bid: Bid) -> list[int]:
    ids = [bid.lead_organisation_id, *bid.partners.values_list("organisation_id", flat=True)]
    if bid.commissioner_id:
        ids.append(bid.commissioner_id)
    return ids


def bid_savings_save(*, actor: User, bid: Bid, version: int, savings: Sequence[Mapping[str, Any]], now: dt.datetime | None = None) -> Bid:
    """Replace the projected savings. Each falls in one of the project's years, in the budget of
    an organisation on the bid."""
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.SAVINGS, version=version) as (locked, record):
        years = _require_project_years(locked)
        savers = set(_bid_organisation_ids(locked))
        errors: list[str] = []
        rows: list[ProjectedSaving] = []
        for row in savings:
            amount = _parse_amount(row.get("amount"), errors)
            year = row.get("financial_year")
            if year not in years:
                errors.append(checks.year_outside_project(checks.SAVING_YEAR_OUTSIDE_PROJECT, locked, int(year or 0)))
            organisation = row.get("realised_by")
            if organisation is None or organisation.pk not in savers:
                errors.append(SAVER_NOT_ON_BID)
            rows.append(ProjectedSaving(  # type: ignore[misc]  # the row is checked by full_clean; the stubs refuse None
                bid=locked, financial_year=year, kind=row.get("kind"), realised_by=organisation,
                care_setting=row.get("care_setting"), amount=amount, assumptions=_clean_text(row.get("assumptions")),
                evidence=_clean_text(row.get("evidence")),
            ))
        if errors:
            raise ValidationError(list(dict.fromkeys(errors)))
        before = {"total": str(sum(locked.projected_savings.values_list("amount", flat=True), Decimal("0.00")))}
        _replace(locked.projected_savings, rows)
        total = sum((row.amount for row in rows), Decimal("0.00"))
        record.update(before=before, after={"total": str(total)})
    return bid


def bid_benefits_save(*, actor: User, bid: Bid, version: int, measures: Sequence[Mapping[str, Any]], now: dt.datetime | None = None) -> Bid:
    """Replace the patient-benefit measures: at least one, each with a baseline, target and date."""
    if not measures:
        raise ValidationError(checks.BENEFITS_MISSING, code="required")
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.BENEFITS, version=version) as (locked, record):
        rows = [BenefitMeasure(  # type: ignore[misc]  # the row is checked by full_clean; the stubs refuse None
            bid=locked, name=_clean_text(row.get("name")), unit=_clean_text(row.get("unit")), baseline=row.get("baseline"),
            target=row.get("target"), target_date=row.get("target_date"),
            higher_is_better=bool(row.get("higher_is_better", True)),
        ) for row in measures]
        _replace(locked.benefit_measures, rows)
        record.update(after={"measures": [row.name for row in rows]})
    return bid


def bid_risks_save(*, actor: User, bid: Bid, version: int, risks: Sequence[Mapping[str, Any]], now: dt.datetime | None = None) -> Bid:
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.RISKS, version=version) as (locked, record):
        rows = [Risk(bid=locked, description=_clean_text(row.get("description")), likelihood=row.get("likelihood"),  # type: ignore[misc]  # the row is checked by full_clean; the stubs refuse None
                     impact=row.get("impact"), mitigation=_clean_text(row.get("mitigation"))) for row in risks]
        _replace(locked.risks, rows)
        record.update(after={"risks": len(rows)})
    return bid


def bid_section_confirm(*, actor: User, bid: Bid, section: str, version: int, now: dt.datetime | None = None) -> Bid:
    """Save a section with nothing to change in it (partners or files already added)."""
    with _editing(actor=actor, bid=bid, now=now, section=section, version=version):
        pass
    return bid


# Sections: attachments -------------------------------------------------------------------------


def check_upload(upload: UploadedFile[Any] | None) -> uploads.CheckedUpload:
    """The upload's real type, size and hash; a ValidationError if it is missing, empty, too big,
    not allowed, or carries macros or archives (the pipeline every upload goes through)."""
    return uploads.check(upload, policy=uploads.BID_ATTACHMENT)


def bid_attachment_add(*, actor: User, bid: Bid, upload: UploadedFile[Any] | None, description: str = "", now: dt.datetime | None = None) -> Attachment:
    """Store a checked file through the default storage (outside the web root), named after
    what it is; with a virus scanner set up, it waits for its scan before anyone can open it."""
    checked = check_upload(upload)
    stored_name = None
    try:
        with _editing(actor=actor, bid=bid, now=now, section=BidSection.ATTACHMENTS, version=None,
                      message=f"File added: {checked.original_name[:100]}") as (locked, record):
            if locked.attachments.count() >= ATTACHMENT_LIMIT:
                raise ValidationError({"file": TOO_MANY_ATTACHMENTS.format(limit=ATTACHMENT_LIMIT)})
            attachment = Attachment(
                bid=locked, original_name=checked.original_name or "attachment",
                content_type=checked.file_type.content_type, size=checked.size, sha256=checked.sha256,
                description=_clean_text(description)[:200], uploaded_by=actor,
                scan_status=uploads.initial_scan_status(),
            )
            attachment.file.save(checked.storage_name, checked.upload, save=False)
            stored_name = attachment.file.name
            attachment.full_clean()
            attachment.save()
            record.update(action="bid.attachment_added", after={
                "name": attachment.original_name, "type": checked.file_type.label, "size": attachment.size,
                "sha256": attachment.sha256, "scan_status": attachment.scan_status})
            if attachment.scan_status == ScanStatus.AWAITING:
                from .tasks import scan_attachment

                outbox_enqueue(scan_attachment, attachment.pk)
    except Exception:
        if stored_name:
            default_storage.delete(stored_name)
        raise
    return attachment


def attachment_scan(*, attachment_id: int) -> str | None:
    """Scan a file awaiting its virus scan and record the result: available, or quarantined
    (the uploader is told). Safe to run twice. Returns the new status, or None if there was
    nothing to do. Raises if clamd could not scan it (the task tries again later)."""
    attachment = Attachment.objects.filter(pk=attachment_id, scan_status=ScanStatus.AWAITING).first()
    if attachment is None:
        return None
    scanned_name = attachment.file.name
    signature = uploads.scan_file(attachment.file)
    with transaction.atomic():
        locked = Attachment.objects.select_for_update().select_related("bid").filter(pk=attachment_id).first()
        if locked is None or locked.scan_status != ScanStatus.AWAITING or locked.file.name != scanned_name:
            return None
        bid = locked.bid
        locked.scan_status = ScanStatus.QUARANTINED if signature else ScanStatus.AVAILABLE
        locked.scan_signature = (signature or "")[:200]
        locked.save(update_fields=["scan_status", "scan_signature"])
        if signature:
            audit_record(actor=None, action="bid.attachment_quarantined", target=bid,
                         message=f"A virus was found in {locked.original_name[:100]}: it is quarantined",
                         before={"scan_status": ScanStatus.AWAITING},
                         after={"name": locked.original_name, "scan_status": locked.scan_status, "signature": signature})
            notify(user=locked.uploaded_by, subject=f"A virus was found in a file on {bid.reference}",
                   body=(f"The virus scanner found {signature} in {locked.original_name}, so nobody can open it. "
                         "Remove it from the bid and upload a clean copy."),
                   link=reverse("applications:bid_section", args=[bid.pk, BidSection.ATTACHMENTS]))
        else:
            audit_record(actor=None, action="bid.attachment_scanned", target=bid,
                         message=f"{locked.original_name[:100]} scanned: no virus found",
                         before={"scan_status": ScanStatus.AWAITING},
                         after={"name": locked.original_name, "scan_status": locked.scan_status})
    return locked.scan_status


def bid_attachment_remove(*, actor: User, bid: Bid, attachment: Attachment, now: dt.datetime | None = None) -> None:
    with _editing(actor=actor, bid=bid, now=now, section=BidSection.ATTACHMENTS, version=None,
                  message=f"File removed: {attachment.original_name[:100]}") as (locked, record):
        found = locked.attachments.filter(pk=attachment.pk).first()
        if found is None:
            raise ValidationError("That file is not on this bid")
        name, storage = found.file.name, found.file.storage
        record.update(action="bid.attachment_removed", before={"name": found.original_name, "sha256": found.sha256})
        found.delete()
        uploads.delete_after_commit(storage, name)


# Endorsement -----------------------------------------------------------------------------------


def bid_endorsement_request(*, actor: User, bid: Bid) -> Bid:
    """Ask the named commissioner to endorse the bid; its members are told."""
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(bid)
        _require_lead_member(actor, locked)
        _check_changeable(locked, now)
        if not locked.call.endorsement_required:
            raise ValidationError(ENDORSEMENT_NOT_REQUIRED, code="not_required")
        if locked.commissioner is None:
            raise ValidationError(ENDORSEMENT_NEEDS_COMMISSIONER, code="no_commissioner")
        if locked.endorsement_status in (EndorsementStatus.PENDING, EndorsementStatus.ENDORSED):
            raise ValidationError(ENDORSEMENT_ALREADY_ASKED, code="already_asked")
        before = snapshot(locked, ("endorsement_status",))
        locked.endorsement_status = EndorsementStatus.PENDING
        locked.endorsement_comment = ""
        locked.endorsed_by, locked.endorsed_at = None, None
        locked.save(update_fields=["endorsement_status", "endorsement_comment", "endorsed_by", "endorsed_at", "updated_at"])
        audit_record(actor=actor, action="bid.endorsement_requested", target=locked, before=before,
                     after=snapshot(locked, ("endorsement_status", "commissioner")),
                     message=f"Endorsement asked of {locked.commissioner.name}")
        link = reverse("applications:bid_endorse", kwargs={"pk": locked.pk})
        if not commissioner_users(locked).exists():
            _tell_managers_no_endorser(locked)
        for user in commissioner_users(locked):
            notify(user=user, subject=f"Bid {locked.reference} needs your endorsement",
                   body=(f"{locked.lead_organisation.name} asks {locked.commissioner.name} to endorse its bid "
                         f"\u201c{locked.title}\u201d to {locked.call.title}. The call closes on "
                         f"{uk_datetime(locked.call.closes_at)}."), link=link)
    bid.refresh_from_db()
    return bid


def _tell_managers_no_endorser(bid: Bid) -> None:
    """Nobody on the portal can endorse for the named commissioner: the fund's managers are told,
    so they can reach the commissioner and record an endorsement received outside the portal."""
    if bid.commissioner is None:  # only sent for a named commissioner
        return
    link = reverse("applications:endorsement_record", kwargs={"pk": bid.pk})
    for user in fund_manager_users(bid):
        notify(user=user, subject=f"Bid {bid.reference}: {bid.commissioner.name} has no one on the portal to endorse it",
               body=(f"{bid.lead_organisation.name} needs {bid.commissioner.name}'s endorsement for \u201c{bid.title}\u201d "
                     f"before {uk_datetime(bid.call.closes_at)}, and no one from {bid.commissioner.name} uses the portal. "
                     "Ask the commissioner, then record the endorsement they send with its evidence."), link=link)


def bid_endorsement_record_offline(*, actor: User, bid: Bid, upload: UploadedFile[Any] | None, endorsed_by_name: str,
                                   comment: str = "") -> Bid:
    """A fund manager records an endorsement the commissioner gave outside the portal, with its
    evidence (stored through the upload pipeline as a file of the bid). Audited; the bid's
    writers are told."""
    require_actor(actor, "applications.record_offline_endorsement", bid)
    endorsed_by_name = _clean_text(endorsed_by_name)[:200]
    errors = {}
    if upload is None:
        errors["file"] = ENDORSEMENT_EVIDENCE_MISSING
    if not endorsed_by_name:
        errors["endorsed_by_name"] = ENDORSER_NAME_MISSING
    if errors:
        raise ValidationError(errors)
    checked = check_upload(upload)
    stored_name = None
    try:
        with transaction.atomic():
            locked = _lock(bid)
            if locked.status != BidStatus.DRAFT:
                raise ValidationError(ENDORSEMENT_BID_NOT_DRAFT, code="not_draft",
                                      params={"status": locked.get_status_display().lower()})
            if locked.commissioner is None:
                raise ValidationError(ENDORSEMENT_NEEDS_COMMISSIONER, code="no_commissioner")
            if locked.endorsement_status == EndorsementStatus.ENDORSED:
                raise ValidationError(ENDORSEMENT_ALREADY_RECORDED, code="already_endorsed")
            before = snapshot(locked, ("endorsement_status", "endorsement_comment"))
            attachment = Attachment(
                bid=locked, original_name=checked.original_name or "endorsement",
                content_type=checked.file_type.content_type, size=checked.size, sha256=checked.sha256,
                description=f"Endorsement by {locked.commissioner.name}, received outside the portal"[:200],
                uploaded_by=actor, scan_status=uploads.initial_scan_status(),
            )
            attachment.file.save(checked.storage_name, checked.upload, save=False)
            stored_name = attachment.file.name
            attachment.full_clean()
            attachment.save()
            locked.endorsement_status = EndorsementStatus.ENDORSED
            locked.endorsement_comment = _clean_text(
                f"Endorsed outside the portal by {endorsed_by_name}; recorded by {actor.full_name or actor.email} "
                f"with the evidence {attachment.original_name}. {_clean_text(comment)}")
            locked.endorsed_by, locked.endorsed_at = actor, timezone.now()
            locked.save(update_fields=["endorsement_status", "endorsement_comment", "endorsed_by", "endorsed_at", "updated_at"])
            audit_record(actor=actor, action="bid.endorsement_recorded", target=locked, before=before,
                         after={**snapshot(locked, ("endorsement_status", "endorsement_comment")),
                                "evidence": attachment.original_name, "evidence_sha256": attachment.sha256,
                                "endorsed_by_name": endorsed_by_name},
                         message=f"Endorsement by {locked.commissioner.name} received outside the portal, recorded with its evidence")
            if attachment.scan_status == ScanStatus.AWAITING:
                from .tasks import scan_attachment

                outbox_enqueue(scan_attachment, attachment.pk)
            for user in lead_org_member_users(locked):
                notify(user=user, subject=f"{locked.commissioner.name} endorsed bid {locked.reference}",
                       body=f"The fund manager recorded the endorsement {endorsed_by_name} gave outside the portal.",
                       link=locked.get_absolute_url())
    except Exception:
        if stored_name:
            default_storage.delete(stored_name)
        raise
    bid.refresh_from_db()
    return bid


def _decide_endorsement(*, actor: User, bid: Bid, comment: str, endorse: bool) -> Bid:
    comment = _clean_text(comment)
    if not endorse and not comment:
        raise ValidationError({"comment": DECLINE_NEEDS_COMMENT}, code="required")
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(bid)
        if locked.commissioner is None or not _is_member(actor, locked.commissioner_id):
            raise PermissionDenied("Only members of the named commissioning organisation can endorse this bid")
        if locked.status != BidStatus.DRAFT or locked.endorsement_status != EndorsementStatus.PENDING:
            raise ValidationError(ENDORSEMENT_NOT_PENDING, code="not_pending")
        before = snapshot(locked, ("endorsement_status",))
        locked.endorsement_status = EndorsementStatus.ENDORSED if endorse else EndorsementStatus.DECLINED
        locked.endorsement_comment = comment
        locked.endorsed_by, locked.endorsed_at = actor, now
        _clean_bid(locked)
        locked.save()
        verb = "endorsed" if endorse else "declined to endorse"
        audit_record(actor=actor, action="bid.endorsed" if endorse else "bid.endorsement_declined", target=locked,
                     before=before, after=snapshot(locked, ("endorsement_status", "endorsement_comment")),
                     message=f"{locked.commissioner.name} {verb} the bid")
        for user in lead_org_member_users(locked):
            notify(user=user, subject=f"{locked.commissioner.name} {verb} bid {locked.reference}",
                   body=f"{actor.full_name} wrote: {comment or '(no comment)'}", link=locked.get_absolute_url())
    bid.refresh_from_db()
    return bid


def bid_endorse(*, actor: User, bid: Bid, comment: str = "") -> Bid:
    return _decide_endorsement(actor=actor, bid=bid, comment=comment, endorse=True)


def bid_endorsement_decline(*, actor: User, bid: Bid, comment: str) -> Bid:
    return _decide_endorsement(actor=actor, bid=bid, comment=comment, endorse=False)


# Submission ------------------------------------------------------------------------------------


def bid_submit(*, actor: User, bid: Bid, declarations_confirmed: bool, now: dt.datetime | None = None) -> Bid:
    """Submit the bid: once, before the closing time (to the second), when nothing is missing.

    The bid's row is locked, so of two submissions at once (double click, two tabs) one
    submits and the other finds it submitted (``BID_ALREADY_SUBMITTED``, code
    ``already_submitted``). The submitter is emailed the reference.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(bid)
        _require_lead_member(actor, locked)
        if locked.status == BidStatus.SUBMITTED:
            raise ValidationError(BID_ALREADY_SUBMITTED, code="already_submitted")
        _check_changeable(locked, now)
        problems = checks.bid_problems(locked, now=now)
        if problems:
            raise ValidationError([problem.message for problem in problems], code="incomplete")
        missing = partners_not_signed_off(locked)
        if missing:
            raise ValidationError(PARTNERS_NOT_SIGNED_OFF.format(names=", ".join(o.name for o in missing)),
                                  code="not_signed_off")
        if not declarations_confirmed:
            raise ValidationError({"declarations": DECLARATIONS_NEEDED}, code="declarations")
        BID_LIFECYCLE.apply(bid, "submit", actor=actor, locked=locked, message=f"Bid {locked.reference} submitted",
                            changes={"submitted_at": now, "submitted_by": actor,
                                     "declarations_accepted_at": now, "declarations_accepted_by": actor})
        state = _section_state(locked, BidSection.DECLARATIONS)
        state.status, state.version, state.updated_by, state.updated_at = SectionStatus.COMPLETED, state.version + 1, actor, now
        state.save()
        requested = sum(locked.costs.values_list("amount", flat=True), Decimal("0.00"))
        notify(user=actor, subject=f"Bid submitted: {locked.reference}",
               body=(f"Your bid \u201c{locked.title}\u201d to {locked.call.title} was submitted on "
                     f"{uk_datetime(now)}.\n\nReference: {locked.reference}\nLead organisation: "
                     f"{locked.lead_organisation.name}\nAmount asked for: {format_money(requested)}\n\n"
                     "Keep the reference: quote it if you contact the fund."),
               link=locked.get_absolute_url())
        notifications.send_to_each(
            "bid_submitted", call_managers(locked.call), about=locked, fund=locked.call.fund,
            values={"bid_reference": locked.reference, "bid_title": locked.title, "call_title": locked.call.title,
                    "organisation": locked.lead_organisation.name},
            link=locked.get_absolute_url())
    bid.refresh_from_db()
    return bid


def bid_withdraw(*, actor: User, bid: Bid, now: dt.datetime | None = None) -> Bid:
    """Withdraw a submitted bid, possible until the call closes."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(bid)
        _require_lead_member(actor, locked)
        if not BID_LIFECYCLE.allows(locked.status, "withdraw"):
            raise ValidationError(WITHDRAW_ONLY_SUBMITTED, code="not_submitted")
        if now >= locked.call.closes_at:
            raise ValidationError(WITHDRAW_AFTER_CLOSE.format(closed=uk_datetime(locked.call.closes_at)), code="closed")
        BID_LIFECYCLE.apply(bid, "withdraw", actor=actor, locked=locked, changes={"withdrawn_at": now},
                            message=f"Bid {locked.reference} withdrawn")
    bid.refresh_from_db()
    return bid


def bid_mark_ineligible(*, actor: User | None, bid: Bid, reason: str) -> Bid:
    """Submitted or in assessment → ineligible, with the reason the applicant will see."""
    require_actor(actor, "applications.manage_bid", bid)
    reason = _clean_text(reason)
    if not reason:
        raise ValidationError({"reason": INELIGIBLE_REASON_NEEDED}, code="required")

    with transaction.atomic():
        locked = BID_LIFECYCLE.apply(bid, "mark_ineligible", actor=actor, changes={"ineligible_reason": reason},
                                     message=f"Marked ineligible: {reason[:200]}")
        for user in lead_org_member_users(locked):
            notify(user=user, subject=f"Bid {locked.reference} is ineligible",
                   body=f"The fund has found your bid \u201c{locked.title}\u201d ineligible.\n\nReason: {reason}",
                   link=locked.get_absolute_url())
    bid.refresh_from_db()
    return bid


def bid_start_assessment(*, actor: User | None, bid: Bid) -> Bid:
    """Submitted → in assessment (the assessment stage calls this when the call closes)."""
    require_actor(actor, "applications.manage_bid", bid)
    BID_LIFECYCLE.apply(bid, "start_assessment", actor=actor, message="Assessment started")
    bid.refresh_from_db()
    return bid


def bids_start_assessment_for_call(*, actor: User | None, call: Call) -> int:
    """Every submitted bid of a call → in assessment; run when the call enters assessment
    (``governance.signals.call_entered_assessment``), inside the same transaction."""
    require_actor(actor, "governance.manage_call", call)
    bids = list(Bid.objects.filter(call=call, status=BidStatus.SUBMITTED).order_by("pk"))
    for bid in bids:
        bid_start_assessment(actor=actor, bid=bid)
    return len(bids)


def _on_call_entered_assessment(sender: Any, *, call: Call, actor: User | None, **kwargs: Any) -> None:
    bids_start_assessment_for_call(actor=actor, call=call)


def _on_call_closed(sender: Any, *, call: Call, actor: User | None, **kwargs: Any) -> None:
    """Tell the call's fund managers it has closed, and how many bids came in (once)."""
    count = Bid.objects.filter(call=call, submitted_at__isnull=False).exclude(status=BidStatus.WITHDRAWN).count()
    notifications.send_to_each(
        "call_closed", call_managers(call), about=call, fund=call.fund,
        values={"call_title": call.title, "deadline": uk_datetime(call.closes_at), "bid_count": str(count)},
        link=reverse("governance:call_manage", kwargs={"slug": call.slug}))


def call_bidder_organisations(call: Call) -> list[int]:
    """Lead organisations of the call's bids (any status): they hear of answers to questions."""
    return list(Bid.objects.filter(call=call).values_list("lead_organisation_id", flat=True).distinct())


DRAFT_REMINDER_DAYS = (1, 3, 14)


def draft_bid_reminders_send(*, now: dt.datetime | None = None) -> int:
    """Remind the writers of each draft bid 14, 3 and 1 days before its call closes (UK calendar
    days), each reminder once per bid, person and closing date. A missed run catches up with the
    nearest reminder only. Idempotent: returns how many notifications went now."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    calls = Call.objects.filter(status=CallStatus.OPEN, opens_at__lte=now, closes_at__gt=now).select_related("fund")
    for call in calls.order_by("pk"):
        days_left = (timezone.localdate(call.closes_at) - today).days
        window = next((days for days in DRAFT_REMINDER_DAYS if days_left <= days), None)
        if window is None:
            continue
        occasion = f"{window}d:{timezone.localdate(call.closes_at).isoformat()}"
        for bid in Bid.objects.filter(call=call, status=BidStatus.DRAFT).order_by("pk"):
            with transaction.atomic():
                sent += len(notifications.send_to_each(
                    "bid_draft_closing", lead_org_member_users(bid).order_by("email"), about=bid, fund=call.fund,
                    occasion=occasion, link=bid.get_absolute_url(),
                    values={"bid_reference": bid.reference, "bid_title": bid.title, "call_title": call.title,
                            "deadline": uk_datetime(call.closes_at), "days": notifications.days_label(days_left)}))
    return sent


def _on_call_closing_extended(sender: Any, *, call: Call, actor: User | None, previous_closes_at: dt.datetime,
                              **kwargs: Any) -> None:
    """Tell everyone writing a draft bid on the call that they have longer, and why."""
    # Each lead organisation's first draft, then its members in one query: one message a person.
    first_draft: dict[int, int] = {}
    for bid_id, org_id in (Bid.objects.filter(call=call, status=BidStatus.DRAFT).order_by("pk")
                           .values_list("pk", "lead_organisation_id")):
        first_draft.setdefault(org_id, bid_id)
    writers: dict[User, int] = {}
    for membership in (Membership.objects.filter(organisation_id__in=list(first_draft), user__is_active=True)
                       .select_related("user")):
        bid_id = first_draft[membership.organisation_id]
        writers[membership.user] = min(bid_id, writers.get(membership.user, bid_id))
    for user, bid_id in writers.items():
        notify(user=user, subject=f"More time to bid: {call.title}"[:200],
               body=(f"The closing time for {call.title} has moved from {uk_datetime(previous_closes_at)} "
                     f"to {uk_datetime(call.closes_at)}.\n\nThe reason given: {call.closing_extension_reason}"),
               link=reverse("applications:bid_detail", kwargs={"pk": bid_id}))


def bid_mark_funded(*, actor: User | None, bid: Bid) -> Bid:
    """In assessment → funded (the panel decided to fund it)."""
    require_actor(actor, "applications.manage_bid", bid)
    BID_LIFECYCLE.apply(bid, "fund", actor=actor, message="Panel decision: funded")
    bid.refresh_from_db()
    return bid


def bid_mark_not_funded(*, actor: User | None, bid: Bid) -> Bid:
    """In assessment → not funded."""
    require_actor(actor, "applications.manage_bid", bid)
    BID_LIFECYCLE.apply(bid, "not_fund", actor=actor, message="Panel decision: not funded")
    bid.refresh_from_db()
    return bid


# Reads used by the views after a write ---------------------------------------------------------


def attachment_download_name(attachment: Attachment) -> str:
    return uploads.safe_download_name(attachment.original_name, uploads.by_content_type(attachment.content_type))


# Two-stage calls: expressions of interest --------------------------------------------------------

EOI_FIELDS = ("title", "summary", "problem", "estimated_cost", "partners", "status", "reason")


def eoi_submit(*, actor: User, call: Call, organisation: Organisation, title: str, summary: str, problem: str,
               estimated_cost: Any, partners: str = "", now: dt.datetime | None = None) -> ExpressionOfInterest:
    """Send an expression of interest for one of the actor's organisations while the call's EOI
    stage is open. Late ones are refused, judged against when the request arrived."""
    now = now or timezone.now()
    if not Membership.objects.filter(user=actor).exists():
        raise ValidationError(NO_ORGANISATION, code="no_organisation")
    if not _is_member(actor, organisation.pk):
        raise ValidationError({"organisation": NOT_YOUR_ORGANISATION}, code="not_member")
    if not call.eoi_stage:
        raise ValidationError(EOI_NO_STAGE, code="no_stage")
    phase = call.eoi_phase(now)
    if phase == "closed":
        raise ValidationError(EOI_CLOSED.format(closed=uk_datetime(call.eoi_closes_at) if call.eoi_closes_at else ""), code="closed")
    if phase != "open":
        raise ValidationError(EOI_NOT_OPEN.format(opens=uk_datetime(call.eoi_opens_at) if call.eoi_opens_at else "a later date"),
                              code="not_open")
    errors: dict[str, list[str]] = {}
    if reason := checks.lead_eligibility_problem(call, organisation):
        errors["organisation"] = [reason]
    elif fund_auditor_among_members(call.fund_id, organisation.pk):
        errors["organisation"] = [AUDITOR_IN_ORGANISATION.format(organisation=organisation.name)]
    elif ExpressionOfInterest.objects.filter(call=call, lead_organisation=organisation).exists():
        errors["organisation"] = [EOI_ALREADY_SENT.format(organisation=organisation.name)]
    values = {"title": _clean_text(title), "summary": _clean_text(summary), "problem": _clean_text(problem),
              "partners": _clean_text(partners)}
    for name, message in (("title", EOI_TITLE_NEEDED), ("summary", EOI_SUMMARY_NEEDED), ("problem", EOI_PROBLEM_NEEDED)):
        if not values[name]:
            errors[name] = [message]
    cost = None
    if estimated_cost in (None, ""):
        errors["estimated_cost"] = [EOI_COST_NEEDED]
    else:
        cost_errors: list[str] = []
        cost = _parse_amount(estimated_cost, cost_errors)
        if cost_errors:
            errors["estimated_cost"] = cost_errors
        elif cost is not None and call.max_amount and cost > call.max_amount:
            errors["estimated_cost"] = [EOI_COST_TOO_HIGH.format(max=format_money(call.max_amount))]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        eoi = ExpressionOfInterest(call=call, lead_organisation=organisation, estimated_cost=cost,
                                   submitted_by=actor, submitted_at=now, **values)
        eoi.full_clean(exclude=["call", "lead_organisation", "submitted_by", "decided_by", "bid"])
        try:
            with transaction.atomic():
                eoi.save()
        except IntegrityError:  # a colleague sent one a moment ago
            raise ValidationError({"organisation": EOI_ALREADY_SENT.format(organisation=organisation.name)}) from None
        audit_record(actor=actor, action="eoi.submitted", target=eoi,
                     message=f"Expression of interest sent for {organisation.name}", after=snapshot(eoi, EOI_FIELDS))
    return eoi


def _eoi_shortlist(*, actor: User, eoi: ExpressionOfInterest, action: str, reason: str,
                   now: dt.datetime | None = None) -> ExpressionOfInterest:
    """Shortlisting (``EOI_LIFECYCLE``): checks the actor, locks the row, checks the state and
    the clock, makes the change and tells the organisation's members."""
    require_actor(actor, "applications.shortlist_eois", eoi.call)
    now = now or timezone.now()
    target = EOI_LIFECYCLE.transition(action).target
    reason = _clean_text(reason)
    with transaction.atomic():
        locked = ExpressionOfInterest.objects.select_for_update().select_related("call", "lead_organisation").get(pk=eoi.pk)
        if not EOI_LIFECYCLE.allows(locked.status, action):
            raise ValidationError(EOI_NOT_WAITING.format(status=locked.get_status_display().lower()), code="decided")
        if locked.call.eoi_phase(now) != "closed":
            raise ValidationError(EOI_STILL_OPEN.format(closed=uk_datetime(locked.call.eoi_closes_at) if locked.call.eoi_closes_at else ""), code="still_open")
        if target == EoiStatus.NOT_INVITED and not reason:
            raise ValidationError({"reason": EOI_REASON_NEEDED}, code="required")
        status_label = EoiStatus(target).label.lower()
        EOI_LIFECYCLE.apply(eoi, action, actor=actor, locked=locked,
                            changes={"reason": reason, "decided_by": actor, "decided_at": now},
                            message=f"{locked.lead_organisation.name}: {status_label}"
                                    + (f". Reason: {reason}" if reason else ""))
        # The call's public page counts those invited: its cached copies must be read afresh.
        Call.objects.filter(pk=locked.call_id).update(updated_at=timezone.now())
        call = locked.call
        if target == EoiStatus.INVITED:
            subject = f"You are invited to bid: {call.title}"
            body = (f"Your expression of interest “{locked.title}” has been shortlisted. {locked.lead_organisation.name} "
                    f"is invited to write a full bid, which opens on {uk_datetime(call.opens_at)} and closes on "
                    f"{uk_datetime(call.closes_at)}. Your answers are carried forward into the bid."
                    + (f"\n\n{reason}" if reason else ""))
        else:
            subject = f"Your expression of interest was not shortlisted: {call.title}"
            body = (f"Thank you for your expression of interest “{locked.title}”. It has not been shortlisted, so "
                    f"{locked.lead_organisation.name} is not invited to write a full bid.\n\nFeedback: {reason}")
        for user in organisation_member_users(locked.lead_organisation_id):
            notify(user=user, subject=subject, body=body, link=locked.get_absolute_url())
    eoi.refresh_from_db()
    return eoi


def eoi_invite(*, actor: User, eoi: ExpressionOfInterest, reason: str = "", now: dt.datetime | None = None) -> ExpressionOfInterest:
    """Shortlist: the organisation may start the full bid once the call opens."""
    return _eoi_shortlist(actor=actor, eoi=eoi, action="invite", reason=reason, now=now)


def eoi_decline(*, actor: User, eoi: ExpressionOfInterest, reason: str, now: dt.datetime | None = None) -> ExpressionOfInterest:
    """Not shortlisted, with the reason the organisation reads as feedback."""
    return _eoi_shortlist(actor=actor, eoi=eoi, action="decline", reason=reason, now=now)


# A copy of the bid as a PDF ---------------------------------------------------------------------


def bid_content_version(bid: Bid) -> str:
    """What the bid's copy depends on: its status and each section's version."""
    versions = sum(BidSectionState.objects.filter(bid=bid).values_list("version", flat=True))
    return f"{bid.status}-{versions}"


def bid_pdf_current(bid: Bid) -> BidPdf | None:
    """The copy of the bid as it stands now, if one has been asked for."""
    return BidPdf.objects.filter(bid=bid, content_version=bid_content_version(bid)).first()


def bid_pdf_request(*, actor: User, bid: Bid) -> BidPdf:
    """Ask a worker for a PDF of the bid as it stands (or again, after a failure). Anyone who
    may read the bid may ask: the copy holds what the bid's page shows, no more."""
    require_actor(actor, "applications.view_bid", bid)
    with transaction.atomic():
        locked = _lock(bid)
        version = bid_content_version(locked)
        pdf = BidPdf.objects.select_for_update().filter(bid=locked, content_version=version).first()
        if pdf is not None and pdf.status != PdfStatus.FAILED:
            return pdf
        if pdf is None:
            pdf = BidPdf.objects.create(bid=locked, content_version=version, requested_by=actor)
        else:
            BID_PDF_LIFECYCLE.apply(pdf, "ask_again", actor=actor, locked=pdf, clean=False,
                                    changes={"error": "", "requested_by": actor, "requested_at": timezone.now()})
        audit_record(actor=actor, action="bid.pdf_requested", target=locked,
                     message=f"PDF copy of {locked.reference} asked for", after={"version": version})
        outbox_enqueue("applications.tasks.generate_bid_pdf", pdf.pk)
    return pdf


def bid_pdf_generate(*, pdf_id: int) -> BidPdf | None:
    """Render and store one copy: queued → running → ready, or failed. Safe to run twice."""
    from django.core.files.base import ContentFile

    from .documents import render_bid_pdf

    with transaction.atomic():
        pdf = BidPdf.objects.select_for_update().filter(pk=pdf_id).first()
        if pdf is None or pdf.status == PdfStatus.READY:
            return pdf
        BID_PDF_LIFECYCLE.apply(pdf, "start", actor=None, locked=pdf, clean=False, changes={"error": ""})
    try:
        content = render_bid_pdf(pdf.bid)
    except Exception as exc:  # recorded, and can be asked for again
        with transaction.atomic():
            pdf = BidPdf.objects.select_for_update().get(pk=pdf_id)
            if BID_PDF_LIFECYCLE.allows(pdf.status, "fail"):  # not if another run made it meanwhile
                BID_PDF_LIFECYCLE.apply(pdf, "fail", actor=None, locked=pdf, clean=False,
                                        changes={"error": f"{type(exc).__name__}: {exc}"[:2000]})
        return pdf
    with transaction.atomic():
        pdf = BidPdf.objects.select_for_update().select_related("bid").get(pk=pdf_id)
        if pdf.status == PdfStatus.READY:
            return pdf
        pdf.file.save(f"{pdf.bid.reference}.pdf", ContentFile(content), save=False)
        BID_PDF_LIFECYCLE.apply(pdf, "finish", actor=None, locked=pdf, clean=False,
                                changes={"ready_at": timezone.now()}, recorded=())
    return pdf


# The bid team: invitations, comments and partners' sign-off ---------------------------------------

TEAM_INVITATION_DAYS = 14


def _bid_organisations(bid: Bid) -> dict[int, Organisation]:
    orgs = {bid.lead_organisation_id: bid.lead_organisation}
    for partner in bid.partners.select_related("organisation"):
        orgs[partner.organisation_id] = partner.organisation
    return orgs


def partners_not_signed_off(bid: Bid) -> list[Organisation]:
    """The partner organisations (not the lead) that have not signed off, when the call asks."""
    if not bid.call.partner_sign_off_required:
        return []
    signed = set(PartnerSignOff.objects.filter(bid=bid).values_list("organisation_id", flat=True))
    return [p.organisation for p in bid.partners.select_related("organisation")
            if p.organisation_id != bid.lead_organisation_id and p.organisation_id not in signed]


@transaction.atomic
def bid_team_invite(*, actor: User, bid: Bid, email: str, organisation: Organisation | None, role: str,
                    sections: Iterable[str] = (), now: dt.datetime | None = None) -> BidCollaborator:
    """The bid lead invites a colleague or a partner's contact by email, with a role and
    optionally the sections they are responsible for. The invitation expires after two weeks."""
    require_actor(actor, "applications.manage_team", bid)
    now = now or timezone.now()
    locked = _lock(bid)
    _check_changeable(locked, now)
    email = (email or "").strip().lower()
    sections = [s for s in sections if s]
    errors: dict[str, str] = {}
    if not email or "@" not in email:
        errors["email"] = TEAM_EMAIL_NEEDED
    if role not in TeamRole.values:
        errors["role"] = TEAM_ROLE_NEEDED
    if organisation is None or organisation.pk not in _bid_organisations(locked):
        errors["organisation"] = TEAM_ORGANISATION_NEEDED
    if any(s not in BidSection.values for s in sections):
        errors["sections"] = TEAM_SECTIONS_UNKNOWN
    if not errors.get("email") and BidCollaborator.objects.filter(bid=locked, email=email).exclude(
            state=InvitationState.REVOKED).exists():
        errors["email"] = TEAM_ALREADY_INVITED.format(email=email)
    if errors or organisation is None:
        raise ValidationError(errors, code="invalid")
    member = BidCollaborator.objects.create(
        bid=locked, email=email, organisation=organisation, role=role, sections=sections, invited_by=actor,
        invited_at=now, expires_at=now + dt.timedelta(days=TEAM_INVITATION_DAYS))
    audit_record(actor=actor, action="bid.team_invited", target=locked,
                 after={"email": email, "role": role, "organisation": organisation.name, "sections": sections},
                 message=f"{email} invited to the bid team ({member.get_role_display().lower()})")
    link = reverse("applications:team_join", args=[member.token])
    invitee = User.objects.filter(email__iexact=email, is_active=True).first()
    body = (f"{actor.full_name} has invited you to work on the bid \u201c{locked.title}\u201d ({locked.reference}) "
            f"for {organisation.name}, as {member.get_role_display().lower()}"
            + (f", responsible for: {', '.join(member.section_labels)}" if member.section_labels else "")
            + f". The invitation expires on {uk_datetime(member.expires_at)}.")
    if invitee is not None:
        notify(user=invitee, subject=f"Join the team for bid {locked.reference}", body=body, link=link)
    else:
        outbox_enqueue("applications.tasks.send_team_invitation", member.pk)
    return member


@transaction.atomic
def bid_team_join(*, actor: User, token: str, now: dt.datetime | None = None) -> BidCollaborator:
    """The invitee, signed in with the invited email address, joins the bid team."""
    now = now or timezone.now()
    member = BidCollaborator.objects.select_for_update().select_related("bid").filter(token=token).first()
    if member is None or member.state == InvitationState.REVOKED:
        raise ValidationError(TEAM_INVITATION_USED, code="used")
    if member.state == InvitationState.ACCEPTED:
        if member.user_id == actor.pk:
            return member
        raise ValidationError(TEAM_INVITATION_USED, code="used")
    if member.is_expired(now):
        raise ValidationError(TEAM_INVITATION_EXPIRED, code="expired")
    if actor.email.lower() != member.email.lower():
        raise ValidationError(TEAM_INVITATION_OTHER_ACCOUNT.format(email=actor.email), code="other_account")
    member.state, member.user, member.accepted_at = InvitationState.ACCEPTED, actor, now
    member.save(update_fields=["state", "user", "accepted_at"])
    audit_record(actor=actor, action="bid.team_joined", target=member.bid,
                 message=f"{actor.full_name} joined the bid team ({member.get_role_display().lower()})")
    return member


@transaction.atomic
def bid_team_remove(*, actor: User, member: BidCollaborator) -> BidCollaborator:
    require_actor(actor, "applications.manage_team", member.bid)
    locked = BidCollaborator.objects.select_for_update().get(pk=member.pk)
    if locked.state == InvitationState.REVOKED:
        return locked
    locked.state = InvitationState.REVOKED
    locked.save(update_fields=["state"])
    audit_record(actor=actor, action="bid.team_removed", target=member.bid, message=f"{locked.email} removed from the bid team")
    return locked


@transaction.atomic
def bid_comment_add(*, actor: User, bid: Bid, section: str, body: str, now: dt.datetime | None = None) -> BidSectionComment:
    """A comment on a section, for the bid team only (never assessors: see visibility)."""
    require_actor(actor, "applications.comment_bid", bid)
    body = (body or "").strip()
    if section not in BidSection.values:
        raise ValidationError({"section": TEAM_SECTIONS_UNKNOWN})
    if not body:
        raise ValidationError({"body": COMMENT_NEEDED}, code="required")
    comment = BidSectionComment.objects.create(bid=bid, section=section, author=actor, body=body,
                                               created_at=now or timezone.now())
    audit_record(actor=actor, action="bid.commented", target=bid,
                 message=f"Comment on {BidSection(section).label} (kept with the bid team)")
    return comment


def sign_off_organisations(user: User, bid: Bid) -> list[Organisation]:
    """The partner organisations the person may sign off for: those they joined the team for,
    or belong to (and are on the team)."""
    if not user.is_authenticated:
        return []
    partners = {p.organisation_id: p.organisation for p in bid.partners.select_related("organisation")
                if p.organisation_id != bid.lead_organisation_id}
    mine = set(BidCollaborator.objects.filter(bid=bid, user=user, state=InvitationState.ACCEPTED)
               .values_list("organisation_id", flat=True))
    if mine:
        mine |= set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
    return [org for org_id, org in partners.items() if org_id in mine]


@transaction.atomic
def bid_partner_sign_off(*, actor: User, bid: Bid, organisation: Organisation, now: dt.datetime | None = None) -> PartnerSignOff:
    """A partner organisation's contact on the bid team signs off its part."""
    require_actor(actor, "applications.sign_off_bid", bid)
    now = now or timezone.now()
    locked = _lock(bid)
    _check_changeable(locked, now)
    if organisation.pk not in {o.pk for o in sign_off_organisations(actor, locked)}:
        raise ValidationError({"organisation": SIGN_OFF_NOT_PARTNER}, code="not_partner")
    if PartnerSignOff.objects.filter(bid=locked, organisation=organisation).exists():
        raise ValidationError({"organisation": SIGN_OFF_ALREADY.format(organisation=organisation.name)}, code="already")
    sign_off = PartnerSignOff.objects.create(bid=locked, organisation=organisation, signed_by=actor, signed_at=now)
    audit_record(actor=actor, action="bid.partner_signed_off", target=locked,
                 after={"organisation": organisation.name}, message=f"{organisation.name} signed off its part")
    for lead in lead_org_members(locked):
        notify(user=lead, subject=f"{organisation.name} signed off bid {locked.reference}",
               body=f"{actor.full_name} signed off {organisation.name}'s part of \u201c{locked.title}\u201d.",
               link=locked.get_absolute_url())
    return sign_off


def lead_org_members(bid: Bid) -> list[User]:
    return list(User.objects.filter(memberships__organisation_id=bid.lead_organisation_id, is_active=True).distinct())


def team_invitation_email_send(*, member_id: int) -> bool:
    """Email the invitation to an address with no account (they register, then follow the link)."""
    from django.conf import settings
    from django.core.mail import send_mail

    member = BidCollaborator.objects.select_related("bid", "organisation", "invited_by").filter(
        pk=member_id, state=InvitationState.PENDING).first()
    if member is None:
        return False
    link = f"{settings.SITE_URL}{reverse('applications:team_join', args=[member.token])}"
    send_mail(f"Join the team for bid {member.bid.reference}",
              f"{member.invited_by.full_name} has invited you to work on the bid \u201c{member.bid.title}\u201d for "
              f"{member.organisation.name}. Create an account with this email address, then open:\n\n{link}\n\n"
              f"The invitation expires on {uk_datetime(member.expires_at)}.",
              settings.DEFAULT_FROM_EMAIL, [member.email])
    return True
