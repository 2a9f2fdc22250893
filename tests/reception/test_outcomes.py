"""Outcomes at the counter: file complete (récépissé), incomplete (back to the queue), no-show, refused."""

import datetime

import pytest

from guichet.appointments.models import AppointmentStatus
from guichet.catalog.services import current_checklist
from guichet.errors import Conflict, InvalidInput
from guichet.evidence import signing
from guichet.evidence.models import Proof
from guichet.evidence.services import published_keys
from guichet.notifications.models import OutboxMessage
from guichet.reception import outcomes, services
from guichet.reception.models import FileRegistration, InterimDocument, Visit, VisitStatus
from guichet.waitlist.models import RequestStatus
from tests.reception.conftest import AGENT, book

pytestmark = pytest.mark.django_db


def _payload(request, event):
    proof = Proof.objects.filter(request=request, event=event).latest("id")
    return signing.parse_and_verify(proof.token, published_keys()).payload


@pytest.fixture
def with_checklist(world):
    procedure = world.procedures["first"]
    procedure.documents = ["Passport", "Birth certificate", "Proof of address"]
    procedure.save()
    return current_checklist(procedure)


@pytest.fixture
def checked_in(world, day, with_checklist):
    appointment = book(world, day, checklist_version=with_checklist)
    services.check_in(appointment, AGENT, now=appointment.starts_at)
    return appointment


def test_complete_file_serves_the_request_and_gives_the_recepisse(checked_in):
    at = checked_in.starts_at + datetime.timedelta(minutes=20)
    registration = outcomes.register_file(checked_in, AGENT, now=at)
    assert registration.complete and registration.missing_documents == []
    checked_in.refresh_from_db()
    checked_in.request.refresh_from_db()
    assert checked_in.status == AppointmentStatus.SERVED
    assert checked_in.request.status == RequestStatus.SERVED
    assert Visit.objects.get(appointment=checked_in).status == VisitStatus.DONE
    assert _payload(checked_in.request, "file_registered")["details"]["documents_version"] == 1
    document = InterimDocument.objects.get(request=checked_in.request)
    assert document.kind == "recepisse" and document.proof.event == "recepisse"
    details = _payload(checked_in.request, "recepisse")["details"]
    assert details["valid_from"] == at.astimezone(checked_in.request.prefecture.tzinfo).date().isoformat()
    assert details["work_allowed"] is False
    with pytest.raises(Conflict):
        outcomes.register_file(checked_in, AGENT, now=at)


def test_incomplete_file_puts_the_request_back_with_its_due_date(checked_in):
    due = checked_in.request.due_date
    at = checked_in.starts_at + datetime.timedelta(minutes=20)
    with pytest.raises(InvalidInput) as error:
        outcomes.register_file(checked_in, AGENT, missing=["A letter from the moon"], now=at)
    assert "missing" in error.value.fields
    outcomes.register_file(checked_in, AGENT, missing=["Proof of address", "Passport"], now=at)
    checked_in.request.refresh_from_db()
    assert checked_in.request.status == RequestStatus.WAITING and checked_in.request.due_date == due
    registration = FileRegistration.objects.get(appointment=checked_in)
    assert not registration.complete and registration.missing_documents == ["Proof of address", "Passport"]
    assert registration.checklist_version == checked_in.request.checklist_version
    assert _payload(checked_in.request, "file_incomplete")["details"]["missing_documents"] == [
        "Proof of address",
        "Passport",
    ]
    assert OutboxMessage.objects.filter(request=checked_in.request, kind="file_incomplete").exists()
    assert not InterimDocument.objects.exists()


def test_missing_documents_are_read_against_the_version_the_person_was_given(world, checked_in):
    procedure = world.procedures["first"]
    procedure.documents = ["Passport", "Photo"]
    procedure.save()
    current_checklist(procedure)
    at = checked_in.starts_at + datetime.timedelta(minutes=20)
    with pytest.raises(InvalidInput):
        outcomes.register_file(checked_in, AGENT, missing=["Photo"], now=at)
    outcomes.register_file(checked_in, AGENT, missing=["Birth certificate"], now=at)


def test_a_file_needs_a_check_in_first(world, day):
    appointment = book(world, day)
    with pytest.raises(Conflict) as error:
        outcomes.register_file(appointment, AGENT, now=appointment.starts_at)
    assert error.value.code == "not_checked_in"


def test_no_show_pauses_and_a_checked_in_person_is_not_a_no_show(world, day, checked_in):
    missed = book(world, day, hour=10)
    outcomes.record_no_show(missed, AGENT, now=missed.starts_at + datetime.timedelta(minutes=30))
    missed.request.refresh_from_db()
    assert missed.request.status == RequestStatus.PAUSED
    with pytest.raises(Conflict):
        outcomes.record_no_show(checked_in, AGENT, now=checked_in.starts_at + datetime.timedelta(minutes=30))


def test_refused_file_closes_the_request_with_the_reason(checked_in):
    outcomes.refuse_file(checked_in, AGENT, reason="Lives in another département", now=checked_in.starts_at)
    checked_in.request.refresh_from_db()
    assert checked_in.request.status == RequestStatus.CLOSED
    assert checked_in.request.closing_reason == "Lives in another département"
    assert (
        _payload(checked_in.request, "refused_at_counter")["details"]["reason"]
        == "Lives in another département"
    )
    assert Visit.objects.get(appointment=checked_in).status == VisitStatus.DONE
