"""Appointments: cancel (applicant, prefecture), move, check in, outcome, release, overlap at a counter."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from guichet.allocation.service import allocate
from guichet.appointments import services
from guichet.appointments.models import Appointment, AppointmentStatus, CancelledBy, Offer, OfferStatus
from guichet.capacity.models import Hold
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import APPLICANT, Actor
from guichet.evidence.models import Proof
from guichet.notifications.models import OutboxMessage
from guichet.waitlist.models import RequestStatus
from tests.appointments import builders

pytestmark = pytest.mark.django_db
AGENT = Actor("staff", "agent", None)


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def day(world, now):
    return builders.weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 4)


@pytest.fixture
def booked(world, now, day):
    c1 = world.counters[0]
    req = builders.request(world, due_in_days=3)
    offer = builders.offer(req, builders.slot(c1, builders.at_local(c1, day, 9)), now=now)
    return services.accept_offer(offer, APPLICANT, now=now)


def _state(appointment):
    appointment.refresh_from_db()
    appointment.request.refresh_from_db()
    return appointment.status, appointment.request.status, Hold.objects.filter(slot=appointment.slot).exists()


def test_applicant_cancels_and_gives_up(booked, now):
    services.cancel_appointment(booked, APPLICANT, by=CancelledBy.APPLICANT, now=now)
    assert _state(booked) == (AppointmentStatus.CANCELLED, RequestStatus.WITHDRAWN, False)
    assert booked.cancelled_by == CancelledBy.APPLICANT and booked.cancelled_at == now
    events = set(Proof.objects.filter(request=booked.request).values_list("event", flat=True))
    assert {"appointment_cancelled", "withdrawn"} <= events
    assert OutboxMessage.objects.filter(request=booked.request, kind="appointment_cancelled").exists()


def test_applicant_cancels_and_asks_for_another_slot(world, booked, now, day):
    due = booked.request.due_date
    c1 = world.counters[0]
    same_day = builders.slot(c1, builders.at_local(c1, day, 10))
    next_day = builders.slot(c1, builders.at_local(c1, day + datetime.timedelta(days=1), 9))
    services.cancel_appointment(booked, APPLICANT, by="applicant", rebook=True, now=now)
    assert _state(booked) == (AppointmentStatus.CANCELLED, RequestStatus.WAITING, False)
    assert booked.request.due_date == due
    allocate(world.prefecture, now=now)
    # Not offered the day they just cancelled.
    offer = Offer.objects.get(request=booked.request, status=OfferStatus.PENDING)
    assert offer.slot == next_day and offer.slot != same_day


def test_prefecture_cancellation_needs_a_reason_and_puts_the_request_back_first(world, booked, now, day):
    before = _state(booked)
    with pytest.raises(InvalidInput) as error:
        services.cancel_appointment(booked, AGENT, by=CancelledBy.PREFECTURE, reason="  ", now=now)
    assert "reason" in error.value.fields
    assert _state(booked) == before

    due = booked.request.due_date
    others = [builders.request(world, due_in_days=days) for days in (5, 6)]
    services.cancel_appointment(booked, AGENT, by=CancelledBy.PREFECTURE, reason="agent ill", now=now)
    assert _state(booked) == (AppointmentStatus.CANCELLED, RequestStatus.WAITING, False)
    assert booked.request.due_date == due and booked.cancel_reason == "agent ill"
    c1 = world.counters[0]
    # The same day is fine: the person did not refuse it. They come before the later due dates.
    builders.slot(c1, builders.at_local(c1, day, 11))
    allocate(world.prefecture, now=now)
    first = Offer.objects.filter(status=OfferStatus.PENDING).order_by("slot__starts_at").first()
    assert first.request == booked.request
    assert (
        Offer.objects.get(request=others[0], status=OfferStatus.PENDING).slot.starts_at > first.slot.starts_at
    )
    assert not Offer.objects.filter(request=others[1]).exists()


def test_cancelling_twice_is_harmless_and_a_finished_appointment_cannot_be_cancelled(booked, now):
    services.cancel_appointment(booked, APPLICANT, by=CancelledBy.APPLICANT, now=now)
    proofs = Proof.objects.count()
    services.cancel_appointment(booked, APPLICANT, by=CancelledBy.APPLICANT, now=now)
    assert Proof.objects.count() == proofs


def test_a_served_appointment_cannot_be_cancelled(booked):
    services.record_outcome(booked, "served", AGENT, now=booked.starts_at + datetime.timedelta(minutes=20))
    with pytest.raises(Conflict) as error:
        services.cancel_appointment(booked, AGENT, by=CancelledBy.PREFECTURE, reason="late")
    assert error.value.code == "appointment_not_active"


def test_the_applicant_cannot_cancel_once_it_started(booked):
    with pytest.raises(Conflict) as error:
        services.cancel_appointment(booked, APPLICANT, by=CancelledBy.APPLICANT, now=booked.starts_at)
    assert error.value.code == "appointment_started"


def test_who_cancels_must_be_known(booked, now):
    with pytest.raises(InvalidInput):
        services.cancel_appointment(booked, APPLICANT, by="someone", now=now)


def test_move_to_another_free_slot(world, booked, now, day):
    c1, c2, c3 = world.counters
    free = builders.slot(c3, builders.at_local(c3, day, 10))
    with pytest.raises(InvalidInput):
        services.move_appointment(booked, free, AGENT, reason="", now=now)

    moved = services.move_appointment(booked, free, AGENT, reason="counter closed", now=now)

    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED and booked.cancelled_by == CancelledBy.PREFECTURE
    assert moved.status == AppointmentStatus.CONFIRMED and moved.slot == free and moved.counter == c3
    assert not Hold.objects.filter(slot=booked.slot).exists()
    assert Hold.objects.get(slot=free).kind == Hold.Kind.APPOINTMENT
    moved.request.refresh_from_db()
    assert moved.request.status == RequestStatus.SCHEDULED
    assert OutboxMessage.objects.filter(request=moved.request, kind="appointment_changed").exists()


def test_move_refuses_a_taken_or_unsuitable_slot(world, booked, now, day):
    c1, c2, c3 = world.counters
    other = builders.request(world)
    taken = builders.slot(c3, builders.at_local(c3, day, 10))
    builders.offer(other, taken, now=now)
    with pytest.raises(Conflict) as error:
        services.move_appointment(booked, taken, AGENT, reason="r", now=now)
    assert error.value.code == "slot_taken"
    wrong = builders.slot(c2, builders.at_local(c2, day, 14))  # renewal and collection only
    with pytest.raises(InvalidInput) as error:
        services.move_appointment(booked, wrong, AGENT, reason="r", now=now)
    assert error.value.code == "slot_incompatible"
    past = builders.slot(c1, now - datetime.timedelta(hours=2))
    with pytest.raises(InvalidInput):
        services.move_appointment(booked, past, AGENT, reason="r", now=now)
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CONFIRMED


def test_check_in_on_the_day_only(booked):
    with pytest.raises(Conflict) as error:
        services.check_in(booked, AGENT, now=booked.starts_at - datetime.timedelta(days=1))
    assert error.value.code == "appointment_not_today"
    arrived = booked.starts_at - datetime.timedelta(minutes=10)
    services.check_in(booked, AGENT, now=arrived)
    services.check_in(booked, AGENT, now=arrived)  # a second scan changes nothing
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CHECKED_IN and booked.checked_in_at == arrived
    assert Proof.objects.filter(request=booked.request, event="checked_in").count() == 1


def test_served(booked):
    services.check_in(booked, AGENT, now=booked.starts_at)
    services.record_outcome(booked, "served", AGENT, note="récépissé issued", now=booked.starts_at)
    assert _state(booked)[:2] == (AppointmentStatus.SERVED, RequestStatus.SERVED)
    assert booked.outcome == "récépissé issued"
    assert Proof.objects.filter(request=booked.request, event="served").exists()


def test_no_show_pauses_the_request(booked):
    with pytest.raises(Conflict):
        services.record_outcome(
            booked, "no_show", AGENT, now=booked.starts_at - datetime.timedelta(minutes=1)
        )
    services.record_outcome(booked, "no_show", AGENT, now=booked.starts_at + datetime.timedelta(minutes=30))
    assert _state(booked)[:2] == (AppointmentStatus.NO_SHOW, RequestStatus.PAUSED)
    assert {"no_show", "paused"} <= set(
        Proof.objects.filter(request=booked.request).values_list("event", flat=True)
    )


def test_outcome_input_is_checked(booked):
    with pytest.raises(InvalidInput):
        services.record_outcome(booked, "vanished", AGENT)
    with pytest.raises(InvalidInput):
        services.record_outcome(booked, "served", AGENT, note="x" * 41)
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CONFIRMED


def test_release_for_request_frees_an_appointment_and_an_offer(world, booked, now, day):
    assert services.release_for_request(booked.request, AGENT, "name changed", now=now) == 1
    assert _state(booked) == (AppointmentStatus.CANCELLED, RequestStatus.WAITING, False)
    c1 = world.counters[0]
    req = builders.request(world)
    offer = builders.offer(req, builders.slot(c1, builders.at_local(c1, day, 11)), now=now)
    with transaction.atomic():  # as the waitlist calls it, inside its own transaction
        assert services.release_for_request(req, APPLICANT, "withdrawn", now=now) == 1
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert not Hold.objects.filter(slot=offer.slot).exists()
    assert services.release_for_request(req, APPLICANT, "again", now=now) == 0


@pytest.mark.postgres
def test_two_live_appointments_never_overlap_at_one_counter(world, booked, now):
    c1 = world.counters[0]
    other = builders.request(world)
    # A hand-made slot that overlaps the booked one by 15 minutes (no hold conflict: another slot).
    overlapping = builders.slot(c1, booked.starts_at + datetime.timedelta(minutes=15))
    with pytest.raises(IntegrityError), transaction.atomic():
        Appointment.objects.create(
            request=other,
            slot=overlapping,
            counter=c1,
            starts_at=overlapping.starts_at,
            ends_at=overlapping.ends_at,
            confirmed_at=now,
        )
    # Through the service, the same refusal is a clear "slot_taken".
    offer = builders.offer(other, overlapping, now=now)
    with pytest.raises(Conflict) as error:
        services.accept_offer(offer, APPLICANT, now=now)
    assert error.value.code == "slot_taken"
    offer.refresh_from_db()
    assert offer.status == OfferStatus.PENDING


def test_a_reason_is_cleaned_like_every_other_free_text(booked, now):
    """One text cleaner (waitlist.validation.clean_text): a NUL byte or a bidirectional control in a reason
    is refused with a message on the field (PostgreSQL cannot store a NUL: it used to end in a 500), and
    spaces are collapsed as in every other free text."""
    before = _state(booked)
    for bad in ("agent\x00ill", "agent\u202eill", "x" * (services.MAX_REASON + 1)):
        with pytest.raises(InvalidInput) as error:
            services.cancel_appointment(booked, AGENT, by=CancelledBy.PREFECTURE, reason=bad, now=now)
        assert list(error.value.fields) == ["reason"]
        assert _state(booked) == before
    services.cancel_appointment(booked, AGENT, by=CancelledBy.PREFECTURE, reason="  agent   ill ", now=now)
    booked.refresh_from_db()
    assert booked.cancel_reason == "agent ill"


def test_staff_cannot_move_a_wheelchair_user_to_a_site_without_step_free_access(world, booked, now, day):
    from guichet.backoffice.services import free_slots_for

    c1, c2, c3 = world.counters
    booked.request.needs_step_free = True
    booked.request.save()
    raincy = builders.slot(c3, builders.at_local(c3, day, 10))  # Le Raincy has no step-free access
    bobigny = builders.slot(c1, builders.at_local(c1, day, 11))
    assert [slot.pk for slot in free_slots_for(booked)] == [bobigny.pk]
    with pytest.raises(InvalidInput) as error, translation.override("en"):
        services.move_appointment(booked, raincy, AGENT, reason="counter closed", now=now)
    assert error.value.code == "slot_incompatible" and "step-free" in error.value.fields["slot"][0]
    moved = services.move_appointment(booked, bobigny, AGENT, reason="counter closed", now=now)
    assert moved.slot == bobigny


def test_staff_moves_keep_to_the_days_the_person_can_come_and_book_an_interpreter(world, booked, now, day):
    from guichet.backoffice.services import free_slots_for

    c1, c2, c3 = world.counters
    booked.request.unavailable_dates = [day.isoformat()]
    booked.request.interpreter_language = "es"
    booked.request.save()
    that_day = builders.slot(c1, builders.at_local(c1, day, 10))
    next_day = builders.weekday_after(day, 1)
    later = builders.slot(c1, builders.at_local(c1, next_day, 10))
    spanish = builders.slot(c3, builders.at_local(c3, next_day, 11))
    offered = free_slots_for(booked)
    assert [slot.pk for slot in offered] == [later.pk, spanish.pk]
    assert [slot.interpreter_to_book for slot in offered] == ["es", ""]
    with pytest.raises(InvalidInput):
        services.move_appointment(booked, that_day, AGENT, reason="r", now=now)
    moved = services.move_appointment(booked, later, AGENT, reason="r", now=now)
    assert moved.interpreter_language == "es"
