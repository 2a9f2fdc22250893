"""Offers and appointments: accept, decline, lapse, cancel, move, check in, outcome; open mode.

Every function runs in one transaction. It takes its locks through guichet.locking in the fixed order
(request, then slots, then the offer or appointment; the audit head last, inside evidence), checks the state
it is about to change only once it holds them, and writes in the same transaction the audit entry, the
signed proof (guichet.evidence.services) and the message to the person (guichet.notifications.services).
Capacity it frees is given to the queue by an allocation run enqueued when the transaction commits.

Refusals are DomainErrors (guichet.errors) with a stable code; a refused call changes nothing.
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guichet import locking
from guichet.allocation import candidates
from guichet.allocation.tasks import enqueue_allocation, enqueue_freed_slots
from guichet.capacity.models import Hold, Slot
from guichet.capacity.services import free_slots_query, slot_procedure_ids
from guichet.catalog.models import Procedure
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import SYSTEM, Actor
from guichet.evidence.services import record_event, record_events
from guichet.notifications.services import notify
from guichet.waitlist.models import AppointmentRequest, RequestStatus
from guichet.waitlist.validation import clean_text

from . import rules
from .models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    AppointmentStatus,
    CancelledBy,
    Offer,
    OfferSource,
    OfferStatus,
)

MAX_REASON = 1000
OUTCOMES = (AppointmentStatus.SERVED, AppointmentStatus.NO_SHOW)


class OfferAlreadyAccepted(Conflict):
    """A second accept of an offer: the answer carries the appointment the first one made."""

    def __init__(self, appointment: Appointment | None):
        super().__init__(
            "offer_already_accepted",
            _("This offer has already been accepted: your appointment is confirmed."),
        )
        self.appointment = appointment


class SlotTaken(Conflict):
    def __init__(self):
        super().__init__("slot_taken", _("This slot has just been taken by someone else."))


class QueueNotEmpty(Conflict):
    def __init__(self):
        super().__init__(
            "queue_not_empty",
            _(
                "People are waiting in the queue for this procedure and place:"
                " you will be offered a slot in turn."
            ),
        )


def _offer_not_pending(offer: Offer) -> Conflict:
    return Conflict(
        "offer_not_pending",
        _("This offer can no longer be answered: it is %(status)s.") % {"status": offer.get_status_display()},
    )


def _appointment_not_active(appointment: Appointment) -> Conflict:
    return Conflict(
        "appointment_not_active",
        _("This appointment can no longer be changed: it is %(status)s.")
        % {"status": appointment.get_status_display()},
    )


def _set_status(request: AppointmentRequest, status: str, now: datetime.datetime, **extra) -> None:
    request.status = status
    request.status_changed_at = now
    for name, value in extra.items():
        setattr(request, name, value)
    request.save(update_fields=["status", "status_changed_at", "updated_at", *extra])


def slot_details(slot: Slot) -> dict:
    """What proofs say about a slot. The start stays a datetime: evidence writes it in UTC and local time."""
    return {
        "slot": slot.pk,
        "site": slot.counter.site.name,
        "counter": slot.counter.name,
        "starts_at": slot.starts_at,
    }


def _integrity_to_conflict(func):
    """A constraint the database enforces (one holder per slot, no overlap at a counter) refused the write."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except IntegrityError as exc:
            raise SlotTaken() from exc

    return wrapper


# --- Offers -----------------------------------------------------------------------------------------------


@_integrity_to_conflict
def accept_offer(offer: Offer, actor: Actor, *, now: datetime.datetime | None = None) -> Appointment:
    """Accept a pending offer before it lapses: it becomes a confirmed appointment bound to the request.

    A second accept raises OfferAlreadyAccepted, which carries the appointment (pages and the API show it).
    """
    now = now or timezone.now()
    with transaction.atomic():
        request = locking.request(offer.request_id)
        slot = locking.slot(offer.slot_id)
        offer = locking.offer(offer.pk)
        if offer.status == OfferStatus.ACCEPTED:
            raise OfferAlreadyAccepted(Appointment.objects.filter(offer=offer).first())
        if offer.status != OfferStatus.PENDING:
            raise _offer_not_pending(offer)
        if now >= offer.expires_at:
            raise Conflict("offer_expired", _("This offer has expired: you keep your place in the queue."))
        hold = Hold.objects.filter(slot=slot).first()
        if hold is None or hold.request_id != request.pk:
            raise SlotTaken()
        appointment = Appointment.objects.create(
            request=request,
            slot=slot,
            offer=offer,
            counter_id=slot.counter_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            status=AppointmentStatus.CONFIRMED,
            confirmed_at=now,
            interpreter_language=offer.interpreter_language,
        )
        hold.kind = Hold.Kind.APPOINTMENT
        hold.save(update_fields=["kind"])
        offer.status = OfferStatus.ACCEPTED
        offer.decided_at = now
        offer.save(update_fields=["status", "decided_at"])
        _set_status(request, RequestStatus.SCHEDULED, now, consecutive_lapses=0)
        details = {**slot_details(slot), "appointment": appointment.pk, "offer": offer.pk}
        record_event(request, "appointment_confirmed", actor, details=details, at=now)
        notify(request, "appointment_confirmed", {"appointment_id": appointment.pk})
    return appointment


def decline_offer(
    offer: Offer, actor: Actor, *, reason: str = "", now: datetime.datetime | None = None
) -> None:
    """Decline a pending offer: the request waits again with its due date and place; the slot is reallocated.

    Declining again is a no-op (a second click).
    """
    reason = clean_text(reason, max_length=MAX_REASON, required=False)
    now = now or timezone.now()
    with transaction.atomic():
        ended = _end_offer(offer, OfferStatus.DECLINED, reason, now)
        if ended is None:
            return
        request, slot, offer = ended
        if request.status == RequestStatus.OFFERED:
            # An answer, even a no, breaks a run of lapses.
            _set_status(request, RequestStatus.WAITING, now, consecutive_lapses=0)
        queue_offer = offer.source == OfferSource.QUEUE
        details = {**slot_details(slot), "offer": offer.pk, **({"reason": reason} if reason else {})}
        record_event(request, "offer_declined", actor, details=details, at=now, proof=queue_offer)
        enqueue_freed_slots([slot.pk])
        enqueue_allocation(request.prefecture_id)


def _end_offer(
    offer: Offer, status: str, reason: str, now: datetime.datetime
) -> tuple[AppointmentRequest, Slot, Offer] | None:
    """Lock the offer (request, slot, offer, in that order), end it with `status` and free its slot, inside
    the caller's transaction. None when it already has that status (a second click); refused when it is no
    longer pending for another reason."""
    request = locking.request(offer.request_id)
    slot = locking.slot(offer.slot_id)
    offer = locking.offer(offer.pk)
    if offer.status == status:
        return None
    if offer.status != OfferStatus.PENDING:
        raise _offer_not_pending(offer)
    offer.status = status
    offer.decided_at = now
    offer.decline_reason = reason
    offer.save(update_fields=["status", "decided_at", "decline_reason"])
    Hold.objects.filter(slot=slot, request=request).delete()
    return request, slot, offer


def request_another_offer(offer: Offer, actor: Actor, *, now: datetime.datetime | None = None) -> None:
    """The person asks for another slot: this offer is declined (reason "another"); the place is kept."""
    decline_offer(offer, actor, reason="another", now=now)


def lapse_due_offers(*, now: datetime.datetime | None = None, batch: int = 500) -> int:
    """Lapse the pending offers past their expiry; return how many lapsed.

    The request waits again with its place; after LAPSES_BEFORE_PAUSE queue offers lapsed in a row it is
    paused until the person reactivates it. A slot picked in open mode and not confirmed just goes back.
    """
    now = now or timezone.now()
    total = 0
    after = 0
    while True:
        due = list(
            Offer.objects.filter(status=OfferStatus.PENDING, expires_at__lte=now, pk__gt=after)
            .order_by("pk")
            .values_list("pk", "request_id", "slot_id")[:batch]
        )
        if not due:
            return total
        after = due[-1][0]
        total += _lapse_batch(due, now)


def _lapse_batch(due: list[tuple[int, int, int]], now: datetime.datetime) -> int:
    with transaction.atomic():
        locking.requests({request_id for _, request_id, _ in due})
        locking.slots({slot_id for _, _, slot_id in due})
        offers = [
            offer
            for offer in locking.offers(pk for pk, _, _ in due)
            if offer.status == OfferStatus.PENDING and offer.expires_at <= now
        ]
        if not offers:
            return 0
        requests = {
            request.pk: request
            for request in AppointmentRequest.objects.select_related("prefecture", "procedure").filter(
                pk__in={offer.request_id for offer in offers}
            )
        }
        slots = {
            slot.pk: slot
            for slot in Slot.objects.select_related("counter__site").filter(
                pk__in={offer.slot_id for offer in offers}
            )
        }
        events: list[tuple[AppointmentRequest, str, dict]] = []
        unproven: list[tuple[AppointmentRequest, dict]] = []
        prefectures: set[int] = set()
        for offer in offers:
            request = requests[offer.request_id]
            offer.status = OfferStatus.LAPSED
            offer.decided_at = now
            Hold.objects.filter(slot_id=offer.slot_id, request_id=offer.request_id).delete()
            prefectures.add(request.prefecture_id)
            details = {**slot_details(slots[offer.slot_id]), "offer": offer.pk}
            if offer.source == OfferSource.CHOSEN:
                # An open-mode pick not confirmed in time: no penalty, no proof, only the audit entry.
                if request.status == RequestStatus.OFFERED:
                    _set_status(request, RequestStatus.WAITING, now)
                unproven.append((request, details))
                continue
            if request.status != RequestStatus.OFFERED:
                events.append((request, "offer_lapsed", details))
                continue
            lapses = request.consecutive_lapses + 1
            paused = lapses >= rules.LAPSES_BEFORE_PAUSE
            status = RequestStatus.PAUSED if paused else RequestStatus.WAITING
            _set_status(request, status, now, consecutive_lapses=lapses)
            events.append((request, "offer_lapsed", {**details, "consecutive_lapses": lapses}))
            if paused:
                events.append((request, "paused", {"consecutive_lapses": lapses}))
                notify(request, "paused", {"consecutive_lapses": lapses})
        Offer.objects.bulk_update(offers, ["status", "decided_at"])
        for request, details in unproven:
            record_event(request, "offer_lapsed", SYSTEM, details=details, at=now, proof=False)
        if events:
            record_events(events, SYSTEM, at=now)
        enqueue_freed_slots([offer.slot_id for offer in offers])
        for prefecture_id in sorted(prefectures):
            enqueue_allocation(prefecture_id)
    return len(offers)


# --- Appointments -----------------------------------------------------------------------------------------


def cancel_appointment(
    appointment: Appointment,
    actor: Actor,
    *,
    by: CancelledBy | str,
    reason: str = "",
    rebook: bool = False,
    cause: str = "",
    now: datetime.datetime | None = None,
) -> Appointment:
    """Cancel an appointment and free its slot for the queue.

    By the prefecture: a reason is required; the request waits again, with its due date and received time
    unchanged, so it comes before everyone whose due date is later (in practice, at the head of the queue).
    By the applicant: the request waits again with its due date only if they ask for another slot
    (`rebook`); otherwise it is withdrawn. Cancelling a cancelled appointment again is a no-op. `cause`: as
    for move_appointment.
    """
    if by not in CancelledBy.values:
        message = _("Say who cancels: the applicant or the prefecture.")
        raise InvalidInput("invalid_canceller", message, {"by": [message]})
    by = CancelledBy(by)
    reason = clean_text(reason, max_length=MAX_REASON, required=by == CancelledBy.PREFECTURE)
    now = now or timezone.now()
    with transaction.atomic():
        request = locking.request(appointment.request_id)
        slot = locking.slot(appointment.slot_id)
        appointment = locking.appointment(appointment.pk)
        if appointment.status == AppointmentStatus.CANCELLED:
            return appointment
        if appointment.status not in ACTIVE_APPOINTMENT_STATUSES:
            raise _appointment_not_active(appointment)
        if by == CancelledBy.APPLICANT and appointment.starts_at <= now:
            raise Conflict("appointment_started", _("This appointment has already started."))
        _cancel(appointment, by, reason, now)
        Hold.objects.filter(slot=slot, request=request).delete()
        events = [
            (
                request,
                "appointment_cancelled",
                {
                    **slot_details(slot),
                    "appointment": appointment.pk,
                    "cancelled_by": by.value,
                    **({"reason": reason} if reason else {}),
                    **({"cause": cause} if cause else {}),
                },
            )
        ]
        if request.status == RequestStatus.SCHEDULED:
            if by == CancelledBy.PREFECTURE or rebook:
                _set_status(request, RequestStatus.WAITING, now, consecutive_lapses=0)
            else:
                _set_status(request, RequestStatus.WITHDRAWN, now)
                events.append((request, "withdrawn", {"appointment": appointment.pk, "reason": reason}))
        for request_, event, details in events:
            record_event(request_, event, actor, details=details, at=now)
        notify(
            request,
            "appointment_cancelled",
            {"appointment_id": appointment.pk, **({"cause": cause} if cause else {})},
        )
        enqueue_freed_slots([slot.pk])
        enqueue_allocation(request.prefecture_id)
    return appointment


def _cancel(appointment: Appointment, by: CancelledBy, reason: str, now: datetime.datetime) -> None:
    appointment.status = AppointmentStatus.CANCELLED
    appointment.cancelled_at = now
    appointment.cancelled_by = by
    appointment.cancel_reason = reason
    appointment.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])


@_integrity_to_conflict
def move_appointment(
    appointment: Appointment,
    new_slot: Slot,
    actor: Actor,
    *,
    reason: str,
    cause: str = "",
    now: datetime.datetime | None = None,
) -> Appointment:
    """Staff move a confirmed appointment to another free slot (reason required); returns the new one.

    The old appointment is kept, cancelled by the prefecture and marked replaced by the new one (its
    convocation no longer checks as valid), and its slot goes back to the queue. The request keeps its due
    date. `cause` (one of CAUSES) says in the person's language why, when a catalogue change is the cause.
    """
    reason = clean_text(reason, max_length=MAX_REASON, required=True)
    now = now or timezone.now()
    with transaction.atomic():
        request = locking.request(appointment.request_id)
        locked = {pk: locking.slot(pk) for pk in sorted({appointment.slot_id, new_slot.pk})}
        appointment = locking.appointment(appointment.pk)
        slot = locked[new_slot.pk]
        if appointment.status != AppointmentStatus.CONFIRMED:
            raise _appointment_not_active(appointment)
        if slot.pk == appointment.slot_id:
            raise InvalidInput(
                "same_slot", _("Choose a different slot."), {"slot": [_("Choose a different slot.")]}
            )
        _check_slot_for(request, slot, now)
        if Hold.objects.filter(slot=slot).exists():
            raise SlotTaken()
        _cancel(appointment, CancelledBy.PREFECTURE, reason, now)
        Hold.objects.filter(slot_id=appointment.slot_id, request=request).delete()
        moved = Appointment.objects.create(
            request=request,
            slot=slot,
            counter_id=slot.counter_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            status=AppointmentStatus.CONFIRMED,
            confirmed_at=now,
            interpreter_language=candidates.interpreter_for(request, slot),
        )
        Hold.objects.create(slot=slot, request=request, kind=Hold.Kind.APPOINTMENT)
        appointment.replaced_by = moved
        appointment.save(update_fields=["replaced_by"])
        details = {
            **slot_details(slot),
            "appointment": moved.pk,
            "moved_from": appointment.pk,
            "reason": reason,
            **({"cause": cause} if cause else {}),
        }
        record_event(request, "appointment_confirmed", actor, details=details, at=now)
        notify(
            request,
            "appointment_changed",
            {
                "appointment_id": moved.pk,
                "previous_appointment_id": appointment.pk,
                **({"cause": cause} if cause else {}),
            },
        )
        enqueue_freed_slots([appointment.slot_id])
        enqueue_allocation(request.prefecture_id)
    return moved


@dataclass(frozen=True)
class Rebooking:
    """What became of an appointment the prefecture moved: its new appointment, or back to the queue."""

    previous: Appointment
    moved_to: Appointment | None  # None: no free slot suits it; the request waits again with its due date


def rebook_appointment(
    appointment: Appointment,
    actor: Actor,
    *,
    reason: str,
    cause: str = "",
    now: datetime.datetime | None = None,
    tries: int = 5,
) -> Rebooking:
    """Move a confirmed appointment to the earliest free slot that suits its request (the allocation's own
    rule), or, when none does, cancel it by the prefecture: the request then waits again with its due date
    and received time, that is its place, and the engine offers it the next slot that suits it.

    For the appointments a catalogue change leaves on slots it no longer opens (guichet.appointments.
    affected), one at a time or all of them. A slot someone takes meanwhile is skipped for the next one.
    An appointment moved or cancelled by someone else meanwhile is refused (appointment_not_active).
    """
    reason = clean_text(reason, max_length=MAX_REASON, required=True)
    now = now or timezone.now()
    current = Appointment.objects.select_related("request").get(pk=appointment.pk)
    if current.status != AppointmentStatus.CONFIRMED:
        raise _appointment_not_active(current)
    for slot in candidates.candidate_slots(current.request, now, limit=tries):
        try:
            moved = move_appointment(current, slot, actor, reason=reason, cause=cause, now=now)
        except SlotTaken:
            continue
        except InvalidInput as refused:
            if refused.code in ("slot_incompatible", "same_slot"):
                continue
            raise
        return Rebooking(previous=current, moved_to=moved)
    cancelled = cancel_appointment(
        current, actor, by=CancelledBy.PREFECTURE, reason=reason, cause=cause, now=now
    )
    if cancelled.cancelled_at != now:
        # Cancelling again is a no-op: someone else cancelled or moved it first.
        raise _appointment_not_active(cancelled)
    return Rebooking(previous=cancelled, moved_to=None)


def withdraw_offer(
    offer: Offer, actor: Actor, *, reason: str, cause: str = "", now: datetime.datetime | None = None
) -> Offer:
    """The prefecture withdraws a pending offer whose slot it no longer opens: the request waits again with
    its due date and place, and the engine makes it another offer; the person is told. Withdrawing again is a
    no-op."""
    reason = clean_text(reason, max_length=MAX_REASON, required=True)
    now = now or timezone.now()
    with transaction.atomic():
        ended = _end_offer(offer, OfferStatus.WITHDRAWN, reason, now)
        if ended is None:
            return Offer.objects.get(pk=offer.pk)
        request, _slot, offer = ended
        if request.status == RequestStatus.OFFERED:
            _set_status(request, RequestStatus.WAITING, now)
        details = {"offer": offer.pk, "reason": reason, **({"cause": cause} if cause else {})}
        record_event(request, "offer_withdrawn", actor, details=details, at=now)
        notify(request, "offer_withdrawn", {"offer_id": offer.pk, **({"cause": cause} if cause else {})})
        enqueue_allocation(request.prefecture_id)
    return offer


def _check_slot_for(request: AppointmentRequest, slot: Slot, now: datetime.datetime) -> None:
    """The slot suits this request under the allocation's own rule (guichet.allocation.compatibility)."""
    problem = candidates.slot_problem(request, slot, now)
    if problem:
        raise InvalidInput("slot_incompatible", problem, {"slot": [problem]})


def check_in(
    appointment: Appointment,
    actor: Actor,
    *,
    now: datetime.datetime | None = None,
    details: dict | None = None,
) -> Appointment:
    """The person has come (identity checked at the counter). Only on the day; idempotent.

    `details` (the ticket number given at reception) are added to the proof's.
    """
    now = now or timezone.now()
    with transaction.atomic():
        request = locking.request(appointment.request_id)
        appointment = locking.appointment(appointment.pk)
        if appointment.status == AppointmentStatus.CHECKED_IN:
            return appointment
        if appointment.status != AppointmentStatus.CONFIRMED:
            raise _appointment_not_active(appointment)
        tz = appointment.slot.counter.site.tzinfo
        if appointment.starts_at.astimezone(tz).date() != now.astimezone(tz).date():
            raise Conflict("appointment_not_today", _("This appointment is not today."))
        appointment.status = AppointmentStatus.CHECKED_IN
        appointment.checked_in_at = now
        appointment.save(update_fields=["status", "checked_in_at"])
        details = {
            "appointment": appointment.pk,
            "site": appointment.slot.counter.site.name,
            **(details or {}),
        }
        record_event(request, "checked_in", actor, details=details, at=now)
    return appointment


def record_outcome(
    appointment: Appointment,
    outcome: str,
    actor: Actor,
    *,
    note: str = "",
    now: datetime.datetime | None = None,
    then: str = RequestStatus.SERVED,
) -> Appointment:
    """Served (the request is served) or no-show (the request is paused, reactivable with its place).

    A file received incomplete is served with `then=RequestStatus.WAITING`: the request waits again for
    another appointment, with its due date (hence its place). Recording the same outcome again is a no-op.
    """
    if then not in (RequestStatus.SERVED, RequestStatus.WAITING):
        raise ValueError(f"a served appointment leaves its request served or waiting, not {then}")
    if outcome not in OUTCOMES:
        message = _("The outcome is either “served” or “no_show”.")
        raise InvalidInput("invalid_outcome", message, {"outcome": [message]})
    note = (note or "").strip()
    if len(note) > Appointment._meta.get_field("outcome").max_length:
        message = _("Keep the note under 40 characters.")
        raise InvalidInput("note_too_long", message, {"note": [message]})
    now = now or timezone.now()
    with transaction.atomic():
        request = locking.request(appointment.request_id)
        appointment = locking.appointment(appointment.pk)
        if appointment.status == outcome:
            return appointment
        if appointment.status not in ACTIVE_APPOINTMENT_STATUSES:
            raise _appointment_not_active(appointment)
        tz = appointment.slot.counter.site.tzinfo
        if outcome == AppointmentStatus.NO_SHOW and now < appointment.starts_at:
            raise Conflict("appointment_not_started", _("The appointment has not started yet."))
        if appointment.starts_at.astimezone(tz).date() > now.astimezone(tz).date():
            raise Conflict("appointment_not_started", _("The appointment has not started yet."))
        appointment.status = outcome
        appointment.finished_at = now
        appointment.outcome = note
        appointment.save(update_fields=["status", "finished_at", "outcome"])
        details = {"appointment": appointment.pk, "site": appointment.slot.counter.site.name}
        if outcome == AppointmentStatus.SERVED:
            _set_status(request, then, now, consecutive_lapses=0)
            record_event(request, "served", actor, details={**details, "outcome": note}, at=now)
            if then == RequestStatus.WAITING:
                enqueue_allocation(request.prefecture_id)
        else:
            # A missed appointment pauses the request rather than ending it: the person reactivates it
            # and keeps their place (due date), as after lapsed offers.
            no_show = {**details, "starts_at": appointment.starts_at}
            if request.status == RequestStatus.SCHEDULED:
                _set_status(request, RequestStatus.PAUSED, now)
                record_event(request, "no_show", actor, details=no_show, at=now)
                record_event(request, "paused", actor, details={"appointment": appointment.pk}, at=now)
                notify(request, "paused", {"appointment_id": appointment.pk})
            else:
                record_event(request, "no_show", actor, details=no_show, at=now)
    return appointment


def refuse_appointment(
    appointment: Appointment,
    actor: Actor,
    *,
    reason: str,
    then: str,
    audit_data: dict | None = None,
    now: datetime.datetime | None = None,
) -> Appointment:
    """The counter refuses the person (identity does not match, file not receivable), with a reason.

    `then` is what becomes of the request: paused (the identity did not match: the person the request is
    bound to may come back and reactivate it, with its place) or closed (the file cannot be received).
    """
    if then not in (RequestStatus.PAUSED, RequestStatus.CLOSED):
        raise ValueError(f"a refusal leaves its request paused or closed, not {then}")
    reason = clean_text(reason, max_length=MAX_REASON, required=True)
    now = now or timezone.now()
    with transaction.atomic():
        request = locking.request(appointment.request_id)
        appointment = locking.appointment(appointment.pk)
        if appointment.status == AppointmentStatus.REFUSED:
            return appointment
        if appointment.status not in ACTIVE_APPOINTMENT_STATUSES:
            raise _appointment_not_active(appointment)
        appointment.status = AppointmentStatus.REFUSED
        appointment.finished_at = now
        appointment.cancel_reason = reason
        appointment.save(update_fields=["status", "finished_at", "cancel_reason"])
        extra = {"closing_reason": reason} if then == RequestStatus.CLOSED else {}
        if request.status == RequestStatus.SCHEDULED:
            _set_status(request, then, now, **extra)
        site = appointment.slot.counter.site.name
        details = {"appointment": appointment.pk, "site": site, "reason": reason}
        record_event(request, "refused_at_counter", actor, details=details, audit_data=audit_data, at=now)
        notify(request, "paused" if then == RequestStatus.PAUSED else "closed", {"reason": reason})
    return appointment


def release_for_request(
    request: AppointmentRequest, actor: Actor, reason: str, *, now: datetime.datetime | None = None
) -> int:
    """Give up whatever a request holds: its pending offer is withdrawn, its active appointment cancelled.

    For withdrawal, closing, and a change of name (an appointment is bound to the identity). Runs inside the
    caller's transaction if there is one. A request that was offered or scheduled waits again, with its due
    date; the caller then sets the status it means (withdrawn, closed). Returns how many things were released.
    """
    reason = clean_text(reason, max_length=MAX_REASON, required=False)
    now = now or timezone.now()
    by = CancelledBy.APPLICANT if actor.kind == "applicant" else CancelledBy.PREFECTURE
    with transaction.atomic():
        request = locking.request(request.pk)
        offer_ids = list(
            Offer.objects.filter(request=request, status=OfferStatus.PENDING).values_list("pk", "slot_id")
        )
        appointment_ids = list(
            Appointment.objects.filter(request=request, status__in=ACTIVE_APPOINTMENT_STATUSES).values_list(
                "pk", "slot_id"
            )
        )
        if not offer_ids and not appointment_ids:
            return 0
        locking.slots({slot_id for _, slot_id in offer_ids + appointment_ids})
        events: list[tuple[str, dict]] = []
        freed: list[int] = []
        for offer in locking.offers(pk for pk, _ in offer_ids):
            if offer.status != OfferStatus.PENDING:
                continue
            offer.status = OfferStatus.WITHDRAWN
            offer.decided_at = now
            offer.decline_reason = reason
            offer.save(update_fields=["status", "decided_at", "decline_reason"])
            Hold.objects.filter(slot_id=offer.slot_id, request=request).delete()
            freed.append(offer.slot_id)
            events.append(("offer_withdrawn", {"offer": offer.pk, "reason": reason}))
        for pk, slot_id in appointment_ids:
            appointment = locking.appointment(pk)
            if appointment.status not in ACTIVE_APPOINTMENT_STATUSES:
                continue
            _cancel(appointment, by, reason, now)
            Hold.objects.filter(slot_id=slot_id, request=request).delete()
            freed.append(slot_id)
            events.append(
                (
                    "appointment_cancelled",
                    {
                        **slot_details(appointment.slot),
                        "appointment": pk,
                        "cancelled_by": by.value,
                        "reason": reason,
                    },
                )
            )
            notify(request, "appointment_cancelled", {"appointment_id": pk})
        if request.status in (RequestStatus.OFFERED, RequestStatus.SCHEDULED):
            _set_status(request, RequestStatus.WAITING, now)
        for event, details in events:
            record_event(request, event, actor, details=details, at=now)
        if events:
            enqueue_freed_slots(freed)
            enqueue_allocation(request.prefecture_id)
    return len(events)


# --- Open mode --------------------------------------------------------------------------------------------


def queue_waits(
    procedure: Procedure,
    site=None,
    *,
    now: datetime.datetime | None = None,
    exclude_request_id: int | None = None,
) -> bool:
    """True while someone waits in the queue for this procedure (at this site, or at any site).

    A request counts once it has been waiting longer than OPEN_CHOICE_WINDOW: a newer one is a person
    choosing a slot right now, like the caller. Offered requests do not count: they have their slot.
    """
    now = now or timezone.now()
    waiting = AppointmentRequest.objects.filter(
        procedure=procedure,
        status=RequestStatus.WAITING,
        received_at__lte=now - rules.OPEN_CHOICE_WINDOW,
    )
    if exclude_request_id is not None:
        waiting = waiting.exclude(pk=exclude_request_id)
    if site is not None:
        waiting = waiting.filter(Q(sites=site) | Q(sites__isnull=True))
    return waiting.exists()


def _require_open(procedure: Procedure) -> None:
    if procedure.mode != Procedure.Mode.OPEN:
        raise Conflict("not_open_mode", _("Slots for this procedure are given by the queue, not chosen."))


def open_slots(
    procedure: Procedure,
    site=None,
    *,
    now: datetime.datetime | None = None,
    limit: int = 50,
    request: AppointmentRequest | None = None,
) -> list[Slot]:
    """Free slots a person may pick for an open-mode procedure, earliest first.

    For a request, the slots that suit it under the queue's own rule (guichet.allocation.candidates);
    without one, every free slot of the procedure after its notice (what the procedure page shows).

    Raises QueueNotEmpty (code "queue_not_empty") while someone waits in the queue for it there: then
    nobody picks, everyone is served in turn.
    """
    _require_open(procedure)
    now = now or timezone.now()
    if queue_waits(procedure, site, now=now, exclude_request_id=request.pk if request else None):
        raise QueueNotEmpty()
    if request is not None:
        return candidates.candidate_slots(request, now, site=site, limit=limit)
    notice = datetime.timedelta(hours=procedure.minimum_notice_hours)
    slots = free_slots_query(
        procedure.prefecture,
        procedure=procedure,
        sites=[site.pk] if site is not None else None,
        after=now + notice,
    )
    closed = candidates.closed_days(procedure.prefecture, now)
    found = []
    for slot in slots.iterator(chunk_size=limit):
        local_date = slot.starts_at.astimezone(slot.counter.site.tzinfo).date()
        if not candidates.is_closed(closed, slot.counter.site_id, slot.counter_id, local_date):
            found.append(slot)
            if len(found) >= limit:
                break
    return found


@_integrity_to_conflict
def book_walk_in(
    request: AppointmentRequest, slot: Slot, actor: Actor, *, now: datetime.datetime | None = None
) -> Appointment:
    """A person who came without an appointment for an open-mode procedure takes a free slot of today at
    the counter (no notice: they are there). The open-mode rule holds: refused while someone waits in the
    queue for that procedure and site, or when the slot is taken. Of the allocation's rule only the
    procedure served applies: the person is at the counter, so notice, chosen sites and days do not."""
    now = now or timezone.now()
    with transaction.atomic():
        request = locking.request(request.pk)
        _require_open(request.procedure)
        if request.status != RequestStatus.WAITING:
            raise Conflict(
                "request_not_waiting",
                _("This request is %(status)s: it cannot take a slot now.")
                % {"status": request.get_status_display()},
            )
        slot = locking.slot(slot.pk)
        site = slot.counter.site
        if (
            slot.counter.site.prefecture_id != request.prefecture_id
            or request.procedure_id not in slot_procedure_ids(slot)
        ):
            message = _("This slot does not serve this procedure.")
            raise InvalidInput("slot_incompatible", message, {"slot": [message]})
        if (
            slot.ends_at <= now
            or slot.starts_at.astimezone(site.tzinfo).date() != now.astimezone(site.tzinfo).date()
        ):
            message = _("Only a slot of today that has not ended can be given to a person who is here.")
            raise InvalidInput("slot_incompatible", message, {"slot": [message]})
        if Hold.objects.filter(slot=slot).exists():
            raise SlotTaken()
        if queue_waits(request.procedure, site, now=now, exclude_request_id=request.pk):
            raise QueueNotEmpty()
        appointment = Appointment.objects.create(
            request=request,
            slot=slot,
            counter_id=slot.counter_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            status=AppointmentStatus.CONFIRMED,
            confirmed_at=now,
        )
        Hold.objects.create(slot=slot, request=request, kind=Hold.Kind.APPOINTMENT)
        _set_status(request, RequestStatus.SCHEDULED, now, consecutive_lapses=0)
        details = {**slot_details(slot), "appointment": appointment.pk, "walk_in": True}
        record_event(request, "appointment_confirmed", actor, details=details, at=now)
    return appointment


@_integrity_to_conflict
def hold_open_slot(
    request: AppointmentRequest, slot: Slot, actor: Actor, *, now: datetime.datetime | None = None
) -> Offer:
    """Hold a slot the person picked (open mode) for OPEN_HOLD while they confirm with accept_offer.

    Picking again replaces the person's own previous pick. Refused with "slot_taken" if someone holds the
    slot, "queue_not_empty" if someone waits in the queue for it.
    """
    now = now or timezone.now()
    with transaction.atomic():
        request = locking.request(request.pk)
        _require_open(request.procedure)
        previous = None
        if request.status == RequestStatus.OFFERED:
            previous = Offer.objects.filter(
                request=request, status=OfferStatus.PENDING, source=OfferSource.CHOSEN
            ).first()
        if request.status != RequestStatus.WAITING and previous is None:
            raise Conflict("request_not_waiting", _("This request is not waiting for a slot."))
        locked = {pk: locking.slot(pk) for pk in sorted({slot.pk, *([previous.slot_id] if previous else [])})}
        slot = locked[slot.pk]
        if previous is not None and previous.slot_id == slot.pk:
            return previous
        _check_slot_for(request, slot, now)
        if Hold.objects.filter(slot=slot).exists():
            raise SlotTaken()
        if queue_waits(request.procedure, slot.counter.site, now=now, exclude_request_id=request.pk):
            raise QueueNotEmpty()
        if previous is not None:
            previous = locking.offer(previous.pk)
            previous.status = OfferStatus.WITHDRAWN
            previous.decided_at = now
            previous.decline_reason = "another"
            previous.save(update_fields=["status", "decided_at", "decline_reason"])
            Hold.objects.filter(slot_id=previous.slot_id, request=request).delete()
            enqueue_allocation(request.prefecture_id)
        offer = Offer.objects.create(
            request=request,
            slot=slot,
            source=OfferSource.CHOSEN,
            status=OfferStatus.PENDING,
            created_at=now,
            expires_at=now + rules.OPEN_HOLD,
            interpreter_language=candidates.interpreter_for(request, slot),
        )
        Hold.objects.create(slot=slot, request=request, kind=Hold.Kind.OFFER)
        if request.status != RequestStatus.OFFERED:
            _set_status(request, RequestStatus.OFFERED, now)
        details = {**slot_details(slot), "offer": offer.pk, "source": OfferSource.CHOSEN.value}
        # Chosen, not yet confirmed: the audit records it; the proof comes with the appointment.
        record_event(request, "offer_made", actor, details=details, at=now, proof=False)
    return offer
