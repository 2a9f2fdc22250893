"""A change of name releases the appointment (R19) and the request keeps its due date; audited and proven."""

import datetime

import pytest

from guichet.appointments.models import AppointmentStatus
from guichet.capacity.models import Hold
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.models import AuditEntry, Proof
from guichet.waitlist.identity import identity_key
from guichet.waitlist.models import RequestStatus
from guichet.waitlist.services import change_identity
from guichet.waitlist.validation import validate_identity
from tests.reception.conftest import AGENT, book

pytestmark = pytest.mark.django_db


def test_a_new_name_releases_the_appointment_and_keeps_the_due_date(world, day):
    appointment = book(world, day)
    request = appointment.request
    due = request.due_date
    identity = validate_identity(
        {"family_names": "Benali", "given_names": "Amina", "birth_date": "1990-01-01"}, world.prefecture
    )
    change_identity(request, identity, AGENT, reason="Married name")
    request.refresh_from_db()
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert not Hold.objects.filter(slot=appointment.slot).exists()
    assert request.status == RequestStatus.WAITING and request.due_date == due
    assert request.family_names == "Benali"
    assert request.identity_key == identity_key("Benali", "Amina", datetime.date(1990, 1, 1))
    assert Proof.objects.filter(request=request, event="identity_changed").exists()
    assert Proof.objects.filter(request=request, event="appointment_cancelled").exists()
    entry = AuditEntry.objects.get(request=request, action="request.identity_changed")
    assert entry.data["changed"] == ["family_names"] and entry.data["appointment_released"] is True


def test_same_identity_changes_nothing_and_bad_input_is_refused(world, day):
    appointment = book(world, day)
    request = appointment.request
    request.family_names = "Dupont"
    request.save(update_fields=["family_names"])
    same = validate_identity(
        {"family_names": request.family_names, "given_names": "Amina", "birth_date": "1990-01-01"},
        world.prefecture,
    )
    change_identity(request, same, AGENT, reason="typo check")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    with pytest.raises(InvalidInput):
        validate_identity({"family_names": "", "birth_date": "2999-01-01"}, world.prefecture)
    with pytest.raises(InvalidInput):
        change_identity(request, same, AGENT, reason="")


def test_the_identity_of_another_active_request_is_refused(world, day):
    first = book(world, day)
    second = book(world, day, hour=10)
    taken = validate_identity(
        {"family_names": "Martin", "given_names": "Amina", "birth_date": "1990-01-01"}, world.prefecture
    )
    second.request.identity_key = identity_key(taken.family_names, taken.given_names, taken.birth_date)
    second.request.save(update_fields=["identity_key"])
    with pytest.raises(Conflict) as error:
        change_identity(first.request, taken, AGENT, reason="Wrong person")
    assert error.value.code == "duplicate_identity"
    first.refresh_from_db()
    assert first.status == AppointmentStatus.CONFIRMED
