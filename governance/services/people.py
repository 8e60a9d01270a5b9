"""Organisations, people and their memberships: creating organisations and users, signing a
person out everywhere, adding someone to an organisation in a role."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from ..access import require_actor
from ..audit import audit_record, snapshot
from ..messages import EMAIL_TAKEN, NOT_YOUR_SESSIONS
from ..models import ODS_CODE_TAKEN, Membership, MembershipRole, Organisation, User

ORGANISATION_FIELDS = (
    "name",
    "kind",
    "ods_code",
    "company_number",
    "charity_number",
    "region",
    "network",
    "short_name",
)


@transaction.atomic
def organisation_create(*, actor: User | None, **fields: Any) -> Organisation:
    require_actor(actor, "governance.manage_people", system=True)
    organisation = Organisation(**fields)
    organisation.full_clean()
    if (
        organisation.ods_code
        and Organisation.objects.filter(ods_code=organisation.ods_code).exists()
    ):
        raise ValidationError({"ods_code": ODS_CODE_TAKEN})
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError:
        raise ValidationError({"ods_code": ODS_CODE_TAKEN}) from None
    audit_record(
        actor=actor,
        action="organisation.created",
        target=organisation,
        after=snapshot(organisation, ORGANISATION_FIELDS),
    )
    return organisation


@transaction.atomic
def user_create(
    *, actor: User | None, email: str, full_name: str, password: str | None = None, **extra: Any
) -> User:
    require_actor(actor, "governance.manage_people", system=True)
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": EMAIL_TAKEN})
    user = User(email=email, full_name=full_name, **extra)
    user.set_password(password) if password else user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(
        actor=actor,
        action="user.created",
        target=user,
        after={"email": email, "full_name": full_name},
    )
    return user


@transaction.atomic
def user_sign_out_everywhere(*, actor: User, user: User) -> User:
    """End every session of ``user`` on every device, the one it is asked from included: their
    session check no longer matches (``User.get_session_auth_hash``), so each next request is
    signed out."""
    if actor.pk != user.pk and not actor.is_superuser:
        raise ValidationError(NOT_YOUR_SESSIONS)
    locked = User.objects.select_for_update().get(pk=user.pk)
    before = locked.session_generation
    User.objects.filter(pk=user.pk).update(session_generation=models.F("session_generation") + 1)
    user.refresh_from_db(fields=["session_generation"])
    audit_record(
        actor=actor,
        action="user.signed_out_everywhere",
        target=user,
        message="Every session signed out" + ("" if actor.pk == user.pk else f" by {actor.email}"),
        before={"session_generation": before},
        after={"session_generation": user.session_generation},
    )
    return user


@transaction.atomic
def membership_add(
    *,
    actor: User | None,
    user: User,
    organisation: Organisation,
    role: str = MembershipRole.MEMBER,
    is_authorised_signatory: bool = False,
) -> Membership:
    require_actor(actor, "governance.manage_people", system=True)
    if role == MembershipRole.FUND_MANAGER and not organisation.is_network:
        raise ValidationError({"role": "Fund managers belong to a Health Innovation Network"})
    Membership(user=user, organisation=organisation, role=role).clean()  # auditors stay independent
    membership, created = Membership.objects.update_or_create(
        user=user,
        organisation=organisation,
        defaults={"role": role, "is_authorised_signatory": is_authorised_signatory},
    )
    audit_record(
        actor=actor,
        action="membership.added" if created else "membership.changed",
        target=membership,
        after={
            "user": user.email,
            "organisation": organisation.pk,
            "role": role,
            "is_authorised_signatory": is_authorised_signatory,
        },
    )
    return membership
