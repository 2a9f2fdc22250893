"""Calling people: call next in appointment order, recall, hold, send to another counter."""

import datetime

import pytest

from guichet.errors import Conflict, InvalidInput
from guichet.evidence.models import AuditEntry
from guichet.notifications.models import OutboxMessage
from guichet.reception import calls, services
from guichet.reception.models import VisitStatus
from tests.reception.conftest import AGENT, book

pytestmark = pytest.mark.django_db


@pytest.fixture
def room(world, day):
    """Three people checked in at Bobigny: 9:30 and 9:00 at counter 1, 9:10 at counter 2."""
    late_one = book(world, day, hour=9, minute=30)
    early = book(world, day, hour=9)
    other_counter = book(world, day, hour=9, minute=10, counter=1)
    at = early.starts_at - datetime.timedelta(minutes=30)
    return [services.check_in(a, AGENT, now=at) for a in (late_one, early, other_counter)], at


def test_call_next_takes_this_counters_appointments_first_in_time_order(world, room):
    (late_one, early, other_counter), at = room
    c1, c2 = world.counters[0], world.counters[1]
    assert calls.call_next(c1, AGENT, now=at) == early
    assert calls.call_next(c1, AGENT, now=at) == late_one
    assert calls.call_next(c1, AGENT, now=at) == other_counter  # nobody left for counter 1: the others
    assert calls.call_next(c2, AGENT, now=at) is None
    early.refresh_from_db()
    assert (early.status, early.counter, early.first_called_at, early.call_count) == (
        VisitStatus.CALLED,
        c1,
        at,
        1,
    )
    assert AuditEntry.objects.filter(action="request.called").count() == 3


def test_recall_hold_resume_and_send_on(world, room):
    (late_one, early, _), at = room
    c1, c2 = world.counters[0], world.counters[1]
    visit = calls.call_next(c1, AGENT, now=at)
    later = at + datetime.timedelta(minutes=2)
    calls.call(visit, c1, AGENT, now=later)
    visit.refresh_from_db()
    assert (visit.call_count, visit.called_at, visit.first_called_at) == (2, later, at)
    with pytest.raises(Conflict) as error:
        calls.call(visit, c2, AGENT, now=later)
    assert error.value.code == "called_elsewhere" and "Guichet 1" in error.value.message
    calls.send_to(visit, c1, c2, AGENT, now=later)
    visit.refresh_from_db()
    assert visit.counter == c2 and visit.status == VisitStatus.CALLED
    with pytest.raises(Conflict):
        calls.send_to(visit, c1, c2, AGENT, now=later)
    with pytest.raises(InvalidInput):
        calls.send_to(visit, c2, world.counters[2], AGENT, now=later)  # another site
    calls.hold(late_one, c1, AGENT, now=later)
    assert calls.call_next(c1, AGENT, now=later).appointment.counter == world.counters[1]
    assert calls.call_next(c1, AGENT, now=later) is None  # on hold: not called
    calls.resume(late_one, AGENT, now=later)
    assert calls.call_next(c1, AGENT, now=later) == late_one
    assert AuditEntry.objects.filter(action="request.sent_to_counter").count() == 1


def test_your_turn_is_coming_when_configured(world, room, settings):
    (late_one, early, other_counter), at = room
    settings.TURN_NOTICE_AHEAD = 1
    calls.call_next(world.counters[0], AGENT, now=at)
    messages = OutboxMessage.objects.filter(kind="turn_coming")
    # Early is called; the next in line (9:10 at counter 2, in appointment order) is told, once.
    assert set(messages.values_list("request_id", flat=True)) == {other_counter.appointment.request_id}
    calls.call(early, world.counters[0], AGENT, now=at)
    calls.call_next(world.counters[1], AGENT, now=at)
    assert (
        OutboxMessage.objects.filter(kind="turn_coming", request=other_counter.appointment.request).count()
        == 1
    )


def test_no_message_when_not_configured(world, room, settings):
    settings.TURN_NOTICE_AHEAD = 0
    calls.call_next(world.counters[0], AGENT, now=room[1])
    assert not OutboxMessage.objects.filter(kind="turn_coming").exists()
