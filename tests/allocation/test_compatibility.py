"""One rule for "does this free slot suit this request", and every path that gives a slot applies it.

The pure rule is checked condition by condition; then, on random worlds in the database, the single-request
paths (open mode, staff moves, court orders: guichet.allocation.candidates) are checked to agree with what the
allocation engine is given (guichet.allocation.service), slot by slot.
"""

from __future__ import annotations

import datetime
import random

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guichet.allocation import candidates, service
from guichet.allocation.compatibility import FreeSlot, Problem, WaitingRequest, problem, suits
from guichet.catalog.models import Closure
from guichet.evidence.court_orders import first_compatible_slot
from tests.appointments import builders

UTC = datetime.UTC
MONDAY = datetime.date(2025, 1, 6)


def _at(day: int, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(MONDAY + datetime.timedelta(days=day), datetime.time(hour), UTC)


waiting_requests = st.builds(
    WaitingRequest,
    id=st.just(1),
    procedure_id=st.integers(1, 3),
    due_date=st.just(MONDAY),
    received_at=st.just(_at(0, 0)),
    site_ids=st.one_of(st.none(), st.frozensets(st.integers(1, 3), max_size=2)),
    not_before=st.integers(0, 5).map(lambda d: _at(d, 9)),
    language=st.sampled_from((None, "ar", "so")),
    needs_step_free=st.booleans(),
    unavailable_weekdays=st.frozensets(st.integers(0, 6), max_size=3),
    unavailable_dates=st.frozensets(st.integers(0, 6).map(lambda d: MONDAY + datetime.timedelta(days=d))),
)
free_slots = st.builds(
    lambda day, hour, site, procedures, languages, step_free: FreeSlot(
        id=2,
        site_id=site,
        counter_id=site,
        starts_at=_at(day, hour),
        local_date=MONDAY + datetime.timedelta(days=day),
        procedure_ids=procedures,
        languages=languages,
        step_free=step_free,
    ),
    st.integers(0, 6),
    st.sampled_from((8, 9, 14)),
    st.integers(1, 3),
    st.frozensets(st.integers(1, 3), min_size=1),
    st.frozensets(st.sampled_from(("ar", "en"))),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(waiting_requests, free_slots)
def test_the_rule_is_the_one_of_the_design_condition_by_condition(request, slot):
    expected = (
        request.procedure_id in slot.procedure_ids
        and (request.site_ids is None or slot.site_id in request.site_ids)
        and (slot.step_free or not request.needs_step_free)
        and slot.starts_at >= request.not_before
        and slot.local_date.weekday() not in request.unavailable_weekdays
        and slot.local_date not in request.unavailable_dates
    )
    assert suits(request, slot) is expected
    assert (problem(request, slot) is None) is expected


def test_language_is_never_a_reason_to_refuse_a_slot():
    request = WaitingRequest(1, 1, MONDAY, _at(0, 0), None, _at(0, 0), "so", False, frozenset(), frozenset())
    slot = FreeSlot(2, 1, 1, _at(1, 9), MONDAY, frozenset({1}), frozenset({"ar"}), True)
    assert suits(request, slot)


def test_each_refusal_says_which_condition_failed():
    request = WaitingRequest(
        1, 1, MONDAY, _at(0, 0), frozenset({1}), _at(1, 9), None, True, frozenset({2}), frozenset()
    )
    base = dict(id=2, site_id=1, counter_id=1, starts_at=_at(1, 9), local_date=MONDAY + datetime.timedelta(1))
    ok = dict(procedure_ids=frozenset({1}), languages=frozenset(), step_free=True)
    assert problem(request, FreeSlot(**base, **ok)) is None
    assert problem(request, FreeSlot(**{**base, **ok, "procedure_ids": frozenset({2})})) == Problem.PROCEDURE
    assert problem(request, FreeSlot(**{**base, **ok, "site_id": 2})) == Problem.SITE
    assert problem(request, FreeSlot(**{**base, **ok, "step_free": False})) == Problem.STEP_FREE
    assert problem(request, FreeSlot(**{**base, **ok, "starts_at": _at(1, 8)})) == Problem.TOO_SOON
    wednesday = {"starts_at": _at(2, 9), "local_date": MONDAY + datetime.timedelta(2)}
    assert problem(request, FreeSlot(**{**base, **ok, **wednesday})) == Problem.UNAVAILABLE_DAY


# --- Every path agrees with the engine, on random worlds in the database --------------------------------


def _random_world(world, rng: random.Random, now: datetime.datetime):
    """Slots over two weeks at the three counters, a closure, and requests with random needs."""
    today = now.astimezone(world.prefecture.tzinfo).date()
    days = [today + datetime.timedelta(days=d) for d in range(1, 15)]
    slots = []
    for counter in world.counters:
        for day in rng.sample(days, 6):
            hour = rng.choice((9, 10, 14))
            slots.append(builders.slot(counter, builders.at_local(counter, day, hour)))
    closed_day = rng.choice(days)
    Closure.objects.create(site=world.sites[rng.randrange(2)], start_date=closed_day, end_date=closed_day)
    requests = []
    for _ in range(6):
        req = builders.request(
            world,
            rng.choice(("first", "renewal", "collection")),
            due_in_days=rng.randint(1, 30),
            interpreter_language=rng.choice(("", "", "ar", "es", "so")),
            needs_step_free=rng.random() < 0.3,
            unavailable_weekdays=rng.sample(range(5), rng.choice((0, 0, 1, 2))),
            unavailable_dates=[d.isoformat() for d in rng.sample(days, rng.choice((0, 0, 2)))],
            earliest_date=rng.choice((None, None, rng.choice(days))),
            sites=rng.choice(((), (), (world.sites[0],), (world.sites[1],))),
            email=rng.choice((None, None, "")),
        )
        requests.append(req)
    return slots, requests


@pytest.mark.django_db
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6))
def test_every_path_gives_exactly_the_slots_the_engine_may_give(world, seed):
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic():
        slots, requests = _random_world(world, random.Random(seed), now)
        engine_view = service._World.load(world.prefecture, now)
        engine_requests = {r.id: r for r in engine_view.requests}
        for req in requests:
            wanted = engine_requests[req.pk]
            expected = [
                s.id for s in sorted(engine_view.slots, key=lambda s: (s.starts_at, s.id)) if suits(wanted, s)
            ]
            # Court orders see what the queue sees, refused days included.
            found = candidates.candidate_slots(req, now, with_refused_days=True)
            assert [s.pk for s in found] == expected
            horizon = now.astimezone(world.prefecture.tzinfo).date() + datetime.timedelta(days=30)
            first = first_compatible_slot(req, horizon, now)
            assert (first.pk if first else None) == (expected[0] if expected else None)
            # Staff moves and open-mode picks: each slot is refused exactly when the engine may not give it.
            for slot in slots:
                assert (candidates.slot_problem(req, slot, now) is None) is (slot.pk in expected), slot
        transaction.set_rollback(True)
