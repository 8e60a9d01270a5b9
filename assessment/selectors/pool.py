"""The assessor pool and invitations to assess a call."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone

from governance.models import Call, Organisation, User

from ..models import AssessorInvitation, AssessorProfile, InvitationStatus, PoolEntry, PoolShare

# The assessor pool and invitations -------------------------------------------------------------------


def pool_networks_for(network: Organisation) -> list[int]:
    """The network's own pool and the pools of the networks that share theirs with it."""
    return [
        network.pk,
        *PoolShare.objects.filter(shared_with=network).values_list("network_id", flat=True),
    ]


def pool_of(network: Organisation) -> QuerySet[PoolEntry]:
    """The pool a network's fund managers invite from: their own and the shared ones."""
    return (
        PoolEntry.objects.filter(network_id__in=pool_networks_for(network))
        .select_related("profile__user", "profile__organisation", "network")
        .prefetch_related("profile__expertise", "profile__interest_organisations")
        .order_by("profile__user__full_name", "network__name")
    )


def pool_profiles_of(network: Organisation) -> list[AssessorProfile]:
    seen: dict[int, AssessorProfile] = {}
    for entry in pool_of(network):
        seen.setdefault(entry.profile_id, entry.profile)
    return list(seen.values())


def invitations_of_call(call: Call) -> QuerySet[AssessorInvitation]:
    return (
        AssessorInvitation.objects.filter(call=call)
        .select_related("invitee", "invitee__assessor_profile")
        .order_by("invitee__full_name")
    )


def call_uses_invitations(call: Call) -> bool:
    return AssessorInvitation.objects.filter(call=call).exists()


def accepted_assessor_ids(call: Call, today: dt.date | None = None) -> set[int]:
    """Who may be assigned on a call that invites its assessors: accepted, can sign in, and
    with a current yearly declaration and the confidentiality terms accepted."""
    today = today or timezone.localdate()
    ids = set()
    for invitation in AssessorInvitation.objects.filter(
        call=call,
        status=InvitationStatus.ACCEPTED,
        invitee__is_active=True,
    ).select_related("invitee__assessor_profile"):
        profile = getattr(invitation.invitee, "assessor_profile", None)
        if profile is not None and profile.declaration_current(today) and profile.terms_current:
            ids.add(invitation.invitee_id)
    return ids


def expertise_ids_by_user(user_ids: Iterable[int]) -> dict[int, set[int]]:
    through = AssessorProfile.expertise.through
    found: dict[int, set[int]] = defaultdict(set)
    for user_id, expertise_id in through.objects.filter(
        assessorprofile__user_id__in=list(user_ids)
    ).values_list("assessorprofile__user_id", "expertise_id"):
        found[user_id].add(expertise_id)
    return found


def invitations_for(user: User) -> QuerySet[AssessorInvitation]:
    """The person's invitations to assess, newest first (for their dashboard)."""
    if not user.is_authenticated:
        return AssessorInvitation.objects.none()
    return (
        AssessorInvitation.objects.filter(invitee=user)
        .select_related("call", "call__fund")
        .order_by("-invited_at")
    )


def pool_networks_managed_by(user: User) -> QuerySet[Organisation]:
    return (
        Organisation.objects.filter(
            kind="hin", memberships__user=user, memberships__role="fund_manager"
        )
        .distinct()
        .order_by("name")
    )


def invitations_due_for_reminder(
    now: dt.datetime, within: dt.timedelta
) -> QuerySet[AssessorInvitation]:
    return AssessorInvitation.objects.filter(
        status=InvitationStatus.PENDING,
        reminded_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + within,
    )
