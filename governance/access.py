"""Access helpers shared by every app's views and services.

Every view needs sign-in (Django's LoginRequiredMiddleware) unless marked ``@public``;
object-level checks use the predicates in each app's ``rules.py``. Services check the person
acting with the same permission their view checks (``require_actor``), so a new view, task,
command or API endpoint cannot forget it.
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


ACTOR_NOT_ALLOWED = "You do not have permission to do this"


def require_actor(actor, perm: str, obj=None, *, system: bool = False) -> None:
    """Services: refuse (PermissionDenied) unless ``actor`` has ``perm`` on ``obj``, the very
    permission (and so the predicates) the view asks. ``actor=None`` is the portal itself (a
    scheduled task); it is refused unless ``system`` says this service is also a system
    transition. Call it before changing anything."""
    if actor is None:
        if system:
            return
        raise PermissionDenied(ACTOR_NOT_ALLOWED)
    if not getattr(actor, "is_authenticated", False) or not actor.has_perm(perm, obj):
        raise PermissionDenied(ACTOR_NOT_ALLOWED)
