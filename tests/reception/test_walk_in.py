"""Walk-ins for open-mode procedures: today's earliest free slot here, then checked in like anyone."""

import datetime

import pytest

from guichet.appointments.models import Appointment
from guichet.errors import Conflict, InvalidInput
from guichet.evidence import signing
from guichet.evidence.models import Proof
from guichet.evidence.services import published_keys
from guichet.reception import services
from guichet.waitlist.models import RequestStatus
from guichet.waitlist.references import new_reference
from tests.appointments import builders
from tests.reception.conftest import AGENT

pytestmark = pytest.mark.django_db


@pytest.fixture
def afternoon(world, day):
    """Guichet 2 (Bobigny) serves card collection in the afternoon: two free slots at 13:00 and 13:20."""
    c2 = world.counters[1]
    rule = c2.opening_rules.order_by("pk").first()
    return [builders.slot(c2, builders.at_local(c2, day, 13, m), minutes=20, rule=rule) for m in (0, 20)]


def _collection(world, **fields):
    request = builders.request(world, "collection", received_at=None, **fields)
    request.reference = new_reference("93")
    request.save(update_fields=["reference"])
    return request


def test_a_walk_in_takes_todays_earliest_free_slot(world, afternoon):
    request = _collection(world)
    now = afternoon[0].starts_at - datetime.timedelta(minutes=30)
    visit = services.walk_in(world.sites[0], request.reference, AGENT, now=now)
    appointment = Appointment.objects.get(request=request)
    assert appointment.slot == afternoon[0] and visit.appointment == appointment
    assert appointment.status == "checked_in" and visit.ticket == 1
    request.refresh_from_db()
    assert request.status == RequestStatus.SCHEDULED
    proof = Proof.objects.get(request=request, event="appointment_confirmed")
    assert signing.parse_and_verify(proof.token, published_keys()).payload["details"]["walk_in"] is True


def test_walk_ins_keep_the_open_mode_rule(world, afternoon):
    waiting = _collection(world)
    waiting.received_at -= datetime.timedelta(days=2)
    waiting.save(update_fields=["received_at"])
    newcomer = _collection(world)
    now = afternoon[0].starts_at - datetime.timedelta(minutes=30)
    with pytest.raises(Conflict) as error:
        services.walk_in(world.sites[0], newcomer.reference, AGENT, now=now)
    assert error.value.code == "queue_not_empty"
    assert not Appointment.objects.filter(request=newcomer).exists()


def test_a_queue_procedure_has_no_walk_in(world, afternoon):
    request = builders.request(world, "first")
    request.reference = new_reference("93")
    request.save(update_fields=["reference"])
    with pytest.raises(Conflict) as error:
        services.walk_in(world.sites[0], request.reference, AGENT, now=afternoon[0].starts_at)
    assert error.value.code == "not_open_mode"


def test_no_free_slot_left_today(world, afternoon):
    request = _collection(world)
    after_hours = afternoon[1].ends_at + datetime.timedelta(hours=1)
    with pytest.raises(Conflict) as error:
        services.walk_in(world.sites[0], request.reference, AGENT, now=after_hours)
    assert error.value.code == "no_slot_today"
    with pytest.raises(InvalidInput):
        services.walk_in(world.sites[0], "not a reference", AGENT, now=after_hours)


def test_walk_in_from_the_reception_page(client, world, afternoon):
    from django.urls import reverse
    from django.utils import timezone

    from tests.backoffice.helpers import staff, verified_login

    verified_login(client, staff(world.prefecture, "agent"))
    c2 = world.counters[1]
    now = timezone.now()
    today = builders.slot(c2, (now + datetime.timedelta(minutes=15)).replace(microsecond=0), minutes=20)
    request = _collection(world)
    desk = reverse("reception:desk", args=["93", world.sites[0].pk])
    unchecked = client.post(desk, {"form": "walkin", "walkin-reference": request.reference})
    assert unchecked.status_code == 200 and not Appointment.objects.filter(request=request).exists()
    done = client.post(
        desk, {"form": "walkin", "walkin-reference": request.reference, "walkin-identity_checked": "on"}
    )
    assert done.status_code == 302
    assert Appointment.objects.get(request=request).slot == today
