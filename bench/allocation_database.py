"""Benchmark of the whole allocation service on PostgreSQL (the `--database` part of bench/allocation.py).

    python bench/allocation.py --database            # after the in-memory engine figures
    python bench/allocation_database.py [--requests 200000] [--slots 40000] [--database-url URL]

It fills a dedicated database (``guichet_bench`` on the server of DATABASE_URL, or --database-url /
BENCH_DATABASE_URL; created and migrated here, emptied at each run) with one prefecture of 40 sites and
10 procedures, 200,000 waiting requests and 40,000 free slots (bench/allocation.py's generators; loaded with
COPY, not timed). Then, in the same run:

* the whole ``allocate()`` run is timed: lock, load, engine, lock again, write the offers and their holds
  (and the appointments of people reachable only by post), the signed proofs and the audit entries, the
  outbox messages, commit;
* the baseline is timed: a plain read of the same rows (the same columns of the same requests, request
  sites and slots) plus a bulk insert of as many offer rows as the run made.

It prints the ratio (target: allocate <= 3 x baseline) and where the time went. The last line gives the
figures.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_REQUESTS = 200_000
DEFAULT_SLOTS = 40_000
BENCH_DB = "guichet_bench"
# People reachable only by post: confirmed directly (appointment and letter) instead of offered.
POSTAL_SHARE = 0.02


def bench_url(args: argparse.Namespace) -> str:
    explicit = getattr(args, "database_url", None) or os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    base = urlparse(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/guichet")
    if not base.scheme.startswith("postgres"):
        base = urlparse("postgres://postgres@127.0.0.1:5432/guichet")
    return urlunparse(base._replace(path=f"/{BENCH_DB}"))


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = urlunparse(parsed._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django(url: str) -> None:
    import django
    from django.apps import apps

    if not apps.ready:
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guichet.settings")
        django.setup()
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        # This run empties the database: never anything but a bench database.
        raise SystemExit(f"refusing to run the database benchmark on {connection.vendor} database {name!r}")


def _copy(model, rows: list[dict]) -> None:
    """COPY rows (dicts by attname) into the model's table; fields not given take their default."""
    from django.db import connection
    from django.db.models import JSONField
    from django.utils import timezone

    now = timezone.now()
    fields = model._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)

    def default(field):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return now
        if field.has_default():
            return field.get_default()
        if field.null:
            return None
        if field.blank and field.get_internal_type() in {"CharField", "TextField", "EmailField", "SlugField"}:
            return ""
        raise ValueError(f"{model.__name__}.{field.name} needs a value")

    defaults = {f.attname: default(f) for f in fields if f.attname not in rows[0]} if rows else {}
    json_fields = {f.attname for f in fields if isinstance(f, JSONField)}
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        ) as copy,
    ):
        for row in rows:
            values = []
            for field in fields:
                value = row[field.attname] if field.attname in row else defaults[field.attname]
                if field.attname in json_fields:
                    value = json.dumps(value)
                values.append(value)
            copy.write_row(values)
    if rows and "id" in rows[0]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [model._meta.db_table, len(rows)]
            )


def empty_database() -> None:
    from django.apps import apps
    from django.db import connection

    tables = sorted(
        model._meta.db_table
        for config in apps.get_app_configs()
        if config.name.startswith("guichet.") or config.name == "django_tasks_db"
        for model in config.get_models(include_auto_created=True)
    )
    existing = set(connection.introspection.table_names())
    with connection.cursor() as cursor:
        quoted = ", ".join(connection.ops.quote_name(t) for t in tables if t in existing)
        cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")


def fill(requests: int, slots: int, seed: int):
    """Load bench/allocation.py's world into the models. Returns (prefecture, now)."""
    from django.db import connection, transaction

    from bench import allocation as memory
    from guichet.capacity.models import Slot
    from guichet.catalog.models import Counter, OpeningRule, Prefecture, Procedure, Site
    from guichet.waitlist.models import AppointmentRequest

    rng = random.Random(seed)
    world = memory.generate_world(rng)
    counters, free = memory.generate_slots(world, rng, slots)
    waiting = memory.generate_requests(world, rng, requests)
    now = world.now
    with transaction.atomic():
        prefecture = Prefecture.objects.create(code="93", name="Préfecture de la Seine-Saint-Denis (bench)")
        site_ids = {}
        for site in world.sites:
            site_ids[site.id] = Site.objects.create(
                prefecture=prefecture,
                name=f"Site {site.id}",
                address=f"{site.id} rue du Banc d'essai",
                postal_code="93000",
                city="Bobigny",
                step_free=site.step_free,
            ).pk
        procedure_ids = {}
        for procedure in world.procedures:
            procedure_ids[procedure.id] = Procedure.objects.create(
                prefecture=prefecture,
                code=f"procedure-{procedure.id}",
                name=f"Procedure {procedure.id}",
                kind=Procedure.Kind.FIRST_PERMIT,
                duration_minutes=15,
                target_wait_days=procedure.target_wait_days,
                minimum_notice_hours=procedure.min_notice_hours,
                offer_validity_hours=72,
            ).pk
        rule_by_counter = {}
        counter_ids = {}
        for counter in counters:
            made = Counter.objects.create(
                site_id=site_ids[counter.site_id],
                name=f"Guichet {counter.id}",
                languages=sorted(counter.languages),
            )
            counter_ids[counter.id] = made.pk
            rule = OpeningRule.objects.create(
                counter=made,
                weekday=0,
                start_time=datetime.time(9),
                end_time=datetime.time(17),
                slot_minutes=counter.slot_minutes,
                valid_from=datetime.date(2024, 1, 1),
            )
            rule.procedures.set([procedure_ids[p] for p in counter.procedure_ids])
            rule_by_counter[counter.id] = (rule.pk, counter.slot_minutes)

        _copy(
            Slot,
            [
                {
                    "id": index,
                    "counter_id": counter_ids[slot.counter_id],
                    "rule_id": rule_by_counter[slot.counter_id][0],
                    "starts_at": slot.starts_at,
                    "ends_at": slot.starts_at
                    + datetime.timedelta(minutes=rule_by_counter[slot.counter_id][1]),
                }
                for index, slot in enumerate(free, start=1)
            ],
        )
        notice_ends = {p.id: now + datetime.timedelta(hours=p.min_notice_hours) for p in world.procedures}
        rows = []
        site_rows = []
        postal = random.Random(seed + 1)
        for index, request in enumerate(sorted(waiting, key=lambda r: r.id), start=1):
            by_post = postal.random() < POSTAL_SHARE
            earliest = None
            if request.not_before > notice_ends[request.procedure_id]:
                earliest = request.not_before.astimezone(memory.PARIS).date()
            rows.append(
                {
                    "id": index,
                    "prefecture_id": prefecture.pk,
                    "procedure_id": procedure_ids[request.procedure_id],
                    "reference": f"93-B{index:07d}",
                    "access_token_hash": f"{index:064x}",
                    "family_names": f"Nom {index}",
                    "given_names": "Prénom",
                    "birth_date": datetime.date(1980, 1, 1) + datetime.timedelta(days=index % 9000),
                    "nationality": "DZ",
                    "identity_key": f"{index:064x}",
                    "email": "" if by_post else f"person{index}@example.org",
                    "phone": "",
                    "postal_address": f"{index} avenue de la Poste\n93000 Bobigny" if by_post else "",
                    "language": "fr",
                    "interpreter_language": request.language or "",
                    "needs_step_free": request.needs_step_free,
                    "unavailable_weekdays": sorted(request.unavailable_weekdays),
                    "unavailable_dates": sorted(d.isoformat() for d in request.unavailable_dates),
                    "earliest_date": earliest,
                    "channel": "post" if by_post else "web",
                    "received_at": request.received_at,
                    "due_date": request.due_date,
                    "due_reason": "target_wait",
                    "status": "waiting",
                    "status_changed_at": request.received_at,
                    "consecutive_lapses": 0,
                }
            )
            for site in sorted(request.site_ids or ()):
                site_rows.append(
                    {"id": len(site_rows) + 1, "appointmentrequest_id": index, "site_id": site_ids[site]}
                )
        _copy(AppointmentRequest, rows)
        _copy(AppointmentRequest.sites.through, site_rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return prefecture, now


def plain_read(prefecture, now) -> tuple[int, int]:
    """The rows the service reads, read plainly: no locks, no conversion."""
    from guichet.capacity.models import Slot
    from guichet.waitlist.models import AppointmentRequest

    rows = list(
        AppointmentRequest.objects.filter(
            prefecture=prefecture, status__in=("waiting", "offered", "scheduled")
        )
        .values_list(
            "id",
            "procedure_id",
            "due_date",
            "received_at",
            "interpreter_language",
            "needs_step_free",
            "unavailable_weekdays",
            "unavailable_dates",
            "earliest_date",
            "email",
            "phone",
        )
        .iterator(chunk_size=2000)
    )
    sites = list(
        AppointmentRequest.sites.through.objects.filter(
            appointmentrequest__prefecture=prefecture
        ).values_list("appointmentrequest_id", "site_id")
    )
    slots = list(
        Slot.objects.filter(counter__site__prefecture=prefecture, starts_at__gt=now)
        .values_list("id", "counter_id", "rule_id", "starts_at", "ends_at")
        .iterator(chunk_size=2000)
    )
    return len(rows) + len(sites), len(slots)


def bulk_insert_offers(prefecture, now, count: int) -> tuple[list[int], float]:
    """As many offer rows as the run wrote, in one bulk insert (status withdrawn: no pending-offer index)."""
    from django.db import transaction

    from guichet.appointments.models import Offer
    from guichet.capacity.models import Slot
    from guichet.waitlist.models import AppointmentRequest

    request_ids = list(
        AppointmentRequest.objects.filter(prefecture=prefecture).values_list("id", flat=True)[:count]
    )
    slot_ids = list(
        Slot.objects.filter(counter__site__prefecture=prefecture).values_list("id", flat=True)[:count]
    )
    started = time.perf_counter()
    with transaction.atomic():  # inside the caller's rolled-back transaction: a savepoint, as in allocate()
        offers = Offer.objects.bulk_create(
            [
                Offer(
                    request_id=request_ids[i],
                    slot_id=slot_ids[i % len(slot_ids)],
                    status="withdrawn",
                    created_at=now,
                    expires_at=now + datetime.timedelta(hours=72),
                )
                for i in range(count)
            ],
            batch_size=2000,
        )
    return [offer.pk for offer in offers], time.perf_counter() - started


def signing_only(prefecture, count: int) -> float:
    """What signing `count` proofs costs alone (payload + Ed25519), to read the evidence time against."""
    from guichet.evidence import services as evidence
    from guichet.evidence import signing
    from guichet.waitlist.models import AppointmentRequest

    key = evidence.signing_key()
    requests = list(
        AppointmentRequest.objects.filter(prefecture=prefecture).select_related("procedure")[:count]
    )
    for request in requests:
        request.prefecture = prefecture
    at = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    details = {"offer": 1, "site": "Site 1", "counter": "Guichet 1", "starts_at": at, "expires_at": at}
    started = time.perf_counter()
    for request in requests:
        payload = evidence.proof_payload(
            request, "offer_made", at, evidence.normalise_details(details, prefecture.tzinfo)
        )
        signing.sign(payload, key)
    return time.perf_counter() - started


class _Rollback(Exception):
    pass


def rolled_back(action):
    """Time action() in a transaction that is then rolled back, so that it can be repeated on the same data.

    Foreign keys are checked at once (SET CONSTRAINTS ALL IMMEDIATE): a rolled-back transaction must still
    pay for the checks PostgreSQL would otherwise defer to the commit.
    """
    from django.db import connection, transaction

    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            started = time.perf_counter()
            result = action()
            raise _Rollback(time.perf_counter() - started, result)
    except _Rollback as done:
        return done.args


def run_database(args: argparse.Namespace) -> dict[str, float | int]:
    requests = getattr(args, "db_requests", None) or DEFAULT_REQUESTS
    slots = getattr(args, "db_slots", None) or DEFAULT_SLOTS
    seed = getattr(args, "seed", 1)
    repeat = max(1, getattr(args, "repeat", 3) or 3)
    url = bench_url(args)
    ensure_database(url)
    setup_django(url)

    from django.core.management import call_command

    from guichet.allocation.service import allocate

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    empty_database()
    prefecture, now = fill(requests, slots, seed)
    print(
        f"database {urlparse(url).path.lstrip('/')}: {requests} waiting requests, {slots} free slots, "
        f"{POSTAL_SHARE:.0%} reachable only by post (seed {seed}; "
        f"filled in {time.perf_counter() - started:.1f} s)"
    )
    plain_read(prefecture, now)  # warm the caches for both timings alike

    def baseline():
        started = time.perf_counter()
        plain_read(prefecture, now)
        read_s = time.perf_counter() - started
        _, insert_s = bulk_insert_offers(prefecture, now, written)
        return read_s, insert_s

    best_allocate = best_baseline = None
    for _ in range(repeat):
        allocate_s, report = rolled_back(lambda: allocate(prefecture, now=now))
        run = report.runs[0]
        written = run.offers + run.confirmed
        if best_allocate is None or allocate_s < best_allocate[0]:
            best_allocate = (allocate_s, run)
        baseline_s, (read_s, insert_s) = rolled_back(baseline)
        if best_baseline is None or baseline_s < best_baseline[0]:
            best_baseline = (baseline_s, read_s, insert_s)

    allocate_s, run = best_allocate
    baseline_s, read_s, insert_s = best_baseline
    written = run.offers + run.confirmed
    steps = " ".join(f"{name}={seconds:.2f}" for name, seconds in run.timings.items())
    print(
        f"allocate (best of {repeat}): {run.offers} offers + {run.confirmed} confirmed by post in "
        f"{allocate_s:.2f} s ({steps})"
    )
    print(
        f"baseline (best of {repeat}): plain read {read_s:.2f} s + bulk insert of {written} offers "
        f"{insert_s:.2f} s = {baseline_s:.2f} s"
    )
    sign_s = signing_only(prefecture, written)
    evidence_s = run.timings.get("evidence", 0.0)
    print(
        f"evidence (proofs, audit entries) {evidence_s:.2f} s, of which signing {written} proofs alone "
        f"(payload + Ed25519) {sign_s:.2f} s; everything but evidence: {allocate_s - evidence_s:.2f} s "
        f"= {(allocate_s - evidence_s) / baseline_s:.2f} x baseline"
    )
    ratio = allocate_s / baseline_s
    figures = {
        "db_requests": requests,
        "db_slots": slots,
        "offers": run.offers,
        "confirmed": run.confirmed,
        "allocate_s": allocate_s,
        "baseline_s": baseline_s,
        "db_ratio": ratio,
        "evidence_s": evidence_s,
        "sign_s": sign_s,
    }
    print(
        f"db_requests={requests} db_slots={slots} offers={run.offers} confirmed={run.confirmed} "
        f"allocate_s={allocate_s:.2f} baseline_s={baseline_s:.2f} ratio={ratio:.2f} "
        f"evidence_s={evidence_s:.2f} sign_s={sign_s:.2f} (target ratio <= 3)"
    )
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", dest="db_requests", type=int, default=DEFAULT_REQUESTS)
    parser.add_argument("--slots", dest="db_slots", type=int, default=DEFAULT_SLOTS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (rolled back); the best is kept")
    parser.add_argument("--database-url", help=f"PostgreSQL URL of the bench database (default: {BENCH_DB})")
    run_database(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
