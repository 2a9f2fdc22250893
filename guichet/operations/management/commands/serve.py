"""Start the whole system on one machine: web server, background worker and clock.

This is what `make run` calls. Stopping it (Ctrl-C) stops all three.
"""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from guichet.allocation.tasks import FREED_SLOTS_QUEUE
from guichet.operations.startup import refuse_unsafe_production

# The worker model chosen from bench/load.py's measurements (docs/benchmarks.md, "Intake under load").
WORKERS = 3
THREADS = 4
# How often an idle task worker looks for tasks: part of the delay between a freed slot and the next offer
# (bench/freed_slot.py); one indexed query each time.
WORKER_INTERVAL = 0.2
ADMISSION_WORKER = "guichet.operations.admission.AdmissionThreadWorker"
# The background runs at a lower CPU priority than the web server (docs/deployment.md, "Production
# profile"): under a burst of filings the intake (the request, its proof, its audit entry, its message
# queued) keeps the cores, and the receipts' emails and the allocation runs catch up seconds later; idle
# cores still go to them at once. The freed-slot worker less so: its offer should leave within a second.
BACKGROUND_NICENESS = 10
FREED_SLOTS_NICENESS = 5


class Command(BaseCommand):
    help = "Runs gunicorn, the task worker (db_worker) and the clock together."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=WORKERS)
        parser.add_argument(
            "--threads", type=int, default=THREADS, help="threads per worker (gthread; 1 = sync workers)"
        )
        parser.add_argument(
            "--no-background", action="store_true", help="the web server only (no worker, clock)"
        )

    def handle(self, *args, host: str, port: int, workers: int, threads: int, no_background: bool, **options):
        refuse_unsafe_production()
        manage = str(settings.BASE_DIR / "manage.py")
        bin_dir = settings.BASE_DIR / ".venv" / "bin"
        gunicorn = str(bin_dir / "gunicorn") if (bin_dir / "gunicorn").exists() else "gunicorn"
        # Each worker writes its request metrics here; /metrics adds them up (guichet/operations/metrics.py).
        metrics_dir = tempfile.mkdtemp(prefix="guichet-metrics-")
        environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": metrics_dir}
        web = [
            gunicorn,
            "guichet.wsgi",
            "--config",
            "python:guichet.operations.gunicorn_conf",
            "--bind",
            f"{host}:{port}",
            "--workers",
            str(workers),
            # Threads with admission control: under overload a request waits at most its budget, then is
            # answered 503 with Retry-After (guichet/operations/admission.py).
            *(["--worker-class", ADMISSION_WORKER, "--threads", str(threads)] if threads > 1 else []),
        ]
        processes = [subprocess.Popen(web, env=environment)]
        if not no_background:
            worker = [sys.executable, manage, "db_worker", "--interval", str(WORKER_INTERVAL)]
            processes += [
                _niced(subprocess.Popen(worker, env=environment), BACKGROUND_NICENESS),
                # The freed-slot queue's own worker: one slot never waits behind a full allocation run.
                _niced(
                    subprocess.Popen([*worker, "--queue-name", FREED_SLOTS_QUEUE], env=environment),
                    FREED_SLOTS_NICENESS,
                ),
                _niced(
                    subprocess.Popen([sys.executable, manage, "clock"], env=environment), BACKGROUND_NICENESS
                ),
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
            shutil.rmtree(metrics_dir, ignore_errors=True)

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


def _niced(process: subprocess.Popen, niceness: int) -> subprocess.Popen:
    """Lower the process's CPU priority by `niceness` (it starts at serve's own)."""
    try:
        os.setpriority(os.PRIO_PROCESS, process.pid, os.getpriority(os.PRIO_PROCESS, 0) + niceness)
    except OSError:
        pass  # it ended already, or the system refuses: it keeps serve's priority
    return process
