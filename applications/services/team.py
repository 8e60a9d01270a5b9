"""The bid team: invitations by email (joined, expired, removed), comments on sections for the
team only, and partner organisations signing off their part of the bid."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance.access import require_actor
from governance.audit import audit_record
from governance.models import Membership, Organisation, User
from governance.outbox import outbox_enqueue
from governance.services import notify

from ..checks import uk_datetime
from ..messages import (
    COMMENT_NEEDED,
    SIGN_OFF_ALREADY,
    SIGN_OFF_NOT_PARTNER,
    TEAM_ALREADY_INVITED,
    TEAM_EMAIL_NEEDED,
    TEAM_INVITATION_EXPIRED,
    TEAM_INVITATION_OTHER_ACCOUNT,
    TEAM_INVITATION_USED,
    TEAM_ORGANISATION_NEEDED,
    TEAM_ROLE_NEEDED,
    TEAM_SECTIONS_UNKNOWN,
)
from ..models import (
    Bid,
    BidCollaborator,
    BidSection,
    BidSectionComment,
    InvitationState,
    PartnerSignOff,
    TeamRole,
)
from ._shared import _check_changeable, _lock

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
    return [
        p.organisation
        for p in bid.partners.select_related("organisation")
        if p.organisation_id != bid.lead_organisation_id and p.organisation_id not in signed
    ]


@transaction.atomic
def bid_team_invite(
    *,
    actor: User,
    bid: Bid,
    email: str,
    organisation: Organisation | None,
    role: str,
    sections: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> BidCollaborator:
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
    if (
        not errors.get("email")
        and BidCollaborator.objects.filter(bid=locked, email=email)
        .exclude(state=InvitationState.REVOKED)
        .exists()
    ):
        errors["email"] = TEAM_ALREADY_INVITED.format(email=email)
    if errors or organisation is None:
        raise ValidationError(errors, code="invalid")
    member = BidCollaborator.objects.create(
        bid=locked,
        email=email,
        organisation=organisation,
        role=role,
        sections=sections,
        invited_by=actor,
        invited_at=now,
        expires_at=now + dt.timedelta(days=TEAM_INVITATION_DAYS),
    )
    audit_record(
        actor=actor,
        action="bid.team_invited",
        target=locked,
        after={
            "email": email,
            "role": role,
            "organisation": organisation.name,
            "sections": sections,
        },
        message=f"{email} invited to the bid team ({member.get_role_display().lower()})",
    )
    link = reverse("applications:team_join", args=[member.token])
    invitee = User.objects.filter(email__iexact=email, is_active=True).first()
    body = (
        f"{actor.full_name} has invited you to work on the bid \u201c{locked.title}\u201d ({locked.reference}) "
        f"for {organisation.name}, as {member.get_role_display().lower()}"
        + (
            f", responsible for: {', '.join(member.section_labels)}"
            if member.section_labels
            else ""
        )
        + f". The invitation expires on {uk_datetime(member.expires_at)}."
    )
    if invitee is not None:
        notify(
            user=invitee, subject=f"Join the team for bid {locked.reference}", body=body, link=link
        )
    else:
        outbox_enqueue("applications.tasks.send_team_invitation", member.pk)
    return member


@transaction.atomic
def bid_team_join(*, actor: User, token: str, now: dt.datetime | None = None) -> BidCollaborator:
    """The invitee, signed in with the invited email address, joins the bid team."""
    now = now or timezone.now()
    member = (
        BidCollaborator.objects.select_for_update()
        .select_related("bid")
        .filter(token=token)
        .first()
    )
    if member is None or member.state == InvitationState.REVOKED:
        raise ValidationError(TEAM_INVITATION_USED, code="used")
    if member.state == InvitationState.ACCEPTED:
        if member.user_id == actor.pk:
            return member
        raise ValidationError(TEAM_INVITATION_USED, code="used")
    if member.is_expired(now):
        raise ValidationError(TEAM_INVITATION_EXPIRED, code="expired")
    if actor.email.lower() != member.email.lower():
        raise ValidationError(
            TEAM_INVITATION_OTHER_ACCOUNT.format(email=actor.email), code="other_account"
        )
    member.state, member.user, member.accepted_at = InvitationState.ACCEPTED, actor, now
    member.save(update_fields=["state", "user", "accepted_at"])
    audit_record(
        actor=actor,
        action="bid.team_joined",
        target=member.bid,
        message=f"{actor.full_name} joined the bid team ({member.get_role_display().lower()})",
    )
    return member


@transaction.atomic
def bid_team_remove(*, actor: User, member: BidCollaborator) -> BidCollaborator:
    require_actor(actor, "applications.manage_team", member.bid)
    locked = BidCollaborator.objects.select_for_update().get(pk=member.pk)
    if locked.state == InvitationState.REVOKED:
        return locked
    locked.state = InvitationState.REVOKED
    locked.save(update_fields=["state"])
    audit_record(
        actor=actor,
        action="bid.team_removed",
        target=member.bid,
        message=f"{locked.email} removed from the bid team",
    )
    return locked


@transaction.atomic
def bid_comment_add(
    *, actor: User, bid: Bid, section: str, body: str, now: dt.datetime | None = None
) -> BidSectionComment:
    """A comment on a section, for the bid team only (never assessors: see visibility)."""
    require_actor(actor, "applications.comment_bid", bid)
    body = (body or "").strip()
    if section not in BidSection.values:
        raise ValidationError({"section": TEAM_SECTIONS_UNKNOWN})
    if not body:
        raise ValidationError({"body": COMMENT_NEEDED}, code="required")
    comment = BidSectionComment.objects.create(
        bid=bid, section=section, author=actor, body=body, created_at=now or timezone.now()
    )
    audit_record(
        actor=actor,
        action="bid.commented",
        target=bid,
        message=f"Comment on {BidSection(section).label} (kept with the bid team)",
    )
    return comment


def sign_off_organisations(user: User, bid: Bid) -> list[Organisation]:
    """The partner organisations the person may sign off for: those they joined the team for,
    or belong to (and are on the team)."""
    if not user.is_authenticated:
        return []
    partners = {
        p.organisation_id: p.organisation
        for p in bid.partners.select_related("organisation")
        if p.organisation_id != bid.lead_organisation_id
    }
    mine = set(
        BidCollaborator.objects.filter(
            bid=bid, user=user, state=InvitationState.ACCEPTED
        ).values_list("organisation_id", flat=True)
    )
    if mine:
        mine |= set(Membership.objects.filter(user=user).values_list("organisation_id", flat=True))
    return [org for org_id, org in partners.items() if org_id in mine]


@transaction.atomic
def bid_partner_sign_off(
    *, actor: User, bid: Bid, organisation: Organisation, now: dt.datetime | None = None
) -> PartnerSignOff:
    """A partner organisation's contact on the bid team signs off its part."""
    require_actor(actor, "applications.sign_off_bid", bid)
    now = now or timezone.now()
    locked = _lock(bid)
    _check_changeable(locked, now)
    if organisation.pk not in {o.pk for o in sign_off_organisations(actor, locked)}:
        raise ValidationError({"organisation": SIGN_OFF_NOT_PARTNER}, code="not_partner")
    if PartnerSignOff.objects.filter(bid=locked, organisation=organisation).exists():
        raise ValidationError(
            {"organisation": SIGN_OFF_ALREADY.format(organisation=organisation.name)},
            code="already",
        )
    sign_off = PartnerSignOff.objects.create(
        bid=locked, organisation=organisation, signed_by=actor, signed_at=now
    )
    audit_record(
        actor=actor,
        action="bid.partner_signed_off",
        target=locked,
        after={"organisation": organisation.name},
        message=f"{organisation.name} signed off its part",
    )
    for lead in lead_org_members(locked):
        notify(
            user=lead,
            subject=f"{organisation.name} signed off bid {locked.reference}",
            body=f"{actor.full_name} signed off {organisation.name}'s part of \u201c{locked.title}\u201d.",
            link=locked.get_absolute_url(),
        )
    return sign_off


def lead_org_members(bid: Bid) -> list[User]:
    return list(
        User.objects.filter(
            memberships__organisation_id=bid.lead_organisation_id, is_active=True
        ).distinct()
    )


def team_invitation_email_send(*, member_id: int) -> bool:
    """Email the invitation to an address with no account (they register, then follow the link)."""
    from django.conf import settings
    from django.core.mail import send_mail

    member = (
        BidCollaborator.objects.select_related("bid", "organisation", "invited_by")
        .filter(pk=member_id, state=InvitationState.PENDING)
        .first()
    )
    if member is None:
        return False
    link = f"{settings.SITE_URL}{reverse('applications:team_join', args=[member.token])}"
    send_mail(
        f"Join the team for bid {member.bid.reference}",
        f"{member.invited_by.full_name} has invited you to work on the bid \u201c{member.bid.title}\u201d for "
        f"{member.organisation.name}. Create an account with this email address, then open:\n\n{link}\n\n"
        f"The invitation expires on {uk_datetime(member.expires_at)}.",
        settings.DEFAULT_FROM_EMAIL,
        [member.email],
    )
    return True
