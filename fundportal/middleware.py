"""Site-wide middleware: no caching of anything a signed-in person is sent, and session timeouts.

Both act only on requests that carry a session cookie: an anonymous visitor's request does not
read the session, so public pages and open data keep their own caching headers (and no
``Vary: Cookie`` is added to them).
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from governance.sessions import session_check


def _has_session_cookie(request) -> bool:
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def _signed_in_during(request) -> bool:
    """Whether the request signed someone in (its session was read, so asking costs nothing)."""
    session = getattr(request, "session", None)
    if session is None or not (session.accessed or session.modified):
        return False
    user = getattr(request, "user", None)  # the API sets it to None: it reads no sessions
    return user is not None and user.is_authenticated


class NoStoreWhenSignedInMiddleware:
    """``Cache-Control: no-store`` (and ``Pragma: no-cache`` for HTTP/1.0 caches) on every
    response to a signed-in person: pages, and the private files only they may download (offer
    letters, condition evidence, the pot ledger CSV, bid attachments, draft reports). It replaces
    whatever the view set (unless that already says no-store), so a public page's ``public`` is
    never sent with a signed-in person's header or notifications on it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in = _has_session_cookie(request) and request.user.is_authenticated
        response = self.get_response(request)
        if signed_in or _signed_in_during(request):
            if "no-store" not in response.get("Cache-Control", ""):
                for header in ("Cache-Control", "Expires"):
                    if header in response:
                        del response[header]
                add_never_cache_headers(response)
            response["Pragma"] = "no-cache"
        return response


class SessionTimeoutMiddleware:
    """Sign the person out once their session is idle too long or too old (the rules are in
    ``governance/sessions.py``); the request then goes on as an anonymous one, so a protected
    page sends them to sign in again. The page's timeout warning reads ``request.session_state``.
    The warning's own "how long is left" request is not activity."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._status_path = None

    def __call__(self, request):
        request.session_state = None
        if _has_session_cookie(request):
            if self._status_path is None:
                self._status_path = reverse("governance:session_status")
            passive = request.path == self._status_path
            request.session_state = session_check(request, activity=not passive)
        return self.get_response(request)
