"""The allocation engine: the waiting queue and the free slots in, offers to make out.

The rule is the one of DESIGN.md ("The due date and the allocation rule"): requests are served by earliest
due date (ties: received time, then id); each takes the earliest free slot that suits it (compatibility.py;
ties: smallest slot id); a request that finds none gets nothing and the next one is served, so no slot stays
empty while a request it suits waits. A request needing an interpreter takes the earliest slot of a counter
speaking its language if there is one by its due date, and otherwise the earliest slot that suits, for which
an interpreter is booked: a language no counter speaks never starves anyone.

This module is pure: stdlib only, no Django, no clock, no randomness. The same input, in any iteration order,
gives the same output. Request ids and slot ids are assumed unique (they are primary keys).

How it stays fast on a million requests (``bench/allocation.py``):

* Slots are ranked once by (starts_at, id); from then on a slot is an int rank and "earlier" is ``<``.
* Slots are grouped by compatibility signature (site, procedures, languages, step-free). A *pool* is the
  sorted list of ranks that one kind of request may take at one scope (one site, or every site), merged on
  demand from the signatures that qualify and shared by every request of that kind.
* A slot belongs to many pools, so taking it only sets ``taken[rank]``; each pool skips taken slots lazily,
  with a union-find "next possibly free position" array whose runs are found and compressed in C.
* The queue is never sorted as a whole, which would cost more than the rule itself: it is served one due
  date at a time, and only the requests that may still get a slot are sorted and searched for. Once a
  procedure's capacity runs out, the rest of its queue is skipped whole, so the long tail costs next to
  nothing.
"""

from __future__ import annotations

import datetime
import gc
from array import array
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, compress, groupby, repeat
from operator import attrgetter, itemgetter, le
from typing import TypeAlias

from .compatibility import FreeSlot, WaitingRequest, day_suits, kind_speaks, kind_suits

__all__ = ["Assignment", "FreeSlot", "WaitingRequest", "allocate"]


@dataclass(frozen=True, slots=True)
class Assignment:
    """One slot given to one request: the service turns it into an offer."""

    request_id: int
    slot_id: int


# The latest free slot of requests that have none: earlier than any not_before.
_NOTHING_LEFT = datetime.datetime.min.replace(tzinfo=datetime.UTC)
# The scope of a pool that spans every site.
_EVERY_SITE = None

_ID = attrgetter("id")
_NOT_BEFORE = attrgetter("not_before")
_RECEIVED_AT = attrgetter("received_at")
_STARTS_AT = attrgetter("starts_at")

_GroupKey = tuple[int, frozenset[int] | None, str | None, bool]


def allocate(requests: Iterable[WaitingRequest], slots: Iterable[FreeSlot]) -> list[Assignment]:
    """Serve the queue in order of due date; return the assignments in serving order."""
    with _cyclic_gc_paused():
        table = _SlotTable(slots)
        if not table.ids:
            return []
        return _serve(_Queue(requests), table)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector, as batch loaders do.

    The engine makes no reference cycles, but it allocates one tracked object per assignment, and each
    young-generation collection walks the large young containers (the queue's lists of a million requests):
    about a tenth of the run time on the bench. Reference counting still frees everything.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Queue:
    """The waiting requests by due date, then by procedure."""

    def __init__(self, requests: Iterable[WaitingRequest]) -> None:
        self.by_due_date: dict[datetime.date, defaultdict[int, list[WaitingRequest]]] = {}
        # The earliest not_before of each procedure's requests: once a procedure's latest free slot starts
        # before it, none of them can be served and they are not looked at again.
        self.earliest: dict[int, datetime.datetime] = {}
        # One pass in memory order, which matters more than the interpreter on a million objects: each
        # request is read once, while it is in the CPU cache.
        for request in requests:
            same_day = self.by_due_date.get(request.due_date)
            if same_day is None:
                same_day = self.by_due_date[request.due_date] = defaultdict(list)
            procedure_id = request.procedure_id
            same_day[procedure_id].append(request)
            earliest = self.earliest.get(procedure_id)
            if earliest is None or request.not_before < earliest:
                self.earliest[procedure_id] = request.not_before

    def hopeful(self, due_date: datetime.date, latest: dict[int, datetime.datetime]) -> list[WaitingRequest]:
        """The requests due that day that may still get a slot, in serving order.

        Dropping the others changes nothing: a request with no compatible free slot now will not have one
        later, as slots are only ever taken. ``latest`` maps a procedure to the start of its latest free slot.
        """
        hopeful: list[WaitingRequest] = []
        for procedure_id, same_day in self.by_due_date[due_date].items():
            bound = latest.get(procedure_id)
            if bound is None or bound < self.earliest[procedure_id]:
                continue
            # not_before <= bound, request by request, in C.
            hopeful.extend(compress(same_day, map(le, map(_NOT_BEFORE, same_day), repeat(bound))))
        # Two stable sorts, id first, are cheaper than one on (received_at, id).
        hopeful.sort(key=_ID)
        hopeful.sort(key=_RECEIVED_AT)
        return hopeful


def _serve(queue: _Queue, table: _SlotTable) -> list[Assignment]:
    """Serve the queue one due date at a time; return the assignments in serving order."""
    groups: dict[_GroupKey, _Group] = {}
    slot_ids = table.ids
    dates = table.dates
    starts = table.starts
    taken = table.taken
    served: list[Assignment] = []
    for due_date in sorted(queue.by_due_date):
        hopeful = queue.hopeful(due_date, table.latest_by_procedure())
        for request in hopeful:
            key = (request.procedure_id, request.site_ids, request.language, request.needs_step_free)
            rank = _earliest_in_group(groups, key, request, table)
            if request.language is not None and (rank < 0 or dates[rank] > request.due_date):
                # No counter speaking the language has a slot by the due date: an earlier slot that suits
                # otherwise, with an interpreter booked (compatibility.py); at the same time, the speaker.
                key = (request.procedure_id, request.site_ids, None, request.needs_step_free)
                fallback = _earliest_in_group(groups, key, request, table)
                if fallback >= 0 and (rank < 0 or starts[fallback] < starts[rank]):
                    rank = fallback
            if rank < 0:
                continue
            taken[rank] = 1
            served.append(Assignment(request.id, slot_ids[rank]))
    return served


def _earliest_in_group(
    groups: dict[_GroupKey, _Group], key: _GroupKey, request: WaitingRequest, table: _SlotTable
) -> int:
    """The rank of the earliest free slot of the request's group, or -1."""
    group = groups.get(key)
    if group is None:
        group = groups[key] = table.group(key)
    if request.not_before > group.latest:
        return -1
    rank = _earliest(group.pools, request, table)
    if rank < 0:
        group.tighten(table)
    return rank


def _earliest(pools: list[_Pool], request: WaitingRequest, table: _SlotTable) -> int:
    """The rank of the earliest free slot the request may take, or -1."""
    taken = table.taken
    threshold = table.first_rank_at(request.not_before)
    blocked = bool(request.unavailable_weekdays or request.unavailable_dates)
    best = len(taken)
    for pool in pools:
        ranks = pool.ranks
        if pool.last < 0 or ranks[pool.last] < threshold:
            continue
        pos = pool.first_at(threshold, taken)
        if blocked:
            pos = _skip_unavailable_days(pool, pos, request, table, best)
        if pos < len(ranks) and ranks[pos] < best:
            best = ranks[pos]
    return best if best < len(taken) else -1


def _skip_unavailable_days(
    pool: _Pool, pos: int, request: WaitingRequest, table: _SlotTable, best: int
) -> int:
    """The first free position at or after ``pos`` on a day the applicant can come, if it beats ``best``.

    Terminates: each step moves ``pos`` strictly forward, past the rest of a run of slots with one local date
    in global order (all on the same unavailable day), so there are at most as many steps as date runs after
    ``pos``: about one per open day of the horizon when the prefecture's sites share a timezone. The scan
    also stops once it passes ``best``, which another pool already offers.
    """
    ranks = pool.ranks
    end = len(ranks)
    dates = table.dates
    day_end = table.day_end()
    while pos < end:
        rank = ranks[pos]
        if rank >= best:
            return end
        if day_suits(request, dates[rank]):
            return pos
        pos = pool.first_free(bisect_left(ranks, day_end[rank], pos), table.taken)
    return end


class _Pool:
    """The slots one kind of request may take at one scope, as ascending global ranks."""

    __slots__ = ("answers", "last", "ranks", "skip")

    def __init__(self, ranks: array[int]) -> None:
        # A machine-int array rather than a list: bisect and indexing read it without chasing pointers.
        self.ranks = ranks
        # The last answer of first_at for each threshold rank: answers only move forward, as slots are only
        # ever taken, and requests share few thresholds, so most searches resume where the last one stopped.
        self.answers: dict[int, int] = {}
        # Union-find over positions: skip[i] == 0 means "not known to be taken"; skip[i] = j > i means every
        # position in [i, j) is taken. Allocated on the first search that needs it: many pools never do.
        self.skip: array[int] | None = None
        # Upper bound of the last free position; it only decreases, for the same reason as answers.
        self.last = len(ranks) - 1

    def first_at(self, threshold: int, taken: bytearray) -> int:
        """The first free position whose rank is at least ``threshold``; ``len(ranks)`` when there is none."""
        ranks = self.ranks
        end = len(ranks)
        pos = self.answers.get(threshold)
        if pos is None:
            pos = bisect_left(ranks, threshold)
        if pos < end and taken[ranks[pos]]:
            # Most often the last answer was just taken by the last request, and the next slot is free.
            pos += 1
            if pos < end and taken[ranks[pos]]:
                pos = self.first_free(pos, taken)
        self.answers[threshold] = pos
        return pos

    def first_free(self, pos: int, taken: bytearray) -> int:
        """The first free position at or after ``pos``; ``len(ranks)`` when there is none."""
        ranks = self.ranks
        end = len(ranks)
        skip = self.skip
        if skip is None:
            skip = self.skip = array("i", (0,)) * end
        free = pos
        while free < end:
            jump = skip[free]
            if not jump:
                if not taken[ranks[free]]:
                    break
                jump = _next_free(ranks, free, taken)
                # Path compression of the whole run at once, in C.
                skip[free:jump] = array("i", (jump,)) * (jump - free)
            free = jump
        if free != pos:
            skip[pos] = free
        return free

    def shrink_last(self, taken: bytearray) -> int:
        """Make ``last`` exact and return it (-1 once the pool is exhausted)."""
        ranks = self.ranks
        last = self.last
        if last >= 0 and taken[ranks[last]]:
            last = self.last = _previous_free(ranks, last, taken)
        return last


def _next_free(ranks: array[int], pos: int, taken: bytearray) -> int:
    """The first free position after ``pos`` (which is taken), or ``len(ranks)``.

    A slot is taken through whichever pool found it; the other pools holding it learn of it here. Slots are
    mostly taken in long runs of the global order (the earliest go first), so the first jump goes to the next
    free rank of the whole table, found by ``bytearray.find`` in C. When the pool's slot there is taken too,
    the pool's flags are read chunk by chunk, again in C. ``taken`` ends with a free sentinel byte, so both
    searches always find a zero.
    """
    end = len(ranks)
    pos = bisect_left(ranks, taken.find(0, ranks[pos]), pos + 1)
    if pos == end or not taken[ranks[pos]]:
        return pos
    sentinel = len(taken) - 1
    start = pos + 1
    size = 16
    while start < end:
        chunk = ranks[start : start + size]
        found = itemgetter(*chunk, sentinel)(taken).index(0)
        if found < len(chunk):
            return start + found
        start += size
        size *= 2
    return end


def _previous_free(ranks: array[int], pos: int, taken: bytearray) -> int:
    """The last free position before ``pos`` (which is taken), or -1: ``_next_free`` backwards."""
    free_rank = taken.rfind(0, 0, ranks[pos])
    if free_rank < 0:
        return -1
    pos = bisect_right(ranks, free_rank, 0, pos) - 1
    if pos < 0 or not taken[ranks[pos]]:
        return pos
    sentinel = len(taken) - 1
    stop = pos - 1
    size = 16
    while stop >= 0:
        start = max(0, stop - size + 1)
        chunk = ranks[start : stop + 1]
        found = itemgetter(*reversed(chunk), sentinel)(taken).index(0)
        if found < len(chunk):
            return stop - found
        stop = start - 1
        size *= 2
    return -1


class _Group:
    """The pools of all requests sharing one (procedure, sites, language, step-free) key."""

    __slots__ = ("latest", "pools")

    def __init__(self, pools: list[_Pool], starts: Sequence[datetime.datetime]) -> None:
        self.pools = pools
        # Upper bound of the start of the latest free slot of the pools: still valid as slots get taken, made
        # exact again whenever a search fails, so that the requests after it are turned away at once.
        self.latest = starts[max(pool.ranks[-1] for pool in pools)] if pools else _NOTHING_LEFT

    def tighten(self, table: _SlotTable) -> None:
        """Drop exhausted pools and make ``latest`` exact."""
        live = []
        top = -1
        for pool in self.pools:
            last = pool.shrink_last(table.taken)
            if last >= 0:
                live.append(pool)
                top = max(top, pool.ranks[last])
        self.pools = live
        self.latest = table.starts[top] if top >= 0 else _NOTHING_LEFT


_Signature: TypeAlias = "tuple[frozenset[int], frozenset[str], bool, array[int]]"


class _SlotTable:
    """Every free slot, ranked by (starts_at, id), and the pools built over them."""

    def __init__(self, slots: Iterable[FreeSlot]) -> None:
        # Two stable sorts, id first, are cheaper than one on (starts_at, id): equal starts are the rule.
        ordered = sorted(sorted(slots, key=_ID), key=_STARTS_AT)
        self.ids: list[int] = [slot.id for slot in ordered]
        self.starts: list[datetime.datetime] = [slot.starts_at for slot in ordered]
        self.dates: list[datetime.date] = [slot.local_date for slot in ordered]
        # One flag per rank, plus a last byte that stays free: see _next_free.
        self.taken = bytearray(len(ordered) + 1)
        self._signatures = self._by_signature(ordered)
        self._procedure_ids = sorted({p for signature in self._signatures[_EVERY_SITE] for p in signature[0]})
        self._pools: dict[tuple[int | None, int, str | None, bool], _Pool | None] = {}
        self._first_rank_at: dict[datetime.datetime, int] = {}
        self._day_end: list[int] | None = None

    @staticmethod
    def _by_signature(ordered: list[FreeSlot]) -> dict[int | None, list[_Signature]]:
        """The ranks of each signature, listed per site and for every site.

        Counters have few distinct configurations, so a pool is a merge of a few signature lists rather
        than a scan of every slot.
        """
        ranks_of: dict[tuple[int, frozenset[int], frozenset[str], bool], array[int]] = {}
        for rank, slot in enumerate(ordered):
            key = (slot.site_id, slot.procedure_ids, slot.languages, slot.step_free)
            ranks = ranks_of.get(key)
            if ranks is None:
                ranks_of[key] = array("i", (rank,))
            else:
                ranks.append(rank)
        signatures: dict[int | None, list[_Signature]] = {_EVERY_SITE: []}
        for (site_id, procedure_ids, languages, step_free), ranks in ranks_of.items():
            signature = (procedure_ids, languages, step_free, ranks)
            signatures.setdefault(site_id, []).append(signature)
            signatures[_EVERY_SITE].append(signature)
        return signatures

    def group(self, key: _GroupKey) -> _Group:
        procedure_id, site_ids, language, needs_step_free = key
        scopes: Iterable[int | None] = (_EVERY_SITE,) if site_ids is None else sorted(site_ids)
        pools = [self._pool(scope, procedure_id, language, needs_step_free) for scope in scopes]
        return _Group([pool for pool in pools if pool is not None], self.starts)

    def _pool(
        self, scope: int | None, procedure_id: int, language: str | None, needs_step_free: bool
    ) -> _Pool | None:
        key = (scope, procedure_id, language, needs_step_free)
        if key not in self._pools:
            parts = [
                ranks
                for procedure_ids, languages, step_free, ranks in self._signatures.get(scope, ())
                if kind_suits(procedure_id, needs_step_free, procedure_ids, step_free)
                and kind_speaks(language, languages)
            ]
            pool = None
            if len(parts) == 1:
                pool = _Pool(parts[0])  # shared: ranks are never changed
            elif parts:
                # Sorted runs concatenated: timsort merges them in O(n log k).
                pool = _Pool(array("i", sorted(chain.from_iterable(parts))))
            self._pools[key] = pool
        return self._pools[key]

    def first_rank_at(self, moment: datetime.datetime) -> int:
        """The rank of the first slot starting at or after ``moment``; cached, as requests share a few."""
        rank = self._first_rank_at.get(moment)
        if rank is None:
            rank = self._first_rank_at[moment] = bisect_left(self.starts, moment)
        return rank

    def latest_by_procedure(self) -> dict[int, datetime.datetime]:
        """For each procedure that has a free slot, the start of its latest one, exact now."""
        latest: dict[int, datetime.datetime] = {}
        for procedure_id in self._procedure_ids:
            pool = self._pool(_EVERY_SITE, procedure_id, None, False)
            last = pool.shrink_last(self.taken) if pool is not None else -1
            if last >= 0:
                latest[procedure_id] = self.starts[pool.ranks[last]]
        return latest

    def day_end(self) -> list[int]:
        """For each rank, the first later rank with another local date.

        Built on first use: only requests with unavailable days need it.
        """
        if self._day_end is None:
            day_end: list[int] = []
            for _, run in groupby(self.dates):
                length = sum(1 for _ in run)
                day_end.extend(repeat(len(day_end) + length, length))
            self._day_end = day_end
        return self._day_end
