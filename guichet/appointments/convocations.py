"""Is a convocation still valid? What became of the appointment it was issued for.

A convocation is issued for one appointment: its QR code names it (`/fr/convocation/<reference>/<id>/`,
guichet.notifications.links) and the signed proof of the confirmation carries its id. When staff move the
appointment (a closure, shorter hours) the old one is cancelled and `replaced_by` the new one, so the old
convocation must say "replaced" and point to the newer one; when it is cancelled it must say so. Both
checks, the convocation page and /verify for the signed proof, read the answer here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from .models import Appointment, AppointmentStatus

# States of a convocation, as the pages and the API name them.
VALID = "valid"
REPLACED = "replaced"  # moved: a newer convocation exists
CANCELLED = "cancelled"
PAST = "past"

# A chain of moves longer than this is not followed further (it never happens; it bounds the reads).
MAX_MOVES = 50


@dataclass(frozen=True)
class Standing:
    state: str
    appointment: Appointment  # the one the convocation was issued for
    current: Appointment | None = None  # for a replaced one: the newest appointment of the chain

    @property
    def is_valid(self) -> bool:
        return self.state == VALID


def newest(appointment: Appointment) -> Appointment:
    """Follow the moves from this appointment to the last one."""
    current = appointment
    for _step in range(MAX_MOVES):
        if current.replaced_by_id is None:
            break
        current = Appointment.objects.select_related("counter__site").get(pk=current.replaced_by_id)
    return current


def standing(appointment: Appointment, *, now: datetime.datetime | None = None) -> Standing:
    """What a convocation issued for this appointment is worth now."""
    now = now or timezone.now()
    if appointment.replaced_by_id is not None:
        current = newest(appointment)
        if standing(current, now=now).is_valid:
            return Standing(REPLACED, appointment, current)
        return Standing(CANCELLED, appointment)  # moved, and the newer one since cancelled or over
    if appointment.status == AppointmentStatus.CANCELLED:
        return Standing(CANCELLED, appointment)
    if appointment.status not in (AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN) or (
        appointment.ends_at < now
    ):
        return Standing(PAST, appointment)
    return Standing(VALID, appointment)


def for_proof(payload: dict, *, now: datetime.datetime | None = None) -> Standing | None:
    """The standing of the appointment a verified proof confirms (an `appointment_confirmed` proof of this
    service), or None when the proof confirms no appointment this service knows."""
    if not isinstance(payload, dict) or payload.get("event") != "appointment_confirmed":
        return None
    details = payload.get("details")
    number = details.get("appointment") if isinstance(details, dict) else None
    reference = payload.get("ref")
    if not isinstance(number, int) or isinstance(number, bool) or not isinstance(reference, str):
        return None
    found = (
        Appointment.objects.select_related("counter__site")
        .filter(pk=number, request__reference=reference)
        .first()
    )
    return standing(found, now=now) if found is not None else None
