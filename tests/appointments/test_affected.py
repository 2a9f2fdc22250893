"""A closure or shorter hours saved in the catalogue leaves booked appointments on slots it no longer opens:
they are listed with who holds them, and moved (or put back in the queue with their due date) through the
appointment services, each person told, each step audited and proven, the old convocation no longer valid."""

import datetime

import pytest
from django.utils import timezone

from guichet.allocation import candidates
from guichet.appointments import affected, convocations, services
from guichet.appointments.models import Appointment, AppointmentStatus, CancelledBy, Offer, OfferStatus
from guichet.capacity.models import Hold, Slot
from guichet.catalog import editing
from guichet.catalog.models import Closure, OpeningRule
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import APPLICANT, Actor, verify_chain
from guichet.evidence.models import AuditEntry, Proof
from guichet.evidence.services import verify_token
from guichet.notifications.models import OutboxMessage
from guichet.waitlist.models import RequestStatus
from tests.appointments import builders

pytestmark = pytest.mark.django_db
MANAGER = Actor("staff", "manager", None)
REASON = "Fermeture exceptionnelle du site"


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def day(world, now):
    return builders.generated_week_ahead(world, now)


book = builders.booked


def close(world, day, *, site=None, counter=None):
    closure = Closure(site=site, counter=counter, start_date=day, end_date=day, reason="Formation des agents")
    return editing.save(closure, actor=MANAGER, changed_fields=[])


def test_a_closure_lists_each_booked_appointment_with_who_holds_it(world, day, now):
    booked = book(world, day, now)
    elsewhere = book(world, day + datetime.timedelta(days=1), now)
    reports = close(world, day, counter=world.counters[0])
    assert [conflict.request_id for report in reports for conflict in report.conflicts] == [booked.request_id]
    rows = affected.affected(world.prefecture, now=now)
    assert [(row.reference, row.kind, row.appointment_id) for row in rows] == [
        (booked.request.reference, "appointment", booked.pk)
    ]
    row = rows[0]
    assert row.procedure == world.procedures["first"].name
    assert row.site == "Bobigny" and row.counter == "Guichet 1"
    assert row.starts_at == booked.starts_at and row.cause == "closure"
    assert row.local_start.hour == 9 and "Formation des agents" in row.detail
    assert elsewhere.pk not in {r.appointment_id for r in rows}


def test_moving_all_affected_gives_each_the_earliest_slot_that_suits_it(world, day, now):
    booked = book(world, day, now)
    request = booked.request
    due, received = request.due_date, request.received_at
    close(world, day, site=world.sites[0])
    expected = candidates.candidate_slots(request, now, limit=1)[0]
    done = affected.settle_all(world.prefecture, MANAGER, reason=REASON, now=now)
    assert [(one.appointment_id, moved.slot_id) for one, moved in done.moved] == [(booked.pk, expected.pk)]
    assert done.requeued == [] and done.refused == []
    booked.refresh_from_db()
    moved = done.moved[0][1]
    assert booked.status == AppointmentStatus.CANCELLED and booked.cancelled_by == CancelledBy.PREFECTURE
    assert booked.replaced_by_id == moved.pk and moved.status == AppointmentStatus.CONFIRMED
    assert Hold.objects.get(slot_id=moved.slot_id).request_id == request.pk
    assert not Hold.objects.filter(slot_id=booked.slot_id).exists()
    request.refresh_from_db()
    assert (request.status, request.due_date, request.received_at) == (RequestStatus.SCHEDULED, due, received)
    # Told by every way the person can be reached, with why.
    messages = OutboxMessage.objects.filter(request=request, kind="appointment_changed")
    assert sorted(messages.values_list("channel", flat=True)) == ["email", "sms"]
    assert all(m.context["cause"] == "closure" for m in messages)
    assert all(m.context["previous_appointment_id"] == booked.pk for m in messages)
    # Proven and audited, the chain whole.
    proof = Proof.objects.filter(request=request, event="appointment_confirmed").latest("id")
    details = verify_token(proof.token).payload["details"]
    assert details["appointment"] == moved.pk and details["moved_from"] == booked.pk
    assert details["cause"] == "closure" and verify_token(proof.token).payload["due_date"] == due.isoformat()
    assert (
        AuditEntry.objects.filter(request_id=request.pk, action="request.appointment_confirmed").count() == 2
    )
    assert verify_chain(world.prefecture.code) == []
    # Nobody is left on a closed slot.
    assert affected.affected(world.prefecture, now=now) == []


def test_with_no_slot_that_suits_it_the_request_goes_back_to_the_queue_with_its_due_date(world, day, now):
    # The person accepts only Bobigny, which closes for the whole horizon.
    bobigny = world.sites[0]
    booked = book(world, day, now, sites=(bobigny,))
    request = booked.request
    due = request.due_date
    editing.save(
        Closure(
            site=bobigny, start_date=now.date(), end_date=day + datetime.timedelta(days=90), reason="Travaux"
        ),
        actor=MANAGER,
        changed_fields=[],
    )
    done = affected.settle_all(world.prefecture, MANAGER, reason=REASON, now=now)
    assert [one.appointment_id for one in done.requeued] == [booked.pk] and done.moved == []
    booked.refresh_from_db()
    request.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED and booked.replaced_by_id is None
    assert (request.status, request.due_date) == (RequestStatus.WAITING, due)
    messages = OutboxMessage.objects.filter(request=request, kind="appointment_cancelled")
    assert sorted(messages.values_list("channel", flat=True)) == ["email", "sms"]
    assert all(m.context["cause"] == "closure" for m in messages)
    proof = Proof.objects.filter(request=request, event="appointment_cancelled").get()
    payload = verify_token(proof.token).payload
    assert payload["details"]["cancelled_by"] == "prefecture" and payload["status"] == RequestStatus.WAITING


def test_shorter_hours_affect_the_appointments_after_the_new_closing_time(world, day, now):
    early = book(world, day, now, hour=9)
    late = book(world, day, now, hour=11)
    rule = OpeningRule.objects.get(counter=world.counters[0], weekday=day.weekday())
    rule.end_time = datetime.time(10, 0)
    editing.save(rule, actor=MANAGER, changed_fields=["end_time"])
    rows = affected.affected(world.prefecture, now=now)
    assert [(row.appointment_id, row.cause) for row in rows] == [(late.pk, "no_rule")]
    done = affected.settle_all(world.prefecture, MANAGER, reason="Horaires réduits", now=now)
    assert [one.appointment_id for one, _ in done.moved] == [late.pk]
    early.refresh_from_db()
    assert early.status == AppointmentStatus.CONFIRMED
    message = OutboxMessage.objects.filter(request=late.request, kind="appointment_changed").first()
    assert message.context["cause"] == "no_rule"


def test_an_offer_on_a_closed_slot_is_withdrawn_and_the_request_waits_with_its_place(world, day, now):
    c1 = world.counters[0]
    slot = Slot.objects.get(counter=c1, starts_at=builders.at_local(c1, day, 10))
    req = builders.request(world)
    offer = builders.offer(req, slot, now=now)
    close(world, day, counter=c1)
    [row] = affected.affected(world.prefecture, now=now)
    assert (row.kind, row.offer_id, row.reference) == ("offer", offer.pk, req.reference)
    done = affected.settle_all(world.prefecture, MANAGER, reason=REASON, now=now)
    assert [one.offer_id for one in done.offers_withdrawn] == [offer.pk]
    offer.refresh_from_db()
    req.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN and req.status == RequestStatus.WAITING
    assert Proof.objects.filter(request=req, event="offer_withdrawn").exists()
    told = OutboxMessage.objects.get(request=req, kind="offer_withdrawn")
    assert told.context == {"offer_id": offer.pk, "cause": "closure"}


def test_a_moved_or_cancelled_appointments_convocation_is_no_longer_valid(world, day, now):
    booked = book(world, day, now)
    first_proof = Proof.objects.get(request=booked.request, event="appointment_confirmed")
    payload = verify_token(first_proof.token).payload
    assert convocations.for_proof(payload, now=now).state == convocations.VALID
    close(world, day, site=world.sites[0])
    done = affected.settle_all(world.prefecture, MANAGER, reason=REASON, now=now)
    moved = done.moved[0][1]
    standing = convocations.for_proof(payload, now=now)
    assert (standing.state, standing.current.pk) == (convocations.REPLACED, moved.pk)
    newer = Proof.objects.filter(request=booked.request, event="appointment_confirmed").latest("id")
    assert convocations.for_proof(verify_token(newer.token).payload, now=now).state == convocations.VALID
    services.cancel_appointment(moved, APPLICANT, by=CancelledBy.APPLICANT, now=now)
    # Moved, then the newer one cancelled: neither convocation is valid.
    assert convocations.for_proof(payload, now=now).state == convocations.CANCELLED
    assert convocations.for_proof(verify_token(newer.token).payload, now=now).state == convocations.CANCELLED


def test_an_appointment_already_moved_is_not_moved_again(world, day, now):
    booked = book(world, day, now)
    services.rebook_appointment(booked, MANAGER, reason=REASON, now=now)
    with pytest.raises(Conflict) as refused:
        services.rebook_appointment(booked, MANAGER, reason=REASON, now=now)
    assert refused.value.code == "appointment_not_active"
    assert Appointment.objects.filter(request=booked.request, status=AppointmentStatus.CONFIRMED).count() == 1


def test_a_reason_is_required_and_nothing_changes_without_one(world, day, now):
    booked = book(world, day, now)
    close(world, day, site=world.sites[0])
    with pytest.raises(InvalidInput):
        affected.settle_all(world.prefecture, MANAGER, reason="  ", now=now)
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CONFIRMED
    assert not Offer.objects.filter(request=booked.request, status=OfferStatus.WITHDRAWN).exists()
