"""Findings 5 and 6 of the sign-in review: seed_demo refuses production settings; the compose
file runs gunicorn only behind its proxy, and X-Forwarded-Proto is believed only behind one."""

import re
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from fundportal.management.commands.seed_demo import REFUSED_IN_PRODUCTION
from governance.models import User
from tests.site.test_site import _manage

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "fundportal.settings.production",
    "SECRET_KEY": "a-long-random-secret-" + "x7Kq9" * 10,
    "ALLOWED_HOSTS": "fundportal.example",
    "SITE_URL": "https://fundportal.example",
}


def test_seed_demo_refuses_to_run_under_production_settings(tmp_path):
    database = tmp_path / "production.sqlite3"
    env = {**PRODUCTION, "DATABASE_URL": f"sqlite:///{database}"}
    assert _manage("migrate", "--noinput", env_overrides=env).returncode == 0
    result = _manage("seed_demo", env_overrides=env)
    assert result.returncode != 0
    assert "refuses to run under production settings" in result.stderr
    assert "Traceback" not in result.stderr
    # Nothing was created: no account with the published password.
    count = _manage("shell", "-c", "from governance.models import User; print(User.objects.count())", env_overrides=env)
    assert count.stdout.strip().splitlines()[-1] == "0", count.stderr


@pytest.mark.django_db
def test_seed_demo_refuses_whenever_demo_data_is_not_allowed(settings):
    settings.DEMO_DATA_ALLOWED = False
    with pytest.raises(CommandError, match="refuses to run under production settings"):
        call_command("seed_demo", verbosity=0)
    assert not User.objects.exists()
    assert "README" in REFUSED_IN_PRODUCTION


def _production_setting(name: str, **env) -> str:
    result = _manage("shell", "-c", f"from django.conf import settings; print(repr(getattr(settings, {name!r}, None)))",
                     env_overrides={**PRODUCTION, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_production_believes_x_forwarded_proto_only_behind_a_proxy():
    assert _production_setting("SECURE_PROXY_SSL_HEADER") == "None"
    assert _production_setting("SECURE_PROXY_SSL_HEADER", TRUSTED_PROXY_COUNT="1") == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_the_compose_file_publishes_only_the_proxy_in_front_of_gunicorn():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert {"web", "web-changes"} <= set(services["proxy"]["depends_on"])
    # Page views and changes are served by two gunicorns with the same settings (deploy/nginx.conf).
    assert services["web"]["environment"]["TRUSTED_PROXY_COUNT"] == "1"
    assert services["web-changes"]["environment"] == services["web"]["environment"]
    assert services["web-changes"]["volumes"] == services["web"]["volumes"]
    config_path = next(volume.split(":")[0] for volume in services["proxy"]["volumes"] if "nginx" in volume)
    config = (ROOT / config_path).read_text()
    assert re.search(r"upstream pages \{\s*server web:8000;\s*\}", config)
    assert re.search(r"upstream changes \{\s*server web-changes:8000;\s*\}", config)
    routes = re.search(r"map \$request_method \$portal \{(.*?)\}", config, re.S).group(1)
    assert dict(line.strip(" ;").split() for line in routes.strip().splitlines()) == {
        "default": "changes", "GET": "pages", "HEAD": "pages"}
    assert "proxy_pass http://$portal;" in config
    # The proxy writes these headers itself, replacing whatever the client sent.
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in config
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in config
