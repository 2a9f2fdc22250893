"""The place in the queue of a request at the back of a long queue: exact count against snapshot, same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guichet_h1_bench REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/queue_position.py [--waiting 50000] [--rounds 300]

It fills a bench database (its name must contain "bench": it is emptied at each run) with one prefecture of
three sites and one procedure whose queue holds --waiting waiting requests received over the last 90 days
(due date: received + 60 days, a tenth shortened by a vulnerability, 30 % naming one or two sites), another
procedure with a quarter as many, a counter per site and four weeks of free slots, far fewer than the queue
(loaded with COPY, not timed). Then, for the last request of the queue (latest due date and received time,
every site):

* ``exact_queue_position`` (the count of everything ahead) and ``queue_position`` (snapshot plus the live
  count of its own due date) --rounds times each, interleaved, with the snapshot already built: p50 / p99;
* the snapshot's rebuild (the one grouped query a reader pays once per period): p50 / p99 over 20;
* the status page's turn window (``public.estimates.turn_window``): before, each person's first look ran the
  engine on the whole queue for that person alone (``forecast.outlooks``, 5 runs); now one run per
  prefecture and period (``forecast.queue_forecasts``, 3 runs) answers every waiting request, which reads
  it (``turn_window`` with that run in the cache, --rounds).

Prints one line per measure and a last line in JSON.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pickle
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.allocation_database import _copy, empty_database, ensure_database, setup_django

TARGET_WAIT_DAYS = 60
RECEIVED_OVER_DAYS = 90
VULNERABLE_SHARE = 0.1
SITES_SHARE = 0.3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waiting", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args(argv)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 0.5), 3), "p99_ms": round(percentile(values, 0.99), 3)}


def fill(waiting: int, seed: int):
    """The queue, the catalogue and taken slots. Returns the request at the back of the queue."""
    from django.db import connection, transaction
    from django.utils import timezone

    from guichet.capacity.models import Slot
    from guichet.catalog.models import Counter, OpeningRule, Prefecture, Procedure, Site
    from guichet.waitlist.models import AppointmentRequest, RequestStatus

    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        prefecture = Prefecture.objects.create(code="93", name="Préfecture de la Seine-Saint-Denis (bench)")
        sites = [
            Site.objects.create(
                prefecture=prefecture,
                name=f"Site {index}",
                address=f"{index} rue du Banc d'essai",
                postal_code="93000",
                city="Bobigny",
                step_free=True,
            )
            for index in range(3)
        ]
        procedures = [
            Procedure.objects.create(
                prefecture=prefecture,
                code=code,
                name=code,
                kind=Procedure.Kind.FIRST_PERMIT,
                duration_minutes=15,
                target_wait_days=TARGET_WAIT_DAYS,
                offer_validity_hours=72,
            )
            for code in ("first-permit", "change-of-status")
        ]
        counters = []
        for site in sites:
            counter = Counter.objects.create(site=site, name=f"Guichet {site.pk}", languages=["fr"])
            for weekday in range(5):
                rule = OpeningRule.objects.create(
                    counter=counter,
                    weekday=weekday,
                    start_time=datetime.time(9),
                    end_time=datetime.time(17),
                    slot_minutes=15,
                    valid_from=datetime.date(2024, 1, 1),
                )
                rule.procedures.set(procedures)
            counters.append((counter, rule))
        rows, site_rows = [], []
        sizes = [(procedures[0], waiting), (procedures[1], waiting // 4)]
        for procedure, count in sizes:
            for _ in range(count):
                index = len(rows) + 1
                received = now - datetime.timedelta(seconds=rng.uniform(0, RECEIVED_OVER_DAYS * 86400))
                days = TARGET_WAIT_DAYS // 2 if rng.random() < VULNERABLE_SHARE else TARGET_WAIT_DAYS
                rows.append(_request_row(index, prefecture, procedure, received, days))
                if rng.random() < SITES_SHARE:
                    for site in rng.sample(sites, rng.choice([1, 2])):
                        site_rows.append(
                            {"id": len(site_rows) + 1, "appointmentrequest_id": index, "site_id": site.pk}
                        )
        # The request at the back: the last one received, due the latest, accepting every site.
        back = len(rows) + 1
        rows.append(_request_row(back, prefecture, procedures[0], now, TARGET_WAIT_DAYS))
        _copy(AppointmentRequest, rows)
        _copy(AppointmentRequest.sites.through, site_rows)
        slots = []
        for counter, rule in counters:
            for day in range(1, 29):
                start = (now + datetime.timedelta(days=day)).replace(hour=8, minute=0, second=0)
                for quarter in range(32):
                    at = start + datetime.timedelta(minutes=15 * quarter)
                    slots.append(
                        {
                            "id": len(slots) + 1,
                            "counter_id": counter.pk,
                            "rule_id": rule.pk,
                            "starts_at": at,
                            "ends_at": at + datetime.timedelta(minutes=15),
                        }
                    )
        _copy(Slot, slots)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return AppointmentRequest.objects.select_related("prefecture", "procedure").get(
        pk=back, status=RequestStatus.WAITING
    )


def _request_row(index, prefecture, procedure, received, due_in_days) -> dict:
    return {
        "id": index,
        "prefecture_id": prefecture.pk,
        "procedure_id": procedure.pk,
        "reference": f"93-Q{index:07d}",
        "access_token_hash": f"{index:064x}",
        "family_names": f"Nom {index}",
        "given_names": "Prénom",
        "birth_date": datetime.date(1980, 1, 1) + datetime.timedelta(days=index % 9000),
        "nationality": "DZ",
        "identity_key": f"{index:064x}",
        "email": f"person{index}@example.org",
        "phone": "",
        "postal_address": "",
        "language": "fr",
        "interpreter_language": "",
        "needs_step_free": False,
        "unavailable_weekdays": [],
        "unavailable_dates": [],
        "earliest_date": None,
        "channel": "web",
        "received_at": received,
        "due_date": (received + datetime.timedelta(days=due_in_days)).date(),
        "due_reason": "target_wait",
        "status": "waiting",
        "status_changed_at": received,
        "consecutive_lapses": 0,
    }


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if "bench" not in url:
        raise SystemExit("DATABASE_URL must name a bench database (it is emptied), e.g. .../guichet_h1_bench")
    ensure_database(url)
    setup_django(url)

    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command

    from guichet.public import estimates
    from guichet.waitlist import position

    call_command("migrate", verbosity=0)
    empty_database()
    cache.clear()
    started = time.perf_counter()
    back = fill(args.waiting, args.seed)
    print(
        f"{args.waiting} waiting in the queue, {args.waiting // 4} in another; filled in "
        f"{time.perf_counter() - started:.1f} s; cache {settings.CACHES['default']['BACKEND']}"
    )
    site_ids: list[int] = []
    exact = position.exact_queue_position(back)
    fast = position.queue_position(back, site_ids=site_ids)
    assert fast is not None and fast.number == exact, (fast, exact)  # right after the snapshot: the same
    print(f"position of the request at the back: {exact} (exact) = {fast.number} (snapshot)")

    exact_ms, fast_ms = [], []
    for _ in range(args.rounds):
        exact_ms.append(timed(lambda: position.exact_queue_position(back))[0])
        fast_ms.append(timed(lambda: position.queue_position(back, site_ids=site_ids))[0])
    rebuild_ms = [
        timed(lambda: position.build_snapshot(back.prefecture_id, back.procedure_id))[0] for _ in range(20)
    ]
    key = position.snapshot_key(back.prefecture_id, back.procedure_id)
    size = len(pickle.dumps(cache.get(key)))

    from django.utils import timezone

    from guichet.allocation import forecast
    from guichet.allocation.candidates import waiting_request

    now = timezone.now()
    wanted = waiting_request(back, now, with_refused_days=True)
    # Before: each person's first look ran the engine on the whole queue for that person alone.
    alone_ms = [timed(lambda: forecast.outlooks(back.prefecture, [wanted], now))[0] for _ in range(5)]
    # After: one run per prefecture and period (its reader pays it), then every covered request reads it.
    shared_ms = [timed(lambda: forecast.queue_forecasts(back.prefecture, now))[0] for _ in range(3)]
    cache.clear()
    estimates.turn_window(back, exact, sites=[])
    window_ms = [timed(lambda: estimates.turn_window(back, exact, sites=[]))[0] for _ in range(args.rounds)]
    assert (
        forecast.shared_outlook(back, wanted, now, estimates.FORECAST_SECONDS)
        == (forecast.outlooks(back.prefecture, [wanted], now)[0])
    )

    figures = {
        "waiting": args.waiting,
        "position": exact,
        "exact": summary(exact_ms),
        "snapshot": summary(fast_ms),
        "rebuild": summary(rebuild_ms),
        "snapshot_bytes": size,
        "engine_for_one_request": summary(alone_ms),
        "shared_run_rebuild": summary(shared_ms),
        "turn_window_shared": summary(window_ms),
    }
    names = (
        "exact",
        "snapshot",
        "rebuild",
        "engine_for_one_request",
        "shared_run_rebuild",
        "turn_window_shared",
    )
    for name in names:
        print(f"{name:>20}: p50 {figures[name]['p50_ms']:8.3f} ms   p99 {figures[name]['p99_ms']:8.3f} ms")
    print(f"snapshot in the cache: {size} bytes (pickled)")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
