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
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from guichet.appointments import rules
from guichet.capacity.models import Slot
from guichet.capacity.services import serves
from guichet.catalog.models import Prefecture, Procedure
from guichet.waitlist.due_dates import compute_due_date, window_opens_on

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
