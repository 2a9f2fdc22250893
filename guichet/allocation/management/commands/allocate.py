"""Allocate the free slots to the queue, now: `python manage.py allocate [--prefecture 93]`."""

from django.core.management.base import BaseCommand, CommandError

from guichet.allocation.service import allocate
from guichet.catalog.models import Prefecture


class Command(BaseCommand):
    help = "Runs the allocation (earliest due date first) for one prefecture or all, and prints what it did."

    def add_arguments(self, parser):
        parser.add_argument("--prefecture", metavar="CODE", help="département code, for example 93")

    def handle(self, *args, prefecture: str | None = None, **options):
        chosen = None
        if prefecture:
            chosen = Prefecture.objects.filter(code=prefecture.strip().upper()).first()
            if chosen is None:
                raise CommandError(f"no prefecture with code {prefecture!r}")
        report = allocate(chosen)
        for line in report.lines():
            self.stdout.write(line)
