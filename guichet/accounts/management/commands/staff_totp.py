"""Print the current second-factor code of a demo account (manage.py demo): for demonstrations only."""

import pyotp
from django.core.management.base import BaseCommand, CommandError

from guichet.accounts.demo import demo_totp_uri
from guichet.accounts.models import StaffProfile


class Command(BaseCommand):
    help = "Print the current TOTP code (and otpauth URI) of a demo account. Refused for real accounts."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        profile = StaffProfile.objects.filter(user__username=options["username"], is_demo=True).first()
        if profile is None or not profile.totp_secret:
            raise CommandError("not a demo account: real accounts' codes are only in their owner's app")
        self.stdout.write(pyotp.TOTP(profile.totp_secret).now())
        self.stdout.write(demo_totp_uri(options["username"]))
