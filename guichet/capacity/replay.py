"""A replay of a prefecture's history through the real services, to measure the capacity projection.

The history is generated, seeded, day by day from a Monday in the past: requests arrive (the demo's
generator of people, `waitlist.demo.synthetic_items`, at a weekly rate), slots are generated from the
opening rules, the allocation runs, people accept, decline or let their offers lapse, come or miss their
appointment, withdraw now and then, and reactivate a paused request. Each step is the service the
application itself calls (`generate_slots`, `allocate`, `accept_offer`, `decline_offer`, `lapse_due_offers`,
`record_outcome`, `withdraw_request`, `reactivate_request`), with the replay's clock as `now`.

At the cut (a Monday, `warmup_weeks` after the start) the projection is computed from the database as it
stands then (`projection.projections(prefecture, now=cut)`), exactly as the planning page computes it;
optionally a change is made first (a closure: `at_cut`), which the projection must see through the rules
since no slot of it is published yet. The replay then goes on for `weeks_after` weeks and records, at the
start of each week, what happened: the queue of each procedure (requests waiting, offered or paused) and how
many left it during the week. `Comparison` sets the projected queue and wait against them.

Everything is written to the database of the caller: run it on an empty one (the test database, or the
command `replay_capacity`, which rolls everything back).
"""

from __future__ import annotations

import datetime
import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count

from guichet.allocation.service import allocate
from guichet.appointments import services as appointments
from guichet.appointments.models import Appointment, AppointmentStatus, Offer, OfferStatus
from guichet.catalog.models import Prefecture, Procedure
from guichet.evidence.audit import APPLICANT, SYSTEM
from guichet.waitlist import services as waitlist
from guichet.waitlist.demo import DEMO_ACTOR, synthetic_items
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from .projection import IN_QUEUE, Projection, Week, projections
from .services import generate_slots

# The replay's clock ticks once a day, at this local hour (before the counters open).
TICK = datetime.time(7, 0)
# A week's observed wait counts once this share of its requests have an appointment (held or to come).
KNOWN_SHARE = 0.9


@dataclass(frozen=True)
class Behaviour:
    """How the people of the replay behave (the rates a prefecture observes; shares of a decision)."""

    arrivals_per_week: float  # requests filed per week, all procedures (the generator's mix of procedures)
    accept: float = 0.85  # of offers; the rest of the answered ones are declined…
    decline: float = 0.10  # …and what is neither lapses unanswered
    no_show: float = 0.08  # of appointments
    withdraw_per_week: float = 0.01  # of the requests in the queue, each week
    reactivate_per_week: float = 0.5  # of paused requests, each week


@dataclass(frozen=True)
class Observed:
    """What the replay saw in one week after the cut, for one procedure."""

    week: datetime.date  # the Monday
    queue: int  # at the start of the week: people not received yet (queued, or booked for a later day)
    # Of the requests received during the week: the median days from the request to the appointment they
    # got (held, missed or still to come); None when fewer than half have one by the end of the replay.
    wait_days: float | None = None


@dataclass
class ProcedureComparison:
    procedure_id: int
    name: str
    projection: Projection
    observed: list[Observed] = field(default_factory=list)

    def pairs(self) -> list[tuple[Week, Observed]]:
        return list(zip(self.projection.weeks, self.observed, strict=False))


@dataclass
class Comparison:
    cut: datetime.datetime
    procedures: list[ProcedureComparison]

    def queue_error(self) -> float:
        """Σ |projected − seen| / Σ seen over every week and procedure: the error on the number of people
        not received yet, as a share of it."""
        pairs = [pair for item in self.procedures for pair in item.pairs()]
        seen = sum(observed.queue for _week, observed in pairs)
        return sum(abs(week.queue - observed.queue) for week, observed in pairs) / seen if seen else 0.0

    def wait_error(self) -> float:
        """Σ |projected − seen| / Σ seen of the wait, over the weeks where both are known."""
        pairs = [
            (week.wait_days, observed.wait_days)
            for item in self.procedures
            for week, observed in item.pairs()
            if week.wait_days is not None and observed.wait_days is not None
        ]
        seen = sum(observed for _projected, observed in pairs)
        return sum(abs(projected - observed) for projected, observed in pairs) / seen if seen else 0.0

    def table(self) -> str:
        """Week by week, per procedure: projected / seen people not received yet, and wait in days."""
        lines = [
            f"cut {self.cut:%Y-%m-%d}; each week: people not received yet, projected/seen; "
            "wait in days, projected/seen"
        ]
        for item in self.procedures:
            cells = [
                f"{week.queue:g}/{observed.queue} {_text(week.wait_days)}/{_text(observed.wait_days)}"
                for week, observed in item.pairs()
            ]
            lines.append(f"  {item.name}: " + " | ".join(cells))
        lines.append(f"queue error {self.queue_error():.1%}, wait error {self.wait_error():.1%}")
        return "\n".join(lines)


def _text(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method, fine for the means a day of arrivals has)."""
    if mean <= 0:
        return 0
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class Replay:
    def __init__(self, prefecture: Prefecture, start: datetime.date, behaviour: Behaviour, seed: int):
        if start.weekday() != 0:
            raise ValueError("the replay starts on a Monday")
        self.prefecture = prefecture
        self.tz = prefecture.tzinfo
        self.day = start
        self.behaviour = behaviour
        self.rng = random.Random(seed)
        self.seed = seed

    def now(self) -> datetime.datetime:
        return datetime.datetime.combine(self.day, TICK, self.tz).astimezone(datetime.UTC)

    def run_weeks(self, weeks: int, on_monday: Callable[[Replay], None] | None = None) -> None:
        for _ in range(7 * weeks):
            if on_monday is not None and self.day.weekday() == 0:
                on_monday(self)
            self.run_day()
            self.day += datetime.timedelta(days=1)

    def run_day(self) -> None:
        now = self.now()
        if self.day.weekday() == 0:
            generate_slots(self.prefecture, start=self.day, now=now)
        self._arrivals(now)
        self._outcomes(now)
        self._withdrawals_and_returns(now)
        appointments.lapse_due_offers(now=now)
        allocate(self.prefecture, now=now)
        self._answers(now + datetime.timedelta(hours=2))

    def _arrivals(self, now: datetime.datetime) -> None:
        count = _poisson(self.rng, self.behaviour.arrivals_per_week / 7)
        if not count:
            return
        seed = self.rng.randrange(2**31)
        items = []
        for data, channel, _received in synthetic_items(self.prefecture, count, seed, now=now):
            # Filed during the last day, before this tick.
            received = now - datetime.timedelta(seconds=self.rng.randint(60, 24 * 3600))
            items.append((data, channel, received))
        waitlist.file_requests_bulk(items, prefecture=self.prefecture, actor=DEMO_ACTOR)

    def _outcomes(self, now: datetime.datetime) -> None:
        due = Appointment.objects.filter(
            request__prefecture=self.prefecture,
            status=AppointmentStatus.CONFIRMED,
            starts_at__lt=now,
        ).order_by("starts_at", "pk")
        for appointment in due:
            missed = self.rng.random() < self.behaviour.no_show
            outcome = AppointmentStatus.NO_SHOW if missed else AppointmentStatus.SERVED
            appointments.record_outcome(appointment, outcome, SYSTEM, now=appointment.ends_at)

    def _withdrawals_and_returns(self, now: datetime.datetime) -> None:
        daily_withdraw = self.behaviour.withdraw_per_week / 7
        daily_return = self.behaviour.reactivate_per_week / 7
        queue = AppointmentRequest.objects.filter(prefecture=self.prefecture, status__in=IN_QUEUE).order_by(
            "pk"
        )
        for request in queue:
            if request.status == RequestStatus.PAUSED and self.rng.random() < daily_return:
                waitlist.reactivate_request(request, APPLICANT)
            elif self.rng.random() < daily_withdraw:
                waitlist.withdraw_request(request, APPLICANT)

    def _answers(self, at: datetime.datetime) -> None:
        """Each offer made since the last tick is accepted, declined, or left to lapse."""
        pending = Offer.objects.filter(
            request__prefecture=self.prefecture, status=OfferStatus.PENDING, expires_at__gt=at
        ).order_by("pk")
        behaviour = self.behaviour
        for offer in pending:
            if offer.created_at < at - datetime.timedelta(days=1):
                continue  # answered (or left) on an earlier day
            draw = self.rng.random()
            if draw < behaviour.accept:
                appointments.accept_offer(offer, APPLICANT, now=at)
            elif draw < behaviour.accept + behaviour.decline:
                appointments.decline_offer(offer, APPLICANT, now=at)

    def observe(self) -> dict[int, int]:
        """The people of each procedure not received yet (queued: waiting, offered or paused; or booked)."""
        return dict(
            AppointmentRequest.objects.filter(
                prefecture=self.prefecture, status__in=[*IN_QUEUE, RequestStatus.SCHEDULED]
            )
            .values_list("procedure_id")
            .annotate(n=Count("id"))
            .order_by()
        )


def observed_waits(prefecture: Prefecture, first: datetime.datetime, last: datetime.datetime) -> dict:
    """{(procedure id, Monday): median days from request to appointment} for the requests received between
    `first` and `last`, by week of receipt (local), when KNOWN_SHARE of them have an appointment."""
    tz = prefecture.tzinfo
    appointment_of: dict[int, datetime.datetime] = {}
    for request_id, starts_at in (
        Appointment.objects.filter(
            request__prefecture=prefecture, request__received_at__gte=first, request__received_at__lt=last
        )
        .exclude(status=AppointmentStatus.CANCELLED)
        .order_by("starts_at")
        .values_list("request_id", "starts_at")
    ):
        appointment_of.setdefault(request_id, starts_at)
    weeks: dict[tuple[int, datetime.date], list[float | None]] = defaultdict(list)
    for pk, procedure_id, received_at in AppointmentRequest.objects.filter(
        prefecture=prefecture, received_at__gte=first, received_at__lt=last
    ).values_list("pk", "procedure_id", "received_at"):
        local = received_at.astimezone(tz).date()
        monday = local - datetime.timedelta(days=local.weekday())
        starts = appointment_of.get(pk)
        weeks[(procedure_id, monday)].append(
            None if starts is None else (starts - received_at).total_seconds() / 86400
        )
    medians = {}
    for key, waits in weeks.items():
        known = sorted(wait for wait in waits if wait is not None)
        if len(known) < KNOWN_SHARE * len(waits):
            continue  # too many still without an appointment: their waits are not known yet
        # The lower median of all, the few unknown ones counted as longer than every known one.
        medians[key] = round(known[(len(waits) - 1) // 2], 1)
    return medians


def replay(
    prefecture: Prefecture,
    *,
    start: datetime.date,
    warmup_weeks: int,
    weeks_after: int,
    behaviour: Behaviour,
    seed: int = 1,
    at_cut: Callable[[Replay], None] | None = None,
) -> Comparison:
    """Replay `warmup_weeks` weeks from `start`, project at the cut, replay `weeks_after` more weeks and
    compare. `at_cut` changes the catalogue at the cut (before the projection), through its services."""
    run = Replay(prefecture, start, behaviour, seed)
    run.run_weeks(warmup_weeks)
    if at_cut is not None:
        at_cut(run)
    cut = run.now()
    projected = projections(prefecture, now=cut)
    names = dict(Procedure.objects.filter(prefecture=prefecture).values_list("pk", "name"))
    seen: list[tuple[datetime.date, dict[int, int]]] = []
    run.run_weeks(weeks_after, on_monday=lambda current: seen.append((current.day, current.observe())))
    # The waits of those received in each week after the cut (local weeks: from the cut's Monday on).
    monday = datetime.datetime.combine(cut.astimezone(run.tz).date(), datetime.time(0), run.tz)
    waits = observed_waits(prefecture, monday, run.now())
    compared = []
    for item in projected:
        pk = item.inputs.procedure_id
        observed = [Observed(day, queue.get(pk, 0), waits.get((pk, day))) for day, queue in seen]
        compared.append(ProcedureComparison(pk, names[pk], item, observed))
    return Comparison(cut=cut, procedures=sorted(compared, key=lambda item: item.name))
