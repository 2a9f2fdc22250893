"""Two managers settling what a closure affects at the same moment, on PostgreSQL with real parallel
transactions: one appointment moved by several at once gets exactly one new appointment; several appointments
moved at once to the same few free slots never share one. The control switches the locks off, then the
constraint too, and shows the double booking happening, so that these tests can fail."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from guichet import locking
from guichet.allocation import candidates
from guichet.appointments import services
from guichet.appointments.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, AppointmentStatus
from guichet.capacity.models import Hold, Slot
from guichet.catalog.models import Closure
from guichet.evidence.audit import Actor, verify_chain
from guichet.waitlist.models import AppointmentRequest
from tests.appointments import builders
from tests.appointments.test_concurrency import _dropped, kinds, race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
REASON = "Fermeture exceptionnelle du site"


def manager(index: int) -> Actor:
    return Actor("staff", f"manager-{index}", None)


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def day(world, now):
    return builders.generated_week_ahead(world, now)


def active_for(request_id: int) -> int:
    return Appointment.objects.filter(request_id=request_id, status__in=ACTIVE_APPOINTMENT_STATUSES).count()


def no_slot_held_twice() -> bool:
    twice = (
        Appointment.objects.filter(status__in=ACTIVE_APPOINTMENT_STATUSES)
        .values("slot_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    return not twice.exists()


def test_several_managers_moving_one_appointment_at_once_give_it_one_new_appointment(world, day, now):
    booked = builders.booked(world, day, now)
    Closure.objects.create(site=world.sites[0], start_date=day, end_date=day, reason="Formation")
    results = race(8, lambda i: services.rebook_appointment(booked, manager(i), reason=REASON, now=now))
    assert kinds(results) == Counter({"won": 1, "refused": 7}), results
    assert {value for kind, value in results if kind == "refused"} == {"appointment_not_active"}
    assert active_for(booked.request_id) == 1
    assert Hold.objects.filter(request_id=booked.request_id).count() == 1
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CANCELLED and booked.replaced_by is not None
    assert no_slot_held_twice() and verify_chain(world.prefecture.code) == []


def test_appointments_moved_at_once_to_the_same_free_slots_never_share_one(world, day, now):
    people = [
        builders.booked(world, day, now, hour=9 + index // 2, minute=30 * (index % 2)) for index in range(6)
    ]
    # Few free slots, the same earliest ones for everybody: the racers all reach for them.
    keep = {slot.pk for slot in candidates.candidate_slots(people[0].request, now, limit=3)}
    Slot.objects.filter(hold__isnull=True).exclude(pk__in=keep).delete()
    results = race(6, lambda i: services.rebook_appointment(people[i], manager(i), reason=REASON, now=now))
    assert kinds(results)["won"] == 6, results
    moved = [value.moved_to for kind, value in results if value.moved_to is not None]
    assert len(moved) == 3 and {appointment.slot_id for appointment in moved} == keep
    for person in people:
        assert active_for(person.request_id) <= 1
    assert no_slot_held_twice() and Hold.objects.count() == 3
    assert verify_chain(world.prefecture.code) == []


def _unlocked(monkeypatch) -> None:
    """The locks of guichet.locking replaced by plain reads: what the services would be without them."""
    monkeypatch.setattr(
        locking,
        "request",
        lambda pk: AppointmentRequest.objects.select_related("prefecture", "procedure").get(pk=pk),
    )
    monkeypatch.setattr(locking, "slot", lambda pk: Slot.objects.select_related("counter__site").get(pk=pk))
    monkeypatch.setattr(
        locking,
        "appointment",
        lambda pk: Appointment.objects.select_related("slot__counter__site").get(pk=pk),
    )


def test_control_without_locks_the_constraint_refuses_and_without_it_one_person_is_booked_twice(
    world, day, now, monkeypatch
):
    _unlocked(monkeypatch)
    first = builders.booked(world, day, now)
    free = candidates.candidate_slots(first.request, now, limit=12)

    def move(appointment, index):
        return services.move_appointment(appointment, free[index], manager(index), reason=REASON, now=now)

    results = race(6, lambda i: move(first, i))
    # Every racer read the appointment confirmed; only the database's one active appointment per request
    # stopped the others.
    assert kinds(results)["won"] == 1 and active_for(first.request_id) == 1, results
    assert {value for kind, value in results if kind == "refused"} <= {"slot_taken", "appointment_not_active"}

    second = builders.booked(world, day, now, hour=11)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'one_active_appointment_per_request'"
        )
        (index,) = cursor.fetchone()
    restore = _dropped([("DROP INDEX one_active_appointment_per_request", index)])
    try:
        results = race(6, lambda i: move(second, 6 + i))
        winners = kinds(results)["won"]
        # The person now holds several appointments: what the protected test shows never happens.
        assert winners > 1 and active_for(second.request_id) == winners, results
    finally:
        Appointment.objects.filter(request_id=second.request_id).exclude(pk=second.pk).update(
            status=AppointmentStatus.CANCELLED
        )
        with connection.cursor() as cursor:
            for sql in restore:
                cursor.execute(sql)
