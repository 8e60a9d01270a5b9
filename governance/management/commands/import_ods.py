"""Load or refresh organisations from NHS ODS CSV downloads (published layout) or the ODS API.

    python manage.py import_ods etr.csv epraccur.csv          # kind from each file's name
    python manage.py import_ods sites.csv --kind ets
    python manage.py import_ods --api RH8 QJK                # from ODS_API_URL (or --api-url)
    python manage.py import_ods --api                        # every organisation with an ODS code

Idempotent: a second run reports everything unchanged.
"""

from django.core.management.base import BaseCommand, CommandError

from governance.ods import (
    FILE_KINDS,
    ImportResult,
    OdsFormatError,
    import_csv_file,
    refresh_from_api,
)


class Command(BaseCommand):
    help = "Load organisations from NHS ODS CSV files (etr, ets, eccg, epcn, ela, epraccur, succ) or the ODS API."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="*", help="ODS CSV downloads, headerless, in the published layout")
        parser.add_argument("--kind", choices=sorted(FILE_KINDS), help="the ODS file kind, if the names do not say")
        parser.add_argument("--api", nargs="*", metavar="CODE", help="refresh from the ODS API (these codes, or all held)")
        parser.add_argument("--api-url", default=None, help="the ODS ORD API base URL (default: ODS_API_URL)")

    def handle(self, *args, files, kind, api, api_url, verbosity, **options):
        if not files and api is None:
            raise CommandError("Give ODS CSV files, or --api")
        total = ImportResult()
        try:
            for path in files:
                result = import_csv_file(path, kind)
                self.stdout.write(f"{path}: {result.summary()}")
                self._details(result, verbosity)
                total.merge(result)
            if api is not None:
                result = refresh_from_api(api or None, base_url=api_url)
                self.stdout.write(f"ODS API: {result.summary()}")
                self._details(result, verbosity)
                total.merge(result)
        except (OSError, OdsFormatError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Total: {total.summary()}"))

    def _details(self, result: ImportResult, verbosity: int) -> None:
        if verbosity < 2:
            return
        for label, lines in (("created", result.created), ("updated", result.updated), ("closed", result.closed),
                             ("skipped", result.skipped)):
            for line in lines:
                self.stdout.write(f"  {label}: {line}")
