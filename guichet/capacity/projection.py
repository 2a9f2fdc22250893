"""Capacity planning: the projected wait of each procedure over the next PROJECTION_WEEKS weeks.

For each procedure and each coming week:
- supply: the slots the opening rules make that week (not only the slots already published), without
  closures and public holidays; a slot of a rule serving k procedures counts 1/k for each;
- useful supply: supply × (1 − no-show rate) × (1 − decline rate), both observed over the last
  HISTORY_WEEKS weeks (a declined offer is counted as a slot that may go unused: the projection errs on
  the long side, which is the safe side for an alert);
- demand: the requests received per week over the last HISTORY_WEEKS weeks, all channels;
- the queue: requests waiting now, then queue + demand − useful supply, week after week (never below 0);
- projected wait: how long the queue at the start of the week takes to serve at the useful supply, in
  days (None when the procedure has no supply at all: the wait has no end).

A what-if adds or removes slots per week (`extra_slots_per_week`), closes every site on some days
(`also_closed`) or adds a counter (`NewCounter`: hours a week, slot length, procedures); the catalogue
editor's preview also computes this projection inside a rolled-back change (catalog/editing.py). The
alert (`over_target`) is a procedure whose projection exceeds its target wait.

`project` is a pure function of plain numbers; `inputs_for` reads them from the database.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, replace

from django.db.models import Count, Q
from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus, Offer, OfferStatus
from guichet.catalog.models import Counter, OpeningRule, Prefecture, Procedure
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from .services import _closed_days

PROJECTION_WEEKS = 12
HISTORY_WEEKS = 8
IN_QUEUE = (RequestStatus.WAITING, RequestStatus.OFFERED, RequestStatus.PAUSED)


@dataclass(frozen=True)
class Inputs:
    """What the projection of one procedure starts from."""

    procedure_id: int
    name: str
    target_wait_days: int
    queue: int
    arrivals_per_week: float
    slots_per_week: tuple[float, ...]  # one per coming week
    no_show_rate: float
    decline_rate: float


@dataclass(frozen=True)
class Week:
    starts_on: datetime.date
    queue: float  # at the start of the week
    useful_slots: float
    wait_days: int | None


@dataclass(frozen=True)
class Projection:
    inputs: Inputs
    weeks: tuple[Week, ...]

    @property
    def worst_wait_days(self) -> int | None:
        """The longest projected wait; None when some week has no supply while people wait."""
        waits = [week.wait_days for week in self.weeks]
        return None if None in waits else max(waits, default=0)

    @property
    def over_target(self) -> bool:
        worst = self.worst_wait_days
        return worst is None or worst > self.inputs.target_wait_days


def project(inputs: Inputs, first_week: datetime.date, extra_slots_per_week: float = 0) -> Projection:
    """The week-by-week projection (pure)."""
    useful_share = (1 - inputs.no_show_rate) * (1 - inputs.decline_rate)
    queue = float(inputs.queue)
    weeks = []
    for index, slots in enumerate(inputs.slots_per_week):
        useful = max(0.0, slots + extra_slots_per_week) * useful_share
        if queue <= 0:
            wait = 0
        elif useful <= 0:
            wait = None
        else:
            wait = round(7 * queue / useful)
        weeks.append(
            Week(
                starts_on=first_week + datetime.timedelta(weeks=index),
                queue=round(queue, 1),
                useful_slots=round(useful, 1),
                wait_days=wait,
            )
        )
        queue = max(0.0, queue + inputs.arrivals_per_week - useful)
    return Projection(inputs=inputs, weeks=tuple(weeks))


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _rule_slots(rule: OpeningRule) -> int:
    return rule.length_minutes() // rule.slot_minutes


def weekly_supply(
    prefecture: Prefecture,
    first_week: datetime.date,
    weeks: int = PROJECTION_WEEKS,
    also_closed: frozenset[datetime.date] = frozenset(),
) -> dict[int, list[float]]:
    """Procedure id → slots per coming week made by the opening rules, less closures and holidays (and the
    days of `also_closed`: a what-if closure of every site)."""
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
    supply: dict[int, list[float]] = defaultdict(lambda: [0.0] * weeks)
    for rule in rules:
        procedures = [p.pk for p in rule.procedures.all()]
        if not procedures:
            continue
        counter = counters[rule.counter_id]
        share = _rule_slots(rule) / len(procedures)
        for week in range(weeks):
            day = first_week + datetime.timedelta(weeks=week, days=rule.weekday)
            shut = (
                day in holidays
                or day in closed.get(("site", counter.site_id), {})
                or day in closed.get(("counter", counter.pk), {})
            )
            if shut or not rule.is_valid_on(day):
                continue
            for procedure_id in procedures:
                supply[procedure_id][week] += share
    return supply


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def inputs_for(
    prefecture: Prefecture,
    now: datetime.datetime | None = None,
    also_closed: frozenset[datetime.date] = frozenset(),
) -> tuple[datetime.date, list[Inputs]]:
    """The first projected week (this week's Monday) and the inputs of every active procedure."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    first_week = _monday(today)
    since = now - datetime.timedelta(weeks=HISTORY_WEEKS)
    supply = weekly_supply(prefecture, first_week, also_closed=also_closed)
    requests = AppointmentRequest.objects.filter(prefecture=prefecture)
    queued = dict(
        requests.filter(status__in=IN_QUEUE).values_list("procedure_id").annotate(n=Count("id")).order_by()
    )
    received = dict(
        requests.filter(received_at__gte=since).values_list("procedure_id").annotate(n=Count("id")).order_by()
    )
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
                arrivals_per_week=round(received.get(procedure.pk, 0) / HISTORY_WEEKS, 2),
                slots_per_week=tuple(
                    round(value, 2) for value in supply.get(procedure.pk, [0.0] * PROJECTION_WEEKS)
                ),
                no_show_rate=round(_rate(shows.get("no_show", 0), shows.get("done", 0)), 3),
                decline_rate=round(_rate(offers.get("declined", 0), offers.get("decided", 0)), 3),
            )
        )
    return first_week, inputs


@dataclass(frozen=True)
class NewCounter:
    """A what-if counter: open `hours_per_week`, slots of `slot_minutes`, shared by `procedure_ids` (a slot
    counts 1/k for each of its k procedures, as the rules' slots do)."""

    hours_per_week: float
    slot_minutes: int
    procedure_ids: tuple[int, ...]

    def slots_per_week(self, procedure_id: int) -> float:
        if procedure_id not in self.procedure_ids or self.slot_minutes <= 0:
            return 0.0
        return self.hours_per_week * 60 / self.slot_minutes / len(self.procedure_ids)


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
    site closed on `also_closed`, a new counter (its slots added to each week it would be open: a closure
    of every site closes it too)."""
    first_week, inputs = inputs_for(prefecture, now, also_closed)
    extra = dict(extra_slots_per_week or {})
    result = []
    for item in inputs:
        if new_counter is not None and new_counter.slots_per_week(item.procedure_id):
            weekly = new_counter.slots_per_week(item.procedure_id)
            item = replace(
                item,
                slots_per_week=tuple(
                    round(slots + weekly * _open_share(first_week, week, also_closed), 2)
                    for week, slots in enumerate(item.slots_per_week)
                ),
            )
        result.append(project(item, first_week, extra.get(item.procedure_id, 0)))
    return result


def _open_share(first_week: datetime.date, week: int, closed: frozenset[datetime.date]) -> float:
    """The share of a week's working days (Monday to Friday) not in `closed`."""
    monday = first_week + datetime.timedelta(weeks=week)
    shut = sum(1 for day in range(5) if monday + datetime.timedelta(days=day) in closed)
    return (5 - shut) / 5
