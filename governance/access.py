"""Access helpers shared by every app's views.

Every view needs sign-in (Django's LoginRequiredMiddleware) unless marked ``@public``;
object-level checks use the predicates in each app's ``rules.py``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.utils.decorators import method_decorator


def public(view):
    """Mark a view (function or class) as open to anonymous visitors."""
    if isinstance(view, type):
        return method_decorator(login_not_required, name="dispatch")(view)
    return login_not_required(view)


def require(allowed: bool) -> None:
    """Raise 403 unless ``allowed``. Use 404 (Http404) instead where existence is itself private."""
    if not allowed:
        raise PermissionDenied


def is_staff_role(user) -> bool:
    """Whether ``user`` holds a role that can change money, scores or decisions or read
    confidential data: fund managers, panel chairs and deputies, assessors, auditors, site admins.

    These roles must pass the second factor at every sign-in; applicants and commissioners may
    opt in.
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.is_staff:
        return True
    from .selectors import roles_of  # selectors import the models; keep this module light

    roles = roles_of(user)
    return roles.is_fund_manager or roles.is_panel_chair or roles.is_assessor or roles.is_auditor


def reauthentication_redirect(request, next_url: str | None = None):
    """A redirect to the re-authentication page unless the person gave their password and
    second factor within the last 15 minutes (``REAUTHENTICATION_MAX_AGE``); else ``None``.

    Views that issue awards, release or pay instalments, approve variations or release
    decisions call it after their permission check::

        if (response := reauthentication_redirect(request)) is not None:
            return response

    ``next_url`` is where to come back to (default: this page; give one for POST-only views).
    """
    from django.contrib.auth.views import redirect_to_login
    from django.urls import reverse

    from .second_factor import recently_authenticated

    if recently_authenticated(request):
        return None
    return redirect_to_login(next_url or request.get_full_path(), reverse("reauthenticate"), "next")
