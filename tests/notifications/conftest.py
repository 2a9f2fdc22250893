"""A request with an offer, an appointment and a court order, built directly: these tests are about messages
and need no allocation."""

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus, Offer
from guichet.capacity.models import Slot
from guichet.evidence.models import CourtOrder
from guichet.notifications.models import MessageChannel, OutboxMessage
from guichet.waitlist.models import AppointmentRequest, Channel

NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def make_request(world, reference="93-K7M4-QX9T", language="fr", **contact) -> AppointmentRequest:
    contact = {"email": "amina@example.org", "phone": "+33612345678", **contact}
    return AppointmentRequest.objects.create(
        prefecture=world.prefecture,
        procedure=world.procedures["first"],
        reference=reference,
        access_token_hash="0" * 64,
        family_names="Benali",
        given_names="Amina",
        birth_date=datetime.date(1990, 5, 17),
        nationality="DZ",
        identity_key=f"key-{reference}",
        language=language,
        channel=Channel.WEB,
        received_at=NOW - datetime.timedelta(days=20),
        due_date=datetime.date(2026, 4, 1),
        due_reason="target_wait",
        status_changed_at=NOW - datetime.timedelta(days=1),
        **contact,
    )


def make_slot(world, starts_at: datetime.datetime, counter_index: int = 0) -> Slot:
    return Slot.objects.create(
        counter=world.counters[counter_index],
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=30),
    )


@dataclass
class Story:
    request: AppointmentRequest
    offer: Offer
    appointment: Appointment
    cancelled: Appointment
    court_order: CourtOrder


def make_story(world, language="fr", reference="93-K7M4-QX9T", shift: int = 0, **contact) -> Story:
    """A request with a pending offer, a confirmed appointment, an earlier cancelled one and a court order."""
    request = make_request(world, reference=reference, language=language, **contact)
    # 09:30 in Paris; `shift` moves the slots by whole hours so that several stories can share counters.
    starts = datetime.datetime(2026, 3, 10, 8, 30, tzinfo=datetime.UTC) + datetime.timedelta(hours=shift)
    offer = Offer.objects.create(
        request=request,
        slot=make_slot(world, starts + datetime.timedelta(days=1)),
        created_at=NOW - datetime.timedelta(hours=1),
        expires_at=NOW + datetime.timedelta(hours=47),
    )
    cancelled_slot = make_slot(world, starts - datetime.timedelta(days=1))
    cancelled = Appointment.objects.create(
        request=request,
        slot=cancelled_slot,
        counter=cancelled_slot.counter,
        starts_at=cancelled_slot.starts_at,
        ends_at=cancelled_slot.ends_at,
        status=AppointmentStatus.CANCELLED,
        confirmed_at=NOW - datetime.timedelta(days=5),
        cancelled_at=NOW - datetime.timedelta(days=1),
        cancelled_by="prefecture",
        cancel_reason="Fermeture exceptionnelle du site",
    )
    slot = make_slot(world, starts)
    appointment = Appointment.objects.create(
        request=request,
        slot=slot,
        counter=slot.counter,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        confirmed_at=NOW - datetime.timedelta(days=1),
    )
    order = CourtOrder.objects.create(
        request=request,
        tribunal="Tribunal administratif de Montreuil",
        case_number="2601234",
        ordered_on=datetime.date(2026, 2, 20),
        notified_on=datetime.date(2026, 2, 23),
        appointment_by=datetime.date(2026, 3, 20),
        recorded_by="manager",
    )
    return Story(request, offer, appointment, cancelled, order)


def context_for(kind: str, story: Story) -> dict:
    """The context each service passes to notify() for this kind (see docs/notifications.md)."""
    return {
        "received": {"access_token": "s3cr3t-t0k3n"},
        "offer_made": {"offer_id": story.offer.pk},
        "offer_reminder": {"offer_id": story.offer.pk},
        "appointment_confirmed": {"appointment_id": story.appointment.pk},
        "appointment_reminder": {"appointment_id": story.appointment.pk},
        "appointment_changed": {
            "appointment_id": story.appointment.pk,
            "previous_appointment_id": story.cancelled.pk,
        },
        "appointment_cancelled": {"appointment_id": story.cancelled.pk, "reason": "Fermeture du site"},
        "still_waiting": {"position": 12},
        "closed": {"reason": "Demande en double"},
        "court_order": {"court_order_id": story.court_order.pk},
    }.get(kind, {})


def message_for(story: Story, kind: str, channel: str = MessageChannel.EMAIL, language=None) -> OutboxMessage:
    """An unsaved outbox message, as notify() would write it."""
    request = story.request
    recipient = {"email": request.email, "sms": request.phone, "letter": request.postal_address}[channel]
    return OutboxMessage(
        pk=None,
        request=request,
        channel=channel,
        kind=kind,
        language=language or request.language,
        recipient=recipient or "",
        context=context_for(kind, story),
        next_attempt_at=NOW,
        created_at=NOW,
    )


@pytest.fixture
def story(world):
    return make_story(world)


@pytest.fixture
def frozen_now(monkeypatch):
    """Pin timezone.now() for the services that read it."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW
