"""Integrity under concurrency, on PostgreSQL with real parallel transactions (one connection per thread).

Many racers for one slot or one offer give exactly one winner and a clear answer to the others; the
allocation racing with answers, cancellations and lapses never gives a slot twice. The control at the end
switches the protection off (no lock, constraints dropped) and shows the race happening, so that these
tests can fail.
"""

from __future__ import annotations

import datetime
import random
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from guichet.allocation.service import allocate
from guichet.appointments import services
from guichet.appointments.models import (
    ACTIVE_APPOINTMENT_STATUSES,
    Appointment,
    CancelledBy,
    Offer,
    OfferSource,
    OfferStatus,
)
from guichet.capacity.models import Hold
from guichet.errors import DomainError
from guichet.evidence.audit import APPLICANT, SYSTEM, verify_chain
from guichet.evidence.models import Proof
from guichet.waitlist.models import AppointmentRequest, RequestStatus
from tests.appointments import builders

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RACERS = 50


def race(count: int, action: Callable[[int], object]) -> list[tuple[str, object]]:
    """Run action(0..count-1) in `count` threads released together; each result is (kind, value).

    kind is "won" (returned), "refused" (a DomainError: value is its code) or "error" (anything else).
    """
    barrier = threading.Barrier(count)
    results: list[tuple[str, object]] = [("error", "did not run")] * count

    def run(index: int) -> None:
        try:
            connection.ensure_connection()  # connect first, so that the race itself starts together
            barrier.wait(timeout=60)
            results[index] = ("won", action(index))
        except DomainError as refused:
            results[index] = ("refused", refused.code)
        except Exception as error:  # reported by the test, never swallowed
            results[index] = ("error", repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def kinds(results) -> Counter:
    return Counter(kind for kind, _ in results)


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def day(world, now):
    return builders.weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 4)


def test_fifty_accepts_of_one_offer_make_one_appointment(world, now, day):
    c1 = world.counters[0]
    req = builders.request(world)
    offer = builders.offer(req, builders.slot(c1, builders.at_local(c1, day, 9)), now=now)

    results = race(RACERS, lambda _: services.accept_offer(offer, APPLICANT).pk)

    assert kinds(results) == {"won": 1, "refused": RACERS - 1}, results
    assert {value for kind, value in results if kind == "refused"} == {"offer_already_accepted"}
    appointment = Appointment.objects.get()
    assert [value for kind, value in results if kind == "won"] == [appointment.pk]
    assert Proof.objects.filter(request=req, event="appointment_confirmed").count() == 1
    assert verify_chain(world.prefecture.code) == []


def test_fifty_people_picking_one_open_slot_give_one_holder(world, now, day):
    c2 = world.counters[1]
    the_slot = builders.slot(c2, builders.at_local(c2, day, 14))
    people = [
        builders.request(world, "collection", received_at=now - datetime.timedelta(minutes=1))
        for _ in range(RACERS)
    ]

    results = race(RACERS, lambda i: services.hold_open_slot(people[i], the_slot, APPLICANT).pk)

    assert kinds(results) == {"won": 1, "refused": RACERS - 1}, results
    assert {value for kind, value in results if kind == "refused"} == {"slot_taken"}
    hold = Hold.objects.get(slot=the_slot)
    offer = Offer.objects.get(slot=the_slot, status=OfferStatus.PENDING)
    assert hold.request_id == offer.request_id
    assert AppointmentRequest.objects.filter(status=RequestStatus.OFFERED).count() == 1
    assert AppointmentRequest.objects.filter(status=RequestStatus.WAITING).count() == RACERS - 1


def test_overlapping_appointments_at_one_counter_are_refused_by_the_exclusion_constraint(world, now, day):
    c1 = world.counters[0]
    start = builders.at_local(c1, day, 9)
    # 20 distinct slots of one counter, each starting a minute after the other: they all overlap.
    offers = [
        builders.offer(
            builders.request(world), builders.slot(c1, start + datetime.timedelta(minutes=k)), now=now
        )
        for k in range(20)
    ]

    results = race(len(offers), lambda i: services.accept_offer(offers[i], APPLICANT).pk)

    assert kinds(results) == {"won": 1, "refused": len(offers) - 1}, results
    assert {value for kind, value in results if kind == "refused"} == {"slot_taken"}
    assert Appointment.objects.filter(status__in=ACTIVE_APPOINTMENT_STATUSES).count() == 1


def check_invariants(prefecture_code: str) -> None:
    """Nothing is held twice, and every request's status agrees with what it holds."""
    pending = Counter(Offer.objects.filter(status=OfferStatus.PENDING).values_list("slot_id", flat=True))
    active = Counter(
        Appointment.objects.filter(status__in=ACTIVE_APPOINTMENT_STATUSES).values_list("slot_id", flat=True)
    )
    holds = dict(Hold.objects.values_list("slot_id", "kind"))
    for slot_id in set(pending) | set(active) | set(holds):
        holders = pending[slot_id] + active[slot_id]
        assert holders == 1, f"slot {slot_id} has {holders} holders"
        expected = Hold.Kind.OFFER if pending[slot_id] else Hold.Kind.APPOINTMENT
        assert holds.get(slot_id) == expected, (
            f"slot {slot_id}: hold {holds.get(slot_id)}, expected {expected}"
        )
    offers_by_request = Counter(
        Offer.objects.filter(status=OfferStatus.PENDING).values_list("request_id", flat=True)
    )
    appointments_by_request = Counter(
        Appointment.objects.filter(status__in=ACTIVE_APPOINTMENT_STATUSES).values_list(
            "request_id", flat=True
        )
    )
    for pk, status in AppointmentRequest.objects.values_list("pk", "status"):
        offers, appointments = offers_by_request[pk], appointments_by_request[pk]
        assert offers <= 1 and appointments <= 1, (
            f"request {pk}: {offers} offers, {appointments} appointments"
        )
        expected = {
            RequestStatus.OFFERED: (1, 0),
            RequestStatus.SCHEDULED: (0, 1),
        }.get(status, (0, 0))
        assert (offers, appointments) == expected, (
            f"request {pk} is {status} with {offers} offers, {appointments} appt"
        )
    assert verify_chain(prefecture_code) == []


def test_allocation_racing_with_answers_cancellations_and_lapses(world, now, day):
    c1, c2, c3 = world.counters
    for offset in range(4):
        when = day + datetime.timedelta(days=offset)
        for hour in (9, 10, 11):
            builders.slot(c1, builders.at_local(c1, when, hour))
            builders.slot(c3, builders.at_local(c3, when, hour))
            builders.slot(c2, builders.at_local(c2, when, hour + 4))
    for index in range(70):
        builders.request(world, ("first", "renewal")[index % 2], due_in_days=1 + index % 20)
    allocate(world.prefecture)  # a first run, so that the race starts with offers to answer
    deadline = time.monotonic() + 5
    rng_lock = threading.Lock()
    rng = random.Random(7)

    def pick(ids):
        with rng_lock:
            return rng.choice(ids) if ids else None

    def allocator():
        runs = 0
        while time.monotonic() < deadline:
            allocate(world.prefecture)
            runs += 1
        return runs

    def acceptor():
        done = 0
        while time.monotonic() < deadline:
            offer_id = pick(
                list(Offer.objects.filter(status=OfferStatus.PENDING).values_list("pk", flat=True))
            )
            if offer_id is None:
                continue
            try:
                services.accept_offer(Offer.objects.get(pk=offer_id), APPLICANT)
                done += 1
            except DomainError:
                pass
        return done

    def decliner():
        done = 0
        while time.monotonic() < deadline:
            offer_id = pick(
                list(Offer.objects.filter(status=OfferStatus.PENDING).values_list("pk", flat=True))
            )
            if offer_id is None:
                continue
            try:
                services.decline_offer(Offer.objects.get(pk=offer_id), APPLICANT, reason="race")
                done += 1
            except DomainError:
                pass
        return done

    def canceller():
        done = 0
        while time.monotonic() < deadline:
            ids = list(Appointment.objects.filter(status="confirmed").values_list("pk", flat=True))
            appointment_id = pick(ids)
            if appointment_id is None:
                continue
            appointment = Appointment.objects.get(pk=appointment_id)
            try:
                if done % 2:
                    services.cancel_appointment(appointment, APPLICANT, by=CancelledBy.APPLICANT, rebook=True)
                else:
                    services.cancel_appointment(appointment, SYSTEM, by=CancelledBy.PREFECTURE, reason="race")
                done += 1
            except DomainError:
                pass
        return done

    def releaser():
        released = 0
        while time.monotonic() < deadline:
            time.sleep(0.05)
            ids = list(
                AppointmentRequest.objects.filter(
                    status__in=(RequestStatus.OFFERED, RequestStatus.SCHEDULED)
                ).values_list("pk", flat=True)
            )
            request_id = pick(ids)
            if request_id is not None:
                # What a withdrawal or a change of name does first (the request then waits again here).
                released += services.release_for_request(
                    AppointmentRequest.objects.get(pk=request_id), SYSTEM, "race"
                )
        return released

    def lapser():
        lapsed = 0
        while time.monotonic() < deadline:
            time.sleep(0.5)
            # As if the answer time had passed for every offer made so far.
            lapsed += services.lapse_due_offers(now=timezone.now() + datetime.timedelta(days=30))
        return lapsed

    workers = [allocator, allocator, acceptor, acceptor, decliner, canceller, releaser, lapser]
    results = race(len(workers), lambda i: workers[i]())

    assert kinds(results) == {"won": len(workers)}, results
    counts = dict(
        zip(
            ["allocate", "allocate", "accept", "accept", "decline", "cancel", "release", "lapse"],
            [value for _, value in results],
            strict=False,
        )
    )
    # The race really raced: every kind of change happened.
    assert all(value > 0 for value in counts.values()), counts
    check_invariants(world.prefecture.code)


# --- The control: switch the protection off and watch the race happen ---------------------------------


def naive_hold(request: AppointmentRequest, slot_id: int, pause: float) -> int:
    """Check, then write, with no lock: the mistake the locking helper and the constraints exist to stop."""
    with transaction.atomic():
        if Hold.objects.filter(slot_id=slot_id).exists():
            raise DomainError("slot_taken", "taken")
        time.sleep(pause)  # the gap between the check and the write, widened so the race shows every time
        now = timezone.now()
        offer = Offer.objects.create(
            request=request,
            slot_id=slot_id,
            source=OfferSource.CHOSEN,
            created_at=now,
            expires_at=now + datetime.timedelta(minutes=10),
        )
        Hold.objects.create(slot_id=slot_id, request=request, kind=Hold.Kind.OFFER)
        return offer.pk


def naive_race(world, day, hour: int) -> list[tuple[str, object]]:
    c2 = world.counters[1]
    the_slot = builders.slot(c2, builders.at_local(c2, day, hour))
    people = [builders.request(world, "collection") for _ in range(RACERS)]

    def attempt(i: int) -> int:
        try:
            return naive_hold(people[i], the_slot.pk, pause=0.2)
        except IntegrityError as refused:
            raise DomainError("constraint", "refused by the database") from refused

    return race(RACERS, attempt)


def _dropped(statements: list[tuple[str, str]]):
    """Drop constraints/indexes now; give back the SQL to restore them."""
    restore = []
    with connection.cursor() as cursor:
        for drop, create in statements:
            cursor.execute(drop)
            restore.append(create)
    return restore


def test_control_without_locks_the_constraints_stop_the_race_and_without_them_it_happens(world, now, day):
    """The control: proves the tests above can fail. Nothing but the protection differs.

    First with the constraints and no lock: the database alone refuses all but one. Then with the
    constraints dropped too: the slot is given several times.
    """
    results = naive_race(world, day, 14)
    assert kinds(results)["won"] == 1, results
    assert "constraint" in {value for kind, value in results if kind == "refused"}
    assert Hold.objects.count() == 1
    Hold.objects.all().delete()
    Offer.objects.all().delete()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'capacity_hold'::regclass AND contype = 'u'"
        )
        hold_unique = cursor.fetchall()
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'one_pending_offer_per_slot'")
        (offer_index,) = cursor.fetchone()
    assert hold_unique, "the hold table's unique constraint on the slot"
    statements = [
        (
            f"ALTER TABLE capacity_hold DROP CONSTRAINT {name}",
            f"ALTER TABLE capacity_hold ADD CONSTRAINT {name} {definition}",
        )
        for name, definition in hold_unique
    ]
    statements.append(("DROP INDEX one_pending_offer_per_slot", offer_index))
    restore = _dropped(statements)
    try:
        results = naive_race(world, day, 15)
        winners = kinds(results)["won"]
        assert kinds(results)["error"] == 0, results
        # The slot was given more than once: exactly what the protected tests show never happens.
        assert winners > 1, results
        assert Hold.objects.count() == winners
    finally:
        Hold.objects.all().delete()
        Offer.objects.all().delete()
        with connection.cursor() as cursor:
            for sql in restore:
                cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'one_pending_offer_per_slot'")
        assert cursor.fetchone()[0] == 1
