"""Queue position: among waiting requests of the same procedure whose sites overlap, in engine order."""

import datetime

import pytest
from django.utils import timezone

from guichet.waitlist.models import AppointmentRequest, RequestStatus
from guichet.waitlist.position import exact_queue_position as queue_position
from tests.waitlist.intake_helpers import file

pytestmark = pytest.mark.django_db


def test_position_follows_due_date_then_received_time(world):
    now = timezone.now()
    old = file(world, birth_date="1980-01-01", received_at=now - datetime.timedelta(days=10)).request
    urgent = file(world, birth_date="1981-01-01", channel="counter", vulnerability_reason="Illness").request
    recent = file(world, birth_date="1982-01-01").request
    later_same_day = file(world, birth_date="1983-01-01", received_at=recent.received_at).request
    # The vulnerable request, due in 15 days, passes the one received 10 days ago (due in 20).
    assert [queue_position(r) for r in (old, urgent, recent, later_same_day)] == [2, 1, 3, 4]


def test_only_overlapping_sites_count(world):
    bobigny, raincy = world.sites
    anywhere = file(world, birth_date="1980-01-01").request
    at_raincy = file(world, birth_date="1981-01-01", sites=[raincy.pk]).request
    at_bobigny = file(world, birth_date="1982-01-01", sites=[bobigny.pk]).request
    both = file(world, birth_date="1983-01-01", sites=[bobigny.pk, raincy.pk]).request
    assert queue_position(anywhere) == 1
    assert queue_position(at_raincy) == 2  # behind the one who takes any site
    assert queue_position(at_bobigny) == 2  # Raincy only does not compete with Bobigny only
    assert queue_position(both) == 4


def test_other_procedures_and_other_statuses_do_not_count(world):
    first = file(world, birth_date="1980-01-01").request
    renewal = file(
        world,
        birth_date="1981-01-01",
        procedure=world.procedures["collection"].code,
    ).request
    mine = file(world, birth_date="1982-01-01").request
    assert queue_position(renewal) == 1
    assert queue_position(mine) == 2
    AppointmentRequest.objects.filter(pk=first.pk).update(status=RequestStatus.OFFERED)
    assert queue_position(mine) == 1
    first.refresh_from_db()
    assert queue_position(first) is None
