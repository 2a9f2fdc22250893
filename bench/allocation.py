"""Benchmark of the allocation engine (guichet/allocation/engine.py) on a prefecture-sized world.

    python bench/allocation.py --requests 1000000 --slots 150000 [--seed 1] [--database]

The world is 40 sites and 10 procedures with a realistic mix of needs (see ``generate_requests``). The
figure of merit is the engine's time against Python's plain sort of the same requests by due date: the
engine has to sort them anyway, so the ratio says what the rule costs on top. Targets: ratio <= 3 and
engine <= 5 s, single core.

Times are the best of ``--repeat`` alternating runs, in CPU time (process_time, what "single core" means on a
shared machine) and in wall time (perf_counter); the summary uses CPU time. The engine's peak memory is
measured in a separate, untimed run with tracemalloc: the peak of Python allocations made during
``allocate()``, input excluded.

The generators are importable (``from bench.allocation import generate_world``) so that the database
benchmark can load the same world into the models. The last printed line is the summary:
requests, slots, assigned, sort seconds, engine seconds, ratio engine/sort, peak MiB; with ``--database``
(bench/allocation_database.py: 200,000 waiting requests and 40,000 free slots on PostgreSQL) it adds the
whole allocate() run, its plain read-and-write baseline and their ratio (target <= 3).
"""

from __future__ import annotations

import argparse
import datetime
import gc
import random
import sys
import time
import tracemalloc
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the repository root importable.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from guichet.allocation.engine import FreeSlot, WaitingRequest, allocate

UTC = datetime.UTC
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
# A Monday 07:00 in Paris; the 8 weeks after it have no daylight-saving change.
NOW = datetime.datetime(2025, 1, 6, 6, 0, tzinfo=UTC)
LANGUAGES = ("ar", "en", "es", "ru", "tr", "zh")
LANGUAGE_WEIGHTS = (35, 20, 10, 15, 10, 10)


@dataclass(frozen=True)
class Site:
    id: int
    step_free: bool


@dataclass(frozen=True)
class Procedure:
    id: int
    demand: int  # relative share of the requests
    target_wait_days: int
    min_notice_hours: int


@dataclass(frozen=True)
class Counter:
    id: int
    site_id: int
    procedure_ids: frozenset[int]
    languages: frozenset[str]
    slot_minutes: int


@dataclass(frozen=True)
class World:
    now: datetime.datetime
    sites: tuple[Site, ...]
    procedures: tuple[Procedure, ...]
    open_days: tuple[datetime.date, ...]  # local weekdays of the horizon


def generate_world(rng: random.Random, sites: int = 40, procedures: int = 10, weeks: int = 8) -> World:
    """Sites (70% step-free) and procedures whose demand falls off like a real prefecture's."""
    site_list = tuple(Site(id=i + 1, step_free=rng.random() < 0.7) for i in range(sites))
    procedure_list = tuple(
        Procedure(
            id=i + 1,
            demand=max(1, 30 - 3 * i),
            target_wait_days=rng.choice((30, 45, 60, 90)),
            min_notice_hours=rng.choice((24, 48, 72)),
        )
        for i in range(procedures)
    )
    first = NOW.astimezone(PARIS).date()
    days = (first + datetime.timedelta(days=d) for d in range(7 * weeks))
    open_days = tuple(day for day in days if day.weekday() < 5)
    return World(now=NOW, sites=site_list, procedures=procedure_list, open_days=open_days)


def new_counter(world: World, rng: random.Random, counter_id: int) -> Counter:
    """A counter of the next site in turn, serving 2-5 procedures (popular ones more often), 0-2 languages."""
    weights = [p.demand for p in world.procedures]
    procedure_ids: set[int] = set()
    wanted = rng.randint(2, min(5, len(world.procedures)))
    while len(procedure_ids) < wanted:
        procedure_ids.add(rng.choices(world.procedures, weights)[0].id)
    languages: set[str] = set()
    wanted = rng.choices((0, 1, 2), (60, 30, 10))[0]
    while len(languages) < wanted:
        languages.add(rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0])
    return Counter(
        id=counter_id,
        site_id=world.sites[(counter_id - 1) % len(world.sites)].id,
        procedure_ids=frozenset(procedure_ids),
        languages=frozenset(languages),
        slot_minutes=rng.choice((15, 20, 30)),
    )


def counter_starts(world: World, counter: Counter) -> list[tuple[datetime.datetime, datetime.date]]:
    """The counter's slot starts, 9:00 to 17:00 local time on every open day, as (UTC start, local date)."""
    starts = []
    for day in world.open_days:
        for minute in range(9 * 60, 17 * 60, counter.slot_minutes):
            local = datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60), PARIS)
            starts.append((local.astimezone(UTC), day))
    return starts


def generate_slots(
    world: World, rng: random.Random, count: int, layout: str = "loaded"
) -> tuple[list[Counter], list[FreeSlot]]:
    """Exactly ``count`` free slots in random order: as many counters as needed, the last one cut short.

    ``layout`` is where the objects sit in memory, which matters more than the interpreter on large lists:
    "loaded" creates them in list order, as a database load does; "scattered" shuffles the list after
    creation, so that every pass over it misses the CPU cache.
    """
    sites = {site.id: site for site in world.sites}
    specs: list[tuple[Counter, datetime.datetime, datetime.date]] = []
    counters: list[Counter] = []
    while len(specs) < count:
        counter = new_counter(world, rng, len(counters) + 1)
        counters.append(counter)
        specs.extend((counter, starts_at, day) for starts_at, day in counter_starts(world, counter))
    del specs[count:]
    order = list(range(count))
    rng.shuffle(order)
    if layout == "scattered":
        order.sort()
    slots = [
        FreeSlot(
            id=i + 1,
            site_id=specs[i][0].site_id,
            counter_id=specs[i][0].id,
            starts_at=specs[i][1],
            local_date=specs[i][2],
            procedure_ids=specs[i][0].procedure_ids,
            languages=specs[i][0].languages,
            step_free=sites[specs[i][0].site_id].step_free,
        )
        for i in order
    ]
    if layout == "scattered":
        rng.shuffle(slots)
    return counters, slots


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(), PARIS).astimezone(UTC)


def _site_choice(world: World, rng: random.Random) -> frozenset[int] | None:
    """30% any site; otherwise a home site and up to two neighbours, as people choose by distance."""
    if rng.random() < 0.3:
        return None
    home = rng.randrange(len(world.sites))
    extra = rng.choices((0, 1, 2), (50, 30, 20))[0]
    chosen = {home}
    while len(chosen) < 1 + extra:
        chosen.add((home + rng.choice((-3, -2, -1, 1, 2, 3))) % len(world.sites))
    return frozenset(world.sites[i].id for i in chosen)


def generate_requests(
    world: World, rng: random.Random, count: int, layout: str = "loaded"
) -> list[WaitingRequest]:
    """A backlog received over the last 150 days (ids in order of receipt), in random list order.

    ~30% any site, others 1-3 neighbouring sites; ~10% an interpreter language; ~5% step-free; ~5% some
    unavailable weekdays; ~2% unavailable dates; ~10% an earliest date later than the minimum notice.
    ``layout``: see ``generate_slots``.
    """
    procedures = world.procedures
    weights = [p.demand for p in procedures]
    horizon = world.open_days
    today = world.now.astimezone(PARIS).date()
    received_epoch = world.now.timestamp() - 150 * 86400
    notice_ends = {p.id: world.now + datetime.timedelta(hours=p.min_notice_hours) for p in procedures}
    received_step = 150 * 86400 / max(count, 1)
    order = list(range(count))
    rng.shuffle(order)
    requests = []
    for i in order:
        procedure = rng.choices(procedures, weights)[0]
        received_at = datetime.datetime.fromtimestamp(
            received_epoch + (i + rng.random()) * received_step, UTC
        )
        wait = procedure.target_wait_days
        if rng.random() < 0.05:  # a recorded vulnerability shortens the target wait
            wait //= 2
        due_date = received_at.astimezone(PARIS).date() + datetime.timedelta(days=wait)
        not_before = notice_ends[procedure.id]
        if rng.random() < 0.1:
            not_before = max(not_before, _local_midnight(today + datetime.timedelta(days=rng.randint(1, 40))))
        weekdays: frozenset[int] = frozenset()
        if rng.random() < 0.05:
            weekdays = frozenset(rng.sample(range(5), rng.randint(1, 2)))
        dates: frozenset[datetime.date] = frozenset()
        if rng.random() < 0.02:
            dates = frozenset(rng.sample(horizon, rng.randint(1, 3)))
        requests.append(
            WaitingRequest(
                id=i + 1,
                procedure_id=procedure.id,
                due_date=due_date,
                received_at=received_at,
                site_ids=_site_choice(world, rng),
                not_before=not_before,
                language=rng.choices(LANGUAGES, LANGUAGE_WEIGHTS)[0] if rng.random() < 0.1 else None,
                needs_step_free=rng.random() < 0.05,
                unavailable_weekdays=weekdays,
                unavailable_dates=dates,
            )
        )
    if layout == "scattered":
        rng.shuffle(requests)
    return requests


@dataclass
class Timing:
    """Best CPU time and best wall time over the runs of one thing."""

    cpu: float = float("inf")
    wall: float = float("inf")

    def measure(self, run: Callable[[], object]) -> object:
        cpu, wall = time.process_time(), time.perf_counter()
        result = run()
        self.cpu = min(self.cpu, time.process_time() - cpu)
        self.wall = min(self.wall, time.perf_counter() - wall)
        return result


def _peak_mib(run: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def run_memory(args: argparse.Namespace) -> dict[str, float | int]:
    """Generate the world, time the baseline sort and the engine in memory, measure the engine's peak."""
    rng = random.Random(args.seed)
    world = generate_world(rng)
    counters, slots = generate_slots(world, rng, args.slots, args.layout)
    requests = generate_requests(world, rng, args.requests, args.layout)
    print(
        f"world: {len(world.sites)} sites, {len(world.procedures)} procedures, {len(counters)} counters, "
        f"{len(slots)} slots, {len(requests)} requests (seed {args.seed}, {args.layout} layout)"
    )

    # Sort and engine runs alternate, so that a busy machine weighs on both alike.
    sort, engine = Timing(), Timing()
    assignments: object = None
    for _ in range(args.repeat):
        sort.measure(lambda: sorted(requests, key=lambda r: (r.due_date, r.received_at, r.id)))
        result = engine.measure(lambda: allocate(requests, slots))
        if assignments is not None and result != assignments:
            raise AssertionError("the engine gave two different answers to the same input")
        assignments = result
    assert isinstance(assignments, list)
    print(f"baseline sort by (due_date, received_at, id): {sort.cpu:.3f} s CPU, {sort.wall:.3f} s wall")
    print(f"engine: {engine.cpu:.3f} s CPU, {engine.wall:.3f} s wall, {len(assignments)} assignments")
    print(f"(best of {args.repeat} runs each; CPU is time.process_time, wall is time.perf_counter)")
    peak = _peak_mib(lambda: allocate(requests, slots))
    print(f"engine peak memory: {peak:.1f} MiB (tracemalloc, allocations during allocate(), separate run)")
    return {
        "requests": len(requests),
        "slots": len(slots),
        "assigned": len(assignments),
        "sort_s": sort.cpu,
        "engine_s": engine.cpu,
        "ratio": engine.cpu / sort.cpu,
        "sort_wall_s": sort.wall,
        "engine_wall_s": engine.wall,
        "peak_mib": peak,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--slots", type=int, default=150_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is kept")
    parser.add_argument(
        "--layout",
        choices=("loaded", "scattered"),
        default="loaded",
        help="objects created in list order (as loaded from a database) or shuffled after",
    )
    parser.add_argument(
        "--database",
        action="store_true",
        help="then time the whole allocate() run on PostgreSQL against a plain read + bulk insert "
        "(bench/allocation_database.py)",
    )
    parser.add_argument("--db-requests", type=int, default=200_000, help="waiting requests (--database)")
    parser.add_argument("--db-slots", type=int, default=40_000, help="free slots (--database)")
    parser.add_argument("--database-url", help="PostgreSQL URL of the bench database (--database)")
    args = parser.parse_args(argv)

    figures = run_memory(args)
    summary = (
        f"requests={figures['requests']} slots={figures['slots']} assigned={figures['assigned']} "
        f"sort_s={figures['sort_s']:.3f} engine_s={figures['engine_s']:.3f} "
        f"ratio={figures['ratio']:.2f} peak_mib={figures['peak_mib']:.1f} clock=cpu"
    )
    if args.database:
        from bench.allocation_database import run_database

        print(summary)
        db = run_database(args)
        summary += (
            f" | db_requests={db['db_requests']} db_slots={db['db_slots']} "
            f"offers={db['offers'] + db['confirmed']} allocate_s={db['allocate_s']:.2f} "
            f"baseline_s={db['baseline_s']:.2f} db_ratio={db['db_ratio']:.2f}"
        )
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
