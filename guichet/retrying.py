"""The one place where a transaction that lost a deadlock or a serialisation race is run again.

The lock order (docs/concurrency.md) is meant to make deadlocks impossible; this is the net under it.
PostgreSQL rolls the losing transaction back whole, so running the view (guichet/retry_middleware.py, every
page and API route) or the task (the allocation, slot generation and message tasks) again from the start
is safe: nothing of the failed transaction was stored, and a transaction of the same view that committed
before it is found done by the services the second time (they refuse or skip a repeated change). After
ATTEMPTS tries the person is told, in clear words, that nothing was stored and to try again (409
`try_again`), never shown a 500. Only the outermost transaction can be retried: inside an enclosing atomic
block the error goes up to whoever opened it.

Each retry and each give-up is logged (logger `guichet.retrying`), so that bench/soak.py can count them.
This module belongs to the domain (tasks use it); answering a page or an API call is the middleware's.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, connection
from django.utils.translation import gettext

from guichet.errors import Conflict

logger = logging.getLogger(__name__)

ATTEMPTS = 4
# PostgreSQL's SQLSTATEs for "run the transaction again": deadlock_detected, serialization_failure.
TRANSIENT = {"40P01": "deadlock", "40001": "serialization failure"}
RETRY_AFTER_SECONDS = 2

T = TypeVar("T")


class TryAgain(Conflict):
    pass


def transient_kind(error: BaseException) -> str | None:
    """'deadlock' or 'serialization failure' if the database asks for the transaction to be run again."""
    seen: BaseException | None = error
    while seen is not None:
        kind = TRANSIENT.get(getattr(seen, "sqlstate", None) or "")
        if kind:
            return kind
        seen = seen.__cause__
    return None


def run(action: Callable[[], T], *, what: str) -> T:
    """action(), run again (up to ATTEMPTS in all) while it fails on a deadlock or serialisation failure."""
    attempt = 1
    while True:
        try:
            return action()
        except DatabaseError as error:
            kind = transient_kind(error)
            if kind is None or connection.in_atomic_block:
                raise
            if attempt == ATTEMPTS:
                logger.error("transaction gave up after %s, %d attempts: %s", kind, attempt, what)
                raise TryAgain(
                    "try_again",
                    gettext(
                        "Many people are using the service at this moment and your request could not be"
                        " stored: nothing was recorded. Please try again in a moment."
                    ),
                ) from error
            logger.warning(
                "transaction retried after %s (attempt %d of %d): %s", kind, attempt, ATTEMPTS, what
            )
            # A short random pause, longer each time, so that the colliding transactions do not meet again.
            time.sleep(random.uniform(0.01, 0.05) * attempt)
            attempt += 1
