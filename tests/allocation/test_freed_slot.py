"""The freed-slot path: one slot to the request the full engine would give it, in one short transaction."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guichet.allocation import engine, service, tasks
from guichet.allocation.freed_slot import offer_freed_slot
from guichet.allocation.service import allocate
from guichet.appointments import services
from guichet.appointments.models import Appointment, CancelledBy, Offer, OfferStatus
from guichet.capacity.models import Hold
from guichet.evidence.audit import APPLICANT, verify_chain
from guichet.evidence.models import Proof
from guichet.notifications.models import OutboxMessage
from guichet.waitlist.models import RequestStatus
from tests.appointments import builders
from tests.factories import world as make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


def holder(slot_id: int) -> int | None:
    """The request a slot was given to (pending offer or appointment), or None."""
    hold = Hold.objects.filter(slot_id=slot_id).first()
    return hold.request_id if hold else None


def test_a_cancelled_appointment_goes_to_the_next_request_that_suits_it(world, now):
    c1, _, c3 = world.counters
    day = builders.weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 5)
    slot = builders.slot(c1, builders.at_local(c1, day, 9))
    first = builders.request(world, due_in_days=3)
    allocate(world.prefecture, now=now)
    offer = Offer.objects.get(request=first)
    appointment = services.accept_offer(offer, APPLICANT, now=now)
    # Waiting now, in serving order: one at the other site only, one needing step-free access at a site
    # that has it (it suits), one later.
    elsewhere = builders.request(world, due_in_days=5, sites=(world.sites[1],))
    step_free = builders.request(world, due_in_days=6, needs_step_free=True)
    later = builders.request(world, due_in_days=9)
    services.cancel_appointment(appointment, APPLICANT, by=CancelledBy.APPLICANT, now=now)
    assert holder(slot.pk) is None

    run = offer_freed_slot(slot.pk, now=now)

    assert run.outcome == "offered" and run.request_id == step_free.pk
    given_offer = Offer.objects.get(slot=slot, status=OfferStatus.PENDING)
    assert given_offer.request_id == step_free.pk and holder(slot.pk) == step_free.pk
    step_free.refresh_from_db()
    assert step_free.status == RequestStatus.OFFERED
    assert Proof.objects.filter(request=step_free, event="offer_made").count() == 1
    assert OutboxMessage.objects.filter(request=step_free, kind="offer_made").exists()
    assert not Offer.objects.filter(request__in=[elsewhere, later]).exists()
    assert verify_chain(world.prefecture.code) == []
    # A second pass finds the slot held: nothing changes.
    assert offer_freed_slot(slot.pk, now=now).outcome == "not_free"
    assert c3  # the other site's counter exists, with no slot: `elsewhere` cannot be served


def test_someone_reachable_only_by_post_is_confirmed_directly(world, now):
    c1 = world.counters[0]
    procedure = world.procedures["first"]
    slot = builders.slot(c1, now + datetime.timedelta(hours=procedure.postal_notice_hours + 30))
    letter = builders.by_post(world, due_in_days=1)
    run = offer_freed_slot(slot.pk, now=now)
    assert run.outcome == "confirmed"
    assert Appointment.objects.get(slot=slot).request_id == letter.pk


def test_a_slot_too_soon_for_a_letter_goes_to_the_next_person_with_an_email(world, now):
    c1 = world.counters[0]
    procedure = world.procedures["first"]
    assert procedure.postal_notice_hours > procedure.minimum_notice_hours
    slot = builders.slot(c1, now + datetime.timedelta(hours=procedure.minimum_notice_hours + 2))
    builders.by_post(world, due_in_days=1)
    email = builders.request(world, due_in_days=8)
    assert offer_freed_slot(slot.pk, now=now).request_id == email.pk


def test_a_declined_slot_is_not_offered_again_to_the_one_who_declined_it(world, now):
    c1 = world.counters[0]
    day = builders.weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 5)
    slot = builders.slot(c1, builders.at_local(c1, day, 9))
    first = builders.request(world, due_in_days=2)
    second = builders.request(world, due_in_days=7)
    allocate(world.prefecture, now=now)
    services.decline_offer(Offer.objects.get(request=first), APPLICANT, now=now)
    assert offer_freed_slot(slot.pk, now=now).request_id == second.pk


def test_nobody_suits_and_a_held_slot_are_left_alone(world, now):
    c2 = world.counters[1]  # renewal and collection only
    day = builders.weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 5)
    slot = builders.slot(c2, builders.at_local(c2, day, 14))
    builders.request(world, due_in_days=2)  # first permit: c2 does not serve it
    assert offer_freed_slot(slot.pk, now=now).outcome == "nobody"
    assert holder(slot.pk) is None


def test_freeing_a_slot_queues_the_freed_slot_task_on_commit(world, now, django_capture_on_commit_callbacks):
    c1 = world.counters[0]
    day = builders.weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 5)
    slot = builders.slot(c1, builders.at_local(c1, day, 9))
    first = builders.request(world, due_in_days=2)
    offer = builders.offer(first, slot, now=now)
    appointment = services.accept_offer(offer, APPLICANT, now=now)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_appointment(appointment, APPLICANT, by=CancelledBy.APPLICANT, now=now)
    queued = DBTaskResult.objects.get(queue_name=tasks.FREED_SLOTS_QUEUE)
    assert queued.task_path.endswith("offer_freed_slots") and queued.args_kwargs["args"] == [[slot.pk]]


# --- The property: the same request as the full engine ------------------------------------------------------

MINUTES_AGO = st.sampled_from([2, 30, 600, 3000, 10000])
# Days around the rule's boundaries: the 24-hour notice, the 10-day postal notice (factory procedures), the
# person's earliest date and a renewal's filing window (opening 120 days before expiry) on the slot's day.
DAYS = st.sampled_from([0, 1, 2, 3, 9, 10, 11, 12])
requests_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "procedure": st.sampled_from(["first", "renewal", "collection"]),
            "due": st.integers(0, 4),
            "received": MINUTES_AGO,
            "sites": st.sampled_from(["any", "main", "annex", "both"]),
            "step_free": st.booleans(),
            "language": st.sampled_from(["", "", "ar", "es", "zh"]),
            "weekdays": st.lists(st.integers(0, 6), max_size=3, unique=True),
            "dates": st.lists(DAYS, max_size=2, unique=True),
            "by_post": st.booleans(),
            "earliest": st.one_of(st.none(), DAYS),
            "expires": st.one_of(st.none(), DAYS.map(lambda days: days + 120)),
        }
    ),
    min_size=1,
    max_size=8,
)
slot_strategy = st.tuples(st.integers(0, 2), DAYS, st.sampled_from([0, 9, 11, 23]))


@pytest.fixture
def catalogue(db):
    return make_world()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=requests_strategy, slots=st.lists(slot_strategy, min_size=1, max_size=4, unique=True))
def test_the_freed_slot_goes_to_the_request_the_full_engine_would_give_it(catalogue, people, slots):
    *others, freed = slots
    world = catalogue
    now = timezone.now().replace(microsecond=0)
    today = now.astimezone(world.prefecture.tzinfo).date()

    def make_slot(counter_index: int, days: int, hour: int):
        counter = world.counters[counter_index]
        # Local hours 0 and 23 put the slot on either side of midnight, where the day bounds are.
        return builders.slot(counter, builders.at_local(counter, today + datetime.timedelta(days=days), hour))

    with transaction.atomic():
        for person in people:
            builders.person(world, now, person)
        for other in others:
            make_slot(*other)
        # The queue as it stands between full runs: everything that could be given is.
        allocate(world.prefecture, now=now)
        slot = make_slot(*freed)

        loaded = service._World.load(world.prefecture, now)
        assignments = engine.allocate(loaded.requests, loaded.slots)
        # Settled: the full engine gives nothing but (maybe) the freed slot.
        assert {a.slot_id for a in assignments} <= {slot.pk}
        expected = assignments[0].request_id if assignments else None

        run = offer_freed_slot(slot.pk, now=now)

        assert holder(slot.pk) == expected == run.request_id
        transaction.set_rollback(True)


# --- Two slots freed at once, on PostgreSQL with real parallel transactions ---------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("paused", [True, False])
def test_two_slots_freed_at_once_for_the_same_best_request_make_one_offer_each(monkeypatch, paused):
    world = make_world()
    now = timezone.now().replace(microsecond=0)
    c1 = world.counters[0]
    day = builders.weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 5)
    slots = [builders.slot(c1, builders.at_local(c1, day, hour)) for hour in (9, 10)]
    best = builders.request(world, due_in_days=1)
    second = builders.request(world, due_in_days=2)
    third = builders.request(world, due_in_days=3)
    write = service._write
    first_in = threading.Event()
    second_done = threading.Event()

    def held_write(*args, **kwargs):
        # Paused: the first pass holds its request's lock until the other pass has finished, so the other
        # one meets that lock (SKIP LOCKED) instead of a committed offer.
        if paused and not first_in.is_set():
            first_in.set()
            second_done.wait(timeout=30)
        return write(*args, **kwargs)

    monkeypatch.setattr(service, "_write", held_write)
    results: dict[int, object] = {}
    barrier = threading.Barrier(2)

    def free(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            results[index] = offer_freed_slot(slots[index].pk, now=now)
        except Exception as error:  # reported below, never swallowed
            results[index] = error
        finally:
            if paused and first_in.is_set():
                second_done.set()
            connection.close()

    threads = [threading.Thread(target=free, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert all(getattr(result, "outcome", None) == "offered" for result in results.values()), results
    pending = Offer.objects.filter(status=OfferStatus.PENDING)
    assert sorted(pending.values_list("request_id", flat=True)) == sorted([best.pk, second.pk])
    assert {holder(slot.pk) for slot in slots} == {best.pk, second.pk}
    assert not Offer.objects.filter(request=third).exists()
    assert verify_chain(world.prefecture.code) == []
