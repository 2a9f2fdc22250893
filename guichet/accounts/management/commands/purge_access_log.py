"""Delete the log of staff and partner reads older than ACCESS_LOG_RETENTION_DAYS (run daily by the clock)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from guichet.accounts.services import purge_access_records


class Command(BaseCommand):
    help = "Delete access records (who read which file) older than ACCESS_LOG_RETENTION_DAYS."

    def handle(self, *args, **options):
        deleted = purge_access_records()
        self.stdout.write(
            f"{deleted} access record(s) older than {settings.ACCESS_LOG_RETENTION_DAYS} days deleted"
        )
