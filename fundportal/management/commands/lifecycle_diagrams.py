"""Write docs/lifecycles.md from the lifecycle tables (``--check``: fail if it is out of date)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fundportal.lifecycles import markdown

DOC = Path(settings.BASE_DIR) / "docs" / "lifecycles.md"


class Command(BaseCommand):
    help = "Draw every lifecycle table as a Mermaid diagram in docs/lifecycles.md."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail if docs/lifecycles.md is out of date")

    def handle(self, *args, check: bool = False, **options):
        text = markdown()
        if check:
            if not DOC.exists() or DOC.read_text() != text:
                raise CommandError("docs/lifecycles.md is out of date: run python manage.py lifecycle_diagrams")
            self.stdout.write("docs/lifecycles.md is up to date")
            return
        DOC.write_text(text)
        self.stdout.write(f"Wrote {DOC.relative_to(settings.BASE_DIR)}")
