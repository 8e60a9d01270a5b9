"""Access helpers shared by every app's views and services.

Every view needs sign-in (Django's LoginRequiredMiddleware) unless marked ``@public``;
object-level checks use the predicates in each app's ``rules.py``. Services check the person
acting with the same permission their view checks (``require_actor``), so a new view, task,
command or API endpoint cannot forget it.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.utils.decorators import method_decorator

from .models import FundRole, FundRoleKind, Membership, MembershipRole, PanelMember, User


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


def is_staff_role(user) -> bool:
    """Whether the person holds a role that can change money, scores or decisions, or read
    confidential data: fund manager, any panel member (chair, deputy chair, assessor, lay member,
    observer: each reads confidential bids), fund auditor, site admin (superuser or anyone who can
    sign in to the Django admin).

    These people get the shorter idle timeout and must use a second factor. One query at most,
    remembered on the user object (``request.user`` is a new object on every request). A
    fund-manager membership counts whatever the organisation (fail safe).
    """
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_portal_is_staff_role", None)
    if cached is not None:
        return cached
    if user.is_superuser or user.is_staff:
        result = True
    else:
        result = User.objects.filter(pk=user.pk).filter(staff_role_condition()).exists()
    user._portal_is_staff_role = result
    return result


def staff_role_condition():
    """The condition on a user (as the outer query) of holding a staff role (``is_staff_role``)."""
    return (
        Exists(Membership.objects.filter(user=OuterRef("pk"), role=MembershipRole.FUND_MANAGER))
        | Exists(PanelMember.objects.filter(user=OuterRef("pk")))
        | Exists(FundRole.objects.filter(user=OuterRef("pk"), role=FundRoleKind.AUDITOR))
    )


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
