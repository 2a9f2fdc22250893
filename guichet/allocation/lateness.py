"""Requests late while a slot that suits them is free in time: what the queue must never allow.

A request is late when it waits past its due date, or when the slot it is offered or booked on is after
its due date. It is late *while a slot is free* when, at the same moment, a free slot suits it (the one rule
of compatibility.py: procedure, site, step-free access, notice, earliest date, filing window, days the person
cannot come or declined; language met by an interpreter): any such slot for a request waiting past its due
date, one on or before its due date for a request given a later slot. After an allocation run there is
none: the engine serves the earliest due date first and gives each request the earliest slot that suits it.
`manage.py demo` prints the count and tests/operations/test_demo.py asserts it is zero on the demo's queue.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus, Offer, OfferStatus
from guichet.catalog.models import Prefecture
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from .compatibility import FreeSlot, suits
from .service import requests_and_free_slots

ACTIVE = (RequestStatus.WAITING, RequestStatus.OFFERED, RequestStatus.SCHEDULED)


@dataclass(frozen=True)
class LateWhileFree:
    reference: str
    due_date: datetime.date
    given: datetime.datetime | None  # the offered or booked slot's start, after the due date; None: nothing
    free_slot: (
        datetime.datetime
    )  # the earliest free slot that suits it (on or before its due date if given one)


def given_starts(prefecture: Prefecture) -> dict[int, datetime.datetime]:
    """The start of the slot each request holds: its pending offer, else its confirmed appointment."""
    given = dict(
        Appointment.objects.filter(
            request__prefecture=prefecture, status=AppointmentStatus.CONFIRMED
        ).values_list("request_id", "slot__starts_at")
    )
    given.update(
        Offer.objects.filter(request__prefecture=prefecture, status=OfferStatus.PENDING).values_list(
            "request_id", "slot__starts_at"
        )
    )
    return given


def late_while_free(prefecture: Prefecture, now: datetime.datetime | None = None) -> list[LateWhileFree]:
    """The prefecture's active requests that are late while a free slot suits them (see the module)."""
    now = now or timezone.now()
    today = now.astimezone(prefecture.tzinfo).date()
    requests, slots = requests_and_free_slots(prefecture, now, ACTIVE)
    given = given_starts(prefecture)
    by_procedure: dict[int, list[FreeSlot]] = defaultdict(list)
    for slot in sorted(slots, key=lambda slot: (slot.starts_at, slot.id)):
        for procedure_id in slot.procedure_ids:
            by_procedure[procedure_id].append(slot)
    found: list[tuple[int, datetime.date, datetime.datetime | None, datetime.datetime]] = []
    for request in requests:
        start = given.get(request.id)
        if start is None:
            if request.due_date >= today:
                continue  # not late yet (or between states: an offer being accepted)
            in_time = None  # past its due date: any free slot that suits it should be offered now
        else:
            if start.astimezone(prefecture.tzinfo).date() <= request.due_date or request.due_date < today:
                continue  # in time; or given a slot and no day on or before its due date is left
            in_time = request.due_date
        for slot in by_procedure.get(request.procedure_id, ()):
            if in_time is not None and slot.local_date > in_time:
                break
            if suits(request, slot):
                found.append((request.id, request.due_date, start, slot.starts_at))
                break
    references = dict(
        AppointmentRequest.objects.filter(pk__in=[row[0] for row in found]).values_list("pk", "reference")
    )
    return [LateWhileFree(references[pk], due, start, free) for pk, due, start, free in found]
