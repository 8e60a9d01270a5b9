"""Finding 5 of the sign-in review: seed_demo refuses production settings."""

import pytest
from django.core.management import CommandError, call_command

from fundportal.management.commands.seed_demo import REFUSED_IN_PRODUCTION
from governance.models import User
from tests.site.test_site import _manage

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "fundportal.settings.production",
    "SECRET_KEY": "a-long-random-secret-" + "x7Kq9" * 10,
    "ALLOWED_HOSTS": "fundportal.example",
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
