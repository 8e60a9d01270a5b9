"""When a request reached the front of the service: the moment deadlines are judged against.

A bid saved or submitted in the last seconds before a call closes may wait in the proxy's and
gunicorn's queues before Django sees it. The closing time is judged against when the request
arrived, not when a worker got round to it:

- Behind a trusted reverse proxy (``TRUSTED_PROXY_COUNT`` > 0; docker-compose's nginx sets
  ``X-Request-Start: t=${msec}``, seconds since the epoch with milliseconds), the proxy's time.
- Otherwise (or when the header is missing or makes no sense), the moment Django received the
  request, recorded by ``RequestReceivedMiddleware``, the first middleware.

Without a trusted proxy the header is ignored: anyone can send it. Even from the proxy, a time
later than Django's own (clocks a little apart) gives Django's, and one more than
``REQUEST_START_MAX_AGE`` seconds earlier (no request queues that long) is not believed.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

HEADER = "HTTP_X_REQUEST_START"
DEFAULT_MAX_AGE = 300  # seconds; longer than gunicorn's and the proxy's timeouts


def _proxy_start(request, received: dt.datetime) -> dt.datetime | None:
    if not getattr(settings, "TRUSTED_PROXY_COUNT", 0):
        return None
    raw = request.META.get(HEADER, "").strip()
    if raw.startswith("t="):
        raw = raw[2:]
    try:
        seconds = float(raw)
    except ValueError:
        return None
    if seconds > 1e11:  # some proxies send milliseconds or microseconds
        seconds /= 1000 if seconds < 1e14 else 1_000_000
    try:
        start = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None
    max_age = getattr(settings, "REQUEST_START_MAX_AGE", DEFAULT_MAX_AGE)
    if start < received - dt.timedelta(seconds=max_age):
        return None
    return min(start, received)


def request_started_at(request) -> dt.datetime:
    """When this request reached the front of the service (see the module's description)."""
    received = getattr(request, "received_at", None) or timezone.now()
    return _proxy_start(request, received) or received


class RequestReceivedMiddleware:
    """Record when Django received the request, before anything else runs (first in MIDDLEWARE)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.received_at = timezone.now()
        request.started_at = request_started_at(request)
        return self.get_response(request)
