"""Tell managers about procedures whose projected wait exceeds the target (idempotent; the clock runs it)."""

from django.core.management.base import BaseCommand

from guichet.capacity.alerts import alert_managers
from guichet.catalog.models import Prefecture


class Command(BaseCommand):
    help = "Email managers the procedures whose projected wait over 12 weeks exceeds the target."

    def handle(self, *args, **options):
        for prefecture in Prefecture.objects.order_by("code"):
            over = alert_managers(prefecture)
            if over:
                names = ", ".join(projection.inputs.name for projection in over)
                self.stdout.write(f"{prefecture.code}: over target: {names}")
