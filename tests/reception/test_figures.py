"""A site's day in figures: served, missed, refused, waiting in the room."""

import datetime

import pytest
from django.core.management import call_command

from guichet.appointments.models import AppointmentStatus
from guichet.reception import calls, figures, outcomes, services
from tests.reception.conftest import AGENT, book

pytestmark = pytest.mark.django_db


def test_day_figures(world, day, settings):
    settings.LATE_ARRIVAL_MINUTES = 15
    # Ten-minute slots: on PostgreSQL one counter cannot hold overlapping appointments.
    a, b, c, missed = (book(world, day, hour=9, minute=m, minutes=10) for m in (0, 10, 20, 30))
    start = a.starts_at
    for appointment, minutes in ((a, 0), (b, 0), (c, 0)):
        services.check_in(appointment, AGENT, now=start + datetime.timedelta(minutes=minutes))
    c1 = world.counters[0]
    calls.call_next(c1, AGENT, now=start + datetime.timedelta(minutes=4))
    calls.call_next(c1, AGENT, now=start + datetime.timedelta(minutes=10))
    outcomes.register_file(a, AGENT, now=start + datetime.timedelta(minutes=20))
    outcomes.register_file(b, AGENT, missing=[], now=start + datetime.timedelta(minutes=25))
    outcomes.record_no_show(missed, AGENT, now=missed.starts_at + datetime.timedelta(minutes=20))
    result = figures.day_figures(world.sites[0], day)
    assert (result.appointments, result.checked_in, result.served, result.complete) == (4, 3, 2, 2)
    assert (result.no_shows, result.refused, result.still_waiting) == (1, 0, 1)
    assert (result.wait_median_minutes, result.wait_max_minutes) == (7.0, 10.0)


def test_no_shows_are_recorded_after_the_late_limit(world, day, settings):
    settings.LATE_ARRIVAL_MINUTES = 15
    came = book(world, day, hour=9)
    absent = book(world, day, hour=9, minute=30)
    services.check_in(came, AGENT, now=came.starts_at)
    assert outcomes.record_due_no_shows(now=absent.starts_at + datetime.timedelta(minutes=14)) == 0
    assert outcomes.record_due_no_shows(now=absent.starts_at + datetime.timedelta(minutes=16)) == 1
    absent.refresh_from_db()
    came.refresh_from_db()
    assert (absent.status, came.status) == (AppointmentStatus.NO_SHOW, AppointmentStatus.CHECKED_IN)
    call_command("record_no_shows")
