"""The return's steps after filling in: ``return_submit`` (with ``submission_problems``), then
review: ``return_approve`` (which releases the instalment waiting on the return through the
awards stage) and ``return_send_back``; ``return_payment_release`` tries the release again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from awards.models import Award, Instalment, InstalmentStatus
from awards.services import instalment_release
from governance.audit import audit_record, snapshot
from governance.models import User
from governance.services import notify

from ...models import EDITABLE_RETURN_STATUSES, MonitoringReturn, ReturnStatus
from ...visibility import return_audience
from ..lifecycle import RETURN_LIFECYCLE
from ..messages import (
    COMMENTS_MISSING,
    NO_PAYMENT_WAITING,
    NOT_REVIEWER,
    NOT_SUBMITTABLE,
    NOT_SUBMITTED,
    PERIOD_NOT_ENDED,
    RETURN_APPROVED_LOCKED,
    RETURN_NOT_APPROVED_YET,
    SECTIONS_INCOMPLETE,
)
from ..selectors import (
    award_managers,
    can_submit_from,
    grantee_contacts,
    incomplete_sections,
    instalments_waiting_on,
    period_profile,
    return_spend_total,
    variance_needs_explanation,
)
from ._shared import (
    _date,
    _lock_return,
    _money,
    _period,
    _require_grantee,
    _status_label,
    _variance_error,
)

# Submitting ---------------------------------------------------------------------------------------------


def submission_problems(
    ret: MonitoringReturn, *, today: dt.date | None = None
) -> list[ValidationError]:
    """Why the return cannot be submitted yet (empty when it can). Shown on the check page too."""
    today = today or timezone.localdate()
    problems = []
    if ret.status not in EDITABLE_RETURN_STATUSES:
        problems.append(
            ValidationError(
                NOT_SUBMITTABLE,
                code="not_submittable",
                params={"status": _status_label(ret.status)},
            )
        )
        return problems
    if ret.period_end >= today:
        problems.append(
            ValidationError(
                PERIOD_NOT_ENDED,
                code="period_not_ended",
                params={"from": _date(can_submit_from(ret))},
            )
        )
    missing = incomplete_sections(ret)
    if missing:
        problems.append(
            ValidationError(
                SECTIONS_INCOMPLETE,
                code="sections_incomplete",
                params={"sections": ", ".join(_in_sentence(s.label) for s in missing)},
            )
        )
    elif not ret.spend_variance_explanation:
        total, profile = return_spend_total(ret), period_profile(ret)
        if variance_needs_explanation(total, profile):
            problems.append(_variance_error(total, profile))
    return problems


def _in_sentence(label: str) -> str:
    """A section's label inside a sentence: lower case, but initialisms (RAG) kept."""
    first, _, rest = label.partition(" ")
    word = first if first.isupper() else first.lower()
    return f"{word} {rest}" if rest else word


@transaction.atomic
def return_submit(
    *, actor: User, monitoring_return: MonitoringReturn, today: dt.date | None = None
) -> MonitoringReturn:
    """The grantee submits a complete return once its period has ended: it goes to the fund manager."""
    ret = _lock_return(monitoring_return)
    _require_grantee(actor, ret.award)
    if ret.status == ReturnStatus.APPROVED:
        raise ValidationError(RETURN_APPROVED_LOCKED, code="approved")
    problems = submission_problems(ret, today=today)
    if problems:
        raise ValidationError(problems)
    now = timezone.now()
    RETURN_LIFECYCLE.apply(
        ret,
        "submit",
        actor=actor,
        locked=ret,
        clean=False,
        changes={"submitted_at": now, "submitted_by": actor, "opened_at": ret.opened_at or now},
        recorded=(),
        audit_before=snapshot(ret, ("status",)),
        audit_after={
            "status": ReturnStatus.SUBMITTED,
            **snapshot(ret, ("rag",)),
            "spend": return_spend_total(ret),
        },
        message=f"Monitoring return for {_period(ret)} submitted (RAG {ret.get_rag_display() or 'not given'})",
    )
    award = ret.award
    for manager in return_audience(ret, award_managers(award)):
        notify(
            user=manager,
            subject=f"Monitoring return to review: {award.reference}",
            body=f"{award.recipient.name} submitted the monitoring return for {_period(ret)} "
            f"(RAG status {ret.get_rag_display().lower() or 'not given'}).",
            link=ret.get_absolute_url(),
        )
    return ret


# Review ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewOutcome:
    monitoring_return: MonitoringReturn
    released: tuple[Instalment, ...] = ()
    payment_note: str = ""


def _lock_for_review(actor: User, ret: MonitoringReturn, action: str) -> MonitoringReturn:
    """Lock the award, then the return, and check the reviewer may make the review ``action``
    now (in this stage's words: the lifecycle's own refusals are the fallback)."""
    Award.objects.select_for_update().filter(pk=ret.award_id).first()  # award first, as awards does
    ret = _lock_return(ret)
    if actor is None or not actor.has_perm(RETURN_LIFECYCLE.transition(action).permission, ret):
        raise ValidationError(NOT_REVIEWER, code="not_reviewer")
    if not RETURN_LIFECYCLE.allows(ret.status, action):
        raise ValidationError(
            NOT_SUBMITTED, code="not_submitted", params={"status": _status_label(ret.status)}
        )
    return ret


def _review(actor: User, ret: MonitoringReturn, action: str, comments: str, message: str) -> None:
    RETURN_LIFECYCLE.apply(
        ret,
        action,
        actor=actor,
        locked=ret,
        clean=False,
        changes={"reviewed_at": timezone.now(), "reviewed_by": actor, "review_comments": comments},
        recorded=(),
        audit_before=snapshot(ret, ("status",)),
        audit_after={
            "status": RETURN_LIFECYCLE.transition(action).target,
            "review_comments": comments,
        },
        message=message,
    )


def _release_waiting(actor: User, ret: MonitoringReturn) -> tuple[tuple[Instalment, ...], str]:
    """Release the instalments that wait on this approved return; the approval stands even when
    the awards stage refuses (its reason is kept on the return and shown to the manager)."""
    released: list[Instalment] = []
    for instalment in instalments_waiting_on(ret):
        if instalment.status != InstalmentStatus.SCHEDULED:
            continue
        try:
            released.append(
                instalment_release(actor=actor, instalment=instalment)
            )  # atomic: a savepoint here
        except ValidationError as exc:
            return tuple(released), " ".join(exc.messages)
    return tuple(released), ""


@transaction.atomic
def return_approve(
    *, actor: User, monitoring_return: MonitoringReturn, comments: str = ""
) -> ReviewOutcome:
    """The fund manager approves a submitted return, which releases the instalment waiting on it."""
    ret = _lock_for_review(actor, monitoring_return, "approve")
    _review(
        actor,
        ret,
        "approve",
        (comments or "").strip(),
        f"Monitoring return for {_period(ret)} approved",
    )
    released, note = _release_waiting(actor, ret)
    if note:
        ret.payment_note = note
        ret.save(update_fields=["payment_note", "updated_at"])
        audit_record(
            actor=actor,
            action="return.payment_held",
            target=ret,
            after={"reason": note},
            message=f"Payment waiting on the return not released: {note}",
        )
    award = ret.award
    body = f"Your monitoring return for {_period(ret)} was approved."
    if ret.review_comments:
        body += f" Comments: {ret.review_comments}"
    if released:
        body += f" {released_sentence(released)}"
    for user in _grantee_audience(ret):
        notify(
            user=user,
            subject=f"Monitoring return approved: {award.reference}",
            body=body,
            link=ret.get_absolute_url(),
        )
    return ReviewOutcome(ret, released, note)


@transaction.atomic
def return_send_back(
    *, actor: User, monitoring_return: MonitoringReturn, comments: str
) -> MonitoringReturn:
    """The fund manager sends a submitted return back with comments; the grantee changes and resubmits it."""
    ret = _lock_for_review(actor, monitoring_return, "send_back")
    comments = (comments or "").strip()
    if not comments:
        raise ValidationError(
            {"comments": ValidationError(COMMENTS_MISSING, code="comments_missing")}
        )
    _review(actor, ret, "send_back", comments, f"Monitoring return for {_period(ret)} sent back")
    for user in _grantee_audience(ret):
        notify(
            user=user,
            subject=f"Monitoring return sent back: {ret.award.reference}",
            body=f"Your monitoring return for {_period(ret)} needs changes: {comments}",
            link=ret.get_absolute_url(),
        )
    return ret


def _grantee_audience(ret: MonitoringReturn) -> list[User]:
    people = grantee_contacts(ret.award)
    if (
        ret.submitted_by is not None
        and ret.submitted_by.is_active
        and ret.submitted_by not in people
    ):
        people.append(ret.submitted_by)
    return return_audience(ret, people)


def released_sentence(released: tuple[Instalment, ...]) -> str:
    """Like 'The 2026/27 Q3 instalment of £10,000.00 is released for payment.'"""
    parts = [f"{i.label} instalment of {_money(i.amount)}" for i in released]
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"The {listed} {'is' if len(parts) == 1 else 'are'} released for payment."


def return_payment_release(
    *, actor: User, monitoring_return: MonitoringReturn
) -> tuple[Instalment, ...]:
    """Try again to release the instalments waiting on an approved return (say once the award has
    resumed or its conditions are met). On refusal the reason is kept on the return and raised."""
    with transaction.atomic():
        Award.objects.select_for_update().filter(pk=monitoring_return.award_id).first()
        ret = _lock_return(monitoring_return)
        if not actor.has_perm("reporting.review_return", ret):
            raise ValidationError(NOT_REVIEWER, code="not_reviewer")
        if ret.status != ReturnStatus.APPROVED:
            raise ValidationError(RETURN_NOT_APPROVED_YET, code="not_approved")
        if not any(i.status == InstalmentStatus.SCHEDULED for i in instalments_waiting_on(ret)):
            raise ValidationError(NO_PAYMENT_WAITING, code="nothing_waiting")
        released, note = _release_waiting(actor, ret)
        ret.payment_note = note
        ret.save(update_fields=["payment_note", "updated_at"])
    if note:
        raise ValidationError(note, code="release_refused")
    return released
