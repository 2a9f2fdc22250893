"""Lapse the offers nobody answered in time: `python manage.py lapse_offers`."""

from django.core.management.base import BaseCommand

from guichet.appointments.services import lapse_due_offers


class Command(BaseCommand):
    help = "Lapses pending offers past their answer time; their requests wait again (or pause after two)."

    def handle(self, *args, **options):
        count = lapse_due_offers()
        self.stdout.write(f"{count} offer(s) lapsed")
