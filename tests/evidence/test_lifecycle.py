"""Through the other apps' real services: each step of a request leaves its proof, in order, and the chain
verifies. (Those apps test their own rules; this checks what the evidence says about them.)"""

import datetime

import pytest
from django.utils import timezone

from guichet.evidence import audit, services
from guichet.evidence.models import Proof

from .helpers import free_slot

intake = pytest.importorskip("guichet.waitlist.services")
validation = pytest.importorskip("guichet.waitlist.validation")
allocation = pytest.importorskip("guichet.allocation.service")
appointments = pytest.importorskip("guichet.appointments.services")


def file(world, **fields):
    raw = {
        "procedure": world.procedures["first"].code,
        "family_names": "Diallo",
        "given_names": "Mariama",
        "birth_date": "1992-02-29",
        "nationality": "GN",
        "email": "mariama@example.org",
        "language": "fr",
        **fields,
    }
    data = validation.validate_intake(raw, world.prefecture, channel="web")
    return intake.file_request(
        data, prefecture=world.prefecture, channel="web", actor=audit.APPLICANT
    ).request


def events(request) -> list[str]:
    return list(
        Proof.objects.filter(request=request).order_by("issued_at", "id").values_list("event", flat=True)
    )


def test_received_offered_confirmed_checked_in_served(world):
    from guichet.appointments.models import AppointmentStatus, Offer

    request = file(world)
    assert events(request) == ["received"]
    free_slot(world, timezone.now() + datetime.timedelta(days=3))
    allocation.allocate(world.prefecture)
    offer = Offer.objects.get(request=request)
    appointment = appointments.accept_offer(offer, audit.APPLICANT)
    appointments.check_in(appointment, audit.Actor("staff", "agent"), now=appointment.starts_at)
    appointments.record_outcome(
        appointment, AppointmentStatus.SERVED, audit.Actor("staff", "agent"), now=appointment.starts_at
    )
    assert events(request) == ["received", "offer_made", "appointment_confirmed", "checked_in", "served"]
    for proof in Proof.objects.filter(request=request):
        payload = services.verify_token(proof.token).payload
        assert payload["ref"] == request.reference and payload["event"] == proof.event
        assert payload["name"] == {"family": "Diallo", "given": "Mariama"}
    confirmed = Proof.objects.get(request=request, event="appointment_confirmed")
    details = services.verify_token(confirmed.token).payload["details"]
    assert details["starts_at"].endswith("Z") and "starts_at_local" in details and details["site"]
    assert audit.verify_chain(world.prefecture.code) == []


def test_declined_then_cancelled_by_the_prefecture(world):
    from guichet.appointments.models import CancelledBy, Offer

    request = file(world, family_names="Kowalska", given_names="Anna")
    free_slot(world, timezone.now() + datetime.timedelta(days=3))
    allocation.allocate(world.prefecture)
    appointments.decline_offer(Offer.objects.get(request=request), audit.APPLICANT)
    free_slot(world, timezone.now() + datetime.timedelta(days=4), counter_index=2)
    allocation.allocate(world.prefecture)
    offer = Offer.objects.get(request=request, status="pending")
    appointment = appointments.accept_offer(offer, audit.APPLICANT)
    appointments.cancel_appointment(
        appointment,
        audit.Actor("staff", "agent"),
        by=CancelledBy.PREFECTURE,
        reason="Fermeture exceptionnelle",
    )
    got = events(request)
    assert got[:5] == ["received", "offer_made", "offer_declined", "offer_made", "appointment_confirmed"]
    assert "appointment_cancelled" in got
    cancelled = Proof.objects.get(request=request, event="appointment_cancelled")
    details = services.verify_token(cancelled.token).payload["details"]
    assert details.get("cancelled_by") == "prefecture" or "prefecture" in str(details)
    assert audit.verify_chain(world.prefecture.code) == []
