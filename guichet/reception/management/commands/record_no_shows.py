"""Record as missed the appointments nobody checked in for within LATE_ARRIVAL_MINUTES of their start."""

from django.core.management.base import BaseCommand

from guichet.reception import outcomes


class Command(BaseCommand):
    help = "Record missed appointments (the existing pause rule applies; idempotent)."

    def handle(self, *args, **options):
        missed = outcomes.record_due_no_shows()
        self.stdout.write(f"{missed} missed appointment(s) recorded")
