"""Site-wide behaviour: health check, error pages, sign-in throttling, settings, compose file."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.urls import reverse

from tests.factories.governance import UserFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def test_healthz_reports_the_database_an_eager_broker_and_the_outbox(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager", "outbox_waiting": 0,
                               "oldest_waiting_side_effect_seconds": None}
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_reports_an_unreachable_broker_and_the_oldest_waiting_side_effect(client, settings):
    from django.utils import timezone

    from governance.models import OutboxMessage

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    OutboxMessage.objects.create(task_name="governance.tasks.deliver_notification", args=[1],
                                 created_at=timezone.now() - dt.timedelta(minutes=5))
    OutboxMessage.objects.create(task_name="governance.tasks.deliver_notification", args=[2])
    OutboxMessage.objects.create(task_name="governance.tasks.deliver_notification", args=[3], status="done",
                                 created_at=timezone.now() - dt.timedelta(hours=5))
    response = client.get("/healthz")
    assert response.status_code == 200  # pages still work: side effects wait in the outbox
    state = response.json()
    assert (state["status"], state["broker"], state["outbox_waiting"]) == ("degraded", "unreachable", 2)
    assert 300 <= state["oldest_waiting_side_effect_seconds"] < 400


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    from fundportal import views

    monkeypatch.setattr(views, "_database_state", lambda: "unreachable")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    assert response.json()["status"] == "down"


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_when_the_database_really_is_unreachable(client, settings):
    from django.db import connection

    real = dict(connection.settings_dict)
    connection.close()
    try:
        connection.settings_dict["PORT"] = "1"  # nothing listens there
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict.update(real)
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_readyz_needs_the_database_and_the_broker(client, settings, monkeypatch):
    from fundportal import views

    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert client.get("/readyz").status_code == 200
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "not ready", "database": "ok", "broker": "unreachable"}
    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(views, "_database_state", lambda: "unreachable")
    assert client.get("/readyz").status_code == 503


def test_livez_answers_without_asking_the_database_or_the_broker(client, settings, monkeypatch,
                                                                 django_assert_num_queries):
    from fundportal import views

    monkeypatch.setattr(views, "_database_state", lambda: "unreachable")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    with django_assert_num_queries(0):
        response = client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_health_endpoints_are_public(client):
    for path in ("/healthz", "/readyz", "/livez"):
        assert client.get(path).status_code in (200, 503), path


def test_home_page_shows_the_portal_and_an_empty_state(client):
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Find and apply for NHS innovation funding" in body
    assert "There are no calls open for bids at the moment" in body
    assert 'class="nhsuk-header"' in body


def test_unknown_pages_get_the_friendly_404_page(client):
    response = client.get("/calls/no-such-call/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    response = client.get("/register/'%20OR%201=1/")
    assert response.status_code == 404


def test_security_headers_are_sent(client):
    response = client.get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_signed_in_person_lands_on_their_dashboard(client):
    user = UserFactory(email="fm@example.com")
    response = client.post(reverse("login"), {"username": "FM@example.com", "password": "fundportal-demo-2026"})
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).context["user"] == user


def test_a_failed_sign_in_shows_errors_and_error_in_the_title(client):
    UserFactory(email="fm@example.com")
    response = client.post(reverse("login"), {"username": "fm@example.com", "password": "wrong"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<title>Error: Sign in" in body
    assert "There is a problem" in body
    assert "Enter a correct email address and password" in body


def test_many_wrong_passwords_lock_the_account_out_with_a_clear_message(client, settings):
    UserFactory(email="fm@example.com")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "fm@example.com", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "fm@example.com", "password": "fundportal-demo-2026"})
    assert response.status_code == 429
    assert "Too many attempts to sign in" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_an_email_with_a_link(client, mailoutbox):
    UserFactory(email="fm@example.com")
    response = client.post(reverse("password_reset"), {"email": "fm@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body


def test_signing_out_needs_a_post(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def _manage(*args, env_overrides=None):
    dropped = {"DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_overrides or {})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("url", ["nonsense", "mysql2://x", "postgres://"])
def test_a_wrong_database_url_gives_a_clear_message_not_a_traceback(url):
    result = _manage("check", env_overrides={"DATABASE_URL": url})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "DATABASE_URL" in result.stderr


def test_an_unreachable_database_gives_a_clear_message_not_a_traceback():
    result = _manage("migrate", "--check", env_overrides={"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere"})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "cannot reach its database" in result.stderr


def test_production_refuses_to_start_without_a_secret_key_or_hosts():
    result = _manage("check", env_overrides={"DJANGO_SETTINGS_MODULE": "fundportal.settings.production", "ALLOWED_HOSTS": "x"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
    result = _manage("check", env_overrides={"DJANGO_SETTINGS_MODULE": "fundportal.settings.production", "SECRET_KEY": "k" * 60})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_production_settings_pass_the_deployment_checklist():
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        env_overrides={
            "DJANGO_SETTINGS_MODULE": "fundportal.settings.production",
            "SECRET_KEY": "a-long-random-secret-" + "x7Kq9" * 10,
            "ALLOWED_HOSTS": "fundportal.example",
            "SITE_URL": "https://fundportal.example",
        },
    )
    assert result.returncode == 0, result.stderr + result.stdout


def test_production_refuses_a_missing_or_local_site_url():
    production = {"DJANGO_SETTINGS_MODULE": "fundportal.settings.production",
                  "SECRET_KEY": "a-long-random-secret-" + "x7Kq9" * 10, "ALLOWED_HOSTS": "fundportal.example"}
    result = _manage("check", env_overrides=production)
    assert result.returncode != 0
    assert "fundportal.E001" in result.stderr
    result = _manage("check", env_overrides={**production, "SITE_URL": "http://127.0.0.1:8000"})
    assert result.returncode != 0
    assert "fundportal.E002" in result.stderr


def test_the_compose_file_runs_every_service_the_design_names():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    assert "DatabaseScheduler" in " ".join(services["beat"]["command"])
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"].startswith("redis://")
        assert set(services[name]["depends_on"]) >= {"postgres", "redis"}
    # Uploads and PDFs are shared through storage, not kept inside a web container.
    assert any("media" in volume for volume in services["web"]["volumes"])
    # The container's health is liveness (a database or broker outage must not restart it).
    assert "http://localhost:8000/livez" in services["web"]["healthcheck"]["test"]
    assert "ping" in " ".join(services["worker"]["healthcheck"]["test"])


@pytest.mark.django_db
def test_a_field_needed_only_in_some_cases_is_not_labelled_optional():
    from django import forms
    from django.template.loader import render_to_string

    from governance.forms import needed_when

    class Example(forms.Form):
        reason = needed_when(forms.CharField(label="Reason", required=False, help_text="Needed to reject."))
        note = forms.CharField(label="Note", required=False)

    form = Example()
    assert Example().fields["reason"].conditional  # kept on each form's own copy of the field
    reason = render_to_string("nhsuk/field.html", {"field": form["reason"]})
    note = render_to_string("nhsuk/field.html", {"field": form["note"]})
    assert "Reason (optional)" not in reason
    assert "Needed to reject." in reason
    assert "Note (optional)" in note
