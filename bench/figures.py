"""Benchmark of the weekly public figures (guichet/public/series.py) on 1M requests, PostgreSQL.

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/guichet_h5_bench python bench/figures.py \
        [--requests 1000000] [--repeat 3] [--keep]

It fills a dedicated database (created and migrated here, emptied at each run unless --keep finds it
already filled; its name must contain "bench") inside PostgreSQL with generate_series, not timed:
one prefecture, 8 procedures, 40 counters, `--requests` requests received over the last 400 days
(channels: web 70 %, phone 10 %, counter 10 %, post 5 %, partner 5 %), of which the older ones were
mostly served: a log-normal wait (median 35 days, a long tail) from filing to the appointment, 8 % of
appointments missed, 5 % of requests withdrawn, 2 % closed, the rest still waiting; a court order for
0.5 % of requests. Then, in the same run, each timed `--repeat` times (the median is printed):

* the figures: `weekly_series(prefecture)` (52 weeks, every figure, percentiles by percentile_cont)
  and the same per procedure (one of the 8);
* the same with the window-rank percentiles (the SQLite path, for comparison);
* baseline: a plain COUNT(*) over the prefecture's requests and over its appointments of the period
  (the least that any computation over these rows costs);
* the previous release's way for the percentiles: reading one duration per served appointment of the
  period into Python and sorting them per week.

It prints the ratios against the baseline and the EXPLAIN of the heaviest query. The last line gives the
figures as JSON.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.allocation_database import empty_database, ensure_database, setup_django

DEFAULT_REQUESTS = 1_000_000
PROCEDURES = 8
COUNTERS = 40
HISTORY_DAYS = 400


def bench_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        raise SystemExit("set BENCH_DATABASE_URL to a PostgreSQL database whose name contains 'bench'")
    return url


def _insert_select(model, given: dict[str, str], source: str, params: list | None = None) -> int:
    """INSERT INTO the model's table SELECT the SQL expressions `given` (by column) FROM `source`; every
    other column takes its field's default, as a parameter. Returns the number of rows."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    columns, expressions, values = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in given:
            continue  # the sequence numbers it
        columns.append(connection.ops.quote_name(field.column))
        if field.column in given:
            expressions.append(given[field.column])
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        elif field.has_default():
            value = field.get_default()
            value = json.dumps(value) if field.get_internal_type() == "JSONField" else value
        elif field.null:
            value = None
        elif field.get_internal_type() in {"CharField", "TextField", "EmailField", "SlugField"}:
            value = ""
        else:
            raise ValueError(f"{model.__name__}.{field.name} needs a value")
        expressions.append("%s")
        values.append(value)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values + (params or []))
        return cursor.rowcount


def fill(requests: int):
    """The bench world, generated inside PostgreSQL. Returns the prefecture."""
    from django.db import connection, transaction
    from django.utils import timezone

    from guichet.appointments.models import Appointment
    from guichet.capacity.models import Slot
    from guichet.catalog.models import Counter, Prefecture, Procedure, Site
    from guichet.evidence.models import CourtOrder
    from guichet.waitlist.models import AppointmentRequest

    now = timezone.now()
    with transaction.atomic():
        prefecture = Prefecture.objects.create(code="93", name="Préfecture de la Seine-Saint-Denis (bench)")
        site = Site.objects.create(
            prefecture=prefecture, name="Bobigny", address="1 esplanade", postal_code="93000", city="Bobigny"
        )
        procedures = [
            Procedure.objects.create(
                prefecture=prefecture,
                code=f"procedure-{number}",
                name=f"Procedure {number}",
                kind=Procedure.Kind.FIRST_PERMIT,
                duration_minutes=15,
                target_wait_days=60,
            ).pk
            for number in range(PROCEDURES)
        ]
        counters = [Counter.objects.create(site=site, name=f"Guichet {n}").pk for n in range(COUNTERS)]
        with connection.cursor() as cursor:
            # One row per request: when it came, how long it waited (log-normal by Box-Muller: median 35
            # days, sigma 0.7), what became of it. The seed makes runs comparable.
            cursor.execute("SELECT setseed(0.42)")
            cursor.execute(
                """
                CREATE TEMPORARY TABLE bench_plan AS
                SELECT n AS id,
                       %s::timestamptz - random() * interval '%s days' AS received_at,
                       exp(ln(35) + 0.7 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))
                           * interval '1 day' AS wait,
                       random() AS fate,
                       random() AS pick
                FROM generate_series(1, %s) AS n
                """,
                [now, HISTORY_DAYS, requests],
            )
            cursor.execute(
                """
                ALTER TABLE bench_plan ADD COLUMN starts_at timestamptz;
                UPDATE bench_plan SET starts_at = received_at + wait WHERE received_at + wait <= %s;
                CREATE INDEX ON bench_plan (id);
                ANALYZE bench_plan
                """,
                [now],
            )
        status = """CASE WHEN fate < 0.05 THEN 'withdrawn' WHEN fate < 0.07 THEN 'closed'
                         WHEN starts_at IS NOT NULL AND fate >= 0.15 THEN 'served'
                         WHEN starts_at IS NOT NULL THEN 'waiting' ELSE 'waiting' END"""
        made = _insert_select(
            AppointmentRequest,
            {
                "id": "id",
                "prefecture_id": str(prefecture.pk),
                "procedure_id": f"(ARRAY{procedures})[1 + (id %% {PROCEDURES})]",
                "reference": "'B' || lpad(id::text, 11, '0')",
                "access_token_hash": "md5(id::text) || md5(id::text)",
                "family_names": "'Banc' || id",
                "birth_date": "date '1990-01-01'",
                "nationality": "'DZ'",
                "identity_key": "md5(id::text) || md5('k' || id::text)",
                "channel": """CASE WHEN pick < 0.70 THEN 'web' WHEN pick < 0.80 THEN 'phone'
                                   WHEN pick < 0.90 THEN 'counter' WHEN pick < 0.95 THEN 'post'
                                   ELSE 'partner' END""",
                "received_at": "received_at",
                "due_date": "(received_at + interval '60 days')::date",
                "due_reason": "'target_wait'",
                "status": status,
                "status_changed_at": f"""CASE WHEN ({status}) = 'served' THEN starts_at
                                              WHEN ({status}) = 'waiting' THEN received_at
                                              ELSE received_at + wait / 2 END""",
            },
            "bench_plan",
        )
        # The served and the missed (fate 0.07 to 0.15, past their appointment) each had an appointment.
        _insert_select(
            Slot,
            {
                "id": "id",
                "counter_id": f"(ARRAY{counters})[1 + (id %% {COUNTERS})]",
                "starts_at": "starts_at",
                "ends_at": "starts_at + interval '15 minutes'",
            },
            "bench_plan WHERE starts_at IS NOT NULL AND fate >= 0.07",
        )
        _insert_select(
            Appointment,
            {
                "id": "id",
                "request_id": "id",
                "slot_id": "id",
                "counter_id": f"(ARRAY{counters})[1 + (id %% {COUNTERS})]",
                "starts_at": "starts_at",
                "ends_at": "starts_at + interval '15 minutes'",
                "status": "CASE WHEN fate < 0.15 THEN 'no_show' ELSE 'served' END",
                "confirmed_at": "starts_at - interval '10 days'",
            },
            "bench_plan WHERE starts_at IS NOT NULL AND fate >= 0.07",
        )
        _insert_select(
            CourtOrder,
            {
                "request_id": "id",
                "tribunal": "'TA Montreuil'",
                "case_number": "'26' || id",
                "ordered_on": "(received_at + interval '70 days')::date",
                "notified_on": "(received_at + interval '72 days')::date",
                "appointment_by": "(received_at + interval '100 days')::date",
                "recorded_by": "'bench'",
            },
            "bench_plan WHERE pick > 0.995 AND received_at + interval '72 days' <= now()",
        )
        with connection.cursor() as cursor:
            for table in ("waitlist_appointmentrequest", "capacity_slot", "appointments_appointment"):
                cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, requests])
            cursor.execute("DROP TABLE bench_plan")
    with connection.cursor() as cursor:
        for table in ("waitlist_appointmentrequest", "appointments_appointment", "evidence_courtorder"):
            cursor.execute(f"ANALYZE {table}")
    print(f"filled: {made} requests", flush=True)
    return prefecture


def timed(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def baseline(prefecture) -> int:
    """COUNT(*) over the rows the figures read: the prefecture's requests and its appointments of the
    period."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM waitlist_appointmentrequest WHERE prefecture_id = %s", [prefecture.pk]
        )
        total = cursor.fetchone()[0]
        cursor.execute(
            """SELECT count(*) FROM appointments_appointment a
               JOIN waitlist_appointmentrequest r ON r.id = a.request_id
               WHERE r.prefecture_id = %s AND a.starts_at >= now() - interval '52 weeks'""",
            [prefecture.pk],
        )
        return total + cursor.fetchone()[0]


def python_percentiles(prefecture) -> int:
    """The previous release's percentiles: one duration per served appointment read into Python."""
    from django.utils import timezone

    from guichet.appointments.models import Appointment, AppointmentStatus

    tz = prefecture.tzinfo
    start = timezone.now() - datetime.timedelta(weeks=52)
    waits = defaultdict(list)
    for starts_at, received_at in Appointment.objects.filter(
        request__prefecture=prefecture, starts_at__gte=start, status=AppointmentStatus.SERVED
    ).values_list("starts_at", "request__received_at"):
        day = starts_at.astimezone(tz).date()
        waits[day - datetime.timedelta(days=day.weekday())].append((starts_at - received_at).total_seconds())
    for values in waits.values():
        values.sort()
        values[max(1, math.ceil(0.9 * len(values))) - 1]
    return sum(len(values) for values in waits.values())


def explain_percentiles(prefecture) -> str:
    from django.db import connection

    from guichet.appointments.models import Appointment, AppointmentStatus
    from guichet.public import series

    served = Appointment.objects.filter(request__prefecture=prefecture, status=AppointmentStatus.SERVED)
    query = (
        series.wait_rows(served, prefecture.tzinfo)
        .values("week")
        .annotate(median=series.PercentileCont("wait", 0.5))
    )
    sql, params = query.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="reuse the data of a previous run if present")
    args = parser.parse_args()
    url = bench_url()
    ensure_database(url)
    setup_django(url)
    from django.core.management import call_command

    from guichet.catalog.models import Prefecture, Procedure
    from guichet.public.series import weekly_series
    from guichet.waitlist.models import AppointmentRequest

    call_command("migrate", verbosity=0)
    prefecture = Prefecture.objects.filter(code="93").first()
    if not (args.keep and prefecture and AppointmentRequest.objects.count() == args.requests):
        empty_database()
        started = time.perf_counter()
        prefecture = fill(args.requests)
        print(f"fill: {time.perf_counter() - started:.1f} s (not timed below)", flush=True)
    procedure = Procedure.objects.filter(prefecture=prefecture).order_by("code").first()

    base, counted = timed(lambda: baseline(prefecture), args.repeat)
    figures, series = timed(lambda: weekly_series(prefecture), args.repeat)
    one, _ = timed(lambda: weekly_series(prefecture, procedure=procedure), args.repeat)
    ranked, ranked_series = timed(lambda: weekly_series(prefecture, percentiles="ranked"), args.repeat)
    old, read = timed(lambda: python_percentiles(prefecture), args.repeat)
    assert ranked_series.weeks == series.weeks, "the two percentile paths disagree"
    last = series.weeks[-2]
    print(f"rows counted by the baseline: {counted}; durations read by the old way: {read}")
    print(
        f"a full week ({last.week}): received {last.received}, served {last.served}, waiting {last.waiting}, "
        f"median {last.median_wait_days} d, p90 {last.p90_wait_days} d, late {last.served_late_share}"
    )
    print(f"baseline COUNT(*)                 {base * 1000:8.0f} ms")
    print(f"weekly figures (percentile_cont)  {figures * 1000:8.0f} ms  = {figures / base:5.1f} x baseline")
    print(f"weekly figures, one procedure     {one * 1000:8.0f} ms  = {one / base:5.1f} x baseline")
    print(f"weekly figures (window ranks)     {ranked * 1000:8.0f} ms  = {ranked / base:5.1f} x baseline")
    print(f"old way, the percentiles alone    {old * 1000:8.0f} ms  = {old / base:5.1f} x baseline")
    print(explain_percentiles(prefecture))
    print(
        json.dumps(
            {
                "requests": args.requests,
                "baseline_ms": round(base * 1000),
                "figures_ms": round(figures * 1000),
                "one_procedure_ms": round(one * 1000),
                "window_ranks_ms": round(ranked * 1000),
                "old_python_percentiles_ms": round(old * 1000),
                "ratio_figures_to_baseline": round(figures / base, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
