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
