"""Site-wide behaviour: health check, error pages, sign-in throttling, settings, compose file."""

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


def test_healthz_reports_the_database_and_an_eager_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "eager"}


def test_healthz_reports_an_unreachable_broker_but_stays_up(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["broker"] == "unreachable"


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    from fundportal import views

    monkeypatch.setattr(views, "_database_state", lambda: "unreachable")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


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
    dropped = {"DATABASE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
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
        },
    )
    assert result.returncode == 0, result.stderr + result.stdout


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
    assert services["web"]["healthcheck"]["test"]


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
