"""Run the periodic jobs of guichet.operations.schedule forever (or once with --once)."""

import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from guichet.operations.schedule import JOBS


class Command(BaseCommand):
    help = "Runs the periodic jobs (slot generation, allocation, lapses, weekly statements, outbox)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every job once, then stop")

    def handle(self, *args, once: bool = False, **options):
        last_run: dict[str, float] = {}
        while True:
            now = time.monotonic()
            for job in JOBS:
                if once or now - last_run.get(job.command, -job.every_seconds) >= job.every_seconds:
                    last_run[job.command] = now
                    self.run_job(job.command, job.args)
            if once:
                return
            time.sleep(5)

    def run_job(self, command: str, args: tuple[str, ...]) -> None:
        result = subprocess.run(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), command, *args],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            self.stderr.write(f"{command} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
