"""Issue the weekly "still waiting" proof of every request that has waited another week (idempotent)."""

from django.core.management.base import BaseCommand

from guichet.evidence import services


class Command(BaseCommand):
    help = "Sign a dated 'still waiting' statement for each request waiting 7 days since its last one."

    def handle(self, *args, **options):
        issued = services.issue_weekly_statements()
        self.stdout.write(f"{issued} weekly statement(s) issued")
