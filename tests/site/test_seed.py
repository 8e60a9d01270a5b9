import pytest
from django.apps import apps
from django.core.management import call_command

from governance.demo import ACCOUNTS, DEMO_PASSWORD, SITE_ADMIN
from governance.models import User

pytestmark = pytest.mark.django_db


def _counts():
    return {model._meta.label: model.objects.count() for model in apps.get_models() if model._meta.app_label in
            {"governance", "applications", "assessment", "awards", "reporting"}}


def test_seed_demo_creates_every_demo_account_and_is_idempotent():
    call_command("seed_demo", verbosity=0)
    first = _counts()
    call_command("seed_demo", verbosity=0)
    assert _counts() == first
    for email, *_ in [*ACCOUNTS, SITE_ADMIN]:
        user = User.objects.get(email=email)
        assert user.check_password(DEMO_PASSWORD)
    assert User.objects.get(email=SITE_ADMIN[0]).is_superuser
