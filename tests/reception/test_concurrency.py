"""Reception under concurrency, on PostgreSQL with real parallel transactions (one connection per thread):
a double check-in, many people checked in at once (distinct tickets), two agents pressing "call next", two
agents calling the same ticket, two agents recording the same file. One winner, clear answers, nothing lost.
"""

from __future__ import annotations

import datetime

import pytest

from guichet.evidence.audit import verify_chain
from guichet.evidence.models import Proof
from guichet.reception import calls, outcomes, services
from guichet.reception.models import FileRegistration, InterimDocument, Visit, VisitStatus
from tests.appointments.test_concurrency import kinds, race
from tests.reception.conftest import AGENT, book

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_double_check_in_gives_one_ticket(world, day):
    appointment = book(world, day)
    at = appointment.starts_at
    results = race(10, lambda _: services.check_in(appointment, AGENT, now=at).ticket)
    assert kinds(results) == {"won": 1, "refused": 9}, results
    assert {value for kind, value in results if kind == "refused"} == {"already_checked_in"}
    assert Visit.objects.count() == 1
    assert Proof.objects.filter(request=appointment.request, event="checked_in").count() == 1


def test_people_checked_in_at_once_get_distinct_tickets(world, day):
    appointments = [book(world, day, hour=9 + i // 6, minute=(i % 6) * 10, minutes=10) for i in range(12)]
    at = appointments[0].starts_at
    results = race(len(appointments), lambda i: services.check_in(appointments[i], AGENT, now=at).ticket)
    assert kinds(results) == {"won": 12}, results
    assert sorted(value for _, value in results) == list(range(1, 13))
    assert verify_chain(world.prefecture.code) == []


def test_two_agents_calling_next_get_two_people(world, day):
    appointments = [book(world, day, hour=9, minute=m, minutes=10) for m in (0, 10, 20)]
    at = appointments[0].starts_at
    visits = [services.check_in(a, AGENT, now=at) for a in appointments]
    counters = [world.counters[0], world.counters[1]]
    results = race(2, lambda i: calls.call_next(counters[i], AGENT, now=at).pk)
    assert kinds(results) == {"won": 2}, results
    called = {value for _, value in results}
    assert len(called) == 2 and called <= {v.pk for v in visits}
    assert Visit.objects.filter(status=VisitStatus.CALLED).count() == 2


def test_two_agents_calling_the_same_ticket_one_wins(world, day):
    appointment = book(world, day)
    at = appointment.starts_at
    visit = services.check_in(appointment, AGENT, now=at)
    counters = [world.counters[0], world.counters[1]]
    results = race(2, lambda i: calls.call(visit, counters[i], AGENT, now=at).counter_id)
    assert kinds(results) == {"won": 1, "refused": 1}, results
    assert [value for kind, value in results if kind == "refused"] == ["called_elsewhere"]
    visit.refresh_from_db()
    assert visit.counter_id == next(value for kind, value in results if kind == "won")


def test_two_agents_registering_the_same_file_one_wins(world, day):
    appointment = book(world, day)
    at = appointment.starts_at
    services.check_in(appointment, AGENT, now=at)
    later = at + datetime.timedelta(minutes=20)
    results = race(5, lambda _: outcomes.register_file(appointment, AGENT, now=later).pk)
    assert kinds(results) == {"won": 1, "refused": 4}, results
    assert FileRegistration.objects.count() == 1
    assert InterimDocument.objects.count() == 1
    assert verify_chain(world.prefecture.code) == []
