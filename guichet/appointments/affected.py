"""The people a catalogue change leaves behind: appointments and offers on slots the catalogue no longer
opens as they are (a closure, a public holiday, shorter hours, a counter or site closed), and settling them.

Slot generation never touches a held slot: it reports it (capacity.services.SlotConflict). This module
says who holds each one (reference, procedure, site, time) for the manager's list, and settles them with
the appointment services, one service call per appointment or offer, each in its own transaction:
- an appointment is moved to the earliest free slot that suits its request, or, when none does, cancelled
  by the prefecture and its request put back in the queue with its due date (rebook_appointment);
- an offer is withdrawn and the request offered again by the engine (withdraw_offer).
The person is told in their language, the request keeps its due date, and each step leaves its audit
entry and signed proof (in those services).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils import timezone

from guichet.capacity.models import Hold
from guichet.capacity.services import SlotConflict, held_conflicts
from guichet.catalog.models import Prefecture
from guichet.errors import DomainError
from guichet.evidence.audit import Actor
from guichet.waitlist.validation import clean_text

from .models import Appointment, AppointmentStatus, Offer, OfferStatus
from .services import MAX_REASON, rebook_appointment, withdraw_offer


@dataclass(frozen=True)
class Affected:
    """One appointment or offer on a slot the catalogue no longer opens."""

    kind: str  # appointment | offer
    appointment_id: int | None
    offer_id: int | None
    reference: str
    procedure: str
    site: str
    counter: str
    starts_at: datetime.datetime  # UTC
    local_start: datetime.datetime  # in the site's time zone
    cause: str  # the conflict's reason: closure, holiday, counter_inactive, no_rule, times_changed…
    detail: str  # the conflict in words (staff language)
    interpreter_language: str = ""


def describe(conflicts: Iterable[SlotConflict]) -> list[Affected]:
    """Who holds each conflicting slot; conflicts whose hold is gone since are left out."""
    conflicts = list(conflicts)
    slot_ids = [conflict.slot_id for conflict in conflicts]
    appointments = {
        appointment.slot_id: appointment
        for appointment in Appointment.objects.filter(
            slot_id__in=slot_ids, status__in=(AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN)
        ).select_related("request__procedure", "counter__site")
    }
    offers = {
        offer.slot_id: offer
        for offer in Offer.objects.filter(slot_id__in=slot_ids, status=OfferStatus.PENDING).select_related(
            "request__procedure", "slot__counter__site"
        )
    }
    found = []
    for conflict in conflicts:
        held = appointments.get(conflict.slot_id) if conflict.hold_kind == Hold.Kind.APPOINTMENT else None
        offer = offers.get(conflict.slot_id) if conflict.hold_kind == Hold.Kind.OFFER else None
        holder = held or offer
        if holder is None:
            continue
        request = holder.request
        counter = held.counter if held is not None else offer.slot.counter
        found.append(
            Affected(
                kind=conflict.hold_kind,
                appointment_id=held.pk if held is not None else None,
                offer_id=offer.pk if offer is not None else None,
                reference=request.reference,
                procedure=request.procedure.name,
                site=counter.site.name,
                counter=counter.name,
                starts_at=conflict.starts_at,
                local_start=conflict.local_start,
                cause=conflict.reason,
                detail=conflict.detail,
                interpreter_language=holder.interpreter_language,
            )
        )
    return found


def affected(prefecture: Prefecture, *, now: datetime.datetime | None = None) -> list[Affected]:
    """Every appointment and offer of the prefecture on a slot its catalogue no longer opens, soonest
    first."""
    return describe(held_conflicts(prefecture, now=now))


# At most this many are settled by one call of settle_all (one click, one API call): at some 30 ms each on a
# loaded machine this stays far below a web worker's timeout; the rest stay listed for the next call.
SETTLE_BATCH = 150


@dataclass
class Settlement:
    """What settling the affected appointments and offers did (a bulk run, or one of them)."""

    moved: list[tuple[Affected, Appointment]] = field(default_factory=list)
    requeued: list[Affected] = field(default_factory=list)  # no free slot suited: back to the queue
    offers_withdrawn: list[Affected] = field(default_factory=list)
    refused: list[tuple[Affected, DomainError]] = field(default_factory=list)
    remaining: int = 0  # left for another call (settle_all's batch)

    @property
    def count(self) -> int:
        return len(self.moved) + len(self.requeued) + len(self.offers_withdrawn)


def settle(
    one: Affected, actor: Actor, *, reason: str, settlement: Settlement, now: datetime.datetime | None = None
) -> None:
    """Move (or put back in the queue) one affected appointment, or withdraw one affected offer."""
    now = now or timezone.now()
    try:
        if one.kind == Hold.Kind.APPOINTMENT:
            appointment = Appointment.objects.get(pk=one.appointment_id)
            done = rebook_appointment(appointment, actor, reason=reason, cause=one.cause, now=now)
            if done.moved_to is not None:
                settlement.moved.append((one, done.moved_to))
            else:
                settlement.requeued.append(one)
        else:
            withdraw_offer(Offer.objects.get(pk=one.offer_id), actor, reason=reason, cause=one.cause, now=now)
            settlement.offers_withdrawn.append(one)
    except DomainError as refused:
        settlement.refused.append((one, refused))


def settle_all(
    prefecture: Prefecture,
    actor: Actor,
    *,
    reason: str,
    now: datetime.datetime | None = None,
    batch: int = SETTLE_BATCH,
) -> Settlement:
    """« Move all affected »: settle each affected appointment and offer of the prefecture in turn, soonest
    first, each through its own service call and transaction; one refused leaves the others done. At most
    `batch` in one call: `remaining` says how many are left for the next."""
    reason = clean_text(reason, max_length=MAX_REASON, required=True)
    settlement = Settlement()
    found = affected(prefecture, now=now)
    for one in found[:batch]:
        settle(one, actor, reason=reason, settlement=settlement, now=now)
    settlement.remaining = max(0, len(found) - batch)
    return settlement
