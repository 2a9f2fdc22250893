"""The one place that takes row locks. Read docs/concurrency.md before changing anything here.

Every transaction that changes who holds a slot takes its locks through these functions, in this fixed
order, as late as possible (just before the final check of the state it is about to change):

    1. PREFECTURE   the prefecture row: serialises allocation runs of one prefecture
    2. REQUEST      appointment request rows
    3. SLOT         slot rows; a slot's lock also guards its Hold row (nobody writes a Hold without it)
    4. OFFER        offer and appointment rows, then the appointment's visit (reception)
    5. AUDIT        the audit chain head, taken by guichet.evidence.audit.append, always last

Every lock is FOR NO KEY UPDATE (select_for_update(no_key=True)): the lock an UPDATE that leaves keys alone
takes anyway, which does not conflict with FOR KEY SHARE. PostgreSQL's foreign-key checks are deferred to
COMMIT and take FOR KEY SHARE on every row an inserted row references (the prefecture of a new request, the
request of a proof or an audit entry). A plain FOR UPDATE on such a row makes the committing transaction
wait, at its very end and outside the order below, for a lock holder that may be waiting for the audit head
it holds: a deadlock (issue 16). With NO KEY UPDATE, the checks at COMMIT never wait for a lock of this order.

Within one level, several rows are locked in ascending id order. A transaction that has to *wait* for a
lock therefore always waits for one that comes later in the order than everything it holds, so no cycle of
waits (deadlock) can form. Locks taken with SKIP LOCKED never wait, so they may be taken out of order (the
allocation does, in its retry rounds).

On SQLite these are no-ops: the settings open every transaction with BEGIN IMMEDIATE, which takes the
database's single write lock at once, so transactions that write are already serialised. Django ignores
select_for_update() on SQLite; the functions still re-read the rows, so callers see fresh state either way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import IntEnum

from django.db import connection

# Locking knows every lockable table (as pretix's locking does): it sits above the models, below services.
from guichet.appointments.models import Appointment, Offer
from guichet.capacity.models import Slot
from guichet.catalog.models import Prefecture
from guichet.reception.models import TicketSequence, Visit
from guichet.waitlist.models import AppointmentRequest

# Ids go to the database as one array (`__any`, guichet/lookups.py); chunks keep each statement, and
# SQLite's IN list, to a bounded size.
CHUNK = 5000


class Level(IntEnum):
    PREFECTURE = 1
    REQUEST = 2
    SLOT = 3
    OFFER = 4
    AUDIT = 5


_trace = threading.local()


@contextmanager
def trace() -> Iterator[list[Level]]:
    """Record the levels of the locks taken in this thread (tests use it to check the order)."""
    taken: list[Level] = []
    previous = getattr(_trace, "taken", None)
    _trace.taken = taken
    try:
        yield taken
    finally:
        _trace.taken = previous


def _note(level: Level) -> None:
    if not connection.in_atomic_block:
        # A lock outside a transaction is released at once: always a bug.
        raise RuntimeError("locks are taken inside a transaction (transaction.atomic)")
    taken = getattr(_trace, "taken", None)
    if taken is not None:
        taken.append(level)


def uses_row_locks() -> bool:
    """True where SELECT ... FOR UPDATE means something (PostgreSQL); SQLite serialises whole transactions."""
    return connection.features.has_select_for_update


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def prefecture(prefecture_id: int) -> None:
    """Serialise allocation runs of one prefecture (other prefectures go on in parallel)."""
    _note(Level.PREFECTURE)
    list(
        Prefecture.objects.select_for_update(no_key=True)
        .filter(pk=prefecture_id)
        .values_list("pk", flat=True)
    )


def request(request_id: int) -> AppointmentRequest:
    """Lock one request and return it fresh, with its prefecture and procedure."""
    _note(Level.REQUEST)
    # `of` keeps the catalogue rows unlocked: only the request is ours to change.
    return (
        AppointmentRequest.objects.select_for_update(of=("self",), no_key=True)
        .select_related("prefecture", "procedure")
        .get(pk=request_id)
    )


def requests(ids: Iterable[int], *, skip_locked: bool = False, status: str | None = None) -> list[int]:
    """Lock these requests (those still in `status`, if given); return the ids locked, ascending.

    With skip_locked, rows another transaction holds are left out instead of waited for.
    """
    _note(Level.REQUEST)
    locked: list[int] = []
    for chunk in _chunks(sorted(set(ids))):
        rows = AppointmentRequest.objects.filter(pk__any=chunk)
        if status is not None:
            rows = rows.filter(status=status)
        locked.extend(
            rows.select_for_update(skip_locked=skip_locked, no_key=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return locked


def slot(slot_id: int) -> Slot:
    """Lock one slot (and with it the right to write its Hold) and return it fresh."""
    _note(Level.SLOT)
    return (
        Slot.objects.select_for_update(of=("self",), no_key=True)
        .select_related("counter__site")
        .get(pk=slot_id)
    )


def slots(ids: Iterable[int], *, skip_locked: bool = False) -> list[int]:
    """Lock these slots; return the ids locked, ascending."""
    _note(Level.SLOT)
    locked: list[int] = []
    for chunk in _chunks(sorted(set(ids))):
        locked.extend(
            Slot.objects.filter(pk__any=chunk)
            .select_for_update(skip_locked=skip_locked, no_key=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return locked


def offer(offer_id: int) -> Offer:
    _note(Level.OFFER)
    return Offer.objects.select_for_update(of=("self",), no_key=True).select_related("slot").get(pk=offer_id)


def offers(ids: Iterable[int]) -> list[Offer]:
    _note(Level.OFFER)
    found: list[Offer] = []
    for chunk in _chunks(sorted(set(ids))):
        found.extend(Offer.objects.select_for_update(no_key=True).filter(pk__any=chunk).order_by("pk"))
    return found


def appointment(appointment_id: int) -> Appointment:
    _note(Level.OFFER)
    return (
        Appointment.objects.select_for_update(of=("self",), no_key=True)
        .select_related("slot__counter__site")
        .get(pk=appointment_id)
    )


def visit(visit_id: int) -> Visit:
    """Lock one visit (a checked-in person at reception): after its appointment when both are locked."""

    _note(Level.OFFER)
    # Only rows that never change are joined: after waiting for the lock, PostgreSQL re-reads the locked
    # row but not what an outer join brought with it (the counter would be the one before the wait).
    return (
        Visit.objects.select_for_update(of=("self",))
        .select_related("appointment__request", "site")
        .get(pk=visit_id)
    )


def ticket_number(site_id: int, day) -> int:
    """The next ticket number of a site's day. The sequence row is locked until commit, so check-ins at one
    site take their numbers in turn (they queue for the prefecture's audit head right after anyway)."""

    _note(Level.OFFER)
    TicketSequence.objects.get_or_create(site_id=site_id, day=day)
    sequence = TicketSequence.objects.select_for_update().get(site_id=site_id, day=day)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return sequence.last


def next_visit(candidates) -> Visit | None:
    """Lock the first visit of `candidates` (an ordered queryset) that nobody else holds, or None.

    SKIP LOCKED: two agents pressing "call next" at once get two different people, and neither waits.
    """
    _note(Level.OFFER)
    return candidates.select_for_update(of=("self",), skip_locked=True).first()
