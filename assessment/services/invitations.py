"""Invitations to assess a call: sent from the pool, answered by the invitee, reminded and
expired by the beat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance.access import require_actor
from governance.audit import audit_record
from governance.models import Call, CallStatus, PanelMember, PanelRole, User
from governance.services import notify

from .. import selectors
from ..lifecycle import INVITATION_LIFECYCLE
from ..messages import (
    DECISION_NEEDED,
    DECLARATION_NEEDED,
    DECLINE_REASON_NEEDED,
    INVITATION_ANSWERED,
    INVITATION_EXPIRED,
    INVITATION_OTHER_ACCOUNT,
    INVITE_CALL_FINISHED,
    INVITE_CHOOSE,
    INVITE_DAYS_RANGE,
    INVITE_NOT_IN_POOL,
)
from ..models import AssessorInvitation, DeclineReason, InvitationStatus

# Invitations to assess a call ---------------------------------------------------------------------------

INVITATION_DAYS = 7
REMIND_BEFORE = dt.timedelta(days=2)


def _uk(moment: dt.datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%-d %B %Y} at {local:%-I:%M%p}".replace("AM", "am").replace("PM", "pm")


@transaction.atomic
def assessors_invite(
    *,
    actor: User,
    call: Call,
    invitees: Iterable[User],
    days: int = INVITATION_DAYS,
    now: dt.datetime | None = None,
) -> list[AssessorInvitation]:
    """Invite people from the pool (the host network's, and the pools shared with it) to assess
    the call. People already invited are left as they are."""
    require_actor(actor, "assessment.manage_call", call)
    now = now or timezone.now()
    invitees = list(invitees)
    if call.status in (CallStatus.DECIDED, CallStatus.CLOSED_OUT, CallStatus.DRAFT):
        raise ValidationError({"invitees": INVITE_CALL_FINISHED}, code="finished")
    if not invitees:
        raise ValidationError({"invitees": INVITE_CHOOSE}, code="required")
    if not 1 <= int(days) <= 60:
        raise ValidationError({"days": INVITE_DAYS_RANGE}, code="range")
    pooled = {p.user_id for p in selectors.pool_profiles_of(call.host_network)}
    outside = [u.full_name for u in invitees if u.pk not in pooled]
    if outside:
        raise ValidationError(
            {
                "invitees": [
                    INVITE_NOT_IN_POOL.format(name=n, network=call.host_network.name)
                    for n in outside
                ]
            },
            code="not_in_pool",
        )
    made = []
    already = set(AssessorInvitation.objects.filter(call=call).values_list("invitee_id", flat=True))
    for person in invitees:
        if person.pk in already:
            continue
        invitation = AssessorInvitation.objects.create(
            call=call,
            invitee=person,
            invited_by=actor,
            invited_at=now,
            expires_at=now + dt.timedelta(days=int(days)),
        )
        audit_record(
            actor=actor,
            action="invitation.sent",
            target=invitation,
            after={"invitee": person.email, "expires_at": invitation.expires_at},
            message=f"{person.full_name} invited to assess {call.title}",
        )
        notify(
            user=person,
            subject=f"Will you assess bids on {call.title}?",
            body=(
                f"{actor.full_name} invites you to assess bids on {call.title} ({call.fund.name})."
                + (
                    f" Scores are due by {call.assessment_due_date:%-d %B %Y}."
                    if call.assessment_due_date
                    else ""
                )
                + f"\n\nAccept or decline by {_uk(invitation.expires_at)}."
            ),
            link=reverse("assessment:invitation", args=[invitation.token]),
        )
        made.append(invitation)
    return made


@transaction.atomic
def invitation_respond(
    *,
    actor: User,
    token: str,
    accept: bool | None,
    reason: str = "",
    now: dt.datetime | None = None,
) -> AssessorInvitation:
    """The invitee accepts (and joins the call's panel as an assessor) or declines with a reason."""
    now = now or timezone.now()
    invitation = (
        AssessorInvitation.objects.select_for_update(of=("self",))
        .select_related("call", "call__panel", "invitee")
        .filter(token=token)
        .first()
    )
    if invitation is None:
        raise PermissionDenied("No such invitation")
    if invitation.invitee_id != actor.pk:
        raise ValidationError(
            INVITATION_OTHER_ACCOUNT.format(email=actor.email), code="other_account"
        )
    if invitation.status in (InvitationStatus.ACCEPTED, InvitationStatus.DECLINED):
        raise ValidationError(
            INVITATION_ANSWERED.format(status=invitation.get_status_display().lower()),
            code="answered",
        )
    if invitation.is_expired(now):  # the beat marks it expired (invitations_remind_and_expire)
        raise ValidationError(
            INVITATION_EXPIRED.format(when=_uk(invitation.expires_at)), code="expired"
        )
    if accept is None:
        raise ValidationError({"decision": DECISION_NEEDED}, code="required")
    before = {"status": invitation.status}
    if accept:
        profile = getattr(actor, "assessor_profile", None)
        if (
            profile is None
            or not profile.declaration_current(timezone.localdate(now))
            or not profile.terms_current
        ):
            raise ValidationError({"decision": DECLARATION_NEEDED}, code="declaration")
        call = invitation.call
        if call.panel_id:
            PanelMember.objects.get_or_create(
                panel_id=call.panel_id, user=actor, defaults={"role": PanelRole.ASSESSOR}
            )
    elif reason not in DeclineReason.values:
        raise ValidationError({"reason": DECLINE_REASON_NEEDED}, code="reason")
    action = "accept" if accept else "decline"
    answer = INVITATION_LIFECYCLE.transition(action).target
    decline_reason = "" if accept else reason
    label = InvitationStatus(answer).label.lower()
    reason_label = f": {DeclineReason(decline_reason).label.lower()}" if decline_reason else ""
    INVITATION_LIFECYCLE.apply(
        invitation,
        action,
        actor=actor,
        locked=invitation,
        changes={"responded_at": now, **({} if accept else {"decline_reason": decline_reason})},
        recorded=(),
        audit_before=before,
        audit_after={
            "status": answer,
            "reason": invitation.decline_reason if accept else decline_reason,
        },
        message=f"{actor.full_name} {label} the invitation to assess {invitation.call.title}{reason_label}",
    )
    notify(
        user=invitation.invited_by,
        subject=f"{actor.full_name} {invitation.get_status_display().lower()}: {invitation.call.title}",
        body=(
            f"{actor.full_name} {invitation.get_status_display().lower()} your invitation to assess {invitation.call.title}"
            + (
                f" ({invitation.get_decline_reason_display().lower()})"
                if invitation.decline_reason
                else ""
            )
            + "."
        ),
        link=reverse("assessment:invitations", args=[invitation.call.slug]),
    )
    return invitation


def invitations_remind_and_expire(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """Beat: remind (once) whoever has not answered two days before their invitation expires, and
    expire the invitations whose time is up. Idempotent. Returns (reminded, expired)."""
    now = now or timezone.now()
    reminded = 0
    for invitation in selectors.invitations_due_for_reminder(now, REMIND_BEFORE).select_related(
        "call", "invitee"
    ):
        with transaction.atomic():
            updated = AssessorInvitation.objects.filter(
                pk=invitation.pk, reminded_at__isnull=True
            ).update(reminded_at=now)
            if not updated:
                continue
            notify(
                user=invitation.invitee,
                subject=f"Reminder: will you assess bids on {invitation.call.title}?",
                body=f"Please accept or decline by {_uk(invitation.expires_at)}; after that the invitation expires.",
                link=reverse("assessment:invitation", args=[invitation.token]),
            )
            reminded += 1
    expired = 0
    for invitation in AssessorInvitation.objects.filter(
        status=InvitationStatus.PENDING, expires_at__lte=now
    ):
        with transaction.atomic():
            # Under the row lock: answered (or expired) a moment ago by someone else, it is left alone.
            locked = (
                AssessorInvitation.objects.select_for_update(of=("self",))
                .filter(pk=invitation.pk, status=InvitationStatus.PENDING)
                .first()
            )
            if locked is None:
                continue
            INVITATION_LIFECYCLE.apply(
                locked,
                "expire",
                actor=None,
                locked=locked,
                clean=False,
                recorded=(),
                audit_before={},
                audit_after={},
                message=f"The invitation to {invitation.invitee.full_name} expired unanswered",
            )
            expired += 1
    return reminded, expired
