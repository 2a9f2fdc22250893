"""Recompute every prefecture's weekly public figures ahead of readers (idempotent; the clock runs it)."""

from django.core.management.base import BaseCommand

from guichet.catalog.models import Prefecture
from guichet.public.series import refresh


class Command(BaseCommand):
    help = "Recompute the weekly public figures (charts, CSV, JSON) of every prefecture."

    def handle(self, *args, **options):
        for prefecture in Prefecture.objects.order_by("code"):
            series = refresh(prefecture)
            self.stdout.write(f"{prefecture.code}: {len(series.weeks)} weeks")
