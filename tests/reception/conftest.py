"""A booked appointment on a coming weekday; tests act at times around it (`now` is passed to services)."""

import datetime

import pytest
from django.utils import timezone, translation

from guichet.appointments import services as appointments
from guichet.evidence.audit import APPLICANT, Actor
from tests.appointments import builders
from tests.backoffice.helpers import staff, verified_login

AGENT = Actor("staff", "agent", None)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def day(world):
    return builders.weekday_after(timezone.now().astimezone(world.prefecture.tzinfo).date(), 4)


def book(world, day, hour=9, minute=0, counter=0, procedure="first", minutes=30, **fields):
    """A confirmed appointment of a new request at `hour` on `day` at the counter given."""
    at = world.counters[counter]
    req = builders.request(world, procedure, due_in_days=3, **fields)
    slot = builders.slot(at, builders.at_local(at, day, hour, minute), minutes=minutes)
    offer = builders.offer(req, slot, now=slot.starts_at - datetime.timedelta(days=3))
    return appointments.accept_offer(offer, APPLICANT, now=slot.starts_at - datetime.timedelta(days=3))


@pytest.fixture
def booked(world, day):
    return book(world, day)


@pytest.fixture
def agent(client, world):
    """An agent of the prefecture, logged in past the second factor."""
    user = staff(world.prefecture, "agent")
    verified_login(client, user)
    return user
