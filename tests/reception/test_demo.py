"""The demo's day at reception: people of the queue convoked to today's free slots; a second run adds none."""

import datetime

import pytest

from guichet.appointments.models import Appointment
from guichet.evidence.models import Proof
from guichet.notifications.links import convocation_verify_url
from guichet.reception import demo, services
from guichet.waitlist.references import new_reference
from tests.appointments import builders
from tests.reception.conftest import AGENT

pytestmark = pytest.mark.django_db


def test_convoke_today_then_check_in_from_the_qr_text(world, day):
    c1 = world.counters[0]
    slots = [builders.slot(c1, builders.at_local(c1, day, 9, m), minutes=10) for m in (0, 10, 20)]
    people = [builders.request(world, "first", due_in_days=d) for d in (5, 3, 9, 7)]
    for person in people:
        person.reference = new_reference("93")
        person.save(update_fields=["reference"])
    now = slots[0].starts_at - datetime.timedelta(hours=1)
    made = demo.convoke_today(world.prefecture, wanted=3, now=now)
    assert [a.slot for a in made] == slots
    # Earliest due date first, as the queue would have it.
    assert [a.request for a in made] == [people[1], people[0], people[3]]
    assert Proof.objects.filter(event="appointment_confirmed").count() == 3
    assert demo.convoke_today(world.prefecture, wanted=3, now=now) == made
    assert Appointment.objects.count() == 3
    first = made[0]
    found = services.find_by_scan(c1.site, convocation_verify_url(first), now=first.starts_at)
    assert services.check_in(found, AGENT, now=first.starts_at).ticket == 1
