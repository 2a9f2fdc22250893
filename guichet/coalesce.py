"""One queued task for a burst of commits: while one is queued and has not started, later triggers ride on it.

A trigger runs after its transaction has committed. If a task of the same key is queued and has not started
yet, that task will read what this transaction committed, so queueing a second one would only repeat its
work: the trigger does nothing. The task calls `started(key)` first of all, before it reads anything, so that
a commit made while it runs queues the next one. The mark lives in the shared cache (Redis in production,
which every app server and worker sees) and expires after `PENDING_SECONDS`, so a task lost with its worker
delays the next trigger by that much at most (the clock's periodic runs catch up meanwhile).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)

PENDING_SECONDS = 60


def enqueue_once(task: Any, key: str, *args: Any) -> bool:
    """Queue `task(*args)` unless one of this key is queued and not started. True if it queued one.

    A failure to queue is logged, not raised: the change that triggered it is committed already, and the
    clock's periodic run is the safety net. A cache that does not answer queues the task anyway.
    """
    try:
        fresh = cache.add(key, 1, timeout=PENDING_SECONDS)
    except Exception:
        logger.exception("the cache does not answer: queueing %s without coalescing", key)
        fresh = True
    if not fresh:
        return False
    try:
        task.enqueue(*args)
    except Exception:
        logger.exception("could not queue the task %s; the periodic run will catch up", key)
        _forget(key)
        return False
    return True


def started(key: str) -> None:
    """A task of this key starts: from now on, a commit queues the next one."""
    _forget(key)


def _forget(key: str) -> None:
    try:
        cache.delete(key)
    except Exception:
        logger.exception("the cache does not answer: %s stays marked until it expires", key)
