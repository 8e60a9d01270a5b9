"""Signing in: who is trying (the normalised email), from where (the client's address), and how
often they may fail or ask for a password reset.

- Everyone is known by one identity: the email stripped and in lower case. The sign-in
  backend, django-axes' counters and the password-reset throttle all use ``normalise_identity``,
  so ``Someone@Example.com `` and ``someone@example.com`` are one person to every one of them.
- Lock-out has two tiers (``TieredLockoutHandler``): an account is locked after
  ``AXES_FAILURE_LIMIT`` failures from anywhere, and an address after ``AXES_ADDRESS_FAILURE_LIMIT``
  failures for any accounts (higher, because a whole trust may share one address).
- The client's address is ``REMOTE_ADDR``, or, only when ``TRUSTED_PROXY_COUNT`` says the portal
  runs behind that many proxies, the address the outermost of them saw (``X-Forwarded-For``).
"""

from __future__ import annotations

import hashlib
import ipaddress
import unicodedata

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.db.models import Sum


def normalise_identity(value) -> str:
    """The one form of an email address that sign-in, lock-out and throttling count by."""
    return unicodedata.normalize("NFKC", str(value or "")).strip().lower()


def client_address(request) -> str | None:
    """The address of the person at the other end.

    Behind ``TRUSTED_PROXY_COUNT`` proxies, each appends the address it saw to
    ``X-Forwarded-For``: the entry that many places from the right is the one our outermost
    proxy saw (anything to its left was written by the client and is not believed). With no
    trusted proxy the header is ignored, since anyone can send it.
    """
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies and _is_address(forwarded[-proxies]):
            return forwarded[-proxies]
    remote = request.META.get("REMOTE_ADDR", "")
    # Axes stores the address in an IP address column, which PostgreSQL checks: a request
    # without a usable address (a test client's sign-in, a malformed header) is recorded without.
    return remote if _is_address(remote) else None


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def axes_username(request, credentials: dict | None) -> str | None:
    """AXES_USERNAME_CALLABLE: the normalised identity from the credentials or the posted form."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials and credentials.get(field) is not None:
        value = credentials.get(field)
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        value = data.get(field)
    identity = normalise_identity(value)
    return identity or None


def axes_client_address(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE."""
    return client_address(request)


class EmailBackend(ModelBackend):
    """Django's model backend, finding the person by their normalised email address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("email")
        if username is None or password is None:
            return None
        return super().authenticate(request, username=normalise_identity(username), password=password)


class TieredLockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler with two tiers and a reset that touches one account only.

    Axes compares one number with ``AXES_FAILURE_LIMIT``; ``get_failures`` gives it the
    account's recent failures, or the limit itself once the address has reached its own limit.
    """

    def _recent(self, request):
        return AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))

    @staticmethod
    def _sum(queryset) -> int:
        return queryset.aggregate(total=Sum("failures_since_start"))["total"] or 0

    def account_failures(self, request, credentials: dict | None = None) -> int:
        identity = get_client_username(request, credentials)
        return self._sum(self._recent(request).filter(username=identity)) if identity else 0

    def address_failures(self, request) -> int:
        if not request.axes_ip_address:
            return 0
        return self._sum(self._recent(request).filter(ip_address=request.axes_ip_address))

    def get_failures(self, request, credentials: dict | None = None) -> int:
        by_account = self.account_failures(request, credentials)
        if self.address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(by_account, settings.AXES_FAILURE_LIMIT)
        return by_account

    def reset_user_attempts(self, request, credentials: dict | None = None) -> int:
        """After a successful sign-in, forget that account's failures only: never the address's,
        which would let someone with one account of their own clear the count against others."""
        identity = get_client_username(request, credentials)
        if not identity:
            return 0
        count, _ = AccessAttempt.objects.filter(username=identity).delete()
        return count


# Password reset ---------------------------------------------------------------------------------


def _bump(key: str, window: int) -> int:
    """Count one more use of ``key`` in a fixed window; the count so far, this one included."""
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return 1


def password_reset_allowed(request, email: str) -> bool:
    """Whether this request may send a reset email. Every request counts, whether or not an
    account uses the address, so the throttle says nothing about which addresses have one."""
    window = settings.PASSWORD_RESET_WINDOW_SECONDS
    identity = hashlib.sha256(normalise_identity(email).encode()).hexdigest()
    address = hashlib.sha256((client_address(request) or "unknown").encode()).hexdigest()
    by_account = _bump(f"password-reset:account:{identity}", window)
    by_address = _bump(f"password-reset:address:{address}", window)
    return by_account <= settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT and by_address <= settings.PASSWORD_RESET_LIMIT_PER_ADDRESS
