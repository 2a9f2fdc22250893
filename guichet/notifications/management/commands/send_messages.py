"""Send the outbox's due emails and SMS: in a loop (a worker of its own), or once (the clock's job)."""

import time

from django.core.management.base import BaseCommand

from guichet.notifications.services import send_due_messages


class Command(BaseCommand):
    help = "Sends due emails and SMS from the outbox, retrying failures with backoff."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="send what is due, then stop")
        parser.add_argument("--interval", type=float, default=5.0, help="seconds between polls when idle")
        parser.add_argument("--limit", type=int, default=200, help="messages per batch")

    def handle(self, *args, once: bool, interval: float, limit: int, **options):
        while True:
            report = send_due_messages(limit=limit)
            if once:
                self.stdout.write(str(report))
                return
            if report.sent or report.retrying or report.failed or report.skipped:
                self.stdout.write(str(report))
            if report.sent + report.retrying + report.failed + report.skipped < limit:
                time.sleep(interval)
