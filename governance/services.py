"""Writes for the governance stage: organisations, people, memberships and notifications."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from .audit import audit_record, snapshot
from .models import ODS_CODE_TAKEN, Membership, MembershipRole, Notification, Organisation, User

EMAIL_TAKEN = "An account with this email address already exists"

ORGANISATION_FIELDS = ("name", "kind", "ods_code", "company_number", "charity_number", "region", "network", "short_name")


@transaction.atomic
def organisation_create(*, actor: User | None, **fields) -> Organisation:
    organisation = Organisation(**fields)
    organisation.full_clean()
    if organisation.ods_code and Organisation.objects.filter(ods_code=organisation.ods_code).exists():
        raise ValidationError({"ods_code": ODS_CODE_TAKEN})
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError:
        raise ValidationError({"ods_code": ODS_CODE_TAKEN}) from None
    audit_record(
        actor=actor, action="organisation.created", target=organisation,
        after=snapshot(organisation, ORGANISATION_FIELDS),
    )
    return organisation


@transaction.atomic
def user_create(*, actor: User | None, email: str, full_name: str, password: str | None = None, **extra) -> User:
    email = User.objects.normalize_email(email).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": EMAIL_TAKEN})
    user = User(email=email, full_name=full_name, **extra)
    user.set_password(password) if password else user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(actor=actor, action="user.created", target=user, after={"email": email, "full_name": full_name})
    return user


@transaction.atomic
def membership_add(
    *, actor: User | None, user: User, organisation: Organisation,
    role: str = MembershipRole.MEMBER, is_authorised_signatory: bool = False,
) -> Membership:
    if role == MembershipRole.FUND_MANAGER and not organisation.is_network:
        raise ValidationError({"role": "Fund managers belong to a Health Innovation Network"})
    membership, created = Membership.objects.update_or_create(
        user=user, organisation=organisation,
        defaults={"role": role, "is_authorised_signatory": is_authorised_signatory},
    )
    audit_record(
        actor=actor, action="membership.added" if created else "membership.changed", target=membership,
        after={"user": user.email, "organisation": organisation.pk, "role": role,
               "is_authorised_signatory": is_authorised_signatory},
    )
    return membership


def notify(*, user: User, subject: str, body: str, link: str = "") -> Notification:
    """Tell someone something: listed on their notifications page and emailed.

    A worker sends the email once the surrounding transaction commits, so a rolled-back
    change never sends mail and a slow mail server never slows a page.
    """
    from .tasks import deliver_notification

    notification = Notification.objects.create(user=user, subject=subject[:200], body=body, link=link)
    transaction.on_commit(lambda: deliver_notification.delay(notification.pk))
    return notification


def notification_email_send(*, notification_id: int) -> bool:
    """Email one notification, once. Returns False if it was already sent or is gone."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update().select_related("user").filter(pk=notification_id).first()
        )
        if notification is None or notification.emailed_at is not None:
            return False
        link = notification.link
        url = f"{settings.SITE_URL}{link}" if link.startswith("/") else link
        text = f"{notification.body}\n\n{url}" if url else notification.body
        send_mail(notification.subject, text, settings.DEFAULT_FROM_EMAIL, [notification.user.email])
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def notification_mark_read(*, user: User, notification_ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())
