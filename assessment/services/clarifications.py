"""Clarification questions to the applicant: asked by the bid's assessors or chair, answered
once by the applicant (with an optional file, virus-scanned)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from applications.models import Bid, BidStatus
from applications.selectors import lead_org_member_users
from governance import uploads
from governance.access import require_actor
from governance.audit import audit_record
from governance.models import User
from governance.outbox import outbox_enqueue
from governance.services import notify

from ..messages import (
    ALREADY_REPLIED,
    BID_DECIDED,
    QUESTION_NEEDED,
    REPLY_BY_IN_PAST,
    REPLY_BY_NEEDED,
    REPLY_BY_TOO_LATE,
    REPLY_NEEDED,
    REPLY_TOO_LATE,
)
from ..models import Clarification, PanelDecision
from ._shared import _require_in_assessment

# Clarification questions to the applicant ----------------------------------------------------------


def _require_open_for_questions(bid: Bid) -> None:
    _require_in_assessment(bid.call)
    if bid.status != BidStatus.IN_ASSESSMENT or PanelDecision.objects.filter(bid=bid).exists():
        raise ValidationError(BID_DECIDED, code="decided")


@transaction.atomic
def clarification_ask(
    *,
    actor: User,
    bid: Bid,
    question: str,
    reply_by: dt.date | None,
    now: dt.datetime | None = None,
) -> Clarification:
    """An assessor of the bid (with no conflict) or its chair asks the applicant a question, with
    a date to reply by. The applicant's organisation is told; scoring waits for the reply."""
    require_actor(actor, "assessment.ask_clarification", bid)
    now = now or timezone.now()
    today = timezone.localdate(now)
    locked = Bid.objects.select_for_update().select_related("call__fund").get(pk=bid.pk)
    _require_open_for_questions(locked)
    question = (question or "").strip()
    errors: dict[str, list[str]] = {}
    if not question:
        errors["question"] = [QUESTION_NEEDED]
    if reply_by is None:
        errors["reply_by"] = [REPLY_BY_NEEDED]
    elif reply_by < today:
        errors["reply_by"] = [REPLY_BY_IN_PAST]
    elif reply_by > today + dt.timedelta(weeks=8):
        errors["reply_by"] = [REPLY_BY_TOO_LATE]
    if errors or reply_by is None:
        raise ValidationError(errors)
    clarification = Clarification.objects.create(
        bid=locked, question=question, reply_by=reply_by, asked_by=actor, asked_at=now
    )
    audit_record(
        actor=actor,
        action="clarification.asked",
        target=locked,
        fund=locked.call.fund,
        message=f"Clarification asked, reply by {reply_by:%-d %B %Y}: {question[:300]}",
        after={
            "clarification": clarification.pk,
            "question": question,
            "reply_by": reply_by.isoformat(),
        },
    )
    for user in lead_org_member_users(locked):
        notify(
            user=user,
            subject=f"A question from the panel about {locked.reference}",
            body=(
                f"The panel assessing bid {locked.reference} asks:\n\n{question}\n\n"
                f"Please reply through the portal by {reply_by:%-d %B %Y}."
            ),
            link=locked.get_absolute_url(),
        )
    return clarification


@transaction.atomic
def clarification_reply(
    *,
    actor: User,
    clarification: Clarification,
    reply: str,
    upload: File[Any] | None = None,
    now: dt.datetime | None = None,
) -> Clarification:
    """The applicant replies once, in text with an optional file (the one upload pipeline). The
    reply goes to the panel with the bid; whoever asked is told."""
    require_actor(actor, "assessment.reply_clarification", clarification)
    now = now or timezone.now()
    locked = (
        Clarification.objects.select_for_update()
        .select_related("bid__call__fund", "asked_by")
        .get(pk=clarification.pk)
    )
    bid = locked.bid
    _require_open_for_questions(bid)
    if locked.answered:
        raise ValidationError(ALREADY_REPLIED, code="answered")
    if locked.is_lapsed(timezone.localdate(now)):
        raise ValidationError(
            REPLY_TOO_LATE.format(date=f"{locked.reply_by:%-d %B %Y}"), code="late"
        )
    reply = (reply or "").strip()
    errors: dict[str, list[str]] = {}
    if not reply:
        errors["reply"] = [REPLY_NEEDED]
    checked = None
    if upload is not None:
        try:
            checked = uploads.check(upload, policy=uploads.BID_ATTACHMENT, field="attachment")
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    locked.reply, locked.replied_by, locked.replied_at = reply, actor, now
    fields = ["reply", "replied_by", "replied_at"]
    if checked is not None:
        locked.attachment.save(checked.storage_name, checked.upload, save=False)
        locked.attachment_name = checked.original_name or "attachment"
        locked.attachment_type = checked.file_type.content_type
        locked.attachment_size, locked.attachment_sha256 = checked.size, checked.sha256
        locked.attachment_scan_status = uploads.initial_scan_status()
        fields += [
            "attachment",
            "attachment_name",
            "attachment_type",
            "attachment_size",
            "attachment_sha256",
            "attachment_scan_status",
        ]
    locked.save(update_fields=fields)
    audit_record(
        actor=actor,
        action="clarification.answered",
        target=bid,
        fund=bid.call.fund,
        message=f"Clarification answered: {reply[:300]}",
        after={
            "clarification": locked.pk,
            "reply": reply,
            **(
                {"file": locked.attachment_name, "sha256": locked.attachment_sha256}
                if checked
                else {}
            ),
        },
    )
    if checked is not None and locked.attachment_scan_status == uploads.ScanStatus.AWAITING:
        outbox_enqueue("assessment.tasks.scan_clarification_attachment", locked.pk)
    notify(
        user=locked.asked_by,
        subject=f"The applicant has replied about {bid.reference}",
        body=f"{bid.lead_organisation.name} has replied to your question on bid {bid.reference}.",
        link=bid.get_absolute_url(),
    )
    clarification.refresh_from_db()
    return clarification


def clarification_attachment_scan(*, clarification_id: int) -> str | None:
    """Scan a reply's file awaiting its virus scan: available or quarantined. Safe to run twice."""
    found = Clarification.objects.filter(
        pk=clarification_id, attachment_scan_status=uploads.ScanStatus.AWAITING
    ).first()
    if found is None:
        return None
    signature = uploads.scan_file(found.attachment)
    with transaction.atomic():
        locked = (
            Clarification.objects.select_for_update()
            .select_related("bid__call__fund")
            .get(pk=clarification_id)
        )
        if locked.attachment_scan_status != uploads.ScanStatus.AWAITING:
            return None
        locked.attachment_scan_status = (
            uploads.ScanStatus.QUARANTINED if signature else uploads.ScanStatus.AVAILABLE
        )
        locked.save(update_fields=["attachment_scan_status"])
        audit_record(
            actor=None,
            action="clarification.file_scanned",
            target=locked.bid,
            fund=locked.bid.call.fund,
            message=f"{locked.attachment_name[:100]}: {'virus found, quarantined' if signature else 'no virus found'}",
        )
    return locked.attachment_scan_status
