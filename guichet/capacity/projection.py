"""Capacity planning: the projected wait of each procedure over the next PROJECTION_WEEKS weeks.

The state of a procedure is the number of people it has not received yet: those in the queue (waiting,
offered, paused) and those booked for a later day (scheduled). Each coming week:
- supply: the slots the opening rules make that week (not only the slots already published), without
  closures and public holidays, in pools: the slots of rules serving the same procedures;
- the pools are shared as the allocation shares them (it is work-conserving: no slot stays empty while a
  compatible request waits): each pool's slots go to its procedures in proportion to what they still need,
  and a procedure that needs less leaves the rest to the others (dedicated pools are used first);
- useful slots: those given to the procedure × (1 − no-show rate) × (1 − unused rate), both observed over
  the last HISTORY_WEEKS weeks; the unused rate is the share of the slots offered that stayed empty (declined
  or lapsed, and not given to anyone else in time): a declined slot mostly goes to the next person;
- demand: the requests received per week over the last HISTORY_WEEKS weeks (or since the first request, for
  a younger installation), all channels;
- the people not received yet, week after week: + demand − useful slots (never below 0);
- projected wait of a person joining at the start of the week: the days until the useful slots to come (at
  the rate the procedure could get them) have received everyone ahead of them, booked or queued. None when
  no slot would ever come while people wait.

A what-if adds or removes slots per week (`extra_slots_per_week`), closes every site on some days
(`also_closed`) or adds a counter (`NewCounter`: hours a week, slot length, procedures); the catalogue
editor's preview also computes this projection inside a rolled-back change (catalog/editing.py). The
alert (`over_target`) is a procedure whose projection exceeds its target wait.

`project` and `project_all` are pure functions of plain numbers; `inputs_for` reads them from the database.
How close the projection comes to what happens is measured by replaying a generated history (replay.py,
tests/capacity/test_replay.py, docs/backoffice.md).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, replace

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus, Offer, OfferStatus
from guichet.catalog.models import Counter, OpeningRule, Prefecture, Procedure
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from .services import _closed_days

PROJECTION_WEEKS = 12
HISTORY_WEEKS = 8
# Rounds of balancing the pools' loads on the rates they give over the days their load takes (_waits).
RATE_ROUNDS = 4
IN_QUEUE = (RequestStatus.WAITING, RequestStatus.OFFERED, RequestStatus.PAUSED)


@dataclass(frozen=True)
class Inputs:
    """What the projection of one procedure starts from."""

    procedure_id: int
    name: str
    target_wait_days: int
    queue: int  # waiting, offered or paused
    arrivals_per_week: float
    slots_per_week: tuple[float, ...]  # one per coming week: its share of the rules' slots (1/k if shared)
    no_show_rate: float
    decline_rate: float  # shown to managers; the projection counts the slots left unused instead
    booked: int = 0  # scheduled: an appointment to come
    unused_rate: float = 0.0  # of the slots offered, the share that stayed empty

    @property
    def useful_share(self) -> float:
        return (1 - self.no_show_rate) * (1 - self.unused_rate)


@dataclass(frozen=True)
class Pool:
    """Slots that serve the same procedures (the rules of one set of procedures), per coming week."""

    procedure_ids: frozenset[int]
    slots_per_week: tuple[float, ...]


@dataclass(frozen=True)
class Week:
    starts_on: datetime.date
    queue: float  # people not received yet at the start of the week: in the queue or booked
    useful_slots: float
    wait_days: int | None


@dataclass(frozen=True)
class Projection:
    inputs: Inputs
    weeks: tuple[Week, ...]

    @property
    def worst_wait_days(self) -> int | None:
        """The longest projected wait; None when no slot would ever come while people wait."""
        waits = [week.wait_days for week in self.weeks]
        return None if None in waits else max(waits, default=0)

    @property
    def over_target(self) -> bool:
        worst = self.worst_wait_days
        return worst is None or worst > self.inputs.target_wait_days


def project(inputs: Inputs, first_week: datetime.date, extra_slots_per_week: float = 0) -> Projection:
    """The projection of one procedure on slots of its own (pure)."""
    pool = Pool(frozenset({inputs.procedure_id}), inputs.slots_per_week)
    return project_all([inputs], [pool], first_week, {inputs.procedure_id: extra_slots_per_week})[0]


def _share_out(needs: dict[int, float], pools: list[tuple[frozenset[int], float]]) -> tuple[dict, list]:
    """Give each pool's slots to its procedures in proportion to what they still need (dedicated pools
    first); returns the slots given to each procedure and what each pool has left."""
    given = dict.fromkeys(needs, 0.0)
    remaining = dict(needs)
    left = []
    for procedure_ids, slots in sorted(pools, key=lambda pool: len(pool[0])):
        needy = [p for p in procedure_ids if remaining.get(p, 0) > 1e-9]
        total = sum(remaining[p] for p in needy)
        handed = min(slots, total)
        for p in needy:
            part = handed * remaining[p] / total
            given[p] += part
            remaining[p] -= part
        left.append((procedure_ids, slots - handed))
    return given, left


def _days_to_cover(load: float, slots: list[float], week: int) -> float | None:
    """Days from the start of `week` until the slots to come (per week; the last week's number goes on)
    have covered `load`; None if they never do."""
    if load <= 1e-9:
        return 0.0
    days = 0.0
    for count in slots[week:]:
        if count >= load:
            return days + 7 * load / count
        load -= count
        days += 7
    if slots and slots[-1] > 0:
        return days + 7 * load / slots[-1]
    return None


def _balance(loads: dict[int, float], pools: list[tuple[frozenset[int], float]]) -> list[float]:
    """How much load each pool carries once every procedure has spread its load over its pools so that none
    of them could find an earlier free slot in another (a person takes the earliest free compatible slot:
    the pools a procedure uses fill up to the same point). `pools`: (procedures, slots a week); returns
    the load of each pool."""
    members = {
        pk: [index for index, (ids, slots) in enumerate(pools) if pk in ids and slots > 0] for pk in loads
    }
    carried = [0.0] * len(pools)
    share: dict[int, dict[int, float]] = {}
    for pk, load in loads.items():
        capacity = sum(pools[index][1] for index in members[pk])
        share[pk] = {index: load * pools[index][1] / capacity for index in members[pk]} if capacity else {}
        for index, part in share[pk].items():
            carried[index] += part
    total = sum(loads.values())
    for _round in range(200):
        moved = 0.0
        for pk, indexes in members.items():
            if len(indexes) < 2:
                continue

            def front(index: int) -> float:
                return carried[index] / pools[index][1]

            low = min(indexes, key=front)
            high = max((index for index in indexes if share[pk][index] > 1e-9), key=front, default=low)
            gap = front(high) - front(low)
            if gap <= 1e-9:
                continue
            # Moving this much of the procedure's load from the later pool to the earlier one evens them.
            step = min(share[pk][high], gap / (1 / pools[high][1] + 1 / pools[low][1]))
            share[pk][high] -= step
            share[pk][low] += step
            carried[high] -= step
            carried[low] += step
            moved += step
        if moved <= 1e-6 * max(total, 1.0):
            break
    return carried


def _waits(
    ahead: dict[int, float],
    by_id: dict[int, Inputs],
    caps: list[tuple[frozenset[int], list[float]]],
    week: int,
) -> dict[int, int | None]:
    """The wait of a person joining each procedure at the start of `week`: the days until the pools they
    can use have received everyone ahead there (booked or queued, of any procedure: one slot each; who
    misses an appointment is booked again later, mostly after the newcomer)."""
    loads = dict(ahead)
    # The pools' loads are first balanced over the next two weeks' slots (a holiday's week alone would
    # mislead), then over the rate each pool actually gives over the days it takes to cover its load: a
    # pool closed next week is not loaded as if it had half its slots and then emptied at its full rate
    # (that made a closure shorten some waits).
    near = [(ids, sum(slots[week : week + 2]) / len(slots[week : week + 2])) for ids, slots in caps]
    carried = _balance(loads, near)
    for _round in range(RATE_ROUNDS):
        rates = []
        for index, (ids, slots) in enumerate(caps):
            days = _days_to_cover(carried[index], slots, week)
            spans = carried[index] > 1e-9 and days is not None and days > 0
            rates.append((ids, 7 * carried[index] / days if spans else near[index][1]))
        carried = _balance(loads, rates)
    waits: dict[int, int | None] = {}
    for pk in by_id:
        days = [
            _days_to_cover(carried[index], slots, week)
            for index, (ids, slots) in enumerate(caps)
            if pk in ids and any(count > 0 for count in slots[week:])
        ]
        known = [day for day in days if day is not None]
        if known:
            waits[pk] = round(min(known))
        else:
            waits[pk] = 0 if ahead[pk] <= 1e-9 else None
    return waits


def project_all(
    items: list[Inputs],
    pools: list[Pool],
    first_week: datetime.date,
    extra_slots_per_week: dict[int, float] | None = None,
) -> list[Projection]:
    """The week-by-week projection of procedures that share pools of slots (pure)."""
    by_id = {item.procedure_id: item for item in items}
    weeks = max([len(pool.slots_per_week) for pool in pools] + [len(i.slots_per_week) for i in items] + [0])
    caps = _with_extra(pools, extra_slots_per_week or {}, by_id, weeks)
    ahead = {item.procedure_id: float(item.queue + item.booked) for item in items}
    rows: dict[int, list[Week]] = {pk: [] for pk in by_id}
    for index in range(weeks):
        waits = _waits(ahead, by_id, caps, index)
        needs = {
            pk: (ahead[pk] + item.arrivals_per_week) / item.useful_share if item.useful_share > 0 else 0.0
            for pk, item in by_id.items()
        }
        given, _left = _share_out(needs, [(ids, slots[index]) for ids, slots in caps])
        for pk, item in by_id.items():
            useful = given[pk] * item.useful_share
            rows[pk].append(
                Week(
                    starts_on=first_week + datetime.timedelta(weeks=index),
                    queue=round(ahead[pk], 1),
                    useful_slots=round(useful, 1),
                    wait_days=waits[pk],
                )
            )
            ahead[pk] = max(0.0, ahead[pk] + item.arrivals_per_week - useful)
    return [Projection(inputs=item, weeks=tuple(rows[pk])) for pk, item in by_id.items()]


def _with_extra(
    pools: list[Pool], extra: dict[int, float], by_id: dict[int, Inputs], weeks: int
) -> list[tuple[frozenset[int], list[float]]]:
    """The pools' slots per week with the what-if's extra slots: more, as a pool of the procedure's own;
    fewer, taken from the pools that serve it, in proportion to their slots."""
    caps = [(pool.procedure_ids, [*pool.slots_per_week, *[0.0] * weeks][:weeks]) for pool in pools]
    for pk, slots in extra.items():
        if pk not in by_id or not slots:
            continue
        if slots > 0:
            caps.append((frozenset({pk}), [float(slots)] * weeks))
            continue
        serving = [counts for ids, counts in caps if pk in ids]
        for week in range(weeks):
            total = sum(counts[week] for counts in serving)
            for counts in serving:
                counts[week] = max(0.0, counts[week] + slots * counts[week] / total) if total else 0.0
    return caps


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _rule_slots(rule: OpeningRule) -> int:
    return rule.length_minutes() // rule.slot_minutes


def weekly_pools(
    prefecture: Prefecture,
    first_week: datetime.date,
    weeks: int = PROJECTION_WEEKS,
    also_closed: frozenset[datetime.date] = frozenset(),
) -> list[Pool]:
    """The slots the opening rules make in each coming week, less closures and holidays (and the days of
    `also_closed`: a what-if closure of every site), by set of procedures served."""
    last_day = first_week + datetime.timedelta(weeks=weeks) - datetime.timedelta(days=1)
    closed, holidays = _closed_days(prefecture, first_week, last_day)
    holidays = set(holidays) | set(also_closed)
    counters = {
        counter.pk: counter
        for counter in Counter.objects.filter(
            site__prefecture=prefecture, is_active=True, site__is_active=True
        )
    }
    rules = (
        OpeningRule.objects.filter(counter_id__in=counters, valid_from__lte=last_day)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first_week))
        .prefetch_related("procedures")
    )
    pools: dict[frozenset[int], list[float]] = defaultdict(lambda: [0.0] * weeks)
    for rule in rules:
        procedures = frozenset(p.pk for p in rule.procedures.all())
        if not procedures:
            continue
        counter = counters[rule.counter_id]
        for week in range(weeks):
            day = first_week + datetime.timedelta(weeks=week, days=rule.weekday)
            shut = (
                day in holidays
                or day in closed.get(("site", counter.site_id), {})
                or day in closed.get(("counter", counter.pk), {})
            )
            if shut or not rule.is_valid_on(day):
                continue
            pools[procedures][week] += _rule_slots(rule)
    return [Pool(ids, tuple(slots)) for ids, slots in sorted(pools.items(), key=lambda item: sorted(item[0]))]


def shares(pools: list[Pool], weeks: int = PROJECTION_WEEKS) -> dict[int, list[float]]:
    """Procedure id → its share of the pools' slots per week (a slot of k procedures counts 1/k)."""
    supply: dict[int, list[float]] = defaultdict(lambda: [0.0] * weeks)
    for pool in pools:
        for procedure_id in pool.procedure_ids:
            for week, slots in enumerate(pool.slots_per_week):
                supply[procedure_id][week] += slots / len(pool.procedure_ids)
    return supply


def weekly_supply(
    prefecture: Prefecture,
    first_week: datetime.date,
    weeks: int = PROJECTION_WEEKS,
    also_closed: frozenset[datetime.date] = frozenset(),
) -> dict[int, list[float]]:
    """Procedure id → its share of the slots the opening rules make in each coming week."""
    return shares(weekly_pools(prefecture, first_week, weeks, also_closed), weeks)


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _history_weeks(prefecture: Prefecture, now: datetime.datetime) -> float:
    """The weeks of history the rates are read over: HISTORY_WEEKS, or fewer for a younger installation
    (since its first request; at least one)."""
    first = AppointmentRequest.objects.filter(prefecture=prefecture).aggregate(first=Min("received_at"))
    if first["first"] is None:
        return HISTORY_WEEKS
    return min(HISTORY_WEEKS, max(1.0, (now - first["first"]).total_seconds() / (7 * 86400)))


def inputs_for(
    prefecture: Prefecture,
    now: datetime.datetime | None = None,
    also_closed: frozenset[datetime.date] = frozenset(),
) -> tuple[datetime.date, list[Inputs], list[Pool]]:
    """The first projected week (this week's Monday), the inputs of every active procedure and the pools
    of slots they share."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first_week = _monday(today)
    since = now - datetime.timedelta(weeks=HISTORY_WEEKS)
    pools = weekly_pools(prefecture, first_week, also_closed=also_closed)
    supply = shares(pools)
    requests = AppointmentRequest.objects.filter(prefecture=prefecture)
    queued = dict(
        requests.filter(status__in=IN_QUEUE).values_list("procedure_id").annotate(n=Count("id")).order_by()
    )
    booked = dict(
        requests.filter(status=RequestStatus.SCHEDULED)
        .values_list("procedure_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    received = dict(
        requests.filter(received_at__gte=since).values_list("procedure_id").annotate(n=Count("id")).order_by()
    )
    span = _history_weeks(prefecture, now)
    finished = {
        row["request__procedure_id"]: row
        for row in Appointment.objects.filter(
            request__prefecture=prefecture, starts_at__gte=since, starts_at__lt=now
        )
        .values("request__procedure_id")
        .annotate(
            done=Count("id", filter=Q(status__in=[AppointmentStatus.SERVED, AppointmentStatus.NO_SHOW])),
            no_show=Count("id", filter=Q(status=AppointmentStatus.NO_SHOW)),
        )
        .order_by()
    }
    answered = {
        row["request__procedure_id"]: row
        for row in Offer.objects.filter(request__prefecture=prefecture, decided_at__gte=since)
        .values("request__procedure_id")
        .annotate(
            decided=Count("id", filter=Q(status__in=[OfferStatus.ACCEPTED, OfferStatus.DECLINED])),
            declined=Count("id", filter=Q(status=OfferStatus.DECLINED)),
        )
        .order_by()
    }
    offered, unused = _offered_slots(prefecture, since, now)
    inputs = []
    for procedure in Procedure.objects.filter(prefecture=prefecture, is_active=True).order_by("name"):
        shows = finished.get(procedure.pk, {})
        offers = answered.get(procedure.pk, {})
        inputs.append(
            Inputs(
                procedure_id=procedure.pk,
                name=procedure.name,
                target_wait_days=procedure.target_wait_days,
                queue=queued.get(procedure.pk, 0),
                booked=booked.get(procedure.pk, 0),
                arrivals_per_week=round(received.get(procedure.pk, 0) / span, 2),
                slots_per_week=tuple(
                    round(value, 2) for value in supply.get(procedure.pk, [0.0] * PROJECTION_WEEKS)
                ),
                no_show_rate=round(_rate(shows.get("no_show", 0), shows.get("done", 0)), 3),
                decline_rate=round(_rate(offers.get("declined", 0), offers.get("decided", 0)), 3),
                unused_rate=round(_rate(unused.get(procedure.pk, 0), offered.get(procedure.pk, 0)), 3),
            )
        )
    return first_week, inputs, pools


def _offered_slots(
    prefecture: Prefecture, since: datetime.datetime, now: datetime.datetime
) -> tuple[dict[int, int], dict[int, int]]:
    """Per procedure, the past slots (of the last weeks) offered to its requests, and those of them that
    nobody had an appointment on in the end (declined or lapsed, and not given again in time)."""
    past = Offer.objects.filter(
        request__prefecture=prefecture, slot__starts_at__gte=since, slot__starts_at__lt=now
    )
    used = Appointment.objects.filter(slot=OuterRef("slot")).exclude(status=AppointmentStatus.CANCELLED)

    def count(offers) -> dict[int, int]:
        return dict(
            offers.values_list("request__procedure_id").annotate(n=Count("slot_id", distinct=True)).order_by()
        )

    # Two queries rather than two filtered counts: SQLite refuses a correlated EXISTS inside COUNT().
    return count(past), count(past.filter(~Exists(used)))


@dataclass(frozen=True)
class NewCounter:
    """A what-if counter: open `hours_per_week`, slots of `slot_minutes`, shared by `procedure_ids` (a pool
    of its own, shared out as the rules' pools are)."""

    hours_per_week: float
    slot_minutes: int
    procedure_ids: tuple[int, ...]


def closure_days(first_day: datetime.date, last_day: datetime.date) -> frozenset[datetime.date]:
    return frozenset(first_day + datetime.timedelta(days=n) for n in range((last_day - first_day).days + 1))


def projections(
    prefecture: Prefecture,
    *,
    extra_slots_per_week: dict[int, float] | None = None,
    now=None,
    also_closed: frozenset[datetime.date] = frozenset(),
    new_counter: NewCounter | None = None,
) -> list[Projection]:
    """The projection of every active procedure of the prefecture; what-ifs: extra slots per week, every
    site closed on `also_closed`, a new counter (a pool of its own, open on the days every site is)."""
    first_week, inputs, pools = inputs_for(prefecture, now, also_closed)
    if new_counter is not None:
        served = frozenset(p for p in new_counter.procedure_ids if any(i.procedure_id == p for i in inputs))
        if served:
            weekly = (
                new_counter.hours_per_week * 60 / new_counter.slot_minutes
                if new_counter.slot_minutes > 0
                else 0
            )
            added = tuple(
                round(weekly * _open_share(first_week, week, also_closed), 2)
                for week in range(PROJECTION_WEEKS)
            )
            pools = [*pools, Pool(served, added)]
            supply = shares(pools)
            inputs = [
                replace(item, slots_per_week=tuple(round(v, 2) for v in supply[item.procedure_id]))
                if item.procedure_id in served
                else item
                for item in inputs
            ]
    by_id = {
        projection.inputs.procedure_id: projection
        for projection in project_all(inputs, pools, first_week, extra_slots_per_week)
    }
    return [by_id[item.procedure_id] for item in inputs]


def _open_share(first_week: datetime.date, week: int, closed: frozenset[datetime.date]) -> float:
    """The share of a week's working days (Monday to Friday) not in `closed`."""
    monday = first_week + datetime.timedelta(weeks=week)
    shut = sum(1 for day in range(5) if monday + datetime.timedelta(days=day) in closed)
    return (5 - shut) / 5
