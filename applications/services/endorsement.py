"""Endorsement by the commissioner: asking for it, the commissioner endorsing or declining,
and a fund manager recording an endorsement given outside the portal, with its evidence."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance import uploads
from governance.access import require_actor
from governance.audit import audit_record, snapshot
from governance.models import User
from governance.outbox import outbox_enqueue
from governance.services import notify
from governance.uploads import ScanStatus

from ..checks import uk_datetime
from ..lifecycle import clean_bid as _clean_bid
from ..messages import (
    DECLINE_NEEDS_COMMENT,
    ENDORSEMENT_ALREADY_ASKED,
    ENDORSEMENT_ALREADY_RECORDED,
    ENDORSEMENT_BID_NOT_DRAFT,
    ENDORSEMENT_EVIDENCE_MISSING,
    ENDORSEMENT_NEEDS_COMMISSIONER,
    ENDORSEMENT_NOT_PENDING,
    ENDORSEMENT_NOT_REQUIRED,
    ENDORSER_NAME_MISSING,
)
from ..models import Attachment, Bid, BidStatus, EndorsementStatus
from ..selectors import commissioner_users, fund_manager_users, lead_org_member_users
from ._shared import _check_changeable, _clean_text, _is_member, _lock, _require_lead_member
from .attachments import check_upload

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
        locked.save(
            update_fields=[
                "endorsement_status",
                "endorsement_comment",
                "endorsed_by",
                "endorsed_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="bid.endorsement_requested",
            target=locked,
            before=before,
            after=snapshot(locked, ("endorsement_status", "commissioner")),
            message=f"Endorsement asked of {locked.commissioner.name}",
        )
        link = reverse("applications:bid_endorse", kwargs={"pk": locked.pk})
        if not commissioner_users(locked).exists():
            _tell_managers_no_endorser(locked)
        for user in commissioner_users(locked):
            notify(
                user=user,
                subject=f"Bid {locked.reference} needs your endorsement",
                body=(
                    f"{locked.lead_organisation.name} asks {locked.commissioner.name} to endorse its bid "
                    f"\u201c{locked.title}\u201d to {locked.call.title}. The call closes on "
                    f"{uk_datetime(locked.call.closes_at)}."
                ),
                link=link,
            )
    bid.refresh_from_db()
    return bid


def _tell_managers_no_endorser(bid: Bid) -> None:
    """Nobody on the portal can endorse for the named commissioner: the fund's managers are told,
    so they can reach the commissioner and record an endorsement received outside the portal."""
    if bid.commissioner is None:  # only sent for a named commissioner
        return
    link = reverse("applications:endorsement_record", kwargs={"pk": bid.pk})
    for user in fund_manager_users(bid):
        notify(
            user=user,
            subject=f"Bid {bid.reference}: {bid.commissioner.name} has no one on the portal to endorse it",
            body=(
                f"{bid.lead_organisation.name} needs {bid.commissioner.name}'s endorsement for \u201c{bid.title}\u201d "
                f"before {uk_datetime(bid.call.closes_at)}, and no one from {bid.commissioner.name} uses the portal. "
                "Ask the commissioner, then record the endorsement they send with its evidence."
            ),
            link=link,
        )


def bid_endorsement_record_offline(
    *,
    actor: User,
    bid: Bid,
    upload: UploadedFile[Any] | None,
    endorsed_by_name: str,
    comment: str = "",
) -> Bid:
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
                raise ValidationError(
                    ENDORSEMENT_BID_NOT_DRAFT,
                    code="not_draft",
                    params={"status": locked.get_status_display().lower()},
                )
            if locked.commissioner is None:
                raise ValidationError(ENDORSEMENT_NEEDS_COMMISSIONER, code="no_commissioner")
            if locked.endorsement_status == EndorsementStatus.ENDORSED:
                raise ValidationError(ENDORSEMENT_ALREADY_RECORDED, code="already_endorsed")
            before = snapshot(locked, ("endorsement_status", "endorsement_comment"))
            attachment = Attachment(
                bid=locked,
                original_name=checked.original_name or "endorsement",
                content_type=checked.file_type.content_type,
                size=checked.size,
                sha256=checked.sha256,
                description=f"Endorsement by {locked.commissioner.name}, received outside the portal"[
                    :200
                ],
                uploaded_by=actor,
                scan_status=uploads.initial_scan_status(),
            )
            attachment.file.save(checked.storage_name, checked.upload, save=False)
            stored_name = attachment.file.name
            attachment.full_clean()
            attachment.save()
            locked.endorsement_status = EndorsementStatus.ENDORSED
            locked.endorsement_comment = _clean_text(
                f"Endorsed outside the portal by {endorsed_by_name}; recorded by {actor.full_name or actor.email} "
                f"with the evidence {attachment.original_name}. {_clean_text(comment)}"
            )
            locked.endorsed_by, locked.endorsed_at = actor, timezone.now()
            locked.save(
                update_fields=[
                    "endorsement_status",
                    "endorsement_comment",
                    "endorsed_by",
                    "endorsed_at",
                    "updated_at",
                ]
            )
            audit_record(
                actor=actor,
                action="bid.endorsement_recorded",
                target=locked,
                before=before,
                after={
                    **snapshot(locked, ("endorsement_status", "endorsement_comment")),
                    "evidence": attachment.original_name,
                    "evidence_sha256": attachment.sha256,
                    "endorsed_by_name": endorsed_by_name,
                },
                message=f"Endorsement by {locked.commissioner.name} received outside the portal, recorded with its evidence",
            )
            if attachment.scan_status == ScanStatus.AWAITING:
                from ..tasks import scan_attachment

                outbox_enqueue(scan_attachment, attachment.pk)
            for user in lead_org_member_users(locked):
                notify(
                    user=user,
                    subject=f"{locked.commissioner.name} endorsed bid {locked.reference}",
                    body=f"The fund manager recorded the endorsement {endorsed_by_name} gave outside the portal.",
                    link=locked.get_absolute_url(),
                )
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
            raise PermissionDenied(
                "Only members of the named commissioning organisation can endorse this bid"
            )
        if (
            locked.status != BidStatus.DRAFT
            or locked.endorsement_status != EndorsementStatus.PENDING
        ):
            raise ValidationError(ENDORSEMENT_NOT_PENDING, code="not_pending")
        before = snapshot(locked, ("endorsement_status",))
        locked.endorsement_status = (
            EndorsementStatus.ENDORSED if endorse else EndorsementStatus.DECLINED
        )
        locked.endorsement_comment = comment
        locked.endorsed_by, locked.endorsed_at = actor, now
        _clean_bid(locked)
        locked.save()
        verb = "endorsed" if endorse else "declined to endorse"
        audit_record(
            actor=actor,
            action="bid.endorsed" if endorse else "bid.endorsement_declined",
            target=locked,
            before=before,
            after=snapshot(locked, ("endorsement_status", "endorsement_comment")),
            message=f"{locked.commissioner.name} {verb} the bid",
        )
        for user in lead_org_member_users(locked):
            notify(
                user=user,
                subject=f"{locked.commissioner.name} {verb} bid {locked.reference}",
                body=f"{actor.full_name} wrote: {comment or '(no comment)'}",
                link=locked.get_absolute_url(),
            )
    bid.refresh_from_db()
    return bid


def bid_endorse(*, actor: User, bid: Bid, comment: str = "") -> Bid:
    return _decide_endorsement(actor=actor, bid=bid, comment=comment, endorse=True)


def bid_endorsement_decline(*, actor: User, bid: Bid, comment: str) -> Bid:
    return _decide_endorsement(actor=actor, bid=bid, comment=comment, endorse=False)
