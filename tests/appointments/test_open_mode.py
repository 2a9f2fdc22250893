"""Open mode: people pick a free slot themselves, only while nobody waits in the queue for it."""

import datetime

import pytest
from django.utils import timezone

from guichet.appointments import rules, services
from guichet.appointments.models import AppointmentStatus, Offer, OfferSource, OfferStatus
from guichet.capacity.models import Hold
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import APPLICANT
from guichet.waitlist.models import RequestStatus
from tests.appointments import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def day(world, now):
    return builders.weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 4)


@pytest.fixture
def slots(world, day):
    """Collection slots: two at Bobigny (c2), one at Le Raincy (c3); and a first-permit one (c1)."""
    c1, c2, c3 = world.counters
    return {
        "b1": builders.slot(c2, builders.at_local(c2, day, 14)),
        "b2": builders.slot(c2, builders.at_local(c2, day, 15)),
        "r1": builders.slot(c3, builders.at_local(c3, day, 9)),
        "first": builders.slot(c1, builders.at_local(c1, day, 9)),
    }


def choosing(world, now, **fields):
    """A collection request filed a minute ago: the person is picking a slot."""
    return builders.request(world, "collection", received_at=now - datetime.timedelta(minutes=1), **fields)


def test_free_slots_of_the_procedure_earliest_first(world, now, slots):
    found = services.open_slots(world.procedures["collection"], now=now)
    assert found == [slots["r1"], slots["b1"], slots["b2"]]
    assert services.open_slots(world.procedures["collection"], world.sites[0], now=now) == [
        slots["b1"],
        slots["b2"],
    ]
    assert services.open_slots(world.procedures["collection"], now=now, limit=1) == [slots["r1"]]


def test_a_queue_procedure_cannot_be_picked(world, now, slots):
    with pytest.raises(Conflict) as error:
        services.open_slots(world.procedures["first"], now=now)
    assert error.value.code == "not_open_mode"
    req = builders.request(world, "first")
    with pytest.raises(Conflict):
        services.hold_open_slot(req, slots["first"], APPLICANT, now=now)


def test_pick_hold_then_confirm(world, now, slots):
    req = choosing(world, now)
    offer = services.hold_open_slot(req, slots["b1"], APPLICANT, now=now)
    assert offer.source == OfferSource.CHOSEN and offer.status == OfferStatus.PENDING
    assert offer.expires_at == now + rules.OPEN_HOLD
    assert Hold.objects.get(slot=slots["b1"]).request == req
    req.refresh_from_db()
    assert req.status == RequestStatus.OFFERED
    # Held: nobody else sees it.
    assert slots["b1"] not in services.open_slots(world.procedures["collection"], now=now)

    appointment = services.accept_offer(offer, APPLICANT, now=now + datetime.timedelta(minutes=3))
    assert appointment.status == AppointmentStatus.CONFIRMED and appointment.slot == slots["b1"]


def test_a_hold_lasts_ten_minutes(world, now, slots):
    req = choosing(world, now)
    offer = services.hold_open_slot(req, slots["b1"], APPLICANT, now=now)
    with pytest.raises(Conflict) as error:
        services.accept_offer(offer, APPLICANT, now=now + rules.OPEN_HOLD)
    assert error.value.code == "offer_expired"


def test_picking_again_replaces_ones_own_pick(world, now, slots):
    req = choosing(world, now)
    first = services.hold_open_slot(req, slots["b1"], APPLICANT, now=now)
    second = services.hold_open_slot(req, slots["b2"], APPLICANT, now=now)
    first.refresh_from_db()
    assert first.status == OfferStatus.WITHDRAWN
    assert not Hold.objects.filter(slot=slots["b1"]).exists()
    assert Offer.objects.filter(request=req, status=OfferStatus.PENDING).get() == second


def test_a_held_slot_is_refused_to_the_next_person(world, now, slots):
    services.hold_open_slot(choosing(world, now), slots["b1"], APPLICANT, now=now)
    late = choosing(world, now)
    with pytest.raises(Conflict) as error:
        services.hold_open_slot(late, slots["b1"], APPLICANT, now=now)
    assert error.value.code == "slot_taken"
    late.refresh_from_db()
    assert late.status == RequestStatus.WAITING


def test_nobody_picks_while_someone_waits_in_the_queue(world, now, slots):
    # Waiting for more than the choice window: the queue is not empty.
    builders.request(world, "collection", received_at=now - datetime.timedelta(hours=2))
    req = choosing(world, now)
    with pytest.raises(Conflict) as error:
        services.open_slots(world.procedures["collection"], now=now)
    assert error.value.code == "queue_not_empty"
    with pytest.raises(Conflict) as error:
        services.hold_open_slot(req, slots["b1"], APPLICANT, now=now)
    assert error.value.code == "queue_not_empty"
    assert not Hold.objects.exists() and not Offer.objects.exists()


def test_the_queue_of_another_site_does_not_block(world, now, slots):
    raincy = world.sites[1]
    builders.request(world, "collection", received_at=now - datetime.timedelta(hours=2), sites=(raincy,))
    with pytest.raises(Conflict):
        services.open_slots(world.procedures["collection"], raincy, now=now)
    found = services.open_slots(world.procedures["collection"], world.sites[0], now=now)
    assert found == [slots["b1"], slots["b2"]]


def test_a_slot_too_soon_or_at_an_unchosen_site_is_refused(world, now, slots):
    c2 = world.counters[1]
    soon = builders.slot(c2, now + datetime.timedelta(hours=2))
    req = choosing(world, now, sites=(world.sites[0],))
    with pytest.raises(InvalidInput):
        services.hold_open_slot(req, soon, APPLICANT, now=now)
    with pytest.raises(InvalidInput):
        services.hold_open_slot(req, slots["r1"], APPLICANT, now=now)
    assert services.open_slots(world.procedures["collection"], now=now, request=req) == [
        slots["b1"],
        slots["b2"],
    ]


def test_only_a_waiting_request_picks(world, now, slots):
    req = choosing(world, now, status=RequestStatus.PAUSED)
    with pytest.raises(Conflict) as error:
        services.hold_open_slot(req, slots["b1"], APPLICANT, now=now)
    assert error.value.code == "request_not_waiting"


def test_the_slots_offered_to_pick_keep_to_the_persons_needs_and_days(world, now, day, slots):
    # Before the one rule, open mode ignored the days a person cannot come and the closures.
    req = choosing(world, now, needs_step_free=True, unavailable_dates=[day.isoformat()])
    assert services.open_slots(world.procedures["collection"], now=now, request=req) == []
    with pytest.raises(InvalidInput) as error:
        services.hold_open_slot(req, slots["b1"], APPLICANT, now=now)
    assert error.value.code == "slot_incompatible"
    from guichet.catalog.models import Closure

    other = choosing(world, now)
    Closure.objects.create(site=world.sites[0], start_date=day, end_date=day)
    assert services.open_slots(world.procedures["collection"], now=now, request=other) == [slots["r1"]]
    assert services.open_slots(world.procedures["collection"], now=now) == [slots["r1"]]
