"""Tell each person whose récépissé or attestation ends soon, once (INTERIM_EXPIRY_NOTICE_DAYS before)."""

from django.core.management.base import BaseCommand

from guichet.reception import interim


class Command(BaseCommand):
    help = "Remind people whose interim document expires soon with no decision (idempotent)."

    def handle(self, *args, **options):
        told = interim.remind_expiring()
        self.stdout.write(f"{told} person(s) reminded")
