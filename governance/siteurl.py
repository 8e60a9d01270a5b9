"""The portal's public address, for links that leave the browser: emails, offer letters,
360Giving and API ``url`` fields.

``SITE_URL`` (the environment) is the address. Production must set it to the address people
reach (a system check error otherwise, ``check_site_url``). In development, when ``SITE_URL`` is
unset, links use the address of the request being served (``SiteUrlMiddleware``), so a portal
opened at http://localhost:8001 sends links to http://localhost:8001; work done outside a request
(a Celery worker) falls back to ``SITE_URL_FALLBACK``.
"""

from __future__ import annotations

import contextvars
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

_request_origin: contextvars.ContextVar[str] = contextvars.ContextVar("request_origin", default="")

LOCAL_HOSTS = {"localhost", "127.0.0.1", "0.0.0.0", "::1", "[::1]"}  # noqa: S104 (names, not binds)

SITE_URL_UNSET = "fundportal.E001"
SITE_URL_LOCAL = "fundportal.E002"


def site_url() -> str:
    """The portal's address without a trailing slash."""
    configured = (settings.SITE_URL or "").rstrip("/")
    if configured:
        return configured
    if settings.DEBUG and _request_origin.get():
        return _request_origin.get()
    return settings.SITE_URL_FALLBACK.rstrip("/")


def absolute_url(path: str) -> str:
    """An absolute link to a path of the portal ("/awards/X/" → "https://host/awards/X/")."""
    return site_url() + path if path.startswith("/") else path


class SiteUrlMiddleware:
    """In development (DEBUG, no SITE_URL), remember the request's origin for links made while
    serving it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.DEBUG or settings.SITE_URL:
            return self.get_response(request)
        token = _request_origin.set(f"{request.scheme}://{request.get_host()}")
        try:
            return self.get_response(request)
        finally:
            _request_origin.reset(token)


def _is_local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in LOCAL_HOSTS or host.startswith("127.")


@checks.register(checks.Tags.security, deploy=False)
def check_site_url(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """With DEBUG off, links in emails, letters and open data need the real address: SITE_URL
    must be set, and may be local only if the portal itself answers only on local names (a trial
    with docker compose)."""
    if settings.DEBUG:
        return []
    url = (settings.SITE_URL or "").strip()
    if not url:
        return [checks.Error(
            "SITE_URL is not set: links in emails, offer letters and 360Giving data would point nowhere.",
            hint="Set SITE_URL to the portal's public address, e.g. https://fund.example.nhs.uk",
            id=SITE_URL_UNSET)]
    answers_only_locally = all(
        host.lstrip(".") in LOCAL_HOSTS or host.startswith("127.") for host in settings.ALLOWED_HOSTS
    ) and bool(settings.ALLOWED_HOSTS)
    if _is_local(url) and not answers_only_locally:
        return [checks.Error(
            f"SITE_URL is a local address ({url}) but the portal answers on {', '.join(settings.ALLOWED_HOSTS)}: "
            "links in emails, offer letters and 360Giving data would point at the wrong machine.",
            hint="Set SITE_URL to the portal's public address.", id=SITE_URL_LOCAL)]
    return []
