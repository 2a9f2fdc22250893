"""The status page's outlook read from one engine run per prefecture: the same as a run for each request."""

from __future__ import annotations

import datetime
import io
import time

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guichet.allocation import forecast
from guichet.allocation.candidates import waiting_request
from guichet.operations.schedule import JOBS
from guichet.public import estimates
from guichet.waitlist.models import RequestStatus
from tests.appointments import builders
from tests.factories import world as make_world

pytestmark = pytest.mark.django_db

PERIOD = 300
DAYS = st.sampled_from([0, 1, 2, 3, 9, 10, 11, 12])
people = st.lists(
    st.fixed_dictionaries(
        {
            "procedure": st.sampled_from(["first", "first", "renewal", "collection"]),
            "due": st.integers(0, 4),
            "received": st.sampled_from([2, 30, 600, 3000, 10000]),
            "sites": st.sampled_from(["any", "main", "annex", "both"]),
            "step_free": st.booleans(),
            "language": st.sampled_from(["", "", "ar", "es", "zh"]),
            "weekdays": st.lists(st.integers(0, 6), max_size=2, unique=True),
            "by_post": st.booleans(),
            "earliest": st.one_of(st.none(), DAYS),
            "status": st.sampled_from([RequestStatus.WAITING] * 5 + [RequestStatus.PAUSED]),
        }
    ),
    min_size=1,
    max_size=10,
)
slots = st.lists(st.tuples(st.integers(0, 2), DAYS, st.sampled_from([9, 11, 14])), max_size=5, unique=True)


@pytest.fixture
def catalogue(db):
    return make_world()


def fill(world, now, queue, free):
    today = now.astimezone(world.prefecture.tzinfo).date()
    made = [builders.person(world, now, person) for person in queue]
    for counter_index, days, hour in free:
        counter = world.counters[counter_index]
        builders.slot(counter, builders.at_local(counter, today + datetime.timedelta(days=days), hour))
    return made


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(queue=people, free=slots)
def test_right_after_the_shared_run_each_request_reads_what_its_own_run_says(catalogue, queue, free):
    world = catalogue
    with transaction.atomic():
        made = fill(world, timezone.now().replace(microsecond=0), queue, free)
        now = timezone.now()
        cache.clear()
        for request in made:
            request.refresh_from_db()
            wanted = waiting_request(request, now, with_refused_days=True)
            shared = forecast.shared_outlook(request, wanted, now, PERIOD)
            if request.status != RequestStatus.WAITING:
                assert shared is None
                continue
            alone = forecast.outlooks(world.prefecture, [wanted], now)[0]
            if request.procedure.mode == request.procedure.Mode.OPEN and request.received_at > now - (
                datetime.timedelta(minutes=10)
            ):
                assert shared is None  # still choosing a slot itself: the shared run leaves it out
                continue
            assert shared == alone, request
        transaction.set_rollback(True)


@pytest.fixture
def runs(monkeypatch) -> list:
    """The prefecture-wide engine runs made during the test."""
    made = []
    real = forecast.queue_forecasts

    def counted(*args):
        made.append(args)
        return real(*args)

    monkeypatch.setattr(forecast, "queue_forecasts", counted)
    return made


def test_one_run_serves_every_request_and_procedure_of_the_prefecture(catalogue, runs):
    world = catalogue
    now = timezone.now()
    first = builders.request(world, "first", due_in_days=3)
    renewal = builders.request(world, "renewal", due_in_days=5)
    for request in (first, renewal, first, renewal):
        assert forecast.shared_outlook(request, waiting_request(request, now), now, PERIOD) is not None
    assert len(runs) == 1


def test_a_request_changed_after_the_run_gets_its_own_run(catalogue):
    world = catalogue
    now = timezone.now()
    mine = builders.request(world, "first", due_in_days=3)
    assert forecast.shared_outlook(mine, waiting_request(mine, now), now, PERIOD) is not None
    later = builders.request(world, "first", due_in_days=1)
    assert forecast.shared_outlook(later, waiting_request(later, now), now, PERIOD) is None
    mine.save()  # any change (contact, due date, a reactivation) since the run was read
    assert forecast.shared_outlook(mine, waiting_request(mine, now), now, PERIOD) is None


def test_the_turn_window_uses_the_shared_run(catalogue, monkeypatch):
    world = catalogue
    counter = world.counters[0]
    today = timezone.now().astimezone(world.prefecture.tzinfo).date()
    day = builders.weekday_after(today, 5)
    builders.slot(counter, builders.at_local(counter, day, 9))
    mine = builders.request(world, "first", due_in_days=3)
    alone = []
    monkeypatch.setattr(forecast, "outlooks", lambda *args: alone.append(args))
    window = estimates.turn_window(mine, 1)
    assert alone == []  # no run of the engine for this request alone
    assert window.slot_free_now and window.earliest == day


def test_a_cold_reader_waits_for_the_run_under_way_then_does_without_it(catalogue, monkeypatch):
    world = catalogue
    now = timezone.now()
    mine = builders.request(world, "first", due_in_days=3)
    mark = f"guichet:queue-forecast:{forecast.QUEUE_FORECAST_VERSION}:{world.prefecture.pk}:rebuilding"
    cache.add(mark, 1, timeout=30)  # another reader is running the engine for the prefecture
    monkeypatch.setattr(forecast, "COLD_WAIT_SECONDS", 0.2)
    runs = []
    monkeypatch.setattr(forecast, "queue_forecasts", lambda *args: runs.append(args))
    started = time.monotonic()
    assert forecast.shared_outlook(mine, waiting_request(mine, now), now, PERIOD) is None
    assert 0.2 <= time.monotonic() - started < 2 and runs == []


def test_the_clock_refreshes_the_run_ahead_of_the_readers(catalogue, runs):
    world = catalogue
    now = timezone.now()
    first = builders.request(world, "first", due_in_days=3)
    renewal = builders.request(world, "renewal", due_in_days=5)
    out = io.StringIO()
    call_command("refresh_forecasts", stdout=out)
    assert f"{world.prefecture.code}: refreshed" in out.getvalue()
    assert len(runs) == 1
    # Every procedure's reader finds the run made by the clock: none runs the engine.
    for request in (first, renewal):
        assert forecast.shared_outlook(request, waiting_request(request, now), now, PERIOD) is not None
    assert len(runs) == 1
    # Run again, whatever the age of the one kept: the next readers find a younger one.
    assert forecast.refresh_queue_forecasts(world.prefecture, PERIOD) is True
    assert len(runs) == 2


def test_the_clock_leaves_a_run_under_way_to_the_reader_running_it(catalogue, monkeypatch):
    world = catalogue
    builders.request(world, "first", due_in_days=3)
    mark = f"guichet:queue-forecast:{forecast.QUEUE_FORECAST_VERSION}:{world.prefecture.pk}:rebuilding"
    cache.add(mark, 1, timeout=30)
    runs = []
    monkeypatch.setattr(forecast, "queue_forecasts", lambda *args: runs.append(args))
    out = io.StringIO()
    call_command("refresh_forecasts", stdout=out)
    assert "left to the reader running it" in out.getvalue() and runs == []
    assert cache.get(mark) == 1  # the reader's mark is its own


def test_the_clock_runs_the_forecast_before_its_readers_would():
    (job,) = [job for job in JOBS if job.command == "refresh_forecasts"]
    assert job.every_seconds < estimates.FORECAST_SECONDS
