"""The fast place in the queue: a snapshot of the queue by due date and sites, plus a live count of one day.

Right after a snapshot it is the exact count (exact_queue_position, the reference); later it is stale by at
most twice the snapshot's period, says when it was counted, and one reader rebuilds for all.
"""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guichet import shared_snapshots
from guichet.waitlist import position
from guichet.waitlist.models import RequestStatus
from guichet.waitlist.position import exact_queue_position, queue_position, snapshot_key
from tests import factories
from tests.appointments import builders

pytestmark = pytest.mark.django_db

PERIOD = 60


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def three_sites(world):
    return [*world.sites, factories.site(world.prefecture, "Saint-Denis", postal_code="93200")]


def forget_snapshot(world, procedure: str = "first") -> None:
    cache.delete(snapshot_key(world.prefecture.pk, world.procedures[procedure].pk))


def waiting(world, now, *, due: int, minutes: int = 0, sites=(), procedure: str = "first", **fields):
    return builders.request(
        world,
        procedure,
        due_date=now.date() + datetime.timedelta(days=due),
        received_at=now - datetime.timedelta(minutes=minutes),
        sites=sites,
        **fields,
    )


people = st.lists(
    st.fixed_dictionaries(
        {
            "procedure": st.sampled_from(["first", "first", "first", "renewal"]),
            "due": st.integers(0, 6),
            # Few distinct received times: ties on (due date, received time) are broken by id.
            "minutes": st.integers(0, 3),
            "sites": st.sets(st.integers(0, 2), max_size=3),
            "status": st.sampled_from(
                [RequestStatus.WAITING] * 4 + [RequestStatus.OFFERED, RequestStatus.PAUSED]
            ),
        }
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(queue=people)
def test_right_after_a_snapshot_the_fast_place_is_the_exact_place(world, three_sites, now, queue):
    with transaction.atomic():
        made = [
            waiting(
                world,
                now,
                due=person["due"],
                minutes=person["minutes"],
                sites=tuple(three_sites[index] for index in sorted(person["sites"])),
                procedure=person["procedure"],
                status=person["status"],
            )
            for person in queue
        ]
        forget_snapshot(world, "first")
        forget_snapshot(world, "renewal")
        for request in made:
            fast = queue_position(request, now=now)
            if request.status != RequestStatus.WAITING:
                assert fast is None and exact_queue_position(request) is None
                continue
            assert fast is not None and not fast.exact and fast.as_of == now
            assert fast.number == exact_queue_position(request), request
        transaction.set_rollback(True)


def test_the_sites_a_caller_already_has_give_the_same_place(world, three_sites, now):
    bobigny, raincy, _ = three_sites
    waiting(world, now, due=1)
    waiting(world, now, due=1, sites=(raincy,))
    mine = waiting(world, now, due=2, sites=(bobigny,))
    assert queue_position(mine, now=now).number == 2
    assert queue_position(mine, site_ids=[bobigny.pk], now=now).number == 2
    assert queue_position(mine, site_ids=[raincy.pk], now=now).number == 3


@override_settings(QUEUE_POSITION_SNAPSHOT_SECONDS=PERIOD)
def test_a_request_filed_later_with_an_earlier_due_date_counts_at_the_next_snapshot(world, now):
    first = waiting(world, now, due=3, minutes=30)
    mine = waiting(world, now, due=5, minutes=20)
    assert queue_position(mine, now=now).number == 2
    # A court order: due tomorrow, filed after the snapshot.
    urgent = waiting(world, now, due=1, minutes=0)
    # Within the period the part before the person's due date is the snapshot's: stale, and said to be.
    soon = now + datetime.timedelta(seconds=PERIOD - 1)
    stale = queue_position(mine, now=soon)
    assert stale.number == 2 and stale.as_of == now and not stale.exact
    assert exact_queue_position(mine) == 3
    # The person's own due date is counted live: one filed since on the same day and earlier counts at once.
    same_day = waiting(world, now, due=5, minutes=25)
    assert queue_position(mine, now=soon).number == 3
    # Past the period the next reader rebuilds: exact again.
    later = now + datetime.timedelta(seconds=PERIOD)
    fresh = queue_position(mine, now=later)
    assert fresh.number == exact_queue_position(mine) == 4 and fresh.as_of == later
    assert [queue_position(r, now=later).number for r in (urgent, first, same_day, mine)] == [1, 2, 3, 4]


@override_settings(QUEUE_POSITION_SNAPSHOT_SECONDS=PERIOD)
def test_served_requests_leave_the_count_at_the_next_snapshot_at_the_latest(world, now):
    ahead = waiting(world, now, due=1)
    mine = waiting(world, now, due=4)
    assert queue_position(mine, now=now).number == 2
    ahead.status = RequestStatus.OFFERED
    ahead.save(update_fields=["status"])
    assert queue_position(mine, now=now + datetime.timedelta(seconds=30)).number == 2
    assert queue_position(mine, now=now + datetime.timedelta(seconds=PERIOD)).number == 1


@override_settings(QUEUE_POSITION_SNAPSHOT_SECONDS=PERIOD)
def test_while_another_reader_rebuilds_the_old_snapshot_serves_but_never_past_two_periods(
    world, now, monkeypatch
):
    mine = waiting(world, now, due=4)
    assert queue_position(mine, now=now).number == 1
    waiting(world, now, due=1)
    # Another reader holds the rebuilding mark (its rebuild is under way).
    cache.add(f"{snapshot_key(world.prefecture.pk, world.procedures['first'].pk)}:rebuilding", 1, timeout=30)
    builds = []
    monkeypatch.setattr(position, "build_snapshot", lambda *args: builds.append(args))
    monkeypatch.setattr(shared_snapshots, "COLD_WAIT_SECONDS", 0.1)
    nearly_two = now + datetime.timedelta(seconds=2 * PERIOD - 1)
    meanwhile = queue_position(mine, now=nearly_two)
    assert meanwhile.number == 1 and meanwhile.as_of == now and builds == []
    # Two periods old: not used, even if the cache still has it; no rebuild came in time, so counted exactly.
    too_old = now + datetime.timedelta(seconds=2 * PERIOD)
    counted = queue_position(mine, now=too_old)
    assert counted.exact and counted.number == 2 and counted.as_of == too_old and builds == []


@override_settings(QUEUE_POSITION_SNAPSHOT_SECONDS=PERIOD)
def test_many_readers_of_a_cold_queue_make_one_rebuild(world, now, monkeypatch):
    snapshot = position.build_snapshot(world.prefecture.pk, world.procedures["first"].pk, now)
    builds = []
    started = threading.Event()

    def slow_build(*args):
        builds.append(args)
        started.set()
        threading.Event().wait(0.3)  # the rebuild's query, while the other readers arrive
        return snapshot

    monkeypatch.setattr(position, "build_snapshot", slow_build)
    found = []

    def reader():
        found.append(position.queue_snapshot(world.prefecture.pk, world.procedures["first"].pk, now))

    first = threading.Thread(target=reader)
    first.start()
    assert started.wait(5)
    others = [threading.Thread(target=reader) for _ in range(7)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(10)
    assert len(builds) == 1
    assert found == [snapshot] * 8
    # And the next readers within the period read it from the cache.
    assert position.queue_snapshot(world.prefecture.pk, world.procedures["first"].pk, now) == snapshot
    assert len(builds) == 1


@override_settings(QUEUE_POSITION_SNAPSHOT_SECONDS=PERIOD)
def test_a_rebuild_that_fails_lets_the_next_reader_rebuild(world, now, monkeypatch):
    mine = waiting(world, now, due=4)

    def broken(*args):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(position, "build_snapshot", broken)
    with pytest.raises(RuntimeError):
        queue_position(mine, now=now)
    monkeypatch.undo()
    place = queue_position(mine, now=now)
    assert place.number == 1 and not place.exact


def test_a_cache_that_does_not_answer_gives_the_exact_place(world, now, monkeypatch, caplog):
    waiting(world, now, due=1)
    mine = waiting(world, now, due=4)

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get", down)
    place = queue_position(mine, now=now)
    assert place.exact and place.number == 2 and place.as_of == now
    assert "the cache does not answer" in caplog.text


@override_settings(QUEUE_POSITION_SNAPSHOT_SECONDS=0)
def test_no_snapshot_when_switched_off(world, now):
    waiting(world, now, due=1)
    mine = waiting(world, now, due=4)
    place = queue_position(mine, now=now)
    assert place.exact and place.number == 2
    assert cache.get(snapshot_key(world.prefecture.pk, world.procedures["first"].pk)) is None


def test_the_note_says_when_it_was_counted_and_why_it_may_move(world, now):
    mine = waiting(world, now, due=4)
    place = queue_position(mine, now=now)
    local = timezone.localtime(now, world.prefecture.tzinfo).strftime("%H:%M")
    exact = position.QueuePosition(place.number, now, exact=True)
    with translation.override("en"):
        note = position.position_note(place, world.prefecture.tzinfo)
        assert f"Counted at {local}." in note and "earlier due date" in note
        assert position.position_note(exact, world.prefecture.tzinfo) == f"Counted at {local}."
    with translation.override("fr"):
        assert position.position_note(place, world.prefecture.tzinfo).startswith(f"Calculé à {local}. ")
