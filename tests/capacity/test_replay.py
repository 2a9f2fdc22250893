"""The capacity projection against a replay of history: a seeded history made through the real services
(arrivals from the demo's generator, slots from the rules, allocation, answers, appointments held or missed,
withdrawals), cut at a Monday in the past; the projection made from the state at the cut is compared with
what the replay did in the following weeks: the people not received yet, and the wait of those who came.

The bounds are those measured on this history (the figure in docs/backoffice.md comes from the demo's
catalogue, `manage.py replay_capacity`)."""

import datetime

import pytest
from django.utils import timezone

from guichet.capacity.replay import Behaviour, replay
from tests import factories

pytestmark = pytest.mark.django_db

# Measured on this history: 17.9 % and 48.4 % (a small prefecture: a few people more or less in a week
# is a large share). On the demo's catalogue, docs/backoffice.md gives the figures.
QUEUE_BOUND = 0.20
WAIT_BOUND = 0.50


def small_prefecture():
    """One site, three counters: first permits and renewals share one, renewals have one of their own,
    a third serves both on two mornings: 40 slots a week for about 40 requests a week."""
    pref = factories.prefecture()
    site = factories.site(pref)
    first = factories.procedure(pref, "first-permit", target_wait_days=30)
    renewal = factories.procedure(pref, "renewal", kind="renewal", is_renewal=True, target_wait_days=45)
    shared, own, mornings = (
        factories.counter(site, name) for name in ("Guichet 1", "Guichet 2", "Guichet 3")
    )
    for weekday in range(5):
        factories.rule(shared, [first, renewal], weekday=weekday, start="09:00", end="11:00", slot_minutes=30)
    for weekday in (1, 3):
        factories.rule(own, [renewal], weekday=weekday, start="13:00", end="15:00", slot_minutes=30)
    for weekday in (0, 2):
        factories.rule(
            mornings, [first, renewal], weekday=weekday, start="09:00", end="11:00", slot_minutes=20
        )
    return pref


def test_the_projection_follows_a_replayed_history():
    prefecture = small_prefecture()
    today = timezone.localdate()
    start = today - datetime.timedelta(days=today.weekday(), weeks=11)
    comparison = replay(
        prefecture,
        start=start,
        warmup_weeks=6,
        weeks_after=5,
        behaviour=Behaviour(arrivals_per_week=40),
        seed=7,
    )
    print(comparison.table())
    assert len(comparison.procedures) == 2
    assert all(len(item.observed) == 5 for item in comparison.procedures)
    assert sum(week.queue for item in comparison.procedures for week in item.observed) > 100
    assert comparison.queue_error() <= QUEUE_BOUND
    assert comparison.wait_error() <= WAIT_BOUND
    # Where it errs, it errs long (the safe side for the managers' alert): people who get a slot freed by a
    # decline, by the earliest due date, wait less than the queue ahead of them says.
    pairs = [
        (week.wait_days, seen.wait_days)
        for item in comparison.procedures
        for week, seen in item.pairs()
        if week.wait_days is not None and seen.wait_days is not None
    ]
    assert len(pairs) >= 8
    assert sum(projected for projected, _seen in pairs) >= sum(seen for _projected, seen in pairs)
