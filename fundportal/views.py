"""Site-wide pages: home, the signed-in dashboard, health check and the static policy pages."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from governance.access import public
from governance.selectors import calls_open_now, request_roles

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


@public
@never_cache
@require_GET
def healthz(request):
    """``{"database": "ok", "broker": "ok"|"eager"|"unreachable"}``; 200 only if the database answers."""
    state = {"database": _database_state(), "broker": _broker_state()}
    return JsonResponse(state, status=200 if state["database"] == "ok" else 503)


@public
@require_GET
def accessibility(request):
    return render(request, "pages/accessibility.html")


@public
@require_GET
def privacy(request):
    return render(request, "pages/privacy.html")
