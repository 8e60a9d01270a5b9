"""Rebuild the public register's read model from ``published_awards`` (idempotent)."""

import time

from django.core.management.base import BaseCommand

from reporting.register.read_model import register_rebuild


class Command(BaseCommand):
    help = "Rebuild the award register's read model from scratch, in one transaction."

    def handle(self, *args, **options):
        started = time.monotonic()

        def progress(done):
            if options["verbosity"] > 1:
                self.stdout.write(f"  {done:,} rows")

        rows = register_rebuild(progress=progress)
        self.stdout.write(f"Register rebuilt: {rows:,} awards in {time.monotonic() - started:.1f} s")
