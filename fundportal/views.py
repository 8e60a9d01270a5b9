"""Site-wide pages: home, the signed-in dashboard, health checks and the static policy pages."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from governance.access import public
from governance.models import OutboxMessage, OutboxStatus
from governance.outbox import outbox_oldest_waiting_age
from governance.selectors import calls_open_now, request_roles

from . import lifecycles as lifecycle_tables
from .providers import dashboard_panels


@public
@require_GET
def home(request):
    return render(request, "home.html", {"open_calls": calls_open_now()[:12]})


@require_GET
def dashboard(request):
    roles = request_roles(request)
    return render(request, "dashboard.html", {"roles": roles, "panels": dashboard_panels(request)})


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return "unreachable"
    return "ok"


def _broker_state() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        return "unreachable"
    return "ok"


def _outbox_state() -> dict:
    """How many side effects wait for the broker, and for how long the oldest has waited."""
    try:
        waiting = OutboxMessage.objects.filter(status=OutboxStatus.WAITING).count()
        age = outbox_oldest_waiting_age()
    except Exception:
        return {"outbox_waiting": None, "oldest_waiting_side_effect_seconds": None}
    return {"outbox_waiting": waiting, "oldest_waiting_side_effect_seconds": None if age is None else round(age, 1)}


@public
@never_cache
@require_GET
def healthz(request):
    """The state of everything the portal needs, for people and monitoring:
    ``{"status": "ok"|"degraded"|"down", "database": "ok"|"unreachable",
    "broker": "ok"|"eager"|"unreachable", "outbox_waiting": n,
    "oldest_waiting_side_effect_seconds": seconds or null}``.

    503 when the database does not answer (nothing works); 200 otherwise, "degraded" while the
    broker is unreachable (pages work, side effects wait in the outbox until it is back)."""
    database = _database_state()
    broker = _broker_state()
    state = {"status": "ok", "database": database, "broker": broker}
    if database == "ok":
        state.update(_outbox_state())
    if database != "ok":
        state["status"] = "down"
    elif broker == "unreachable":
        state["status"] = "degraded"
    return JsonResponse(state, status=200 if database == "ok" else 503)


@public
@never_cache
@require_GET
def readyz(request):
    """Readiness, for load balancers and container platforms: 503 unless the database and the
    broker (when there is one) answer, so traffic goes to instances that can do their work."""
    state = {"database": _database_state(), "broker": _broker_state()}
    ready = state["database"] == "ok" and state["broker"] in ("ok", "eager")
    return JsonResponse({"status": "ready" if ready else "not ready", **state}, status=200 if ready else 503)


@public
@never_cache
@require_GET
def livez(request):
    """Liveness: the process answers requests. Asks nothing else, so a database or broker outage
    never gets healthy web processes restarted."""
    return JsonResponse({"status": "alive"})


@public
@require_GET
def accessibility(request):
    return render(request, "pages/accessibility.html")


@public
@require_GET
def lifecycles(request):
    return render(request, "pages/lifecycles.html", {"lifecycles": lifecycle_tables.page_sections()})


@public
@require_GET
def privacy(request):
    return render(request, "pages/privacy.html")
