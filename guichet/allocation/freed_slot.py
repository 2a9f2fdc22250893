"""One freed slot to the next person, in one short transaction: the fast path beside the full run.

When a slot is freed (a cancellation, a declined or lapsed offer, a request giving up what it held), the
full allocation run (service.py) reads the whole queue: seconds at 50,000 waiting requests. This path gives
that one slot to the one request the full engine would give it, through an index:

1. the slot is read as the engine reads it (``service._load_slots``): nothing to do when it is held, past,
   closed that day, or at a closed counter;
2. the waiting requests of each procedure the slot serves are read in the engine's serving order (due date,
   received time, id: DESIGN.md) through the partial index ``request_waiting_by_procedure``, a chunk at a
   time, narrowed in SQL by ``_narrowing``;
3. each candidate is turned into the engine's ``WaitingRequest`` by the engine's own loader
   (``service._load_requests``) and the slot is given to the first one the rule (``compatibility.suits``)
   accepts and that can be locked (``SKIP LOCKED``: a request another transaction holds is being given
   something else, so the next one is served);
4. the offer (or, for someone reachable only by post, the appointment), its hold, proof, audit entry and
   message are written by the full run's own writer (``service._write``).

Why it gives what the full engine would: after a full run, no waiting request suits any free slot (the
engine leaves none stranded: ``service.stranded``). Serving the queue in order with one more free slot S,
every request before the first one that S suits still finds nothing, and that one's only compatible slot is
S, so the engine gives S to it (with an interpreter when the counter does not speak the person's language,
as the engine does). ``tests/allocation/test_freed_slot.py`` checks this on random queues against
``engine.allocate``. The SQL narrowing only drops requests that the rule would refuse (the same property
test would catch one it dropped wrongly); the decision is always ``suits``. The full run is still queued by
every freeing change, so whatever this path cannot do (slot locked elsewhere, a queue changed meanwhile)
is caught up there.
"""

from __future__ import annotations

import datetime
import heapq
import time
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from guichet import locking
from guichet.appointments import rules
from guichet.capacity.models import Hold
from guichet.catalog.models import Counter, Prefecture, Procedure, Site
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from . import engine, service
from .compatibility import suits

# Candidates read per procedure and per round; the first one nearly always suits (only unavailable days,
# which SQL leaves to the rule, can refuse it).
CHUNK = 32


@dataclass
class FreedSlotRun:
    """What one freed-slot pass did, with what its time was spent on."""

    slot_id: int
    outcome: str = ""  # offered | confirmed | nobody | not_free | busy
    request_id: int | None = None
    candidates: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {
            "slot": self.slot_id,
            "outcome": self.outcome,
            "request": self.request_id,
            "candidates": self.candidates,
            "seconds": round(self.seconds, 4),
            "timings": {name: round(value, 4) for name, value in self.timings.items()},
        }


def offer_freed_slot(slot_id: int, *, now: datetime.datetime | None = None) -> FreedSlotRun:
    """Give this free slot to the request the full engine would give it, if any, in one transaction."""
    started = time.perf_counter()
    result = FreedSlotRun(slot_id=slot_id)
    prefecture = Prefecture.objects.filter(sites__counters__slots__pk=slot_id).first()
    if prefecture is None:
        result.outcome = "not_free"
        return result
    run = service.PrefectureRun(prefecture=prefecture.code)
    clock = service._Clock(run)
    with transaction.atomic():
        now = now or timezone.now()
        sites = {site.pk: site for site in Site.objects.filter(prefecture=prefecture)}
        slots, facts = service._load_slots(prefecture, now, sites, only=[slot_id])
        clock.lap("read_slot")
        if not slots:
            result.outcome = "not_free"
        else:
            slot = slots[0]
            procedures = {p.pk: p for p in Procedure.objects.filter(prefecture=prefecture)}
            chosen, postal_only = _choose(prefecture, slot, procedures, now, result, clock)
            if chosen is None:
                result.outcome = result.outcome or "nobody"
            elif not _lock_slot(slot_id):
                result.outcome = "busy"
            else:
                clock.lap("lock")
                world = service._World(
                    prefecture=prefecture,
                    now=now,
                    procedures=procedures,
                    requests=[chosen],
                    postal_only=postal_only,
                    slots=[slot],
                    slot_facts=facts,
                    sites=sites,
                    counter_names=dict(Counter.objects.filter(pk=slot.counter_id).values_list("id", "name")),
                )
                service._write(world, [engine.Assignment(chosen.id, slot_id)], run, clock)
                result.request_id = chosen.id
                result.outcome = "confirmed" if chosen.id in postal_only else "offered"
    clock.lap("commit")
    result.timings = dict(run.timings)
    result.seconds = time.perf_counter() - started
    return result


def _choose(
    prefecture: Prefecture,
    slot: engine.FreeSlot,
    procedures: dict[int, Procedure],
    now: datetime.datetime,
    result: FreedSlotRun,
    clock: service._Clock,
) -> tuple[engine.WaitingRequest | None, set[int]]:
    """The first request in serving order that the rule accepts for the slot and that could be locked."""
    queries = [
        AppointmentRequest.objects.filter(prefecture=prefecture, status=RequestStatus.WAITING)
        .filter(narrowing)
        .order_by("due_date", "received_at", "id")
        .values_list("due_date", "received_at", "id")
        for narrowing in _narrowing(prefecture, slot, procedures, now)
    ]
    after = None
    while queries:
        if after is not None:
            queries = [query.filter(_after(after)) for query in queries]
        rows = [list(query[:CHUNK]) for query in queries]
        queries = [query for query, got in zip(queries, rows, strict=True) if got]
        # The procedures' lists merged in serving order, complete up to the end of the shortest full chunk;
        # the rest is read again in the next round.
        ordered = list(heapq.merge(*rows))
        full = [got[-1] for got in rows if len(got) == CHUNK]
        if full:
            after = min(full)
            ordered = [row for row in ordered if row <= after]
        else:
            queries = []
        clock.lap("candidates")
        result.candidates += len(ordered)
        ids = [pk for _, _, pk in ordered]
        requests, postal_only = service._load_requests(prefecture, now, procedures, only=ids)
        by_id = {request.id: request for request in requests}
        clock.lap("load_candidates")
        for pk in ids:
            request = by_id.get(pk)
            if request is None or not suits(request, slot):
                continue
            if locking.requests([pk], skip_locked=True, status=RequestStatus.WAITING):
                clock.lap("lock")
                return request, postal_only
            # Held by another transaction (being given another slot) or no longer waiting: the next one.
    return None, set()


def _after(row: tuple[datetime.date, datetime.datetime, int]) -> Q:
    """Requests after this (due date, received time, id) in serving order."""
    due_date, received_at, pk = row
    return (
        Q(due_date__gt=due_date)
        | Q(due_date=due_date, received_at__gt=received_at)
        | Q(due_date=due_date, received_at=received_at, id__gt=pk)
    )


def _lock_slot(slot_id: int) -> bool:
    """Lock the slot without waiting and check nobody took it since it was read."""
    if not locking.slots([slot_id], skip_locked=True):
        return False
    return not Hold.objects.filter(slot_id=slot_id).exists()


def _narrowing(
    prefecture: Prefecture, slot: engine.FreeSlot, procedures: dict[int, Procedure], now: datetime.datetime
) -> list[Q]:
    """For each procedure the slot serves, a filter keeping every waiting request the rule could accept.

    Each condition is one of the rule's (compatibility.py), on a column, so that the index can be walked
    in serving order and rows that cannot suit are skipped inside the database. What is not a plain
    column test (unavailable weekdays and dates, the days of declined offers) is left to ``suits``.
    The time bounds are the engine's (``service._load_requests``): the notice from now, the person's
    earliest date and a renewal's filing window, both at local midnight in the prefecture's timezone.
    """
    local_day = slot.starts_at.astimezone(prefecture.tzinfo).date()
    through = AppointmentRequest.sites.through
    chose_sites = Exists(through.objects.filter(appointmentrequest_id=OuterRef("pk")))
    chose_this_site = Exists(
        through.objects.filter(appointmentrequest_id=OuterRef("pk"), site_id=slot.site_id)
    )
    common = (Q(earliest_date__isnull=True) | Q(earliest_date__lte=local_day)) & (
        ~chose_sites | chose_this_site
    )
    if not slot.step_free:
        common &= Q(needs_step_free=False)
    filters = []
    for procedure_id in sorted(slot.procedure_ids):
        procedure = procedures.get(procedure_id)
        if procedure is None:
            continue
        by_email = rules.notice_hours(procedure.minimum_notice_hours, procedure.postal_notice_hours, False)
        by_post = rules.notice_hours(procedure.minimum_notice_hours, procedure.postal_notice_hours, True)
        if now + datetime.timedelta(hours=by_email) > slot.starts_at:
            continue
        narrowing = Q(procedure_id=procedure_id) & common
        if now + datetime.timedelta(hours=by_post) > slot.starts_at:
            # Too soon for a letter: only people with an email address or a phone.
            narrowing &= Q(email__gt="") | Q(phone__gt="")
        if procedure.is_renewal:
            # The filing window opens `renewal_window_opens_days` before expiry (due_dates.window_opens_on).
            opens_by = local_day + datetime.timedelta(days=procedure.renewal_window_opens_days)
            narrowing &= Q(permit_expires_on__isnull=True) | Q(permit_expires_on__lte=opens_by)
        if procedure.mode == Procedure.Mode.OPEN:
            narrowing &= Q(received_at__lte=now - rules.OPEN_CHOICE_WINDOW)
        filters.append(narrowing)
    return filters
