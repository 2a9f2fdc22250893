"""Raise the alerts of court orders at risk or missed, and close those now met (hourly)."""

from django.core.management.base import BaseCommand

from guichet.evidence import court_orders


class Command(BaseCommand):
    help = "Check every open court order: no compatible slot, deadline near, deadline missed."

    def handle(self, *args, **options):
        raised = court_orders.check_court_orders()
        self.stdout.write(f"{raised} court order alert(s) raised")
