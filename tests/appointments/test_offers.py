"""Answering offers: accept, decline, another, lapse (twice: paused)."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from guichet import locking
from guichet.allocation.service import allocate
from guichet.appointments import services
from guichet.appointments.models import Appointment, AppointmentStatus, Offer, OfferSource, OfferStatus
from guichet.capacity.models import Hold
from guichet.errors import Conflict, InvalidInput
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
    return builders.weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 4)


@pytest.fixture
def offered(world, now, day):
    """A request with a pending queue offer of a Bobigny slot."""
    c1 = world.counters[0]
    req = builders.request(world, due_in_days=3, consecutive_lapses=1)
    the_slot = builders.slot(c1, builders.at_local(c1, day, 9))
    return builders.offer(req, the_slot, now=now)


def _snapshot():
    return (
        list(Offer.objects.order_by("pk").values_list("pk", "status")),
        list(Appointment.objects.order_by("pk").values_list("pk", "status")),
        list(Hold.objects.order_by("pk").values_list("slot_id", "kind")),
        Proof.objects.count(),
        OutboxMessage.objects.count(),
    )


def test_accept_makes_a_confirmed_appointment_bound_to_the_request(offered, now):
    appointment = services.accept_offer(offered, APPLICANT, now=now)

    assert appointment.status == AppointmentStatus.CONFIRMED
    assert (appointment.request, appointment.slot, appointment.offer) == (
        offered.request,
        offered.slot,
        offered,
    )
    assert appointment.counter == offered.slot.counter and appointment.starts_at == offered.slot.starts_at
    offered.refresh_from_db()
    assert offered.status == OfferStatus.ACCEPTED and offered.decided_at == now
    req = offered.request
    req.refresh_from_db()
    assert req.status == RequestStatus.SCHEDULED and req.consecutive_lapses == 0
    assert Hold.objects.get(slot=offered.slot).kind == Hold.Kind.APPOINTMENT
    proof = Proof.objects.get(request=req, event="appointment_confirmed")
    assert proof.issued_at == now
    assert OutboxMessage.objects.filter(request=req, kind="appointment_confirmed").exists()
    assert verify_chain(req.prefecture.code) == []


def test_a_second_accept_answers_with_the_same_appointment(offered, now):
    first = services.accept_offer(offered, APPLICANT, now=now)
    before = _snapshot()
    with pytest.raises(services.OfferAlreadyAccepted) as error:
        services.accept_offer(offered, APPLICANT, now=now + datetime.timedelta(seconds=2))
    assert error.value.code == "offer_already_accepted" and error.value.appointment == first
    assert _snapshot() == before


def test_an_expired_offer_cannot_be_accepted(offered, now):
    before = _snapshot()
    with pytest.raises(Conflict) as error:
        services.accept_offer(offered, APPLICANT, now=offered.expires_at)
    assert error.value.code == "offer_expired"
    assert _snapshot() == before


def test_a_declined_offer_cannot_be_accepted(offered, now):
    services.decline_offer(offered, APPLICANT, now=now)
    with pytest.raises(Conflict) as error:
        services.accept_offer(offered, APPLICANT, now=now)
    assert error.value.code == "offer_not_pending"


def test_decline_keeps_the_due_date_and_the_slot_goes_to_the_next_person(
    world, offered, now, day, django_capture_on_commit_callbacks
):
    req = offered.request
    due = req.due_date
    nxt = builders.request(world, due_in_days=10)
    c1 = world.counters[0]
    other_day = builders.slot(c1, builders.at_local(c1, day + datetime.timedelta(days=1), 9))

    with django_capture_on_commit_callbacks() as callbacks:
        services.decline_offer(offered, APPLICANT, reason="I work that day", now=now)
    assert callbacks, "an allocation run is queued on commit"

    offered.refresh_from_db()
    req.refresh_from_db()
    assert offered.status == OfferStatus.DECLINED and offered.decline_reason == "I work that day"
    assert req.status == RequestStatus.WAITING and req.due_date == due and req.consecutive_lapses == 0
    assert not Hold.objects.filter(slot=offered.slot).exists()
    assert Proof.objects.filter(request=req, event="offer_declined").exists()

    allocate(world.prefecture, now=now)
    # The declined slot went to the next request; the decliner, first in the queue, is offered another day.
    assert Offer.objects.get(request=nxt, status=OfferStatus.PENDING).slot == offered.slot
    assert Offer.objects.get(request=req, status=OfferStatus.PENDING).slot == other_day


def test_declining_twice_is_harmless(offered, now):
    services.decline_offer(offered, APPLICANT, now=now)
    before = _snapshot()
    services.decline_offer(offered, APPLICANT, now=now)
    assert _snapshot() == before


def test_a_reason_of_ten_thousand_characters_is_refused(offered, now):
    before = _snapshot()
    with pytest.raises(InvalidInput) as error:
        services.decline_offer(offered, APPLICANT, reason="x" * 10_000, now=now)
    assert "reason" in error.value.fields
    assert _snapshot() == before


def test_request_another_offer(offered, now):
    services.request_another_offer(offered, APPLICANT, now=now)
    offered.refresh_from_db()
    assert offered.status == OfferStatus.DECLINED and offered.decline_reason == "another"
    offered.request.refresh_from_db()
    assert offered.request.status == RequestStatus.WAITING


def test_lapse_then_lapse_again_pauses_the_request(world, now, day):
    c1 = world.counters[0]
    req = builders.request(world, due_in_days=3)
    first = builders.offer(req, builders.slot(c1, builders.at_local(c1, day, 9)), now=now, hours=2)

    assert services.lapse_due_offers(now=now + datetime.timedelta(hours=1)) == 0
    assert services.lapse_due_offers(now=now + datetime.timedelta(hours=2)) == 1
    first.refresh_from_db()
    req.refresh_from_db()
    assert first.status == OfferStatus.LAPSED
    assert req.status == RequestStatus.WAITING and req.consecutive_lapses == 1
    assert not Hold.objects.filter(slot=first.slot).exists()
    assert Proof.objects.filter(request=req, event="offer_lapsed").count() == 1

    later = now + datetime.timedelta(hours=3)
    second = builders.offer(req, builders.slot(c1, builders.at_local(c1, day, 10)), now=later, hours=2)
    call_command("lapse_offers")  # nothing due yet by the real clock
    second.refresh_from_db()
    assert second.status == OfferStatus.PENDING
    assert services.lapse_due_offers(now=later + datetime.timedelta(hours=2)) == 1
    req.refresh_from_db()
    assert req.status == RequestStatus.PAUSED and req.consecutive_lapses == 2
    assert Proof.objects.filter(request=req, event="paused").count() == 1
    assert OutboxMessage.objects.filter(request=req, kind="paused").exists()
    # A paused request is not offered anything.
    builders.slot(c1, builders.at_local(c1, day, 11))
    assert allocate(world.prefecture, now=later + datetime.timedelta(hours=3)).offers == 0
    assert verify_chain(world.prefecture.code) == []


def test_an_answer_between_two_lapses_resets_the_count(offered, now):
    assert offered.request.consecutive_lapses == 1
    services.accept_offer(offered, APPLICANT, now=now)
    offered.request.refresh_from_db()
    assert offered.request.consecutive_lapses == 0


def test_a_lapsed_offer_cannot_be_accepted(offered, now):
    services.lapse_due_offers(now=offered.expires_at)
    with pytest.raises(Conflict) as error:
        services.accept_offer(offered, APPLICANT, now=now)
    assert error.value.code == "offer_not_pending"


def test_an_open_mode_pick_not_confirmed_lapses_without_penalty(world, now, day):
    c2 = world.counters[1]
    req = builders.request(world, "collection")
    chosen = builders.offer(
        req, builders.slot(c2, builders.at_local(c2, day, 14)), now=now, hours=1, source=OfferSource.CHOSEN
    )
    assert services.lapse_due_offers(now=now + datetime.timedelta(hours=1)) == 1
    req.refresh_from_db()
    chosen.refresh_from_db()
    assert chosen.status == OfferStatus.LAPSED
    assert req.status == RequestStatus.WAITING and req.consecutive_lapses == 0


def test_services_lock_in_the_documented_order(offered, now):
    with locking.trace() as taken:
        services.accept_offer(offered, APPLICANT, now=now)
    assert taken == [locking.Level.REQUEST, locking.Level.SLOT, locking.Level.OFFER]
