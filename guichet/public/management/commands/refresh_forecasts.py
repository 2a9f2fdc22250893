"""Run the engine on every prefecture's queue ahead of the status pages' readers (the clock runs it more
often than estimates.FORECAST_SECONDS), so that no person waits for the run behind their turn window:
1.7 s with 62,500 waiting (docs/benchmarks.md). Idempotent; a prefecture whose run a reader has just
started is left to that reader."""

from django.core.management.base import BaseCommand

from guichet.allocation.forecast import refresh_queue_forecasts
from guichet.catalog.models import Prefecture
from guichet.public.estimates import FORECAST_SECONDS
from guichet.waitlist.models import AppointmentRequest, RequestStatus


class Command(BaseCommand):
    help = "Run the status pages' shared forecast of every prefecture with people waiting."

    def handle(self, *args, **options):
        waiting = AppointmentRequest.objects.filter(status=RequestStatus.WAITING).values("prefecture_id")
        for prefecture in Prefecture.objects.filter(pk__in=waiting).order_by("code"):
            done = refresh_queue_forecasts(prefecture, FORECAST_SECONDS)
            outcome = "refreshed" if done else "left to the reader running it (or the cache does not answer)"
            self.stdout.write(f"{prefecture.code}: {outcome}")
