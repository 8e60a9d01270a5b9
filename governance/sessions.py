"""How long a signed-in session lasts: the one place the rule lives.

- A session ends after ``SESSION_IDLE_TIMEOUT_STAFF`` seconds without a request for people in a
  staff role (``access.is_staff_role``: they can change money, scores or decisions or read
  confidential data), ``SESSION_IDLE_TIMEOUT`` for everyone else, and ``SESSION_ABSOLUTE_LIFETIME``
  after signing in whatever happens.
- The server is the authority: ``session_check`` runs on every request (the middleware) and
  signs the person out once either limit has passed. The page's warning only asks the server.
- The time of the last request is written at most every ``touch_interval`` seconds, so a busy
  person's session is not saved on every request.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

from .access import is_staff_role

SIGNED_IN_AT = "_portal_signed_in_at"
LAST_SEEN = "_portal_last_seen"
IDLE_LIMIT = "_portal_idle_limit"

SIGNED_OUT_IDLE = "You were signed out because you did nothing on the portal for {minutes}. Sign in again to carry on."
SIGNED_OUT_LIFETIME = "You were signed out because you signed in more than {hours} ago. Sign in again to carry on."


@dataclass(frozen=True)
class SessionState:
    """What the page's warning needs: seconds left, and when it should warn."""

    remaining: int
    idle_limit: int
    warning: int
    extendable: bool

    def as_json(self) -> dict:
        return {"signed_in": True, "remaining": self.remaining, "idle_limit": self.idle_limit,
                "warning": self.warning, "extendable": self.extendable}


def idle_limit_for(user) -> int:
    return settings.SESSION_IDLE_TIMEOUT_STAFF if is_staff_role(user) else settings.SESSION_IDLE_TIMEOUT


def duration_label(seconds: int) -> str:
    """Like "30 minutes" or "2 hours"."""
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''}"
    if seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} seconds"


def touch_interval(idle_limit: int) -> int:
    return max(1, min(60, idle_limit // 30))


def session_start(request, user, **kwargs) -> None:
    """Someone signed in (a receiver of ``user_logged_in``): their session's clocks start now."""
    if request is None or not hasattr(request, "session"):
        return
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[LAST_SEEN] = now
    request.session[IDLE_LIMIT] = idle_limit_for(user)


def _state(session, now: int) -> SessionState:
    idle_limit = session[IDLE_LIMIT]
    idle_left = session[LAST_SEEN] + idle_limit - now
    lifetime_left = session[SIGNED_IN_AT] + settings.SESSION_ABSOLUTE_LIFETIME - now
    return SessionState(remaining=max(0, min(idle_left, lifetime_left)), idle_limit=idle_limit,
                        warning=min(settings.SESSION_TIMEOUT_WARNING, idle_limit // 2),
                        extendable=lifetime_left > idle_left)


def session_check(request, *, activity: bool = True) -> SessionState | None:
    """Sign the request's person out if their session has run out; otherwise note the request
    as activity (unless ``activity`` is False, as for the warning asking how long is left) and
    return how long is left. ``None`` for anyone not signed in, or just signed out."""
    user = request.user
    if not user.is_authenticated:
        return None
    session = request.session
    now = int(time.time())
    if SIGNED_IN_AT not in session or LAST_SEEN not in session or IDLE_LIMIT not in session:
        session_start(request, user)  # signed in before these clocks existed
    if now - session[SIGNED_IN_AT] >= settings.SESSION_ABSOLUTE_LIFETIME:
        _end(request, SIGNED_OUT_LIFETIME.format(hours=duration_label(settings.SESSION_ABSOLUTE_LIFETIME)))
        return None
    if now - session[LAST_SEEN] >= session[IDLE_LIMIT]:
        _end(request, SIGNED_OUT_IDLE.format(minutes=duration_label(session[IDLE_LIMIT])))
        return None
    if activity and now - session[LAST_SEEN] >= touch_interval(session[IDLE_LIMIT]):
        session[LAST_SEEN] = now
        # Roles change: a person made an assessor today gets the shorter timeout from now on.
        session[IDLE_LIMIT] = idle_limit_for(user)
    return _state(session, now)


def session_extend(request) -> SessionState | None:
    """The "stay signed in" button: counts as activity now (within the absolute lifetime)."""
    state = session_check(request, activity=False)
    if state is None:
        return None
    request.session[LAST_SEEN] = int(time.time())
    return _state(request.session, int(time.time()))


def _end(request, message: str) -> None:
    logout(request)
    messages.info(request, message)
    request.session_ended = message
    return None
