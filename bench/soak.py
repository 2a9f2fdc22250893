"""Soak test: a production-like server under parallel applicants and staff for a bounded time; no 5xx, ever.

    python bench/soak.py [--duration 30] [--clients 6] [--port 8700] [--requests 100] [--extra-workers 1]

On a fresh PostgreSQL database (SOAK_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/guichet_soak,
dropped and created again) with the demo prefecture, it starts `manage.py serve` (gunicorn with DEBUG=0, the
task worker that allocates and sends messages, the clock) on 127.0.0.1 only, and runs `--clients` threads
for `--duration` seconds. Each client files requests (new people, people filing again, and hostile bodies:
NUL characters, lone surrogates, 50,000-deep JSON), looks them up, accepts, declines and cancels the offers
and appointments the worker gives them, while staff list the queue and search it through the staff API.

Then it waits (bounded) for the worker to drain the queued tasks and messages, stops the server, and prints:
operations by kind and answer, the 5xx (must be 0; a 503 "overloaded" from the admission control is waited
out for its Retry-After and sent again, as a client is asked to, and counted as shed), the deadlocks
retried and the transactions given up (guichet/retrying.py's log lines) and any deadlock left unretried in
the server log. Then it checks: no slot with two holders, no request with two live offers, no duplicate
active request, `verify_audit` passes, every email and SMS of the outbox sent exactly once (delivered files
= rows marked sent, none left pending). Exit status 1 if any figure or check fails: CI runs it after the
tests (.ci/run).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/guichet_soak"
HOST = "127.0.0.1"  # never anything else: the soak only ever talks to the server it started
REQUEST_TIMEOUT = 30
# A request the admission control sheds is sent again after its Retry-After, up to this many times in all.
SHED_ATTEMPTS = 4
DRAIN_SECONDS = 90
DEADLOCK_IN_LOG = re.compile(r"deadlock detected", re.IGNORECASE)
ACCESS_5XX = re.compile(r'" 5\d\d ')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration", type=float, default=30.0, help="seconds of load (default 30, at most 600)"
    )
    parser.add_argument("--clients", type=int, default=6, help="parallel clients (default 6, at most 32)")
    parser.add_argument("--port", type=int, default=8700, help="port on 127.0.0.1 (default 8700)")
    parser.add_argument("--requests", default="100", help="synthetic requests of the demo (default 100)")
    parser.add_argument(
        "--extra-workers", type=int, default=1, help="task workers besides serve's (default 1)"
    )
    parser.add_argument("--seed", type=int, default=16, help="seed of the clients' choices (default 16)")
    args = parser.parse_args()
    if not 0 < args.duration <= 600 or not 0 < args.clients <= 32 or not 0 <= args.extra_workers <= 4:
        parser.error("--duration is 1–600 seconds, --clients 1–32, --extra-workers 0–4")
    return args


# --- the database and the server ---------------------------------------------------------------------------


def fresh_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not re.fullmatch(r"[a-z0-9_]+", name):
        sys.exit(f"unexpected database name {name!r}")
    maintenance = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {name}")


def server_environment(args: argparse.Namespace, database: str, folder: Path) -> dict[str, str]:
    unlimited = "1000000/h"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "guichet.settings",
        "DATABASE_URL": database,
        "REDIS_URL": os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/8"),
        "DEBUG": "0",
        "TESTING": "0",
        # Set in the environment, as DEBUG=0 requires (guichet/operations/startup.py); throw-away values.
        "SECRET_KEY": "soak-" + "k" * 60,
        "IDENTITY_HMAC_KEY": "soak-identity-" + "i" * 50,
        "FIELD_ENCRYPTION_KEY": "soak-fields-" + "f" * 50,
        "ALLOWED_HOSTS": HOST,
        "SITE_URL": f"http://{HOST}:{args.port}",
        "SIGNING_KEY_FILE": str(folder / "signing-keys.json"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(folder / "mail"),
        "SMS_BACKEND": "guichet.notifications.sms.FileBackend",
        "SMS_FILE_PATH": str(folder / "sms"),
        "MEDIA_ROOT": str(folder / "media"),
        "DOSSIER_FILES_ROOT": str(folder / "dossier-files"),
        # The clients all come from 127.0.0.1: the per-address limits would stop the soak, not protect it.
        "RATE_LIMIT_FILING_ADDRESS": unlimited,
        "RATE_LIMIT_FILING_IDENTITY": unlimited,
        "RATE_LIMIT_LOOKUP_ADDRESS": unlimited,
        "RATE_LIMIT_LOOKUP_REFERENCE": unlimited,
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *arguments: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *arguments], env=env, check=True, cwd=ROOT)


def start_server(env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    log = log_path.open("w")
    # Its own process group: stopping the soak stops gunicorn, the worker and the clock, and nothing else.
    return subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            "3",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """One more task worker: serve's worker alone spends tens of seconds sending the demo's first messages
    (each email carries its proof as a PDF), and the allocation must run while the clients answer."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "db_worker", "--no-startup-delay", "--interval", "0.5"],
        env=env,
        cwd=ROOT,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(
            process.pid, signal.SIGINT
        )  # serve stops its three processes on Ctrl-C; a worker finishes its task
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_until_up(base: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit("the server stopped while starting: see its log")
        try:
            with urllib.request.urlopen(base + "/fr/", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    sys.exit("the server did not answer within a minute")


# --- the clients --------------------------------------------------------------------------------


def letters(number: int) -> str:
    """A number written in letters (names hold letters only): 0 → A, 25 → Z, 26 → BA."""
    text = ""
    while True:
        number, digit = divmod(number, 26)
        text = chr(ord("A") + digit) + text
        if not number:
            return text


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: collections.Counter = field(default_factory=collections.Counter)
    server_errors: list[str] = field(default_factory=list)
    first_refusals: dict[tuple[str, int], str] = field(default_factory=dict)
    transport_errors: collections.Counter = field(default_factory=collections.Counter)
    # Answers the admission control shed (503 "overloaded" + Retry-After, nothing done): the client waits and
    # sends again, as the page and the API ask; counted apart, never as a 5xx, unless shed every time.
    shed: collections.Counter = field(default_factory=collections.Counter)

    def note(self, operation: str, status: int, detail: str = "") -> None:
        with self.lock:
            self.answers[(operation, status)] += 1
            if status >= 500:
                self.server_errors.append(f"{operation} {status} {detail[:200]}")
            elif status >= 400:
                self.first_refusals.setdefault((operation, status), detail[:160])

    @property
    def operations(self) -> int:
        return sum(self.answers.values())

    @property
    def five_hundreds(self) -> int:
        return sum(count for (_operation, status), count in self.answers.items() if status >= 500)


class Client:
    """One applicant-and-staff loop; every request goes to 127.0.0.1 only."""

    def __init__(self, number: int, base: str, world: dict, tally: Tally, seed: int):
        self.number = number
        self.base = base
        self.world = world
        self.tally = tally
        self.random = random.Random(seed * 1000 + number)
        self.filed: list[tuple[str, str]] = []  # (reference, access token)
        self.people: list[dict] = []
        self.counter = 0

    def call(self, operation: str, method: str, path: str, body: bytes | None = None, headers=None) -> dict:
        for attempt in range(SHED_ATTEMPTS):
            request = urllib.request.Request(
                self.base + path, data=body, method=method, headers=headers or {}
            )
            if body is not None:
                request.add_header("Content-Type", "application/json")
            try:
                with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:
                    status, text = response.status, response.read()
            except urllib.error.HTTPError as error:
                status, text = error.code, error.read()
                retry_after = error.headers.get("Retry-After")
                if status == 503 and b'"overloaded"' in text and retry_after and attempt + 1 < SHED_ATTEMPTS:
                    with self.tally.lock:
                        self.tally.shed[operation] += 1
                    time.sleep(min(float(retry_after), 5.0))
                    continue
            except OSError as error:
                with self.tally.lock:
                    self.tally.transport_errors[f"{operation}: {type(error).__name__}"] += 1
                return {}
            break
        self.tally.note(operation, status, text.decode("utf-8", "replace"))
        try:
            return {**json.loads(text), "http": status} if text[:1] == b"{" else {"http": status}
        except ValueError:
            return {"http": status}

    def person(self) -> dict:
        self.counter += 1
        rng = self.random
        given = self.random.choice(["Zoë", "李小龙", "Seán", "Amina", "Olena", "Mehmet", "José"])
        family = self.random.choice(["O'Connor", "Nguyễn", "Al-Hassan", "Kovalenko", "Yılmaz", "García"])
        body = {
            "prefecture": self.world["prefecture"],
            "procedure": self.random.choice(self.world["procedures"]),
            "family_names": f"{family} {letters(self.number)}-{letters(self.counter)}",
            "given_names": given,
            "birth_date": f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 8)}",
            "nationality": self.random.choice(["DZ", "VN", "UA", "TR", "CN", "ES"]),
            "email": f"soak{self.number}-{self.counter}@example.org",
            "language": self.random.choice(["fr", "ar", "zh-hans", "uk"]),
        }
        if body["procedure"] not in self.world["first_permits"]:  # a first application has no current permit
            body["permit_expires_on"] = self.world["permit_expires_on"]
        return body

    def file(self) -> None:
        if self.people and self.random.random() < 0.15:
            body = self.random.choice(self.people)  # the same person again: the existing request, 200
        else:
            body = self.person()
        answer = self.call("file", "POST", "/api/v1/requests", json.dumps(body).encode())
        if answer.get("http") == 201:
            self.people.append(body)
            self.filed.append((answer["reference"], answer["access_token"]))

    def file_hostile(self) -> None:
        kind = self.random.choice(["nul", "surrogate", "deep"])
        if kind == "deep":
            raw = ("[" * 50_000 + "]" * 50_000).encode()
        else:
            text = json.dumps({**self.person(), "family_names": "O'Connor\u0000"})
            raw = (text if kind == "nul" else text.replace("\\u0000", "\\ud800")).encode()
        self.call(f"file ({kind})", "POST", "/api/v1/requests", raw)

    def follow(self) -> None:
        if not self.filed:
            return self.file()
        reference, token = self.random.choice(self.filed)
        headers = {"X-Access-Token": token}
        state = self.call("look up", "GET", f"/api/v1/requests/{reference}", headers=headers)
        pending = [offer for offer in state.get("offers", []) if offer.get("status") == "pending"]
        appointment = state.get("appointment")
        if pending:
            offer = pending[0]["id"]
            if self.random.random() < 0.7:
                self.call("accept", "POST", f"/api/v1/offers/{offer}/accept", b"{}", headers)
            else:
                self.call("decline", "POST", f"/api/v1/offers/{offer}/decline", b"{}", headers)
        elif appointment and appointment.get("status") == "confirmed" and self.random.random() < 0.4:
            body = json.dumps({"reason": "soak", "rebook": self.random.random() < 0.7}).encode()
            self.call("cancel", "POST", f"/api/v1/appointments/{appointment['id']}/cancel", body, headers)

    def staff(self) -> None:
        headers = {"Authorization": f"Bearer {self.world['token']}"}
        if self.random.random() < 0.6:
            self.call("staff queue", "GET", "/api/v1/staff/queue", headers=headers)
        else:
            self.call("staff search", "GET", "/api/v1/staff/requests?q=O%27Connor", headers=headers)

    def run(self, deadline: float) -> None:
        actions = [self.file] * 4 + [self.follow] * 5 + [self.staff] * 2 + [self.file_hostile]
        while time.monotonic() < deadline:
            self.random.choice(actions)()


# --- setup and checks, in this process, on the soak database ----------------------------------------


def world_for_clients() -> dict:
    from django.utils import timezone

    from guichet.accounts.models import Membership, Role
    from guichet.accounts.services import create_api_token
    from guichet.catalog.models import Procedure

    membership = Membership.objects.select_related("user", "prefecture").filter(role=Role.AGENT).first()
    prefecture = membership.prefecture
    _token, raw = create_api_token(membership.user, name="soak", prefecture=prefecture)
    procedures = list(
        Procedure.objects.filter(prefecture=prefecture, mode=Procedure.Mode.QUEUE).values_list(
            "code", flat=True
        )
    )
    expiry = timezone.localdate() + datetime.timedelta(days=60)
    return {
        "prefecture": prefecture.code,
        "procedures": procedures,
        "token": raw,
        "permit_expires_on": expiry.isoformat(),
        "first_permits": set(
            Procedure.objects.filter(prefecture=prefecture, kind=Procedure.Kind.FIRST_PERMIT).values_list(
                "code", flat=True
            )
        ),
    }


def drain(seconds: float) -> bool:
    """Wait until the worker has run every queued task and sent every due message; False if it did not."""
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from guichet.notifications.models import MessageChannel, MessageStatus, OutboxMessage

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        tasks = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).count()
        messages = OutboxMessage.objects.filter(
            status=MessageStatus.PENDING,
            channel__in=[MessageChannel.EMAIL, MessageChannel.SMS],
            next_attempt_at__lte=timezone.now(),
        ).count()
        if not tasks and not messages:
            return True
        time.sleep(1)
    return False


def invariant_failures() -> list[str]:
    from django.db.models import Count, Q

    from guichet.appointments.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, Offer, OfferStatus
    from guichet.capacity.models import Slot
    from guichet.waitlist.models import ACTIVE_STATUSES, AppointmentRequest

    failures = []
    holders = Slot.objects.annotate(
        pending_offers=Count("offers", filter=Q(offers__status=OfferStatus.PENDING), distinct=True),
        live_appointments=Count(
            "appointments", filter=Q(appointments__status__in=ACTIVE_APPOINTMENT_STATUSES), distinct=True
        ),
    ).filter(
        Q(pending_offers__gt=1)
        | Q(live_appointments__gt=1)
        | Q(pending_offers__gte=1, live_appointments__gte=1)
    )
    if holders.exists():
        failures.append(f"{holders.count()} slot(s) with two holders")
    two_offers = (
        Offer.objects.filter(status=OfferStatus.PENDING)
        .values("request")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    if two_offers.exists():
        failures.append(f"{two_offers.count()} request(s) with two live offers")
    two_appointments = (
        Appointment.objects.filter(status__in=ACTIVE_APPOINTMENT_STATUSES)
        .values("request")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    if two_appointments.exists():
        failures.append(f"{two_appointments.count()} request(s) with two live appointments")
    duplicates = (
        AppointmentRequest.objects.filter(status__in=ACTIVE_STATUSES)
        .values("prefecture", "procedure", "identity_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    if duplicates.exists():
        failures.append(f"{duplicates.count()} person(s) with two active requests for one procedure")
    return failures


def audit_failures() -> list[str]:
    from guichet.evidence import services

    return [f"audit: {problem}" for problem in services.verify_audit(proofs=True)]


def outbox_failures(folder: Path) -> tuple[list[str], dict[str, int]]:
    from guichet.notifications.models import MessageChannel, MessageStatus, OutboxMessage

    def sent(channel: str) -> int:
        return OutboxMessage.objects.filter(channel=channel, status=MessageStatus.SENT).count()

    emails = sum(
        path.read_text("utf-8", "replace").count("\nMessage-ID: ") for path in (folder / "mail").glob("*")
    )
    sms = len(list((folder / "sms").glob("*.txt")))
    figures = {
        "emails delivered": emails,
        "emails marked sent": sent(MessageChannel.EMAIL),
        "SMS delivered": sms,
        "SMS marked sent": sent(MessageChannel.SMS),
        "left pending": OutboxMessage.objects.filter(
            status=MessageStatus.PENDING, channel__in=[MessageChannel.EMAIL, MessageChannel.SMS]
        ).count(),
        "failed for good": OutboxMessage.objects.filter(status=MessageStatus.FAILED).count(),
    }
    failures = []
    if emails != figures["emails marked sent"]:
        failures.append(f"outbox: {emails} emails delivered for {figures['emails marked sent']} marked sent")
    if sms != figures["SMS marked sent"]:
        failures.append(f"outbox: {sms} SMS delivered for {figures['SMS marked sent']} marked sent")
    if figures["left pending"]:
        failures.append(f"outbox: {figures['left pending']} email/SMS message(s) never sent")
    if figures["failed for good"]:
        failures.append(f"outbox: {figures['failed for good']} message(s) failed for good")
    return failures, figures


def log_figures(log: str) -> dict[str, int]:
    return {
        "deadlocks retried": log.count("transaction retried after deadlock"),
        "serialisation failures retried": log.count("transaction retried after serialization failure"),
        "transactions given up": log.count("transaction gave up after"),
        "deadlocks unretried (errors in the log)": len(DEADLOCK_IN_LOG.findall(log)),
        "5xx in the access log": len(ACCESS_5XX.findall(log)),
        "tracebacks": log.count("Traceback (most recent call last)"),
    }


def main() -> int:
    args = parse_args()
    database = os.environ.get("SOAK_DATABASE_URL", DEFAULT_DATABASE)
    if urlparse(database).hostname not in ("127.0.0.1", "localhost"):
        sys.exit("the soak runs against a local PostgreSQL only")
    folder = Path(tempfile.mkdtemp(prefix="guichet-soak-"))
    env = server_environment(args, database, folder)
    print(
        f"soak: {args.clients} clients for {args.duration:.0f} s on {platform.node()} ({os.cpu_count()} CPUs)"
    )
    print(f"  database {database}, logs in {folder}", flush=True)
    fresh_database(database)
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "demo", "--requests", args.requests)
    manage(
        env, "collectstatic", "--noinput", "--verbosity", "0"
    )  # DEBUG=0: whitenoise serves the collected files

    os.environ.update(env)
    import django

    django.setup()
    world = world_for_clients()

    base = f"http://{HOST}:{args.port}"
    server = start_server(env, args.port, folder / "server.log")
    workers = [start_worker(env, folder / f"worker-{number}.log") for number in range(args.extra_workers)]
    tally = Tally()
    try:
        wait_until_up(base, server)
        started = time.monotonic()
        deadline = started + args.duration
        clients = [Client(number, base, world, tally, args.seed) for number in range(args.clients)]
        threads = [threading.Thread(target=client.run, args=(deadline,)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.duration + 2 * REQUEST_TIMEOUT)
        elapsed = time.monotonic() - started
        drained = drain(DRAIN_SECONDS)
    finally:
        for process in (server, *workers):
            stop(process)
    log = "\n".join(path.read_text("utf-8", "replace") for path in sorted(folder.glob("*.log")))

    print(f"\noperations: {tally.operations} in {elapsed:.1f} s ({tally.operations / elapsed:.1f}/s)")
    for (operation, status), count in sorted(tally.answers.items()):
        refusal = tally.first_refusals.get((operation, status))
        print(f"  {operation:<18} {status}  {count:>5}" + (f"  e.g. {refusal}" if refusal else ""))
    for problem, count in sorted(tally.transport_errors.items()):
        print(f"  transport error   {problem}  {count}")
    for operation, count in sorted(tally.shed.items()):
        print(f"  {operation:<18} shed  {count:>5}  (503 overloaded: waited Retry-After, sent again)")
    figures = log_figures(log)
    print("server log:")
    for label, value in figures.items():
        print(f"  {label:<40} {value}")

    failures = []
    if tally.five_hundreds:
        failures.append(f"{tally.five_hundreds} answer(s) 5xx: {tally.server_errors[:3]}")
    if tally.transport_errors:
        failures.append(f"{sum(tally.transport_errors.values())} request(s) got no answer")
    for label in (
        "transactions given up",
        "deadlocks unretried (errors in the log)",
        "5xx in the access log",
    ):
        if figures[label]:
            failures.append(f"{figures[label]} {label}")
    if not drained:
        failures.append(f"the worker did not drain its tasks and messages within {DRAIN_SECONDS} s")
    failures += invariant_failures()
    failures += audit_failures()
    outbox, outbox_figures = outbox_failures(folder)
    failures += outbox
    print("outbox:")
    for label, value in outbox_figures.items():
        print(f"  {label:<40} {value}")

    print("\nchecks: " + ("all passed" if not failures else "FAILED"))
    for failure in failures:
        print(f"  - {failure}")
    print(
        f"5xx: {tally.five_hundreds}  deadlocks retried: {figures['deadlocks retried']}"
        f"  operations: {tally.operations}"
    )
    if failures:
        print(f"logs kept in {folder}")
        return 1
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
