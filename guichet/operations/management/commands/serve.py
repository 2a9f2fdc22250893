"""Start the whole system on one machine: web server, background worker and clock.

This is what `make run` calls. Stopping it (Ctrl-C) stops all three.
"""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Runs gunicorn, the task worker (db_worker) and the clock together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=3)

    def handle(self, *args, host: str, port: int, workers: int, **options):
        manage = str(settings.BASE_DIR / "manage.py")
        bin_dir = settings.BASE_DIR / ".venv" / "bin"
        gunicorn = str(bin_dir / "gunicorn") if (bin_dir / "gunicorn").exists() else "gunicorn"
        processes = [
            subprocess.Popen(
                [
                    gunicorn,
                    "guichet.wsgi",
                    "--bind",
                    f"{host}:{port}",
                    "--workers",
                    str(workers),
                    "--access-logfile",
                    "-",
                ]
            ),
            subprocess.Popen([sys.executable, manage, "db_worker"]),
            subprocess.Popen([sys.executable, manage, "clock"]),
        ]
        self.print_addresses(host, port)
        try:
            while all(process.poll() is None for process in processes):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                process.wait(timeout=20)

    def print_addresses(self, host: str, port: int) -> None:
        base = f"http://{host}:{port}"
        self.stdout.write(
            f"\nGuichet is running.\n  Applicants:   {base}/fr/\n  Staff:        {base}/fr/staff/"
        )
        self.stdout.write(f"  API (OpenAPI): {base}/api/v1/docs\n  Proofs:       {base}/fr/verify/")
        staff = get_user_model().objects.filter(guichet__is_demo=True).order_by("username")
        demo = [user.username for user in staff]
        if demo:
            self.stdout.write("  Demo staff logins: <username> / <username>-demo-password")
            for username in demo:
                self.stdout.write(f"    {username}")
            self.stdout.write("  Second factor: `.venv/bin/python manage.py staff_totp <username>`")
        self.stdout.write("Press Ctrl-C to stop.\n")
