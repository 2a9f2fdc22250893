"""Queue the reminders that are due (offers about to lapse, appointments in two days). Safe to repeat."""

from django.core.management.base import BaseCommand

from guichet.notifications.services import queue_reminders


class Command(BaseCommand):
    help = "Queues reminders of offers about to lapse and of appointments in two days."

    def handle(self, *args, **options):
        counts = queue_reminders()
        self.stdout.write(", ".join(f"{count} {kind}" for kind, count in counts.items()))
