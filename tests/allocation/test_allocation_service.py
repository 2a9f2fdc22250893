"""The allocation service: offers in due-date order, every compatibility rule, postal confirmation, proofs."""

import datetime

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from guichet import locking
from guichet.allocation.service import allocate
from guichet.appointments import rules, services
from guichet.appointments.models import Appointment, AppointmentStatus, Offer, OfferSource, OfferStatus
from guichet.capacity.models import Hold
from guichet.catalog.models import Closure
from guichet.evidence.audit import APPLICANT, verify_chain
from guichet.evidence.models import Proof
from guichet.notifications.models import OutboxMessage
from guichet.waitlist.models import RequestStatus
from tests.appointments import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def day(world, now):
    """A weekday far enough ahead for every notice but the postal one."""
    return builders.weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 4)


def test_the_earliest_due_date_gets_the_earliest_slot(world, now, day):
    c1 = world.counters[0]
    early = builders.slot(c1, builders.at_local(c1, day, 9))
    late = builders.slot(c1, builders.at_local(c1, day, 10))
    third = builders.request(world, due_in_days=20)
    first = builders.request(world, due_in_days=5)
    second = builders.request(world, due_in_days=10)
    not_served = builders.request(world, due_in_days=40)

    report = allocate(world.prefecture, now=now)

    assert report.offers == 2 and report.confirmed == 0
    assert Offer.objects.get(request=first).slot == early
    assert Offer.objects.get(request=second).slot == late
    assert not Offer.objects.filter(request__in=[third, not_served]).exists()
    for req in (first, second):
        req.refresh_from_db()
        assert req.status == RequestStatus.OFFERED
        assert Proof.objects.filter(request=req, event="offer_made").count() == 1
        assert OutboxMessage.objects.filter(request=req, kind="offer_made", channel="email").count() == 1
    third.refresh_from_db()
    assert third.status == RequestStatus.WAITING
    assert set(Hold.objects.values_list("slot_id", "kind")) == {(early.pk, "offer"), (late.pk, "offer")}
    assert verify_chain(world.prefecture.code) == []
    assert "2 offers" in str(report)


def test_ties_are_broken_by_received_time(world, now, day):
    c1 = world.counters[0]
    only = builders.slot(c1, builders.at_local(c1, day, 9))
    later = builders.request(world, due_in_days=5, received_at=now - datetime.timedelta(hours=1))
    earlier = builders.request(world, due_in_days=5, received_at=now - datetime.timedelta(hours=5))
    allocate(world.prefecture, now=now)
    assert Offer.objects.get(slot=only).request == earlier
    assert not Offer.objects.filter(request=later).exists()


def test_offer_answer_time_follows_the_procedure_and_is_shorter_when_the_slot_is_near(world, now, day):
    c1 = world.counters[0]
    procedure = world.procedures["first"]
    far = builders.slot(c1, now + datetime.timedelta(days=10))
    near = builders.slot(c1, now + datetime.timedelta(hours=30))
    builders.request(world, due_in_days=5)
    builders.request(world, due_in_days=6)
    allocate(world.prefecture, now=now)
    far_offer = Offer.objects.get(slot=far)
    near_offer = Offer.objects.get(slot=near)
    assert far_offer.expires_at == now + datetime.timedelta(hours=procedure.offer_validity_hours)
    # 30 hours before the slot: half of them to answer, the other half to give the slot to someone else.
    assert near_offer.expires_at == now + datetime.timedelta(hours=15)


def test_offer_expiry_rule():
    now = datetime.datetime(2030, 1, 7, 8, tzinfo=datetime.UTC)
    assert rules.offer_expires_at(now, now + datetime.timedelta(days=30), 72) == now + datetime.timedelta(
        hours=72
    )
    assert rules.offer_expires_at(now, now + datetime.timedelta(hours=48), 72) == now + datetime.timedelta(
        hours=24
    )
    assert rules.offer_expires_at(now, now + datetime.timedelta(seconds=1), 72) > now


def test_minimum_notice_is_respected(world, now):
    c1 = world.counters[0]
    too_soon = builders.slot(
        c1, now + datetime.timedelta(hours=world.procedures["first"].minimum_notice_hours - 1)
    )
    past = builders.slot(c1, now - datetime.timedelta(hours=1))
    req = builders.request(world)
    assert allocate(world.prefecture, now=now).offers == 0
    assert not Offer.objects.filter(slot__in=[too_soon, past]).exists()
    req.refresh_from_db()
    assert req.status == RequestStatus.WAITING


def test_someone_reachable_only_by_post_is_confirmed_directly_with_the_longer_notice(world, now):
    c1 = world.counters[0]
    procedure = world.procedures["first"]
    assert procedure.postal_notice_hours > procedure.minimum_notice_hours
    soon = builders.slot(c1, now + datetime.timedelta(hours=procedure.minimum_notice_hours + 24))
    later = builders.slot(c1, now + datetime.timedelta(hours=procedure.postal_notice_hours + 24))
    letter = builders.by_post(world, due_in_days=1)
    email = builders.request(world, due_in_days=9)

    report = allocate(world.prefecture, now=now)

    assert report.confirmed == 1 and report.offers == 1
    # The earliest due date could not take the near slot (its letter must arrive first): it went to the next.
    assert Offer.objects.get(request=email).slot == soon
    appointment = Appointment.objects.get(request=letter)
    assert appointment.slot == later and appointment.status == AppointmentStatus.CONFIRMED
    assert (appointment.counter, appointment.starts_at, appointment.ends_at) == (
        c1,
        later.starts_at,
        later.ends_at,
    )
    assert appointment.offer is None
    assert Hold.objects.get(slot=later).kind == Hold.Kind.APPOINTMENT
    letter.refresh_from_db()
    assert letter.status == RequestStatus.SCHEDULED
    assert not Offer.objects.filter(request=letter).exists()
    assert Proof.objects.filter(request=letter, event="appointment_confirmed").count() == 1
    assert list(OutboxMessage.objects.filter(request=letter).values_list("kind", "channel")) == [
        ("appointment_confirmed", "letter")
    ]


def test_compatibility_language_step_free_sites_days_and_earliest_date(world, now, day):
    c1, c2, c3 = world.counters  # c1 Bobigny ar/en; c3 Le Raincy (no step-free access) es
    bobigny, raincy = world.sites
    next_week = day + datetime.timedelta(days=7)
    b_slot = builders.slot(c1, builders.at_local(c1, day, 9))
    r_slot = builders.slot(c3, builders.at_local(c3, day, 9))
    r_next = builders.slot(c3, builders.at_local(c3, next_week, 9))
    # Each request has an earlier due date than the next; each would take b_slot or r_slot if it could.
    spanish = builders.request(world, due_in_days=1, interpreter_language="es")
    wheelchair = builders.request(world, due_in_days=2, needs_step_free=True)
    raincy_only = builders.request(world, due_in_days=3, sites=(raincy,))
    not_that_day = builders.request(world, due_in_days=4, unavailable_dates=[day.isoformat()])
    not_that_weekday = builders.request(world, due_in_days=5, unavailable_weekdays=[day.weekday()])
    from_next_week = builders.request(world, due_in_days=6, earliest_date=next_week)

    allocate(world.prefecture, now=now)

    offers = {o.request_id: o.slot_id for o in Offer.objects.all()}
    assert offers[spanish.pk] == r_slot.pk  # only Le Raincy's counter speaks Spanish
    assert offers[wheelchair.pk] == b_slot.pk  # only Bobigny is step-free
    assert offers[raincy_only.pk] == r_next.pk  # Le Raincy's first slot is gone
    assert not_that_day.pk not in offers and not_that_weekday.pk not in offers
    assert from_next_week.pk not in offers  # the only slot next week went to an earlier due date


def test_earliest_date_and_unavailable_days(world, now, day):
    c1 = world.counters[0]
    next_week = day + datetime.timedelta(days=7)
    builders.slot(c1, builders.at_local(c1, day, 9))
    later = builders.slot(c1, builders.at_local(c1, next_week, 9))
    waits = builders.request(world, due_in_days=1, earliest_date=next_week)
    allocate(world.prefecture, now=now)
    assert Offer.objects.get(request=waits).slot == later


def test_a_second_run_changes_nothing_and_never_gives_a_held_slot(world, now, day):
    c1 = world.counters[0]
    builders.slot(c1, builders.at_local(c1, day, 9))
    builders.request(world, due_in_days=1)
    builders.request(world, due_in_days=2)
    assert allocate(world.prefecture, now=now).offers == 1
    proofs = Proof.objects.count()
    again = allocate(world.prefecture, now=now)
    assert again.offers == 0 and again.runs[0].free_slots == 0
    assert Offer.objects.count() == 1 and Proof.objects.count() == proofs


def test_slots_that_serve_another_procedure_or_closed_days_are_not_given(world, now, day):
    c1, c2, c3 = world.counters
    collection_only = builders.slot(c2, builders.at_local(c2, day, 14))  # renewal and collection
    closed = builders.slot(c1, builders.at_local(c1, day, 9))
    Closure.objects.create(counter=c1, start_date=day, end_date=day, reason="counter under repair")
    builders.request(world, "first", due_in_days=1)
    assert allocate(world.prefecture, now=now).offers == 0
    renewal = builders.request(world, "renewal", due_in_days=2)
    assert allocate(world.prefecture, now=now).offers == 1
    assert Offer.objects.get(request=renewal).slot == collection_only
    assert not Offer.objects.filter(slot=closed).exists()


def test_extra_procedures_make_a_slot_serve_more(world, now, day):
    c2 = world.counters[1]  # its rule serves renewal and collection, not first permits
    extra = builders.slot(c2, builders.at_local(c2, day, 14))
    extra.extra_procedures.add(world.procedures["first"])
    req = builders.request(world, "first")
    allocate(world.prefecture, now=now)
    assert Offer.objects.get(request=req).slot == extra


def test_requests_that_are_not_waiting_are_left_alone(world, now, day):
    c1 = world.counters[0]
    builders.slot(c1, builders.at_local(c1, day, 9))
    for status in (RequestStatus.PAUSED, RequestStatus.WITHDRAWN, RequestStatus.CLOSED, RequestStatus.SERVED):
        builders.request(world, status=status, due_in_days=1)
    assert allocate(world.prefecture, now=now).offers == 0


def test_a_new_open_mode_request_first_gets_its_chance_to_choose(world, now, day):
    c2 = world.counters[1]
    builders.slot(c2, builders.at_local(c2, day, 14))
    choosing = builders.request(world, "collection", received_at=now - datetime.timedelta(minutes=2))
    assert allocate(world.prefecture, now=now).offers == 0
    later = now + rules.OPEN_CHOICE_WINDOW
    assert allocate(world.prefecture, now=later).offers == 1
    assert Offer.objects.get().request == choosing


def test_other_prefectures_are_allocated_separately(world, now, day):
    from tests import factories

    other = factories.world("75")
    c1, o1 = world.counters[0], other.counters[0]
    builders.slot(c1, builders.at_local(c1, day, 9))
    builders.slot(o1, builders.at_local(o1, day, 9))
    mine = builders.request(world)
    theirs = builders.request(other)
    report = allocate(now=now)
    assert [run.prefecture for run in report.runs] == ["75", "93"]
    assert Offer.objects.get(request=mine).slot.counter == c1
    assert Offer.objects.get(request=theirs).slot.counter == o1
    assert verify_chain("75") == [] and verify_chain("93") == []


def test_locks_are_taken_in_the_documented_order(world, now, day):
    c1 = world.counters[0]
    builders.slot(c1, builders.at_local(c1, day, 9))
    builders.request(world)
    with locking.trace() as taken:
        allocate(world.prefecture, now=now)
    assert taken == sorted(taken)
    assert taken[0] == locking.Level.PREFECTURE and locking.Level.SLOT in taken


def test_allocate_command(world, now, day, capsys):
    c1 = world.counters[0]
    builders.slot(c1, now + datetime.timedelta(days=5))
    builders.request(world)
    call_command("allocate", "--prefecture", "93")
    assert "93: 1 waiting, 1 free slots -> 1 offers" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("allocate", "--prefecture", "99")


def test_chosen_offers_are_not_made_by_the_queue(world, now, day):
    c1 = world.counters[0]
    builders.slot(c1, builders.at_local(c1, day, 9))
    builders.request(world)
    allocate(world.prefecture, now=now)
    assert Offer.objects.get().source == OfferSource.QUEUE
    assert Offer.objects.get().status == OfferStatus.PENDING


def test_a_site_closure_closes_every_counter_of_the_site(world, now, day):
    c1, c2, c3 = world.counters
    builders.slot(c1, builders.at_local(c1, day, 9))
    builders.slot(c2, builders.at_local(c2, day, 14))
    Closure.objects.create(site=world.sites[0], start_date=day, end_date=day, reason="strike")
    builders.request(world, "renewal")
    assert allocate(world.prefecture, now=now).offers == 0


def test_what_changed_while_the_engine_ran_is_left_out_and_the_engine_runs_again(
    world, now, day, monkeypatch
):
    from guichet.allocation import service
    from guichet.capacity.models import Slot
    from guichet.waitlist.models import AppointmentRequest

    c1 = world.counters[0]
    first_slot = builders.slot(c1, builders.at_local(c1, day, 9))
    second_slot = builders.slot(c1, builders.at_local(c1, day, 10))
    builders.slot(c1, builders.at_local(c1, day, 11))
    gone = builders.request(world, due_in_days=1)
    kept = builders.request(world, due_in_days=2)
    someone = builders.request(world, due_in_days=3, status=RequestStatus.OFFERED)
    real = service.engine.allocate
    calls = []

    def engine_meanwhile(requests, slots):
        result = real(requests, slots)
        if not calls:
            # As if others committed while the engine ran: one person withdrew, one slot was taken.
            AppointmentRequest.objects.filter(pk=gone.pk).update(status=RequestStatus.WITHDRAWN)
            Hold.objects.create(
                slot=Slot.objects.get(pk=second_slot.pk), request=someone, kind=Hold.Kind.OFFER
            )
        calls.append(len(result))
        return result

    monkeypatch.setattr(service.engine, "allocate", engine_meanwhile)
    report = allocate(world.prefecture, now=now)

    run = report.runs[0]
    assert run.rounds == 2 and run.skipped == 2 and len(calls) == 2
    assert not Offer.objects.filter(request=gone).exists()
    # The engine ran again without the withdrawn request and the taken slot: `kept` gets the first slot.
    assert Offer.objects.get(request=kept).slot == first_slot
    assert Hold.objects.get(slot=second_slot).request == someone


def test_an_early_renewal_gets_no_slot_before_its_filing_window_opens(world, now, day):
    # The receipt says the file is taken from the day the window opens (CESEDA R.431-5).
    c1 = world.counters[0]
    renewal = world.procedures["renewal"]
    opens_on = day + datetime.timedelta(days=7)
    expires = opens_on + datetime.timedelta(days=renewal.renewal_window_opens_days)
    early = builders.slot(c1, builders.at_local(c1, day, 9))
    in_window = builders.slot(c1, builders.at_local(c1, builders.weekday_after(opens_on, 0), 9))
    req = builders.request(world, "renewal", due_in_days=2, permit_expires_on=expires)
    allocate(world.prefecture, now=now)
    assert Offer.objects.get(request=req).slot == in_window
    assert not Hold.objects.filter(slot=early).exists()


def test_a_language_no_counter_speaks_gets_a_slot_with_an_interpreter_booked(world, now, day):
    # Somali is offered on the form, no counter lists it: the request used to wait for ever.
    c1 = world.counters[0]
    slot = builders.slot(c1, builders.at_local(c1, day, 9))
    req = builders.request(world, due_in_days=20, interpreter_language="so")
    allocate(world.prefecture, now=now)
    offer = Offer.objects.get(request=req)
    assert offer.slot == slot and offer.interpreter_language == "so"
    appointment = services.accept_offer(offer, APPLICANT, now=now)
    assert appointment.interpreter_language == "so"


def test_a_spoken_language_is_preferred_until_the_due_date(world, now, day):
    c1, c2, c3 = world.counters  # c1 speaks ar
    plain = builders.slot(c3, builders.at_local(c3, day, 9))
    arabic_later = builders.slot(c1, builders.at_local(c1, builders.weekday_after(day, 7), 9))
    in_time = builders.request(world, due_in_days=30, interpreter_language="ar")
    allocate(world.prefecture, now=now)
    assert Offer.objects.get(request=in_time).slot == arabic_later
    assert Offer.objects.get(request=in_time).interpreter_language == ""
    assert not Hold.objects.filter(slot=plain).exists()
