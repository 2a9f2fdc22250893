"""Erase the personal data of requests whose retention periods are over (run daily by the clock)."""

from django.core.management.base import BaseCommand

from guichet.privacy.services import purge_personal_data


class Command(BaseCommand):
    help = (
        "Erase the personal data of requests past their retention periods; print what was removed, by type."
    )

    def handle(self, *args, **options):
        for line in purge_personal_data().lines():
            self.stdout.write(line)
