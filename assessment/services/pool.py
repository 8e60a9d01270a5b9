"""The assessor pool: each network's people, the pools shared between networks, and the
yearly declaration of interests with the confidentiality terms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance import fy
from governance.access import require_actor
from governance.audit import audit_record
from governance.models import Expertise, Organisation, User
from governance.services import notify

from ..messages import (
    POOL_ALREADY,
    POOL_PERSON_NEEDED,
    POOL_PERSON_UNKNOWN,
    POOL_SHARE_NETWORK_NEEDED,
    TERMS_NEEDED,
)
from ..models import CONFIDENTIALITY_TERMS_VERSION, AssessorProfile, PoolEntry, PoolShare

# The assessor pool ------------------------------------------------------------------------------------


@transaction.atomic
def pool_member_add(
    *,
    actor: User,
    network: Organisation,
    email: str,
    organisation: Organisation | None = None,
    expertise: Iterable[Expertise] = (),
    now: dt.datetime | None = None,
) -> PoolEntry:
    """A fund manager adds a person (who has an account) to their network's pool, with their
    organisation and expertise from the managed list."""
    require_actor(actor, "assessment.manage_pool", network)
    now = now or timezone.now()
    email = (email or "").strip()
    if not email:
        raise ValidationError({"email": POOL_PERSON_NEEDED}, code="required")
    person = User.objects.filter(email__iexact=email).first()
    if person is None:
        raise ValidationError({"email": POOL_PERSON_UNKNOWN.format(email=email)}, code="unknown")
    profile, _ = AssessorProfile.objects.get_or_create(user=person)
    if PoolEntry.objects.filter(network=network, profile=profile).exists():
        raise ValidationError({"email": POOL_ALREADY.format(name=person.full_name)}, code="already")
    if organisation is not None:
        profile.organisation = organisation
        profile.save(update_fields=["organisation"])
    if expertise:
        profile.expertise.add(*expertise)
    entry = PoolEntry.objects.create(network=network, profile=profile, added_by=actor, added_at=now)
    audit_record(
        actor=actor,
        action="pool.member_added",
        target=entry,
        after={
            "network": network.name,
            "person": person.email,
            "expertise": sorted(e.name for e in profile.expertise.all()),
        },
        message=f"{person.full_name} added to {network.name}'s assessor pool",
    )
    notify(
        user=person,
        subject=f"You are in {network.name}'s assessor pool",
        body=(
            "You may be invited to assess bids. Make your yearly declaration of interests and accept the "
            "confidentiality terms first: invitations can only be accepted with a current declaration."
        ),
        link=reverse("assessment:declaration"),
    )
    return entry


@transaction.atomic
def pool_member_update(
    *,
    actor: User,
    entry: PoolEntry,
    organisation: Organisation | None,
    expertise: Iterable[Expertise],
) -> AssessorProfile:
    require_actor(actor, "assessment.manage_pool", entry.network)
    profile = entry.profile
    before = {
        "organisation": profile.organisation.name if profile.organisation else "",
        "expertise": sorted(e.name for e in profile.expertise.all()),
    }
    profile.organisation = organisation
    profile.save(update_fields=["organisation"])
    profile.expertise.set(list(expertise))
    audit_record(
        actor=actor,
        action="pool.member_changed",
        target=entry,
        before=before,
        after={
            "organisation": organisation.name if organisation else "",
            "expertise": sorted(e.name for e in profile.expertise.all()),
        },
        message=f"{profile.user.full_name}'s pool details changed",
    )
    return profile


@transaction.atomic
def pool_member_remove(*, actor: User, entry: PoolEntry) -> None:
    require_actor(actor, "assessment.manage_pool", entry.network)
    audit_record(
        actor=actor,
        action="pool.member_removed",
        target=entry,
        message=f"{entry.profile.user.full_name} removed from {entry.network.name}'s assessor pool",
    )
    entry.delete()


@transaction.atomic
def pool_share(
    *, actor: User, network: Organisation, shared_with: Organisation | None
) -> PoolShare:
    """A network's fund manager lets another network invite from its pool."""
    require_actor(actor, "assessment.manage_pool", network)
    if shared_with is None or shared_with.pk == network.pk or not shared_with.is_network:
        raise ValidationError({"shared_with": POOL_SHARE_NETWORK_NEEDED}, code="invalid")
    share, created = PoolShare.objects.get_or_create(
        network=network, shared_with=shared_with, defaults={"agreed_by": actor}
    )
    if created:
        audit_record(
            actor=actor,
            action="pool.shared",
            target=share,
            message=f"{network.name} shares its assessor pool with {shared_with.name}",
        )
    return share


@transaction.atomic
def assessor_declaration_make(
    *,
    actor: User,
    interests: str,
    interest_organisations: Iterable[Organisation] = (),
    expertise: Iterable[Expertise] | None = None,
    accept_terms: bool,
    now: dt.datetime | None = None,
) -> AssessorProfile:
    """The yearly declaration of interests, with the confidentiality terms: it lapses on the
    next 6 April (``governance.fy.declaration_lapses_on``)."""
    require_actor(actor, "assessment.declare_interests")
    now = now or timezone.now()
    if not accept_terms:
        raise ValidationError({"accept_terms": TERMS_NEEDED}, code="terms")
    profile = AssessorProfile.objects.select_for_update().filter(user=actor).first()
    if profile is None:
        raise PermissionDenied("Only people in an assessor pool make this declaration")
    before = {"interests": profile.interests, "lapses_on": profile.declaration_lapses_on}
    profile.interests = (interests or "").strip()
    profile.declared_at = now
    profile.declaration_lapses_on = fy.declaration_lapses_on(timezone.localdate(now))
    profile.terms_accepted_at = now
    profile.terms_version = CONFIDENTIALITY_TERMS_VERSION
    profile.save()
    profile.interest_organisations.set(list(interest_organisations))
    if expertise is not None:
        profile.expertise.set(list(expertise))
    audit_record(
        actor=actor,
        action="pool.declaration_made",
        target=profile,
        before=before,
        after={
            "interests": profile.interests,
            "lapses_on": profile.declaration_lapses_on,
            "interest_organisations": sorted(o.name for o in profile.interest_organisations.all()),
            "terms_version": profile.terms_version,
        },
        message=f"Yearly declaration made; lapses on {profile.declaration_lapses_on:%-d %B %Y}",
    )
    return profile
