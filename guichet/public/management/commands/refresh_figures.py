"""Recompute every prefecture's weekly public figures, in total and per procedure, ahead of readers
(idempotent; the clock runs it every 30 minutes)."""

from django.core.management.base import BaseCommand

from guichet.catalog.models import Prefecture
from guichet.public.series import refresh


class Command(BaseCommand):
    help = "Recompute the weekly public figures (charts, CSV, JSON) of every prefecture and procedure."

    def handle(self, *args, **options):
        for prefecture in Prefecture.objects.order_by("code"):
            series = refresh(prefecture)
            procedures = list(prefecture.procedures.filter(is_active=True).order_by("code"))
            for procedure in procedures:
                refresh(prefecture, procedure)
            self.stdout.write(f"{prefecture.code}: {len(series.weeks)} weeks, {len(procedures)} procedures")
