"""Tell managers which waiting requests no slot serves by their due date (idempotent; the clock runs it)."""

from django.core.management.base import BaseCommand

from guichet.allocation.late_risk import alert_managers
from guichet.catalog.models import Prefecture


class Command(BaseCommand):
    help = "Email managers the waiting requests that no slot serves by their due date (within 14 days)."

    def handle(self, *args, **options):
        for prefecture in Prefecture.objects.order_by("code"):
            found = alert_managers(prefecture)
            if found:
                self.stdout.write(f"{prefecture.code}: {len(found)} request(s) at risk of being late")
