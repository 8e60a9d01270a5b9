"""Conditions of an award: what holds back which payment (``ConditionSpec``), the grantee's
evidence and its virus scan, the fund manager's review (sign off, waive, send back), a
condition's due date and held payment, and each fund's standard conditions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from governance import uploads
from governance.access import require_actor
from governance.audit import audit_record, snapshot, to_json
from governance.models import Fund, User
from governance.outbox import outbox_enqueue

from ..lifecycle import CONDITION_LIFECYCLE, CONDITION_NOT_OPEN
from ..messages import (
    AWARD_ENDED,
    CONDITION_PAYMENT_PAID,
    CONDITION_PAYMENT_UNKNOWN,
    EVIDENCE_NOT_SCANNED,
    EVIDENCE_QUARANTINED,
    NO_EVIDENCE_TO_SIGN_OFF,
    NOT_RECIPIENT,
    NOTE_MISSING,
    TEMPLATE_TITLE_TAKEN,
)
from ..models import (
    COMMITTING_STATUSES,
    Award,
    AwardCondition,
    ConditionStatus,
    ConditionTemplate,
    Instalment,
    InstalmentStatus,
)
from ..selectors import is_recipient_member
from ._shared import (
    _condition_schedule_errors,
    _date,
    _lock_award,
    _notify_manager,
    _notify_recipient,
    _status_label,
    _tell_grantee,
)

# Evidence goes through the upload pipeline every upload uses (governance.uploads), with its messages.
EVIDENCE_MISSING = uploads.FILE_NEEDED
EVIDENCE_TOO_LARGE = uploads.FILE_TOO_LARGE
EVIDENCE_EMPTY = uploads.FILE_EMPTY
EVIDENCE_WRONG_TYPE = uploads.CONDITION_EVIDENCE.type_message


FIRST_PAYMENT = "first"
NO_PAYMENT = "none"


@dataclass(frozen=True)
class ConditionSpec:
    """A condition to attach to an award when it is issued.

    ``holds_back``: which payment waits for it: ``"first"`` (or True) the first payment, and so
    every payment; ``"none"`` (or False/None) none; ``"2027-1"`` (or ``(2027, 1)``) the instalment of
    that financial year and quarter, and every later one. ``due_date``: when it must be met by."""

    title: str
    description: str = ""
    holds_back: bool | str | tuple[Any, Any] | None = FIRST_PAYMENT
    due_date: dt.date | None = None

    @property
    def held_key(self) -> str | tuple[int, int] | tuple[str, str] | None:
        return holds_back_key(self.holds_back)


def holds_back_key(value: Any) -> str | tuple[int, int] | tuple[str, str] | None:
    """``"first"``, None (no payment) or (year, quarter) from what a form or a caller gives."""
    if value is True or value == FIRST_PAYMENT:
        return FIRST_PAYMENT
    if value in (False, None, "", NO_PAYMENT):
        return None
    if isinstance(value, tuple):
        return int(value[0]), int(value[1])
    year, _, quarter = str(value).partition("-")
    try:
        return int(year), int(quarter)
    except ValueError:
        return ("invalid", str(value))  # reported as an error by whoever checks it


def _require_live(award: Award) -> None:
    if award.status not in COMMITTING_STATUSES:
        raise ValidationError(
            AWARD_ENDED, code="award_ended", params={"status": _status_label(award.status)}
        )


def _lock_condition(condition: AwardCondition) -> AwardCondition:
    return AwardCondition.objects.select_for_update().select_related("award").get(pk=condition.pk)


@transaction.atomic
def condition_evidence_submit(
    *, actor: User, condition: AwardCondition, upload: File[Any] | None, note: str = ""
) -> AwardCondition:
    """The grantee sends evidence that a condition is met; a fund manager then signs it off.

    The file goes through the upload pipeline (content, type, macros, archives, size); a new
    file replaces the last one, which is deleted once this is committed. With a virus scanner
    set up, the evidence waits for its scan before anyone can open or sign it off.
    """
    condition = _lock_condition(condition)
    award = condition.award
    _require_live(award)
    if actor is None or not is_recipient_member(actor, award):
        raise ValidationError(
            NOT_RECIPIENT, code="not_recipient", params={"organisation": award.recipient.name}
        )
    CONDITION_LIFECYCLE.require_state(condition, "submit_evidence")
    checked = uploads.check(upload, policy=uploads.CONDITION_EVIDENCE)
    superseded = condition.evidence.name or None
    condition.evidence.save(checked.storage_name, checked.upload, save=False)
    stored = condition.evidence.name
    try:
        CONDITION_LIFECYCLE.apply(
            condition,
            "submit_evidence",
            actor=actor,
            locked=condition,
            clean=False,
            changes={
                "evidence_name": checked.original_name or "evidence",
                "evidence_content_type": checked.file_type.content_type,
                "evidence_size": checked.size,
                "evidence_note": (note or "").strip(),
                "evidence_submitted_at": timezone.now(),
                "evidence_scan_status": uploads.initial_scan_status(),
                "evidence_scan_signature": "",
                "review_note": "",
            },
            recorded=(
                "status",
                "evidence_name",
                "evidence_content_type",
                "evidence_size",
                "evidence_scan_status",
            ),
            audit_after={"sha256": checked.sha256},
            message=f'Evidence sent for "{condition.title}"',
        )
        _notify_manager(
            award,
            f"Evidence to review: {award.reference}",
            f'{award.recipient.name} sent evidence for the condition "{condition.title}".',
        )
    except Exception:
        if stored:
            condition.evidence.storage.delete(stored)
        raise
    uploads.delete_after_commit(condition.evidence.storage, superseded)
    if condition.evidence_scan_status == uploads.ScanStatus.AWAITING:
        from ..tasks import scan_condition_evidence

        outbox_enqueue(scan_condition_evidence, condition.pk)
    return condition


def condition_evidence_scan(*, condition_id: int) -> str | None:
    """Scan evidence awaiting its virus scan and record the result: available, or quarantined
    (the grantee who sent it is told, the condition stays open to a clean copy). Safe to run
    twice; returns the new status, or None if there was nothing to do. Raises if clamd could not
    scan it (the task tries again later)."""
    condition = AwardCondition.objects.filter(
        pk=condition_id, evidence_scan_status=uploads.ScanStatus.AWAITING
    ).first()
    if condition is None or not condition.evidence:
        return None
    scanned_name = condition.evidence.name
    signature = uploads.scan_file(condition.evidence)
    with transaction.atomic():
        locked = (
            AwardCondition.objects.select_for_update()
            .select_related("award", "award__recipient")
            .filter(pk=condition_id)
            .first()
        )
        if (
            locked is None
            or locked.evidence_scan_status != uploads.ScanStatus.AWAITING
            or locked.evidence.name != scanned_name
        ):
            return None
        before = snapshot(locked, ("evidence_scan_status",))
        locked.evidence_scan_status = (
            uploads.ScanStatus.QUARANTINED if signature else uploads.ScanStatus.AVAILABLE
        )
        locked.evidence_scan_signature = (signature or "")[:200]
        locked.save(update_fields=["evidence_scan_status", "evidence_scan_signature"])
        award = locked.award
        if signature:
            audit_record(
                actor=None,
                action="condition.evidence_quarantined",
                target=locked,
                before=before,
                after={
                    **snapshot(locked, ("evidence_scan_status", "evidence_name")),
                    "signature": signature,
                },
                message=f'A virus was found in the evidence for "{locked.title}": it is quarantined',
            )
            _notify_recipient(
                award,
                f"A virus was found in your evidence for {award.reference}",
                f"The virus scanner found {signature} in {locked.evidence_name}, sent for the condition "
                f'"{locked.title}", so nobody can open it. Send a clean copy.',
            )
        else:
            audit_record(
                actor=None,
                action="condition.evidence_scanned",
                target=locked,
                before=before,
                after=snapshot(locked, ("evidence_scan_status", "evidence_name")),
                message=f'Evidence for "{locked.title}" scanned: no virus found',
            )
    return locked.evidence_scan_status


def _review_condition(
    condition: AwardCondition,
    action: str,
    *,
    actor: User,
    note: str,
    note_required: bool,
    signs_off: bool,
) -> AwardCondition:
    """Sign off, waive or send back a condition (its row locked, the actor's permission checked)
    with the fund manager's note, while its award is live."""
    _require_live(condition.award)
    CONDITION_LIFECYCLE.require_state(condition, action)
    note = (note or "").strip()
    if note_required and not note:
        raise ValidationError({"note": ValidationError(NOTE_MISSING, code="note_missing")})
    changes: dict[str, Any] = {"review_note": note}
    if signs_off:
        changes.update(signed_off_by=actor, signed_off_at=timezone.now())
    verb = CONDITION_LIFECYCLE.transition(action).verb
    return CONDITION_LIFECYCLE.apply(
        condition,
        action,
        actor=actor,
        locked=condition,
        clean=False,
        changes=changes,
        recorded=("status", "review_note"),
        message=f'Condition "{condition.title}" {verb}',
    )


@transaction.atomic
def condition_sign_off(*, actor: User, condition: AwardCondition, note: str = "") -> AwardCondition:
    """A fund manager confirms the evidence shows the condition is met."""
    CONDITION_LIFECYCLE.require_permission(condition, "sign_off", actor)
    locked = _lock_condition(condition)
    if locked.status == ConditionStatus.OPEN:
        raise ValidationError(NO_EVIDENCE_TO_SIGN_OFF, code="no_evidence")
    if locked.status == ConditionStatus.EVIDENCE_SUBMITTED and locked.evidence:
        if locked.evidence_scan_status == uploads.ScanStatus.AWAITING:
            raise ValidationError(EVIDENCE_NOT_SCANNED, code="evidence_not_scanned")
        if locked.evidence_scan_status == uploads.ScanStatus.QUARANTINED:
            raise ValidationError(EVIDENCE_QUARANTINED, code="evidence_quarantined")
    condition = _review_condition(
        locked, "sign_off", actor=actor, note=note, note_required=False, signs_off=True
    )
    _tell_grantee(
        "condition_met",
        condition.award,
        about=condition,
        values={"condition_title": condition.title},
    )
    return condition


@transaction.atomic
def condition_waive(*, actor: User, condition: AwardCondition, note: str) -> AwardCondition:
    CONDITION_LIFECYCLE.require_permission(condition, "waive", actor)
    return _review_condition(
        _lock_condition(condition),
        "waive",
        actor=actor,
        note=note,
        note_required=True,
        signs_off=True,
    )


@transaction.atomic
def condition_return(*, actor: User, condition: AwardCondition, note: str) -> AwardCondition:
    """Send the evidence back: the condition is open again, with the manager's note."""
    CONDITION_LIFECYCLE.require_permission(condition, "send_back", actor)
    condition = _review_condition(
        _lock_condition(condition),
        "send_back",
        actor=actor,
        note=note,
        note_required=True,
        signs_off=False,
    )
    _notify_recipient(
        condition.award,
        f"More evidence needed: {condition.award.reference}",
        f'The evidence for "{condition.title}" was sent back: {condition.review_note}',
    )
    return condition


@transaction.atomic
def condition_template_create(
    *,
    actor: User,
    fund: Fund,
    title: str,
    description: str,
    for_digital: bool = False,
    pre_start: bool = True,
) -> ConditionTemplate:
    """A fund manager adds a standard condition for their fund."""
    require_actor(actor, "awards.manage_conditions", fund)
    template = ConditionTemplate(
        fund=fund,
        title=(title or "").strip(),
        description=(description or "").strip(),
        for_digital=for_digital,
        pre_start=pre_start,
    )
    template.full_clean()
    if ConditionTemplate.objects.filter(fund=fund, title__iexact=template.title).exists():
        raise ValidationError({"title": ValidationError(TEMPLATE_TITLE_TAKEN, code="title_taken")})
    template.save()
    audit_record(
        actor=actor,
        action="condition_template.created",
        target=template,
        fund=fund,
        after=snapshot(template, ("title", "for_digital", "pre_start")),
    )
    return template


@transaction.atomic
def condition_schedule_set(
    *, actor: User, condition: AwardCondition, due_date: dt.date | None, holds_back: Any
) -> AwardCondition:
    """Set a condition's due date and the payment it holds back (``holds_back`` as in ``ConditionSpec``).

    Only a scheduled instalment can be held back; the condition must still be outstanding."""
    require_actor(actor, "awards.manage_award", condition.award)
    award = _lock_award(condition.award)
    _require_live(award)
    condition = _lock_condition(condition)
    if condition.status not in (ConditionStatus.OPEN, ConditionStatus.EVIDENCE_SUBMITTED):
        raise ValidationError(
            CONDITION_NOT_OPEN,
            code="condition_not_open",
            params={"status": condition.get_status_display().lower(), "action": "changed"},
        )
    key = holds_back_key(holds_back)
    instalments = list(
        award.instalments.exclude(status=InstalmentStatus.CANCELLED).order_by(
            "financial_year", "quarter"
        )
    )
    by_quarter: dict[object, Instalment] = {(i.financial_year, i.quarter): i for i in instalments}
    held = (
        (instalments[0] if instalments else None)
        if key == FIRST_PAYMENT
        else by_quarter.get(key)
        if key
        else None
    )
    errors: dict[str, list[ValidationError]] = defaultdict(list)
    if isinstance(key, tuple) and held is None:
        errors["holds_back"].append(
            ValidationError(
                CONDITION_PAYMENT_UNKNOWN,
                code="condition_payment_unknown",
                params={"title": condition.title},
            )
        )
    elif (
        held is not None
        and held.status != InstalmentStatus.SCHEDULED
        and held != condition.holds_back
    ):
        errors["holds_back"].append(
            ValidationError(
                CONDITION_PAYMENT_PAID, code="condition_payment_paid", params={"label": held.label}
            )
        )
    errors["due_date"].extend(
        _condition_schedule_errors(
            condition.title, None, due_date, quarters=[], end_date=award.end_date
        )
    )
    errors = {k: v for k, v in errors.items() if v}
    if errors:
        raise ValidationError(errors)
    before = {
        "due_date": to_json(condition.due_date),
        "holds_back": _held_label(condition.holds_back),
    }
    condition.due_date = due_date
    condition.holds_back = held
    condition.save(update_fields=["due_date", "holds_back"])
    after = {"due_date": to_json(due_date), "holds_back": _held_label(held)}
    if before != after:
        audit_record(
            actor=actor,
            action="condition.schedule_changed",
            target=condition,
            before=before,
            after=after,
            message=f'Condition "{condition.title}": due {_date(due_date) if due_date else "with no date"}, '
            f"holds back {_held_label(held)}",
        )
    return condition


def _held_label(instalment: Instalment | None) -> str:
    return f"the {instalment.label} payment" if instalment is not None else "no payment"
