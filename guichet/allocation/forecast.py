"""When the queue would give a request its offer: the engine itself, run on the queue as it is.

An estimate built from a weekly rate is optimistic whenever the slots of the coming weeks are already given
(the procedure page once said "about 4 days" while offers were seven weeks out). The honest answer is the
one the allocation would give: load the waiting requests and the free slots as the allocation service does,
add the request (a real waiting one, or one that would be filed now with its needs and earliest date), run
the engine, and read which slot it takes. Nothing is written.

When no published slot is left for it, the request waits for slots not published yet: ``Outlook`` then says
how many requests of the same procedure, served before it at an overlapping set of sites, are in the same
situation, and until when slots are published, so that the page extrapolates from there
(``guichet.public.estimates``).

A run loads the whole prefecture's queue and runs the engine on it: 2.2 s with 62,500 waiting
(docs/benchmarks.md). A page that ran it for each waiting person would cost that per person; but a waiting
request is run as it already stands in the queue, so one run answers for every one of them.
``queue_forecast`` keeps that run per procedure in the shared cache, rebuilt by one reader per period for
the whole prefecture, and ``shared_outlook`` reads a request's answer from it: the slot it would be offered,
or how many requests ahead of it are left without a published slot (counted like the place in the queue,
guichet/waitlist/position.py: from the run for earlier due dates, live for its own).
"""

from __future__ import annotations

import array
import bisect
import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.utils import timezone

from guichet import shared_snapshots
from guichet.appointments import rules
from guichet.capacity.models import Slot
from guichet.capacity.services import serves
from guichet.catalog.models import Prefecture, Procedure
from guichet.waitlist import position
from guichet.waitlist.due_dates import compute_due_date, window_opens_on
from guichet.waitlist.models import AppointmentRequest, RequestStatus
from guichet.waitlist.position import QueueSnapshot, snapshot_from_counts

from . import engine
from .candidates import first_day
from .compatibility import WaitingRequest, interpreter_to_book
from .service import queue_and_slots

# The id of a request that is not filed: primary keys are positive.
HYPOTHETICAL_ID = -1


@dataclass(frozen=True)
class Outlook:
    """What the allocation would do for one request now."""

    starts_at: datetime.datetime | None  # the slot it would be offered; None: no published slot left for it
    local_date: datetime.date | None
    interpreter: str  # language of the interpreter to book for that slot ("" when the counter speaks it)
    ahead_without_slot: (
        int  # requests served before it, same procedure and overlapping sites, left without slot
    )
    published_until: datetime.date | None  # local date of the latest published slot of the procedure there


def filed_now(
    procedure: Procedure,
    now: datetime.datetime,
    *,
    site_ids: frozenset[int] | None = None,
    needs_step_free: bool = False,
    earliest_date: datetime.date | None = None,
    permit_expires_on: datetime.date | None = None,
) -> WaitingRequest:
    """A request for the procedure as if filed now on the web, with these needs (not stored)."""
    tz = procedure.prefecture.tzinfo
    due_date, _reason = compute_due_date(now.astimezone(tz).date(), procedure, permit_expires_on)
    first = first_day(earliest_date, window_opens_on(procedure, permit_expires_on))
    return WaitingRequest(
        id=HYPOTHETICAL_ID,
        procedure_id=procedure.pk,
        due_date=due_date,
        received_at=now,
        site_ids=site_ids,
        not_before=rules.not_before(now, procedure.minimum_notice_hours, first, tz),
        language=None,
        needs_step_free=needs_step_free,
        unavailable_weekdays=frozenset(),
        unavailable_dates=frozenset(),
    )


def _overlap(a: frozenset[int] | None, b: frozenset[int] | None) -> bool:
    return a is None or b is None or bool(a & b)


def _order(request: WaitingRequest) -> tuple:
    return (request.due_date, request.received_at, request.id)


def outlooks(
    prefecture: Prefecture, wanted: list[WaitingRequest], now: datetime.datetime | None = None
) -> list[Outlook]:
    """The outlook of each wanted request, each on its own (they do not compete with one another).

    A wanted request already in the queue (same id) is run as it is there; any other joins the queue.
    """
    now = now or timezone.now()
    waiting, free = queue_and_slots(prefecture, now)
    by_id = {slot.id: slot for slot in free}
    results = []
    for request in wanted:
        queue = [queued for queued in waiting if queued.id != request.id]
        queue.append(request)
        given = {a.request_id: a.slot_id for a in engine.allocate(queue, free)}
        slot = by_id.get(given.get(request.id, 0))
        ahead = sum(
            1
            for queued in queue
            if queued.procedure_id == request.procedure_id
            and queued.id not in given
            and _order(queued) < _order(request)
            and _overlap(queued.site_ids, request.site_ids)
        )
        results.append(
            Outlook(
                starts_at=slot.starts_at if slot else None,
                local_date=slot.local_date if slot else None,
                interpreter=interpreter_to_book(request, slot) if slot else "",
                ahead_without_slot=ahead,
                published_until=_published_until(prefecture, request, now),
            )
        )
    return results


def _published_until(prefecture: Prefecture, request: WaitingRequest, now: datetime.datetime):
    slots = Slot.objects.filter(
        counter__site__prefecture=prefecture,
        counter__is_active=True,
        counter__site__is_active=True,
        starts_at__gt=now,
    ).filter(serves(request.procedure_id))
    if request.site_ids is not None:
        slots = slots.filter(counter__site_id__in=request.site_ids)
    if request.needs_step_free:
        slots = slots.filter(counter__site__step_free=True)
    latest = slots.order_by("-starts_at").select_related("counter__site").first()
    return latest.starts_at.astimezone(latest.counter.site.tzinfo).date() if latest else None


# --- One run for every waiting request: the status pages ---------------------------------------------------

# Part of the cache keys: a new shape of QueueForecast changes it.
QUEUE_FORECAST_VERSION = 1
# On a cold start, how long the other readers wait for the one running the engine (1.7 s with 62,500
# waiting) before running it for themselves alone, which costs each of them as much.
COLD_WAIT_SECONDS = 5.0


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MICROSECOND = datetime.timedelta(microseconds=1)


@dataclass(frozen=True)
class Offered:
    """The slots a run would offer, by request: sorted arrays, so that a reader unpickles a few bytes per
    slot (a dict of datetimes cost 2 ms to read for 2,700 slots)."""

    request_ids: array.array  # sorted
    starts_at: array.array  # microseconds since the epoch (UTC)
    local_days: array.array  # proleptic ordinals of the slot's local date
    interpreters: dict[int, str]  # request id -> language of the interpreter to book, when one is

    @classmethod
    def of(cls, given: dict[int, tuple[datetime.datetime, datetime.date, str]]) -> Offered:
        ids = sorted(given)
        return cls(
            array.array("q", ids),
            array.array("q", [(given[pk][0] - _EPOCH) // _MICROSECOND for pk in ids]),
            array.array("l", [given[pk][1].toordinal() for pk in ids]),
            {pk: given[pk][2] for pk in ids if given[pk][2]},
        )

    def _index(self, request_id: int) -> int | None:
        index = bisect.bisect_left(self.request_ids, request_id)
        if index < len(self.request_ids) and self.request_ids[index] == request_id:
            return index
        return None

    def __contains__(self, request_id: int) -> bool:
        return self._index(request_id) is not None

    def get(self, request_id: int) -> tuple[datetime.datetime, datetime.date, str] | None:
        index = self._index(request_id)
        if index is None:
            return None
        return (
            _EPOCH + self.starts_at[index] * _MICROSECOND,
            datetime.date.fromordinal(self.local_days[index]),
            self.interpreters.get(request_id, ""),
        )


@dataclass(frozen=True)
class QueueForecast:
    """The engine run once on a prefecture's queue as it is, seen from one procedure.

    ``offered``: what each waiting request given a published slot would be offered; ``left``: the waiting
    requests left without one, counted by due date and sites. ``loaded_at``: when the queue was read; a
    request changed since then is not covered.
    """

    procedure_id: int
    taken_at: datetime.datetime
    loaded_at: datetime.datetime
    offered: Offered
    left: QueueSnapshot


def queue_forecasts(prefecture: Prefecture, now: datetime.datetime) -> dict[int, QueueForecast]:
    """One engine run on the whole queue, as ``outlooks`` runs it for each request, for every procedure.

    A waiting request's ``outlooks`` puts it back in the queue as it is there: the run is the same for every
    waiting request, so one run answers for all of them.
    """
    loaded_at = timezone.now()
    waiting, free = queue_and_slots(prefecture, now)
    by_id = {slot.id: slot for slot in free}
    given = {a.request_id: by_id[a.slot_id] for a in engine.allocate(waiting, free)}
    offered: dict[int, dict[int, tuple]] = defaultdict(dict)
    left: dict[int, dict] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    for request in waiting:
        slot = given.get(request.id)
        if slot is None:
            left[request.procedure_id][request.site_ids][request.due_date] += 1
        else:
            offered[request.procedure_id][request.id] = (
                slot.starts_at,
                slot.local_date,
                interpreter_to_book(request, slot),
            )
    return {
        procedure_id: QueueForecast(
            procedure_id,
            now,
            loaded_at,
            Offered.of(offered[procedure_id]),
            snapshot_from_counts(prefecture.pk, procedure_id, now, left[procedure_id]),
        )
        for procedure_id in Procedure.objects.filter(prefecture=prefecture).values_list("pk", flat=True)
    }


def _forecast_key(prefecture_id: int, procedure_id: int) -> str:
    return f"guichet:queue-forecast:{QUEUE_FORECAST_VERSION}:{prefecture_id}:{procedure_id}"


def _forecast_mark(prefecture_id: int) -> str:
    return f"guichet:queue-forecast:{QUEUE_FORECAST_VERSION}:{prefecture_id}:rebuilding"


def _build_and_share(
    prefecture: Prefecture, procedure_id: int, now: datetime.datetime, period: int
) -> Callable[[], QueueForecast]:
    """The rebuild of a prefecture's run: stores every other procedure's forecast, returns this one's."""

    def build() -> QueueForecast:
        forecasts = queue_forecasts(prefecture, now)
        others = {
            _forecast_key(prefecture.pk, other): forecast
            for other, forecast in forecasts.items()
            if other != procedure_id
        }
        shared_snapshots.cache_call("set_many", others, timeout=2 * period)
        return forecasts[procedure_id]

    return build


def queue_forecast(
    prefecture: Prefecture, procedure_id: int, now: datetime.datetime, period: int
) -> QueueForecast | None:
    """The shared run for this procedure, rebuilt once per period for the whole prefecture by one reader
    (guichet/shared_snapshots.py) unless the clock refreshed it first; None when none is to be had."""
    key = _forecast_key(prefecture.pk, procedure_id)
    build = _build_and_share(prefecture, procedure_id, now, period)
    return shared_snapshots.shared(
        key, _forecast_mark(prefecture.pk), period, build, now, wait_seconds=COLD_WAIT_SECONDS
    )


def refresh_queue_forecasts(
    prefecture: Prefecture, period: int, now: datetime.datetime | None = None
) -> bool:
    """Run the engine on the prefecture's queue now and share the result with every procedure's readers
    (the clock's `refresh_forecasts`, more often than `period`, so that no reader waits for a run). False
    when a reader is running it already, or the cache does not answer."""
    now = now or timezone.now()
    procedure_id = Procedure.objects.filter(prefecture=prefecture).values_list("pk", flat=True).first()
    if procedure_id is None:
        return False
    key = _forecast_key(prefecture.pk, procedure_id)
    build = _build_and_share(prefecture, procedure_id, now, period)
    return shared_snapshots.refresh(key, _forecast_mark(prefecture.pk), period, build) is not None


def shared_outlook(
    request: AppointmentRequest, wanted: WaitingRequest, now: datetime.datetime, period: int
) -> Outlook | None:
    """The outlook of a waiting request read from the prefecture's shared run: the same as ``outlooks`` for
    it right after the run, with the requests ahead on its own due date counted live.

    None when the run does not cover it (filed or changed since the run was read, or a new request of an
    open-mode procedure, which the run leaves out while it may pick a slot itself): the caller runs the
    engine for it alone.
    """
    if request.status != RequestStatus.WAITING:
        return None
    procedure = request.procedure
    if procedure.mode == Procedure.Mode.OPEN and request.received_at > now - rules.OPEN_CHOICE_WINDOW:
        return None
    found = queue_forecast(request.prefecture, request.procedure_id, now, period)
    if found is None or request.updated_at > found.loaded_at:
        return None
    sites = wanted.site_ids
    same_day = position.same_day_ahead(request, sites).values_list("pk", flat=True)
    ahead = found.left.due_before(request.due_date, sites) + sum(
        1 for pk in same_day if pk not in found.offered
    )
    slot = found.offered.get(request.pk)
    return Outlook(
        starts_at=slot[0] if slot else None,
        local_date=slot[1] if slot else None,
        interpreter=slot[2] if slot else "",
        ahead_without_slot=ahead,
        published_until=_cached_published_until(request.prefecture, wanted, now, period),
    )


def _cached_published_until(
    prefecture: Prefecture, request: WaitingRequest, now: datetime.datetime, seconds: int
) -> datetime.date | None:
    """``_published_until``, kept as long as the shared run: slots are published by the week."""
    sites = ",".join(str(pk) for pk in sorted(request.site_ids)) if request.site_ids else "*"
    key = f"guichet:published-until:{prefecture.pk}:{request.procedure_id}:{sites}:{request.needs_step_free}"
    ok, found = shared_snapshots.cache_call("get", key)
    if ok and found is not None:
        return found[0]
    latest = _published_until(prefecture, request, now)
    shared_snapshots.cache_call("set", key, (latest,), timeout=seconds)
    return latest
