#!/usr/bin/env python
"""Django's command-line utility for Fund Portal."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundportal.settings.local")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        sys.exit(f"Fund Portal is not configured correctly: {exc}")
    except OperationalError as exc:
        # A wrong DATABASE_URL should read as advice, not as a traceback.
        sys.exit(
            "Fund Portal cannot reach its database. Check DATABASE_URL "
            "(for example postgres://postgres@127.0.0.1:5432/fundportal) and that the "
            f"server is running.\nThe database said: {exc}"
        )


if __name__ == "__main__":
    main()
