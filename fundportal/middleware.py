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


# Public pages, open data and the API: HTTP caching for visitors ------------------------------

# The routes whose response to a visitor depends only on the path, the query and the public
# version (reporting/register/public_version.py).
PUBLIC_CACHED_ROUTES = frozenset({
    "home", "governance:calls", "governance:call_public",
    "reporting:register", "reporting:award", "reporting:reports",
    "reporting:register_360giving", "reporting:register_csv", "reporting:register_xlsx",
    "reporting:report_pdf", "reporting:report_csv", "reporting:report_xlsx",
    "reporting:api_root", "reporting:api_awards", "reporting:api_award", "reporting:api_calls",
    "reporting:api_call", "reporting:api_reports", "reporting:api_report", "reporting:api_schema",
    "reporting:api_docs",
})


def _visitor(request) -> bool:
    """Someone not signed in, with no session (so nothing personal, no message waiting) and
    no message cookie: their page is the same as every other visitor's."""
    return not _has_session_cookie(request) and "messages" not in request.COOKIES


class PublicCacheMiddleware:
    """For a visitor's GET or HEAD of a public route: ``ETag`` and ``Last-Modified`` from the
    public version (one query), a 304 without running the view when the client's copy is
    current, and ``Cache-Control: public, max-age, s-maxage`` so browsers and a CDN or reverse
    proxy serve repeat reads. ``Vary: Cookie`` keeps a signed-in person's page (``no-store``,
    set by ``NoStoreWhenSignedInMiddleware``) apart from the visitors' copy. A response that
    sets a cookie, or that the view marked private or no-store, is left alone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        cached = getattr(request, "_public_cache", None)
        if cached is not None and response.status_code == 200 and self._shareable(request, response):
            self._headers(response, *cached)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if request.method not in ("GET", "HEAD") or match is None or match.view_name not in PUBLIC_CACHED_ROUTES:
            return None
        if not _visitor(request):
            return None
        from django.utils.cache import get_conditional_response

        from reporting.register.public_version import public_version

        version = public_version()
        etag = version.etag(match.view_name, request.get_full_path())
        last_modified = int(version.last_modified.timestamp()) if version.last_modified else None
        request._public_cache = (etag, last_modified, version)
        not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if not_modified is not None:
            return self._headers(not_modified, etag, last_modified, version)
        return None

    @classmethod
    def _shareable(cls, request, response) -> bool:
        """Nothing personal: no cookie set or to be set (a CSRF token used, a session written)."""
        session = getattr(request, "session", None)
        return not (response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
                    or (session is not None and session.modified) or cls._private(response))

    @staticmethod
    def _private(response) -> bool:
        control = response.get("Cache-Control", "")
        return "private" in control or "no-store" in control

    @staticmethod
    def _headers(response, etag: str, last_modified: int | None, version):
        import time

        from django.utils.cache import patch_cache_control, patch_vary_headers
        from django.utils.http import http_date

        response["ETag"] = etag
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified)
        max_age, shared = settings.PUBLIC_CACHE_MAX_AGE, settings.PUBLIC_CACHE_S_MAXAGE
        if version.next_change is not None:  # a call opens or closes then: no copy outlives it
            left = max(0, int(version.next_change.timestamp() - time.time()))
            max_age, shared = min(max_age, left), min(shared, left)
        if "Cache-Control" in response:
            del response["Cache-Control"]
        patch_cache_control(response, public=True, max_age=max_age, s_maxage=shared)
        patch_vary_headers(response, ["Cookie"])
        return response
