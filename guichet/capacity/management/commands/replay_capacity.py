"""Measure the capacity projection against a replayed history of the demo prefecture (capacity/replay.py).

    python manage.py migrate && python manage.py replay_capacity [--weeks-before 8] [--weeks-after 6]
        [--arrivals 500] [--seed 1]

It builds the demo's catalogue, replays `--weeks-before` weeks of history through the services from a Monday
in the past, projects at the cut, replays `--weeks-after` more weeks, prints the projected and seen figures
week by week and the two errors. Everything happens in one transaction that is rolled back at the end:
nothing stays. It refuses a database that already holds requests (the replay's figures would mix with them).
"""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from guichet.capacity.replay import Behaviour, replay
from guichet.catalog.demo import build_demo_prefecture
from guichet.waitlist.models import AppointmentRequest


class Command(BaseCommand):
    help = "Replay a generated history of the demo prefecture and compare the capacity projection with it."

    def add_arguments(self, parser):
        parser.add_argument("--weeks-before", type=int, default=8, help="weeks replayed before the cut (8)")
        parser.add_argument("--weeks-after", type=int, default=6, help="weeks replayed after the cut (6)")
        parser.add_argument("--arrivals", type=float, default=500, help="requests filed per week (500)")
        parser.add_argument("--seed", type=int, default=1, help="seed of the history (1)")

    def handle(self, *args, weeks_before: int, weeks_after: int, arrivals: float, seed: int, **options):
        if not (1 <= weeks_before <= 52 and 1 <= weeks_after <= 12 and 0 < arrivals <= 20000):
            raise CommandError("weeks before: 1 to 52; weeks after: 1 to 12; arrivals: 1 to 20000 a week.")
        if AppointmentRequest.objects.exists():
            raise CommandError("This database holds requests: run the replay on an empty (migrated) one.")
        today = timezone.localdate()
        start = today - datetime.timedelta(days=today.weekday(), weeks=weeks_before + weeks_after)
        began = time.perf_counter()
        with transaction.atomic():
            prefecture = build_demo_prefecture()
            comparison = replay(
                prefecture,
                start=start,
                warmup_weeks=weeks_before,
                weeks_after=weeks_after,
                behaviour=Behaviour(arrivals_per_week=arrivals),
                seed=seed,
            )
            transaction.set_rollback(True)
        self.stdout.write(comparison.table())
        self.stdout.write(
            f"replayed {weeks_before} + {weeks_after} weeks from {start}, {arrivals:g} requests a week, "
            f"seed {seed}, in {time.perf_counter() - began:.0f} s (rolled back)"
        )
