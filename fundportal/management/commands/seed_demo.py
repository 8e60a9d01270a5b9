"""Load the demo data set. Idempotent: running it twice changes nothing."""

from importlib import import_module

from django.core.management.base import BaseCommand

from governance.demo import ACCOUNTS, DEMO_PASSWORD, SITE_ADMIN, DemoContext

from ...providers import LIFECYCLE_APPS


class Command(BaseCommand):
    help = "Create the demo networks, organisations, accounts, funds, calls, bids, awards and reports."

    def handle(self, *args, **options):
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
        if options["verbosity"]:
            self.stdout.write(self.style.SUCCESS("Demo data is in place."))
            self.stdout.write(f"Every demo account's password is: {DEMO_PASSWORD}")
            for email, name, job_title, _ in ACCOUNTS:
                self.stdout.write(f"  {email:<34} {name} ({job_title})")
            self.stdout.write(f"  {SITE_ADMIN[0]:<34} {SITE_ADMIN[1]} (site admin)")
