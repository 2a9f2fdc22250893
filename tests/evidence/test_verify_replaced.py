"""/verify and POST /api/v1/proofs/verify on the signed confirmation of an appointment since moved or
cancelled: the proof stays genuine (it is history), but its convocation is said to be no longer valid, and for
a move the newer appointment is named."""

import json

import pytest
from django.utils import timezone

from guichet.allocation import candidates
from guichet.appointments import services
from guichet.appointments.models import CancelledBy
from guichet.evidence.audit import Actor
from guichet.evidence.models import Proof
from tests.appointments import builders

pytestmark = pytest.mark.django_db
STAFF = Actor("staff", "agent", None)
API = "/api/v1/proofs/verify"


@pytest.fixture
def booked(world):
    now = timezone.now().replace(microsecond=0)
    return builders.booked(world, builders.generated_week_ahead(world, now), now)


def confirmation(appointment) -> str:
    return Proof.objects.get(request=appointment.request, event="appointment_confirmed").token


def verify(client, token, language="en"):
    return client.post(f"/{language}/verify/", {"t": token}).content.decode()


def test_a_current_appointments_proof_is_valid(client, booked):
    assert "Valid: this proof is genuine and unchanged." in verify(client, confirmation(booked))
    answer = client.post(API, json.dumps({"token": confirmation(booked)}), content_type="application/json")
    assert answer.json()["valid"] is True and answer.json()["convocation"] == "valid"


def test_the_proof_of_a_moved_appointment_says_its_convocation_was_replaced(client, booked):
    token = confirmation(booked)
    newer_slot = candidates.candidate_slots(booked.request, timezone.now(), limit=1)[0]
    moved = services.move_appointment(booked, newer_slot, STAFF, reason="Fermeture du site")
    body = verify(client, token)
    assert "No longer valid: this appointment was moved, and this convocation replaced." in body
    assert "Valid: this proof is genuine" not in body
    local = moved.starts_at.astimezone(moved.counter.site.tzinfo)
    assert f'at <bdi dir="ltr">{local:%H:%M}</bdi> ({moved.counter.site.name})' in body
    answer = client.post(API, json.dumps({"token": token}), content_type="application/json").json()
    assert answer["valid"] is True and answer["convocation"] == "replaced"
    assert answer["newer_appointment"]["site"] == moved.counter.site.name
    newer_token = (
        Proof.objects.filter(request=booked.request, event="appointment_confirmed").latest("id").token
    )
    assert "Valid: this proof is genuine and unchanged." in verify(client, newer_token)
    arabic = verify(client, token, "ar")
    assert "استُبدل هذا الاستدعاء" in arabic or "لم يعد صالحًا" in arabic


def test_the_proof_of_a_cancelled_appointment_says_so(client, booked):
    token = confirmation(booked)
    services.cancel_appointment(booked, STAFF, by=CancelledBy.PREFECTURE, reason="Fermeture du site")
    body = verify(client, token)
    assert "No longer valid: this appointment was cancelled." in body
    answer = client.post(API, json.dumps({"token": token}), content_type="application/json").json()
    assert answer["valid"] is True and answer["convocation"] == "cancelled"
