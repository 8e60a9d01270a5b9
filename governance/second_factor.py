"""The second factor: authenticator-app codes (TOTP) and single-use recovery codes, on django-otp.

Who must pass it: every staff role (``access.is_staff_role``) at every sign-in, and anyone else
who has set up an authenticator app (applicants and commissioners may opt in). A person signed
in through single sign-on whose identity provider reports multi-factor authentication (``amr``
contains ``mfa``) has passed it already.

Money, scores and decisions also need a *recent* sign-in: password and code within
``REAUTHENTICATION_MAX_AGE`` seconds (15 minutes), see ``recently_authenticated``.

Every change here writes an audit event.
"""

from __future__ import annotations

import base64
import binascii
import time

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.expressions import Combinable
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import device_classes, login as otp_login, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .access import is_staff_role, staff_role_condition
from .audit import audit_record
from .models import User
from .prepared import PreparedQuery

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

# Session keys.
AUTHENTICATED_AT = "fp_authenticated_at"  # when password and second factor were last given
IDP_MFA = "fp_idp_mfa"  # signed in through single sign-on whose provider did MFA
SSO = "fp_sso"  # signed in through single sign-on
NEW_RECOVERY_CODES = "fp_new_recovery_codes"  # shown once, then forgotten

# Messages that tests import.
CODE_WRONG = ("The code is not right, or it has been used already. Enter the current 6-digit code from your "
              "authenticator app, or one of your recovery codes.")
CODE_SETUP_WRONG = ("The code is not right. Check the time on your phone is set automatically, and enter the "
                    "6-digit code your authenticator app shows now.")
CODE_MISSING = "Enter the 6-digit code from your authenticator app"
PASSWORD_WRONG = "The password is not right"  # noqa: S105 (a message, not a password)
ALREADY_SET_UP = "An authenticator app is already set up for this account."


# Who is asked for what ----------------------------------------------------------------------


def has_second_factor(user: User) -> bool:
    """Whether the person has a confirmed authenticator app (or recovery codes)."""
    return user_has_device(user, confirmed=True)


def _staff_role_and_device(user_pk: int):
    devices = [Exists(model.objects.filter(user=OuterRef("pk"), confirmed=True)) for model in device_classes()]
    has_device: Combinable | Q = devices[0]
    for device in devices[1:]:
        has_device |= device
    return User.objects.filter(pk=user_pk).annotate(
        _staff=staff_role_condition(), _device=has_device).values_list("_staff", "_device")


# Asked on every signed-in request: its SQL (three EXISTS for the roles, one per kind of device)
# is built once per process.
_STAFF_ROLE_AND_DEVICE: PreparedQuery[tuple[bool, bool]] = PreparedQuery(_staff_role_and_device)


def second_factor_required(user: User) -> bool:
    """Staff roles always; anyone else once they have set one up. Read afresh on every request
    (a role given or a device set up in another session counts at once), in one query for
    both: whether they hold a staff role and whether they have a confirmed device of any kind
    (the staff role remembered on the request's user object, as ``is_staff_role`` does)."""
    if user.is_superuser or user.is_staff or getattr(user, "_portal_is_staff_role", None):
        return True
    staff, has_one = _STAFF_ROLE_AND_DEVICE.get(user.pk)
    user._portal_is_staff_role = bool(staff)
    return bool(staff or has_one)


def second_factor_passed(request) -> bool:
    """This session has given a code (or came through single sign-on with MFA)."""
    user = request.user
    if getattr(user, "is_verified", None) and user.is_verified():
        return True
    return bool(request.session.get(IDP_MFA))


def mark_authenticated(request) -> None:
    """Password (or single sign-on) and second factor given just now."""
    request.session[AUTHENTICATED_AT] = time.time()


def recently_authenticated(request) -> bool:
    at = request.session.get(AUTHENTICATED_AT)
    if at is None:
        return False
    age = time.time() - float(at)
    return 0 <= age <= settings.REAUTHENTICATION_MAX_AGE


def safe_next(request, candidate: str | None, default: str = "dashboard") -> str:
    """``candidate`` if it is a path on this site, else ``default`` (a URL name or path)."""
    from django.shortcuts import resolve_url

    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return resolve_url(default)


# Devices ------------------------------------------------------------------------------------


def totp_device(user: User, *, confirmed: bool | None = True) -> TOTPDevice | None:
    devices = TOTPDevice.objects.filter(user=user)
    if confirmed is not None:
        devices = devices.filter(confirmed=confirmed)
    return devices.order_by("-pk").first()


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed device being set up (one per person), made on first visit."""
    device = totp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def secret_base32(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed in, in groups of four."""
    text = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i:i + 4] for i in range(0, len(text), 4))


def qr_code_svg(device: TOTPDevice, *, title: str) -> str:
    """The otpauth:// address as an inline SVG QR code (no external request, no script)."""
    from django.utils.html import escape

    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(scale=5, border=4, title=title, light="#ffffff", omitsize=False)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" focusable="false" ', 1)


def _verify(user: User, code: str) -> TOTPDevice | StaticDevice | None:
    """The device that accepts ``code`` (an app code, or an unused recovery code), else None.

    django-otp refuses a TOTP code already used (replay) and throttles repeated failures; a
    recovery code is deleted when it is used.
    """
    code = "".join((code or "").split()).lower()
    if not code:
        return None
    device = totp_device(user)
    if code.isdigit() and device is not None and len(code) == device.digits:
        return device if device.verify_token(code) else None
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if recovery is not None and recovery.verify_token(code):
        return recovery
    return None


@transaction.atomic
def second_factor_confirm(*, actor: User, device: TOTPDevice, code: str) -> list[str]:
    """Confirm a new authenticator app with a code from it; returns fresh recovery codes."""
    if device.user_id != actor.pk or device.confirmed:
        raise ValidationError(ALREADY_SET_UP, code="already_set_up")
    if totp_device(actor) is not None:
        raise ValidationError(ALREADY_SET_UP, code="already_set_up")
    code = "".join((code or "").split())
    if not code:
        raise ValidationError(CODE_MISSING, code="missing")
    if not device.verify_token(code):
        raise ValidationError(CODE_SETUP_WRONG, code="wrong")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _new_recovery_codes(actor)
    audit_record(actor=actor, action="second factor set up", target=actor,
                 message="Set up an authenticator app and received recovery codes.")
    return codes


def second_factor_verify(*, actor: User, code: str) -> TOTPDevice | StaticDevice:
    """The device that accepted the code; raises ``ValidationError(CODE_WRONG)`` otherwise."""
    if not "".join((code or "").split()):
        raise ValidationError(CODE_MISSING, code="missing")
    device = _verify(actor, code)
    if device is None:
        raise ValidationError(CODE_WRONG, code="wrong")
    if isinstance(device, StaticDevice):
        audit_record(actor=actor, action="recovery code used", target=actor,
                     message=f"Signed in with a recovery code; {device.token_set.count()} left.")
    return device


def _new_recovery_codes(user: User) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME,
                                                   defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, actor: User) -> list[str]:
    """New recovery codes; the old ones stop working."""
    if not has_second_factor(actor):
        raise ValidationError("Set up an authenticator app first.", code="no_device")
    codes = _new_recovery_codes(actor)
    audit_record(actor=actor, action="recovery codes replaced", target=actor,
                 message="Made new recovery codes; the old ones no longer work.")
    return codes


@transaction.atomic
def second_factor_reset(*, actor: User, user: User) -> None:
    """A site admin removes a person's authenticator app and recovery codes (a lost phone).

    Staff set up a new one at their next sign-in; anyone else is no longer asked for a code.
    """
    if not actor.is_superuser:
        raise ValidationError("Only a site admin can reset a second factor.", code="not_allowed")
    removed = TOTPDevice.objects.filter(user=user).count() + StaticDevice.objects.filter(user=user).count()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(actor=actor, action="second factor reset", target=user,
                 message=f"Removed {user.email}'s authenticator app and recovery codes (lost device).",
                 before={"devices": removed}, after={"devices": 0})


def sign_in_second_factor(request, device) -> None:
    """Record in the session that this device's code was given just now."""
    otp_login(request, device)
    mark_authenticated(request)


# The demo -----------------------------------------------------------------------------------


def demo_key_hex() -> str:
    """The published demo secret as django-otp stores it (hex); empty when not configured."""
    secret = (settings.DEMO_TOTP_SECRET or "").replace(" ", "").upper()
    if not secret:
        return ""
    try:
        return binascii.hexlify(base64.b32decode(secret + "=" * (-len(secret) % 8))).decode()
    except (binascii.Error, ValueError) as exc:
        raise ValueError("DEMO_TOTP_SECRET must be base32 (letters A-Z and digits 2-7)") from exc


def demo_second_factor_seed(users: list[User]) -> int:
    """Give each staff-role demo account an authenticator app with the published demo secret.

    Idempotent. Does nothing when ``DEMO_TOTP_SECRET`` is empty (production settings).
    """
    key = demo_key_hex()
    if not key:
        return 0
    seeded = 0
    for user in users:
        if not is_staff_role(user) or totp_device(user) is not None:
            continue
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, key=key, confirmed=True)
        seeded += 1
    return seeded


def current_code(user: User) -> str:
    """The code a person's authenticator app shows now (for the demo command)."""
    from django_otp.oath import TOTP

    device = totp_device(user)
    if device is None:
        raise ValidationError(f"{user.email} has no authenticator app set up.", code="no_device")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"
