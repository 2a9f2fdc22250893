"""Generate the slots of the coming weeks from the opening rules (idempotent; the clock runs it)."""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError

from guichet.capacity.services import generate_slots
from guichet.catalog.models import Prefecture

MAX_WEEKS = 104


def weeks_value(text: str) -> int:
    try:
        weeks = int(text)
    except ValueError:
        raise CommandError(f"--weeks: “{text}” is not a whole number of weeks.") from None
    if not 1 <= weeks <= MAX_WEEKS:
        raise CommandError(f"--weeks: give between 1 and {MAX_WEEKS} weeks, not {weeks}.")
    return weeks


def date_value(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--start: “{text}” is not a date like 2026-03-30.") from None


class Command(BaseCommand):
    help = (
        "Creates the slots the opening rules open over the coming weeks, updates or removes the free ones "
        "they no longer open, and reports held slots that no longer match (never changing them)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--prefecture", metavar="CODE", help="only this prefecture (département code)")
        parser.add_argument("--weeks", metavar="N", help="weeks ahead (default: SLOT_HORIZON_WEEKS)")
        parser.add_argument("--start", metavar="YYYY-MM-DD", help="first day (default: today, local time)")

    def handle(self, *args, prefecture=None, weeks=None, start=None, **options):
        weeks = weeks_value(weeks) if weeks is not None else None
        start = date_value(start) if start is not None else None
        target = None
        if prefecture is not None:
            code = prefecture.strip().upper()
            target = Prefecture.objects.filter(code=code).first()
            if target is None:
                known = ", ".join(Prefecture.objects.values_list("code", flat=True)) or "none yet"
                raise CommandError(f"--prefecture: no prefecture has the code “{code}” (known: {known}).")
        began = time.perf_counter()
        report = generate_slots(target, start=start, weeks=weeks)
        elapsed = time.perf_counter() - began
        self.stdout.write(f"{report.summary()} in {elapsed:.2f} s")
        if report.skipped_overlaps:
            self.stdout.write(f"{report.skipped_overlaps} slots not made: they would overlap a kept slot.")
        for conflict in report.conflicts:
            self.stdout.write(self.style.WARNING(f"conflict: {conflict}"))
