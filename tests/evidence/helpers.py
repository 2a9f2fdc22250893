"""Requests, slots and appointments made directly with the models, so that evidence tests do not depend
on how other apps file or allocate. Each request gets its "received" proof like intake gives it."""

import datetime
import secrets

from django.db import transaction
from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.capacity.models import Hold, Slot
from guichet.evidence import audit, services
from guichet.waitlist import references
from guichet.waitlist.models import AppointmentRequest, Channel, DueReason, RequestStatus

UTC = datetime.UTC


def make_request(
    world,
    *,
    procedure: str = "first",
    received_at: datetime.datetime | None = None,
    due_date: datetime.date | None = None,
    status: str = RequestStatus.WAITING,
    family_names: str = "Benali",
    given_names: str = "Amina",
    postal_address: str = "12 rue de Paris\n93100 Montreuil",
    permit_expires_on: datetime.date | None = None,
    with_proof: bool = True,
    **extra,
) -> tuple[AppointmentRequest, str]:
    """A request and its plaintext access token."""
    received_at = received_at or timezone.now().replace(microsecond=0)
    token = references.new_access_token()
    proc = world.procedures[procedure]
    with transaction.atomic():
        request = AppointmentRequest.objects.create(
            prefecture=world.prefecture,
            procedure=proc,
            reference=references.new_reference(world.prefecture.code),
            access_token_hash=references.hash_token(token),
            family_names=family_names,
            given_names=given_names,
            birth_date=datetime.date(1990, 4, 12),
            nationality=extra.pop("nationality", "MA"),
            identity_key=secrets.token_hex(32),
            email=extra.pop("email", "amina@example.org"),
            postal_address=postal_address,
            permit_expires_on=permit_expires_on,
            channel=extra.pop("channel", Channel.WEB),
            received_at=received_at,
            due_date=due_date or (received_at + datetime.timedelta(days=proc.target_wait_days)).date(),
            due_reason=extra.pop("due_reason", DueReason.TARGET_WAIT),
            status=status,
            status_changed_at=received_at,
            **extra,
        )
        if with_proof:
            services.record_event(request, "received", audit.APPLICANT, at=received_at)
    return request, token


def free_slot(world, starts_at: datetime.datetime, counter_index: int = 0, minutes: int = 30) -> Slot:
    """A slot made by its opening rule's counter, serving that rule's procedures."""
    counter = world.counters[counter_index]
    rule = counter.opening_rules.first()
    return Slot.objects.create(
        counter=counter,
        rule=rule,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=minutes),
    )


def give_appointment(request: AppointmentRequest, slot: Slot, confirmed_at: datetime.datetime | None = None):
    """An active appointment on the slot (as the appointments service would leave it)."""
    confirmed_at = confirmed_at or timezone.now()
    with transaction.atomic():
        Hold.objects.create(slot=slot, request=request, kind=Hold.Kind.APPOINTMENT)
        appointment = Appointment.objects.create(
            request=request,
            slot=slot,
            counter=slot.counter,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            status=AppointmentStatus.CONFIRMED,
            confirmed_at=confirmed_at,
        )
        AppointmentRequest.objects.filter(pk=request.pk).update(status=RequestStatus.SCHEDULED)
    request.refresh_from_db()
    return appointment
