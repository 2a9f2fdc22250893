"""Delete staff job results older than STAFF_JOB_RESULT_RETENTION_DAYS (run daily by the clock)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from guichet.backoffice.jobs import purge_results


class Command(BaseCommand):
    help = "Delete the result files of staff jobs (print runs) older than STAFF_JOB_RESULT_RETENTION_DAYS."

    def handle(self, *args, **options):
        report = purge_results()
        self.stdout.write(
            f"{report.expired} job result(s) and {report.orphans} unattached file(s) older than "
            f"{settings.STAFF_JOB_RESULT_RETENTION_DAYS} days deleted"
            + (f"; {report.failures} could not be deleted (see the log)" if report.failures else "")
        )
        if report.failures:
            raise SystemExit(1)
