"""The allocation engine: the rule of DESIGN.md, example by example, then as properties of random worlds.

The engine is pure, so these tests need no database. ``reference_allocate`` below is the rule written the
obvious way (sort, then scan every slot for every request); the fast engine must agree with it exactly.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterable
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from guichet.allocation.compatibility import speaks, suits
from guichet.allocation.engine import Assignment, FreeSlot, WaitingRequest, allocate

UTC = datetime.UTC
T = TypeVar("T")
MONDAY = datetime.date(2025, 1, 6)
NOW = datetime.datetime(2025, 1, 6, 6, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A UTC instant ``day`` days after Monday 6 January 2025."""
    return datetime.datetime.combine(MONDAY + datetime.timedelta(days=day), datetime.time(hour, minute), UTC)


def make_slot(
    id: int,
    *,
    day: int = 0,
    hour: int = 9,
    minute: int = 0,
    site: int = 1,
    counter: int = 1,
    procedures: Iterable[int] = (1,),
    languages: Iterable[str] = (),
    step_free: bool = True,
    local_date: datetime.date | None = None,
) -> FreeSlot:
    starts_at = at(day, hour, minute)
    return FreeSlot(
        id=id,
        site_id=site,
        counter_id=counter,
        starts_at=starts_at,
        local_date=local_date or starts_at.date(),
        procedure_ids=frozenset(procedures),
        languages=frozenset(languages),
        step_free=step_free,
    )


def make_request(
    id: int,
    *,
    procedure: int = 1,
    due: int = 10,
    received: int = 0,
    sites: Iterable[int] | None = None,
    not_before: datetime.datetime = NOW,
    language: str | None = None,
    step_free: bool = False,
    weekdays: Iterable[int] = (),
    dates: Iterable[datetime.date] = (),
) -> WaitingRequest:
    """A request due ``due`` days after Monday, received ``received`` minutes before NOW."""
    return WaitingRequest(
        id=id,
        procedure_id=procedure,
        due_date=MONDAY + datetime.timedelta(days=due),
        received_at=NOW - datetime.timedelta(minutes=received),
        site_ids=None if sites is None else frozenset(sites),
        not_before=not_before,
        language=language,
        needs_step_free=step_free,
        unavailable_weekdays=frozenset(weekdays),
        unavailable_dates=frozenset(dates),
    )


def pairs(assignments: list[Assignment]) -> list[tuple[int, int]]:
    return [(a.request_id, a.slot_id) for a in assignments]


# --- The reference: the rule written the obvious way -----------------------------------------------------


def compatible(request: WaitingRequest, slot: FreeSlot) -> bool:
    """The one rule (tests/allocation/test_compatibility.py checks it condition by condition)."""
    return suits(request, slot)


def serving_order(requests: Iterable[WaitingRequest]) -> list[WaitingRequest]:
    return sorted(requests, key=lambda r: (r.due_date, r.received_at, r.id))


def reference_allocate(requests: Iterable[WaitingRequest], slots: Iterable[FreeSlot]) -> list[Assignment]:
    by_time = sorted(slots, key=lambda s: (s.starts_at, s.id))
    taken: set[int] = set()
    assignments = []
    for request in serving_order(requests):
        free = [slot for slot in by_time if slot.id not in taken and compatible(request, slot)]
        spoken = [slot for slot in free if speaks(request, slot)]
        # A counter speaking the language by the due date, else an earlier slot with an interpreter booked.
        if spoken and (spoken[0].local_date <= request.due_date or spoken[0].starts_at == free[0].starts_at):
            free = spoken
        for slot in free[:1]:
            taken.add(slot.id)
            assignments.append(Assignment(request.id, slot.id))
    return assignments


# --- Examples: the order of service ----------------------------------------------------------------------


def test_nothing_in_nothing_out():
    assert allocate([], []) == []
    assert allocate([make_request(1)], []) == []
    assert allocate([], [make_slot(1)]) == []


def test_the_earliest_due_date_is_served_first():
    late, early = make_request(1, due=20, received=999), make_request(2, due=5)
    assert pairs(allocate([late, early], [make_slot(10)])) == [(2, 10)]


def test_equal_due_dates_go_by_received_time_then_id():
    requests = [make_request(3, received=5), make_request(2, received=5), make_request(1, received=1)]
    slots = [make_slot(10, hour=9), make_slot(11, hour=10)]
    # 3 and 2 were received together, before 1: 2 wins the tie on id.
    assert pairs(allocate(requests, slots)) == [(2, 10), (3, 11)]


def test_a_request_takes_the_earliest_slot_and_the_smallest_id_at_equal_times():
    slots = [make_slot(12, hour=11), make_slot(11, hour=10, counter=2), make_slot(10, hour=10, counter=3)]
    assert pairs(allocate([make_request(1)], slots)) == [(1, 10)]


def test_assignments_come_in_serving_order_each_slot_once():
    requests = [make_request(i, due=10 - i) for i in range(1, 6)]
    slots = [make_slot(10 + i, hour=8 + i) for i in range(3)]
    assert pairs(allocate(requests, slots)) == [(5, 10), (4, 11), (3, 12)]


def test_inputs_may_be_any_iterables():
    requests = (make_request(i) for i in (1, 2))
    slots = iter([make_slot(10), make_slot(11, hour=10)])
    assert pairs(allocate(requests, slots)) == [(1, 10), (2, 11)]


# --- Examples: one compatibility rule each ---------------------------------------------------------------


def test_the_counter_must_serve_the_procedure():
    slots = [make_slot(10, procedures={2, 3}), make_slot(11, hour=10, procedures={1, 2})]
    assert pairs(allocate([make_request(1, procedure=1)], slots)) == [(1, 11)]
    assert allocate([make_request(1, procedure=4)], slots) == []


def test_the_site_must_be_one_the_applicant_accepts():
    slots = [make_slot(10, site=1), make_slot(11, site=2, hour=10), make_slot(12, site=3, hour=11)]
    assert pairs(allocate([make_request(1, sites={2, 3})], slots)) == [(1, 11)]
    assert pairs(allocate([make_request(1, sites={3})], slots)) == [(1, 12)]
    assert allocate([make_request(1, sites={4})], slots) == []


def test_no_site_preference_means_any_site():
    slots = [make_slot(10, site=7, hour=10), make_slot(11, site=3, hour=9)]
    assert pairs(allocate([make_request(1, sites=None)], slots)) == [(1, 11)]


def test_an_interpreter_language_prefers_a_counter_that_speaks_it_by_the_due_date():
    slots = [make_slot(10, languages={"en"}), make_slot(11, hour=10, languages={"ar", "en"})]
    assert pairs(allocate([make_request(1, language="ar")], slots)) == [(1, 11)]


def test_a_language_no_counter_speaks_still_gets_the_earliest_slot_with_an_interpreter():
    # Before the fallback such a request waited for ever while these slots stayed free.
    slots = [make_slot(10, languages={"en"}), make_slot(11, hour=10, languages={"ar", "en"})]
    assert pairs(allocate([make_request(1, language="so")], slots)) == [(1, 10)]


def test_a_speaking_counter_after_the_due_date_gives_way_to_an_earlier_slot_with_an_interpreter():
    slots = [make_slot(10, day=1), make_slot(11, day=9, languages={"ar"})]
    assert pairs(allocate([make_request(1, due=5, language="ar")], slots)) == [(1, 10)]
    assert pairs(allocate([make_request(1, due=9, language="ar")], slots)) == [(1, 11)]


def test_french_is_served_at_every_counter():
    slots = [make_slot(10, languages={"ar"})]
    assert pairs(allocate([make_request(1, language=None)], slots)) == [(1, 10)]


def test_step_free_access_when_needed():
    slots = [make_slot(10, step_free=False), make_slot(11, hour=10, step_free=True)]
    assert pairs(allocate([make_request(1, step_free=True)], slots)) == [(1, 11)]
    assert pairs(allocate([make_request(1, step_free=False)], slots)) == [(1, 10)]


def test_nothing_before_not_before_and_a_slot_starting_exactly_then_is_fine():
    slots = [make_slot(10, hour=9), make_slot(11, hour=10), make_slot(12, hour=11)]
    assert pairs(allocate([make_request(1, not_before=at(0, 9, 30))], slots)) == [(1, 11)]
    assert pairs(allocate([make_request(1, not_before=at(0, 10))], slots)) == [(1, 11)]
    assert allocate([make_request(1, not_before=at(0, 11, 1))], slots[:2]) == []


def test_unavailable_weekdays_are_skipped():
    slots = [make_slot(10, day=0), make_slot(11, day=1), make_slot(12, day=2)]  # Mon, Tue, Wed
    assert pairs(allocate([make_request(1, weekdays={0, 1})], slots)) == [(1, 12)]
    assert allocate([make_request(1, weekdays={0, 1, 2})], slots) == []


def test_unavailable_dates_are_skipped():
    slots = [make_slot(10, day=0), make_slot(11, day=7), make_slot(12, day=8)]
    tuesday_next_week = MONDAY + datetime.timedelta(days=8)
    assert pairs(allocate([make_request(1, dates={MONDAY})], slots)) == [(1, 11)]
    assert pairs(allocate([make_request(1, weekdays={0}, dates={tuesday_next_week})], slots)) == []


def test_days_are_the_sites_local_dates_not_utc_dates():
    # 23:30 UTC on a Monday is already Tuesday in Mayotte (UTC+3): the caller says so in local_date.
    tuesday = MONDAY + datetime.timedelta(days=1)
    slots = [make_slot(10, day=0, hour=23, minute=30, local_date=tuesday), make_slot(11, day=1, hour=9)]
    assert pairs(allocate([make_request(1, weekdays={1})], slots)) == []
    assert pairs(allocate([make_request(1, weekdays={0})], slots)) == [(1, 10)]


def test_a_request_that_cannot_be_served_does_not_hold_up_the_next():
    first = make_request(1, due=1, step_free=True)
    second = make_request(2, due=2)
    assert pairs(allocate([first, second], [make_slot(10, step_free=False)])) == [(2, 10)]


def test_an_earlier_request_is_not_passed_over_for_a_slot_it_could_take():
    # 1 is due first but can only come from Wednesday; 2 may take the Monday slot nobody else can use.
    slots = [make_slot(10, day=0), make_slot(11, day=2)]
    requests = [make_request(1, due=1, not_before=at(2, 0)), make_request(2, due=2)]
    assert pairs(allocate(requests, slots)) == [(1, 11), (2, 10)]


def test_once_a_site_is_full_the_rest_of_its_queue_gets_nothing():
    slots = [make_slot(10 + i, hour=8 + i, site=1) for i in range(3)] + [make_slot(20, site=2)]
    requests = [make_request(i, due=i, sites={1}) for i in range(1, 7)] + [make_request(9, due=9)]
    assert pairs(allocate(requests, slots)) == [(1, 10), (2, 11), (3, 12), (9, 20)]


def test_agrees_with_the_reference_on_a_crowded_prefecture():
    # Many more requests than slots, few sites, long runs of taken slots in every pool: the paths that small
    # generated worlds rarely reach.
    rng = random.Random(7)
    slots = []
    for _ in range(400):
        site = rng.randint(1, 3)
        slots.append(
            make_slot(
                rng.randrange(10_000),
                day=rng.randrange(20),
                hour=rng.randint(7, 15),
                minute=rng.choice((0, 30)),
                site=site,
                counter=rng.randint(1, 4),
                procedures=rng.sample(range(1, 5), rng.randint(1, 3)),
                languages=rng.sample(("ar", "en", "ru"), rng.choice((0, 0, 1, 2))),
                step_free=site != 3,
            )
        )
    slots = list({slot.id: slot for slot in slots}.values())
    requests = [
        make_request(
            i,
            procedure=rng.randint(1, 4),
            due=rng.randrange(30),
            received=rng.randrange(100),
            sites=rng.choice((None, {1}, {2}, {1, 3}, {2, 3})),
            not_before=at(rng.randrange(8), 0),
            language=rng.choice((None,) * 8 + ("ar", "ru")),
            step_free=rng.random() < 0.1,
            weekdays=rng.sample(range(5), rng.choice((0,) * 9 + (2,))),
            dates=[
                MONDAY + datetime.timedelta(days=d)
                for d in rng.sample(range(20), rng.choice((0,) * 9 + (3,)))
            ],
        )
        for i in range(1500)
    ]
    assert pairs(allocate(requests, slots)) == pairs(reference_allocate(requests, slots))


# --- Properties of random small worlds -------------------------------------------------------------------

LANGUAGES = ("ar", "en", "ru")
# Needs come from short menus; the first entry of each is the simplest, which is where shrinking goes.
SITE_CHOICES = (
    None,
    None,
    frozenset({1}),
    frozenset({2}),
    frozenset({1, 2}),
    frozenset({2, 3}),
    frozenset({4}),
    frozenset(),
)
WEEKDAY_CHOICES = (frozenset(),) * 4 + (
    frozenset({0}),
    frozenset({1, 2}),
    frozenset({0, 2, 4}),
    frozenset({5, 6}),
)
DATE_CHOICES = (frozenset(),) * 4 + tuple(
    frozenset(MONDAY + datetime.timedelta(days=d) for d in days) for days in ((0,), (1, 2), (3, 7, 8), (9,))
)
LANGUAGE_CHOICES = (None, None, None, *LANGUAGES)
WORLD_BYTES = 3 + 4 * 3 + 2 + 30 * 3 + 30 * 8


class Choices:
    """A world's choices read from one byte string.

    Hypothesis draws (and shrinks) one string instead of hundreds of small values: drawing those was nine
    tenths of the run time. A zero byte is always the simplest choice, so shrinking still simplifies.
    """

    def __init__(self, data: bytes) -> None:
        self._data = iter(data)

    def below(self, bound: int) -> int:
        return next(self._data, 0) % bound

    def among(self, options: tuple[T, ...]) -> T:
        return options[self.below(len(options))]

    def subset(self, options: tuple[T, ...], min_size: int = 0) -> frozenset[T]:
        bits = self.below(2 ** len(options) - min_size) + min_size
        return frozenset(option for i, option in enumerate(options) if bits >> i & 1)


def scrambled_ids(count: int) -> list[int]:
    """``count`` distinct ids (at most 40) in an order unrelated to their values."""
    return [(k * 17) % 41 + 1 for k in range(count)]


def decode_world(data: bytes) -> tuple[list[WaitingRequest], list[FreeSlot]]:
    """Up to 3 sites (one maybe in another timezone), 3 procedures, 4 counters, 30 slots, 30 requests.

    Few distinct times, due dates and received times, so that ties are common; slot hours that cross midnight
    in some timezones; ids unrelated to times, so that id order and time order disagree as often as not.
    """
    choose = Choices(data)
    offsets = (0, choose.among((0, 1, 3, -10)), 0)
    step_free = (True, choose.among((True, False)), False)
    counters = [
        (1 + choose.below(3), choose.subset((1, 2, 3), min_size=1), choose.subset(LANGUAGES))
        for _ in range(1 + choose.below(4))
    ]
    slot_count, request_count = choose.below(31), choose.below(31)
    slots = []
    for slot_id in scrambled_ids(slot_count):
        counter = choose.below(len(counters))
        site, procedure_ids, languages = counters[counter]
        starts_at = at(choose.below(10), choose.among((9, 14, 22, 0)))
        slots.append(
            FreeSlot(
                id=slot_id,
                site_id=site,
                counter_id=counter,
                starts_at=starts_at,
                local_date=(starts_at + datetime.timedelta(hours=offsets[site - 1])).date(),
                procedure_ids=procedure_ids,
                languages=languages,
                step_free=step_free[site - 1],
            )
        )
    requests = []
    for request_id in scrambled_ids(request_count):
        procedure = 1 + choose.below(3)
        due, received = choose.below(4), choose.below(4)
        sites = choose.among(SITE_CHOICES)
        not_before = at(choose.below(6), choose.among((0, 9, 12)))
        requests.append(
            WaitingRequest(
                id=request_id,
                procedure_id=procedure,
                due_date=MONDAY + datetime.timedelta(days=due),
                received_at=NOW - datetime.timedelta(minutes=received),
                site_ids=sites,
                not_before=not_before,
                language=choose.among(LANGUAGE_CHOICES),
                needs_step_free=choose.among((False, False, False, True)),
                unavailable_weekdays=choose.among(WEEKDAY_CHOICES),
                unavailable_dates=choose.among(DATE_CHOICES),
            )
        )
    return requests, slots


def worlds() -> st.SearchStrategy[tuple[list[WaitingRequest], list[FreeSlot]]]:
    return st.binary(min_size=WORLD_BYTES, max_size=WORLD_BYTES).map(decode_world)


PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(worlds())
def test_no_slot_is_given_twice_nor_any_request_served_twice(world):
    requests, slots = world
    assignments = allocate(requests, slots)
    assert len({a.slot_id for a in assignments}) == len(assignments)
    assert len({a.request_id for a in assignments}) == len(assignments)


@PROPERTY
@given(worlds())
def test_every_assignment_is_compatible(world):
    requests, slots = world
    request_by_id = {r.id: r for r in requests}
    slot_by_id = {s.id: s for s in slots}
    for a in allocate(requests, slots):
        assert compatible(request_by_id[a.request_id], slot_by_id[a.slot_id])


@PROPERTY
@given(worlds())
def test_work_conserving_no_compatible_slot_stays_free_while_a_request_waits(world):
    requests, slots = world
    assignments = allocate(requests, slots)
    served = {a.request_id for a in assignments}
    given_out = {a.slot_id for a in assignments}
    free = [s for s in slots if s.id not in given_out]
    for request in requests:
        if request.id not in served:
            assert not any(compatible(request, slot) for slot in free), request


@PROPERTY
@given(worlds())
def test_nobody_is_passed_over_by_a_later_request(world):
    """If A comes before B and B got a slot A could take, A got one at least as early (by time, then id),
    or one at a counter speaking its language by its due date."""
    requests, slots = world
    assignments = allocate(requests, slots)
    slot_by_id = {s.id: s for s in slots}
    got = {a.request_id: slot_by_id[a.slot_id] for a in assignments}
    order = serving_order(requests)
    for i, earlier in enumerate(order):
        for later in order[i + 1 :]:
            if later.id in got and compatible(earlier, got[later.id]):
                mine, theirs = got.get(earlier.id), got[later.id]
                assert mine is not None
                assert (mine.starts_at, mine.id) < (theirs.starts_at, theirs.id) or (
                    speaks(earlier, mine)
                    and (mine.local_date <= earlier.due_date or mine.starts_at == theirs.starts_at)
                )


@PROPERTY
@given(worlds(), st.randoms(use_true_random=False))
def test_the_same_input_in_any_order_gives_the_same_output(world, rng):
    requests, slots = world
    expected = allocate(requests, slots)
    shuffled_requests, shuffled_slots = requests[:], slots[:]
    rng.shuffle(shuffled_requests)
    rng.shuffle(shuffled_slots)
    assert allocate(iter(shuffled_requests), iter(shuffled_slots)) == expected


@PROPERTY
@given(worlds())
def test_the_fast_engine_equals_the_reference(world):
    requests, slots = world
    assert allocate(requests, slots) == reference_allocate(requests, slots)
