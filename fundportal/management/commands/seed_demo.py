"""Load the demo data set. Idempotent: running it twice changes nothing."""

import logging
from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from governance.demo import ACCOUNTS, DEMO_PASSWORD, SITE_ADMIN, DemoContext
from governance.models import User
from governance.second_factor import demo_second_factor_seed

from ...providers import LIFECYCLE_APPS

REFUSED_IN_PRODUCTION = (
    "seed_demo refuses to run under production settings: it creates a site admin and other accounts "
    "whose password is published in the README. Use it with fundportal.settings.local "
    "(DJANGO_SETTINGS_MODULE) on a demo or development database only."
)


class Command(BaseCommand):
    help = "Create the demo networks, organisations, accounts, funds, calls, bids, awards and reports."

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_DATA_ALLOWED", False):
            raise CommandError(REFUSED_IN_PRODUCTION)
        # The demo's notifications are listed on each person's notifications page; printing
        # dozens of demo emails and task logs to the console would only hide what matters.
        task_log = logging.getLogger("celery.app.trace")
        previous_level = task_log.level
        task_log.setLevel(logging.WARNING)
        try:
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                self._seed()
        finally:
            task_log.setLevel(previous_level)
        if options["verbosity"]:
            self._print_accounts()

    def _seed(self) -> None:
        ctx = DemoContext()
        # Each stage seeds what it owns, in lifecycle order, from its own demo.py.
        for app in LIFECYCLE_APPS:
            try:
                module = import_module(f"{app}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{app}.demo":
                    raise
                continue
            module.seed(ctx)
        # Staff demo accounts get an authenticator app with the published demo secret (not in
        # production, whose settings leave DEMO_TOTP_SECRET empty).
        demo_second_factor_seed(list(User.objects.filter(email__in=[a[0] for a in ACCOUNTS] + [SITE_ADMIN[0]])))

    def _print_accounts(self) -> None:
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
        self.stdout.write(f"Every demo account's password is: {DEMO_PASSWORD}")
        for email, name, job_title, _ in ACCOUNTS:
            self.stdout.write(f"  {email:<34} {name} ({job_title})")
        self.stdout.write(f"  {SITE_ADMIN[0]:<34} {SITE_ADMIN[1]} (site admin)")
        if settings.DEMO_TOTP_SECRET:
            self.stdout.write(f"Staff accounts also need a code: authenticator secret {settings.DEMO_TOTP_SECRET}, "
                              "or run `python manage.py demo_code EMAIL` for the current code.")
