"""The allocation service: load the queue and the free slots, lock late, run the engine, write the offers.

One run per prefecture, each in one transaction (docs/concurrency.md):

1. lock the prefecture row, so that two runs of one prefecture never overlap;
2. read the waiting requests and the free future slots with plain value queries (no model objects for the
   whole queue) and turn them into the engine's plain data;
3. run the pure engine (guichet/allocation/engine.py);
4. lock only what the engine assigned, with SKIP LOCKED, re-checking that each request still waits and
   each slot is still free; whatever another transaction holds or changed meanwhile is left out and the
   engine runs again without it (a few rounds at most; anything left is for the next run);
5. write the offers and their holds in bulk, move the requests to "offered"; people reachable only by post
   are confirmed directly (appointment, letter) with the procedure's longer postal notice;
6. write the signed proofs and the audit entries (evidence), and queue the messages (outbox).
"""

from __future__ import annotations

import datetime
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from guichet import bulk, locking
from guichet.appointments import rules
from guichet.appointments.models import (
    Appointment,
    AppointmentStatus,
    Offer,
    OfferSource,
    OfferStatus,
)
from guichet.capacity.models import Hold, Slot
from guichet.catalog.models import Counter, OpeningRule, Prefecture, Procedure, Site
from guichet.evidence.audit import SYSTEM
from guichet.evidence.services import record_events
from guichet.notifications.services import notify_many
from guichet.waitlist.due_dates import window_opens_on
from guichet.waitlist.facts import load_facts
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from . import candidates, engine
from .compatibility import interpreter_to_book, suits
from .tasks import enqueue_allocation, note_run

# Rounds of "run the engine, lock what it chose" before leaving the rest to the next run.
MAX_ROUNDS = 4
BATCH = 2000
_EMPTY: frozenset = frozenset()


@dataclass
class PrefectureRun:
    """What one allocation run of one prefecture did."""

    prefecture: str
    waiting: int = 0
    free_slots: int = 0
    offers: int = 0
    confirmed: int = 0  # reachable only by post: confirmed directly
    skipped: int = 0  # assignments dropped: the row was locked or changed by another transaction meanwhile
    rounds: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        return (
            f"{self.prefecture}: {self.waiting} waiting, {self.free_slots} free slots"
            f" -> {self.offers} offers, "
            f"{self.confirmed} confirmed by post, {self.skipped} skipped (busy), {self.rounds} round(s), "
            f"{self.seconds:.2f} s"
        )


@dataclass
class AllocationReport:
    runs: list[PrefectureRun] = field(default_factory=list)

    @property
    def offers(self) -> int:
        return sum(run.offers for run in self.runs)

    @property
    def confirmed(self) -> int:
        return sum(run.confirmed for run in self.runs)

    def lines(self) -> list[str]:
        return [run.line() for run in self.runs] or ["no prefecture to allocate"]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def as_dict(self) -> dict:
        return {
            "offers": self.offers,
            "confirmed": self.confirmed,
            "runs": [
                {
                    "prefecture": run.prefecture,
                    "waiting": run.waiting,
                    "free_slots": run.free_slots,
                    "offers": run.offers,
                    "confirmed": run.confirmed,
                    "skipped": run.skipped,
                    "rounds": run.rounds,
                    "seconds": round(run.seconds, 3),
                }
                for run in self.runs
            ],
        }


def allocate(
    prefecture: Prefecture | None = None, *, now: datetime.datetime | None = None
) -> AllocationReport:
    """Allocate the free slots of one prefecture (or of each, one transaction per prefecture)."""
    prefectures = [prefecture] if prefecture is not None else list(Prefecture.objects.order_by("code"))
    report = AllocationReport()
    for pref in prefectures:
        report.runs.append(allocate_prefecture(pref, now=now))
    return report


class _Clock:
    def __init__(self, run: PrefectureRun) -> None:
        self.run = run
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.run.timings[name] = self.run.timings.get(name, 0.0) + now - self.last
        self.last = now


def allocate_prefecture(prefecture: Prefecture, *, now: datetime.datetime | None = None) -> PrefectureRun:
    started = time.perf_counter()
    run = PrefectureRun(prefecture=prefecture.code)
    clock = _Clock(run)
    with transaction.atomic():
        locking.prefecture(prefecture.pk)
        clock.lap("lock_prefecture")
        # The clock is read after the lock: a run that waited for another one must not offer slots that
        # started while it waited.
        read_at = timezone.now()
        now = now or read_at
        world = _World.load(prefecture, now)
        clock.lap("load")
        run.waiting, run.free_slots = len(world.requests), len(world.slots)
        assignments, more = _assign_and_lock(world, run, clock)
        if assignments:
            _write(world, assignments, run, clock)
        if more:
            enqueue_allocation(prefecture.pk)
        transaction.on_commit(lambda: note_run(prefecture.pk, read_at))
    clock.lap("commit")
    run.seconds = time.perf_counter() - started
    return run


@dataclass
class _SlotFacts:
    counter_id: int
    site_id: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime


@dataclass
class _World:
    """Everything one run needs, read once: the engine's input plus what writing the offers needs."""

    prefecture: Prefecture
    now: datetime.datetime
    procedures: dict[int, Procedure]
    requests: list[engine.WaitingRequest]
    postal_only: set[int]
    slots: list[engine.FreeSlot]
    slot_facts: dict[int, _SlotFacts]
    sites: dict[int, Site]
    counter_names: dict[int, str]

    @classmethod
    def load(cls, prefecture: Prefecture, now: datetime.datetime) -> _World:
        procedures = {p.pk: p for p in Procedure.objects.filter(prefecture=prefecture)}
        sites = {s.pk: s for s in Site.objects.filter(prefecture=prefecture)}
        requests, postal_only = _load_requests(prefecture, now, procedures)
        slots, facts = _load_slots(prefecture, now, sites)
        counter_names = dict(Counter.objects.filter(site__prefecture=prefecture).values_list("id", "name"))
        return cls(prefecture, now, procedures, requests, postal_only, slots, facts, sites, counter_names)


def _json_list(text: str | None) -> list:
    # Read as text: most people have no unavailable days, and "[]" needs no JSON parsing.
    if not text or text == "[]":
        return []
    try:
        value = json.loads(text)
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def _load_requests(
    prefecture: Prefecture,
    now: datetime.datetime,
    procedures: dict[int, Procedure],
    only: list[int] | None = None,
    statuses: tuple[str, ...] = (RequestStatus.WAITING,),
) -> tuple[list[engine.WaitingRequest], set[int]]:
    """The waiting queue as the engine sees it; ``only``: just these requests (the freed-slot path reads its
    few candidates through the same code, so both see a request the same way); ``statuses``: requests in
    these states too, seen the same way (lateness.py checks offered and booked requests against the rule)."""
    tz = prefecture.tzinfo
    waiting = AppointmentRequest.objects.filter(prefecture=prefecture, status__in=statuses)
    # A new request of an open-mode procedure first gets its chance to pick a slot itself.
    choosing_since = now - rules.OPEN_CHOICE_WINDOW
    open_ids = [pk for pk, p in procedures.items() if p.mode == Procedure.Mode.OPEN]
    if open_ids:
        waiting = waiting.exclude(procedure_id__in=open_ids, received_at__gt=choosing_since)

    site_sets: dict[int, set[int]] = defaultdict(set)
    through = AppointmentRequest.sites.through
    site_rows = through.objects.filter(
        appointmentrequest__prefecture=prefecture, appointmentrequest__status__in=statuses
    )
    if only is not None:
        waiting = waiting.filter(pk__in=only)
        site_rows = site_rows.filter(appointmentrequest_id__in=only)
    for request_id, site_id in site_rows.values_list("appointmentrequest_id", "site_id"):
        site_sets[request_id].add(site_id)
    interned: dict[frozenset[int], frozenset[int]] = {}

    # Days a person should not be offered again: those of slots they declined, let lapse or cancelled.
    if only is None:
        refused = candidates.refused_days(None, now, prefecture=prefecture, statuses=statuses)
    else:
        refused = candidates.refused_days(only, now)

    bounds: dict[tuple[int, bool], datetime.datetime] = {}
    requests: list[engine.WaitingRequest] = []
    postal_only: set[int] = set()
    rows = waiting.annotate(
        weekdays_text=Cast("unavailable_weekdays", TextField()),
        dates_text=Cast("unavailable_dates", TextField()),
    ).values_list(
        "id",
        "procedure_id",
        "due_date",
        "received_at",
        "interpreter_language",
        "needs_step_free",
        "weekdays_text",
        "dates_text",
        "earliest_date",
        "permit_expires_on",
        "email",
        "phone",
    )
    for row in rows:
        pk, procedure_id, due, received, language, step_free, weekdays, dates, earliest, expires = row[:10]
        email, phone = row[10:]
        by_post = not email and not phone
        if by_post:
            postal_only.add(pk)
        key = (procedure_id, by_post)
        bound = bounds.get(key)
        if bound is None:
            procedure = procedures[procedure_id]
            hours = rules.notice_hours(procedure.minimum_notice_hours, procedure.postal_notice_hours, by_post)
            bound = bounds[key] = rules.not_before(now, hours, None, tz)
        first = candidates.first_day(earliest, window_opens_on(procedures[procedure_id], expires))
        if first is not None:
            bound = max(bound, rules.local_midnight(first, tz))
        chosen = site_sets.get(pk)
        site_ids = None
        if chosen:
            frozen = frozenset(chosen)
            site_ids = interned.setdefault(frozen, frozen)
        unavailable = candidates.date_set(_json_list(dates)) if dates != "[]" else _EMPTY
        if pk in refused:
            unavailable = unavailable | refused[pk]
        requests.append(
            engine.WaitingRequest(
                id=pk,
                procedure_id=procedure_id,
                due_date=due,
                received_at=received,
                site_ids=site_ids,
                not_before=bound,
                language=language or None,
                needs_step_free=step_free,
                unavailable_weekdays=(
                    candidates.weekday_set(_json_list(weekdays)) if weekdays != "[]" else _EMPTY
                ),
                unavailable_dates=unavailable,
            )
        )
    return requests, postal_only


def _load_slots(
    prefecture: Prefecture, now: datetime.datetime, sites: dict[int, Site], only: list[int] | None = None
) -> tuple[list[engine.FreeSlot], dict[int, _SlotFacts]]:
    """The free future slots as the engine sees them; ``only``: just these (the freed-slot path)."""
    counters = {
        pk: (site_id, frozenset(code for code in (languages or []) if isinstance(code, str)))
        for pk, site_id, languages in Counter.objects.filter(
            site__prefecture=prefecture, is_active=True, site__is_active=True
        ).values_list("id", "site_id", "languages")
    }
    rule_procedures: dict[int, set[int]] = defaultdict(set)
    for rule_id, procedure_id in OpeningRule.procedures.through.objects.filter(
        openingrule__counter__site__prefecture=prefecture
    ).values_list("openingrule_id", "procedure_id"):
        rule_procedures[rule_id].add(procedure_id)
    frozen_rules = {rule_id: frozenset(ids) for rule_id, ids in rule_procedures.items()}
    extra: dict[int, set[int]] = defaultdict(set)
    extra_rows = Slot.extra_procedures.through.objects.filter(
        slot__counter__site__prefecture=prefecture, slot__starts_at__gt=now
    )
    if only is not None:
        extra_rows = extra_rows.filter(slot_id__in=only)
    for slot_id, procedure_id in extra_rows.values_list("slot_id", "procedure_id"):
        extra[slot_id].add(procedure_id)
    closed = candidates.closed_days(prefecture, now)
    zones = {pk: site.tzinfo for pk, site in sites.items()}
    step_free = {pk: site.step_free for pk, site in sites.items()}

    free = Slot.objects.filter(counter_id__in=list(counters), starts_at__gt=now, hold__isnull=True)
    if only is not None:
        free = free.filter(pk__in=only)
    free = free.values_list("id", "counter_id", "rule_id", "starts_at", "ends_at")
    slots: list[engine.FreeSlot] = []
    facts: dict[int, _SlotFacts] = {}
    for pk, counter_id, rule_id, starts_at, ends_at in free.iterator(chunk_size=BATCH):
        site_id, languages = counters[counter_id]
        procedure_ids = frozen_rules.get(rule_id, _EMPTY) if rule_id is not None else _EMPTY
        if pk in extra:
            procedure_ids = procedure_ids | extra[pk]
        if not procedure_ids:
            continue
        local_date = starts_at.astimezone(zones[site_id]).date()
        if candidates.is_closed(closed, site_id, counter_id, local_date):
            continue
        slots.append(
            engine.FreeSlot(
                id=pk,
                site_id=site_id,
                counter_id=counter_id,
                starts_at=starts_at,
                local_date=local_date,
                procedure_ids=procedure_ids,
                languages=languages,
                step_free=step_free[site_id],
            )
        )
        facts[pk] = _SlotFacts(counter_id, site_id, starts_at, ends_at)
    return slots, facts


def queue_and_slots(
    prefecture: Prefecture, now: datetime.datetime
) -> tuple[list[engine.WaitingRequest], list[engine.FreeSlot]]:
    """The engine's input for one prefecture, as a run would read it (for forecasts: nothing is locked)."""
    world = _World.load(prefecture, now)
    return world.requests, world.slots


def requests_and_free_slots(
    prefecture: Prefecture, now: datetime.datetime, statuses: tuple[str, ...]
) -> tuple[list[engine.WaitingRequest], list[engine.FreeSlot]]:
    """The requests in these states as the rule sees them, and the free slots, as a run would read them."""
    procedures = {p.pk: p for p in Procedure.objects.filter(prefecture=prefecture)}
    sites = {s.pk: s for s in Site.objects.filter(prefecture=prefecture)}
    requests, _postal_only = _load_requests(prefecture, now, procedures, statuses=statuses)
    slots, _facts = _load_slots(prefecture, now, sites)
    return requests, slots


def stranded(prefecture: Prefecture, now: datetime.datetime | None = None) -> list[engine.WaitingRequest]:
    """Waiting requests that a free slot suits right now: after an allocation run there are none, since
    language never holds a request back (compatibility.py). What the demo and its test measure."""
    world = _World.load(prefecture, now or timezone.now())
    by_procedure: dict[int, list[engine.FreeSlot]] = defaultdict(list)
    for slot in world.slots:
        for procedure_id in slot.procedure_ids:
            by_procedure[procedure_id].append(slot)
    return [
        request
        for request in world.requests
        if any(suits(request, slot) for slot in by_procedure.get(request.procedure_id, ()))
    ]


def _assign_and_lock(
    world: _World, run: PrefectureRun, clock: _Clock
) -> tuple[list[engine.Assignment], bool]:
    """Run the engine, then lock what it chose; drop what another transaction holds or changed, and retry.

    Returns the assignments whose request and slot are both locked and still free, and whether some
    capacity or demand was left for a later run.
    """
    requests, slots = world.requests, world.slots
    locked_requests: set[int] = set()
    locked_slots: set[int] = set()
    excluded_requests: set[int] = set()
    excluded_slots: set[int] = set()
    assignments: list[engine.Assignment] = []
    for round_number in range(1, MAX_ROUNDS + 1):
        run.rounds = round_number
        if excluded_requests:
            requests = [r for r in requests if r.id not in excluded_requests]
        if excluded_slots:
            slots = [s for s in slots if s.id not in excluded_slots]
        assignments = engine.allocate(requests, slots)
        clock.lap("engine")
        new_requests = {a.request_id for a in assignments} - locked_requests
        new_slots = {a.slot_id for a in assignments} - locked_slots
        lost_requests = lost_slots = set()
        if new_requests:
            got = set(locking.requests(new_requests, skip_locked=True, status=RequestStatus.WAITING))
            locked_requests |= got
            lost_requests = new_requests - got
        if new_slots:
            got = set(locking.slots(new_slots, skip_locked=True))
            # Held since we read: taken by a transaction that has committed (lock gone, hold not).
            held = set()
            for chunk in _chunks(sorted(got)):
                held.update(Hold.objects.filter(slot_id__any=chunk).values_list("slot_id", flat=True))
            got -= held
            locked_slots |= got
            lost_slots = new_slots - got
        clock.lap("lock")
        excluded_requests |= lost_requests
        excluded_slots |= lost_slots
        run.skipped = len(excluded_requests) + len(excluded_slots)
        if not lost_requests and not lost_slots:
            # What was skipped is busy elsewhere; the periodic run comes back to it.
            return assignments, False
    kept = [a for a in assignments if a.request_id in locked_requests and a.slot_id in locked_slots]
    return kept, True


def _chunks(ids: list[int], size: int = locking.CHUNK):
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _write(world: _World, assignments: list[engine.Assignment], run: PrefectureRun, clock: _Clock) -> None:
    now = world.now
    facts = world.slot_facts
    by_post = [a for a in assignments if a.request_id in world.postal_only]
    by_offer = [a for a in assignments if a.request_id not in world.postal_only]

    validity = {pk: p.offer_validity_hours for pk, p in world.procedures.items()}
    procedure_of = {r.id: r.procedure_id for r in world.requests}
    interpreter = _interpreters(world, assignments)
    offer_rows = [
        {
            "request_id": a.request_id,
            "slot_id": a.slot_id,
            "source": OfferSource.QUEUE.value,
            "status": OfferStatus.PENDING.value,
            "created_at": now,
            "expires_at": rules.offer_expires_at(
                now, facts[a.slot_id].starts_at, validity[procedure_of[a.request_id]]
            ),
            "decided_at": None,
            "decline_reason": "",
            "interpreter_language": interpreter.get(a.request_id, ""),
        }
        for a in by_offer
    ]
    offer_ids = bulk.insert(Offer, offer_rows, with_ids=True)
    appointment_rows = [
        {
            "request_id": a.request_id,
            "slot_id": a.slot_id,
            "offer_id": None,
            "counter_id": facts[a.slot_id].counter_id,
            "starts_at": facts[a.slot_id].starts_at,
            "ends_at": facts[a.slot_id].ends_at,
            "status": AppointmentStatus.CONFIRMED.value,
            "confirmed_at": now,
            "interpreter_language": interpreter.get(a.request_id, ""),
        }
        for a in by_post
    ]
    appointment_ids = bulk.insert(Appointment, appointment_rows, with_ids=True)
    hold_rows = [
        {"slot_id": a.slot_id, "request_id": a.request_id, "kind": Hold.Kind.OFFER.value} for a in by_offer
    ]
    hold_rows += [
        {"slot_id": a.slot_id, "request_id": a.request_id, "kind": Hold.Kind.APPOINTMENT.value}
        for a in by_post
    ]
    bulk.insert(Hold, hold_rows)
    for status, group in ((RequestStatus.OFFERED, by_offer), (RequestStatus.SCHEDULED, by_post)):
        changes = {"status": status, "status_changed_at": now, "updated_at": now}
        if status == RequestStatus.SCHEDULED:
            changes["consecutive_lapses"] = 0
        for chunk in _chunks(sorted(a.request_id for a in group)):
            AppointmentRequest.objects.filter(pk__any=chunk).update(**changes)
    run.offers, run.confirmed = len(offer_rows), len(appointment_rows)
    clock.lap("write")

    # Proofs and messages state who the requests are: only the assigned ones are read, as plain values.
    request_rows = load_facts([a.request_id for a in assignments], world.prefecture, world.procedures)
    clock.lap("load_requests")
    events = []
    messages = []
    for row, pk in zip(offer_rows, offer_ids, strict=True):
        request = request_rows[row["request_id"]]
        request.status = RequestStatus.OFFERED
        details = _slot_details(world, row["slot_id"])
        details.update({"offer": pk, "expires_at": row["expires_at"]})
        events.append((request, "offer_made", details))
        messages.append((request, "offer_made", {"offer_id": pk}))
    for row, pk in zip(appointment_rows, appointment_ids, strict=True):
        request = request_rows[row["request_id"]]
        request.status = RequestStatus.SCHEDULED
        details = _slot_details(world, row["slot_id"])
        details.update({"appointment": pk, "by_post": True})
        events.append((request, "appointment_confirmed", details))
        messages.append((request, "appointment_confirmed", {"appointment_id": pk}))
    record_events(events, SYSTEM, at=now)
    clock.lap("evidence")
    notify_many(messages)
    clock.lap("notify")


def _interpreters(world: _World, assignments: list[engine.Assignment]) -> dict[int, str]:
    """The interpreter to book for each assignment whose counter does not speak the person's language."""
    asking = {r.id: r for r in world.requests if r.language is not None}
    if not asking:
        return {}
    slots = {s.id: s for s in world.slots}
    booked = {}
    for a in assignments:
        request = asking.get(a.request_id)
        if request is not None:
            language = interpreter_to_book(request, slots[a.slot_id])
            if language:
                booked[a.request_id] = language
    return booked


def _slot_details(world: _World, slot_id: int) -> dict:
    """As guichet.appointments.services.slot_details, from what the run already read."""
    facts = world.slot_facts[slot_id]
    return {
        "slot": slot_id,
        "site": world.sites[facts.site_id].name,
        "counter": world.counter_names[facts.counter_id],
        "starts_at": facts.starts_at,
    }
