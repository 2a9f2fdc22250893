"""A value that is costly to compute and read by many, kept in the shared cache and rebuilt by one reader.

The queue's counts behind the place in the queue (guichet/waitlist/position.py) and the engine's run behind
the status page's turn window (guichet/allocation/forecast.py) cost what the queue's length costs; every
reader of the same queue wants the same answer. ``shared`` keeps it in the cache (Redis in production, which
every app server sees) with the time it was taken:

* younger than its period: every reader uses it;
* missing or older: the reader that takes the rebuild mark (``cache.add``, atomic) rebuilds it and stores it
  for twice the period; the others use the one they found meanwhile, or, when there is none, wait a moment
  for the rebuild;
* never older than twice the period, whatever the cache keeps;
* a cache that does not answer is logged and gives None: the caller then computes its own answer.

``refresh`` rebuilds a value ahead of its readers (the clock), under the same mark, so that no reader has to.
"""

from __future__ import annotations

import datetime
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from django.core.cache import cache

logger = logging.getLogger(__name__)

# How long a rebuild holds its mark at most: past it (a process died rebuilding), another reader rebuilds.
REBUILD_MARK_SECONDS = 30
# How long a reader that found nothing waits for the value being built, before doing without it.
COLD_WAIT_SECONDS = 2.0
COLD_POLL_SECONDS = 0.05


class Snapshot(Protocol):
    taken_at: datetime.datetime


T = TypeVar("T", bound=Snapshot)


def cache_call(method: str, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    """A cache call; (ok, result), where a cache that does not answer is logged and gives ok False."""
    try:
        return True, getattr(cache, method)(*args, **kwargs)
    except Exception:
        logger.exception(
            "the cache does not answer (%s %s): computed without the shared snapshot", method, args[:1]
        )
        return False, None


def _young(found: T | None, now: datetime.datetime, seconds: int) -> T | None:
    if found is None or now - found.taken_at >= datetime.timedelta(seconds=seconds):
        return None
    return found


def shared(
    key: str,
    mark: str,
    period: int,
    build: Callable[[], T],
    now: datetime.datetime,
    wait_seconds: float | None = None,
) -> T | None:
    """The value under ``key``, rebuilt with ``build()`` by this reader if it is missing or at least
    ``period`` seconds old and no other reader holds ``mark``. None: none to be had (cache down, or a cold
    rebuild by another reader that took longer than ``wait_seconds``, COLD_WAIT_SECONDS unless given).
    ``build`` may store other keys too.
    """
    ok, found = cache_call("get", key)
    if not ok:
        return None
    found = _young(found, now, 2 * period)
    if _young(found, now, period) is not None:
        return found
    ok, mine = cache_call("add", mark, 1, timeout=REBUILD_MARK_SECONDS)
    if not ok:
        return None
    if mine:
        return _rebuild(key, mark, period, build)
    if found is not None:
        return found  # another reader is rebuilding; this one is less than two periods old
    deadline = time.monotonic() + (COLD_WAIT_SECONDS if wait_seconds is None else wait_seconds)
    while time.monotonic() < deadline:
        time.sleep(COLD_POLL_SECONDS)
        ok, found = cache_call("get", key)
        if not ok:
            return None
        if _young(found, now, 2 * period) is not None:
            return found
    return None


def refresh(key: str, mark: str, period: int, build: Callable[[], T]) -> T | None:
    """Rebuild the value under ``key`` now, whatever its age, unless a reader is rebuilding it (None then,
    or when the cache does not answer). ``build`` may store other keys too."""
    ok, mine = cache_call("add", mark, 1, timeout=REBUILD_MARK_SECONDS)
    if not ok or not mine:
        return None
    return _rebuild(key, mark, period, build)


def _rebuild(key: str, mark: str, period: int, build: Callable[[], T]) -> T:
    """Build and store the value; the caller holds ``mark``, given back here whatever happens."""
    try:
        fresh = build()
        # Kept twice the period: readers use it while the next one is rebuilt, never longer.
        cache_call("set", key, fresh, timeout=2 * period)
    finally:
        cache_call("delete", mark)
    return fresh
