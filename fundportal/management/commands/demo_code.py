"""Print the current authenticator code of a demo account: `python manage.py demo_code EMAIL`."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from governance.models import User
from governance.second_factor import current_code, demo_key_hex, totp_device


class Command(BaseCommand):
    help = "Print the 6-digit code the demo authenticator app shows now for a demo account."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, **options):
        if not settings.DEMO_TOTP_SECRET:
            raise CommandError("There is no demo authenticator secret here (DEMO_TOTP_SECRET is empty, as in production).")
        user = User.objects.filter(email__iexact=options["email"].strip()).first()
        if user is None:
            raise CommandError(f"No account has the email address {options['email']}.")
        device = totp_device(user)
        if device is None or device.key != demo_key_hex():
            raise CommandError(f"{user.email} has no demo authenticator app (only the staff demo accounts have one).")
        try:
            self.stdout.write(current_code(user))
        except ValidationError as exc:
            raise CommandError(exc.messages[0]) from exc
