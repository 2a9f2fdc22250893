"""Reads of the published figures from a streaming replica, when one is configured (docs/deployment.md).

The public figures, the weekly series and the metrics' queue counts read a lot and change nothing, so
they may run on a PostgreSQL hot standby (`REPLICA_DATABASE_URL`, the `replica` database alias). Only the
functions wrapped in `reads_replica` go there; everything else reads the primary, because intake, answers
and allocation re-read rows under their locks and a replica may lag (a duplicate filed a second ago would
not be seen there).

A replica must never make the figures wrong or absent, only a little late:
- when it lags by more than REPLICA_MAX_LAG_SECONDS, or cannot be reached, the figures are read from the
  primary (and a warning logged), so a stuck or stopped standby shows up in the logs and in /readyz, not
  as figures frozen in the past;
- its lag is measured at most every REPLICA_LAG_CHECK_SECONDS per process (one query), not on every read.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections

REPLICA = "replica"

logger = logging.getLogger(__name__)

_reading_replica: contextvars.ContextVar[bool] = contextvars.ContextVar("reading_replica", default=False)
_lag_seen: dict[str, float] = {}  # "at" (monotonic) and "lag" (seconds) of this process's last look

P = ParamSpec("P")
R = TypeVar("R")

# A standby that has replayed all it received is not behind, however long ago the primary last wrote;
# otherwise its lag is the age of the last transaction it replayed.
LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN NULL
    WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0
    ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0)
END
"""


class ReplicaNotInRecovery(DatabaseError):
    """REPLICA_DATABASE_URL names a server that is not a standby (a promoted one, or the primary)."""


def configured() -> bool:
    return REPLICA in settings.DATABASES


def replica_lag(alias: str = REPLICA) -> float:
    """Seconds the replica is behind the primary (0 when it has replayed all it received).

    Raises DatabaseError when the replica cannot be reached, ReplicaNotInRecovery when it is no standby."""
    with connections[alias].cursor() as cursor:
        cursor.execute(LAG_SQL)
        (lag,) = cursor.fetchone()
    if lag is None:
        raise ReplicaNotInRecovery("the replica database is not in recovery: it is not a standby")
    return float(lag)


def forget_lag() -> None:
    _lag_seen.clear()


def _replica_usable() -> bool:
    now = time.monotonic()
    period = settings.REPLICA_LAG_CHECK_SECONDS
    if "at" in _lag_seen and now - _lag_seen["at"] < period:
        return _lag_seen["lag"] <= settings.REPLICA_MAX_LAG_SECONDS
    try:
        lag = replica_lag()
    except DatabaseError as error:
        logger.warning("replica: not used, the figures are read from the primary: %s", error)
        connections[REPLICA].close()
        lag = float("inf")
    _lag_seen.update(at=now, lag=lag)
    if lag > settings.REPLICA_MAX_LAG_SECONDS:
        if lag != float("inf"):
            logger.warning("replica: %.1f s behind, the figures are read from the primary", lag)
        return False
    return True


def reads_replica(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function`'s reads on the replica when one is configured and usable, else on the primary.

    A database error during the call (the standby restarting, a recovery conflict cancelling the query)
    runs it again on the primary; an error of the function's own is raised again from there."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if not configured() or _reading_replica.get() or not _replica_usable():
            return function(*args, **kwargs)
        token = _reading_replica.set(True)
        try:
            return function(*args, **kwargs)
        except DatabaseError as error:
            logger.warning("replica: %s failed there, read from the primary: %s", function.__name__, error)
            connections[REPLICA].close()
            forget_lag()
        finally:
            _reading_replica.reset(token)
        return function(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    """Sends the reads of `reads_replica` functions to the replica; every write and migration to default."""

    def db_for_read(self, model, **hints):
        return REPLICA if _reading_replica.get() else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, first, second, **hints):
        # Both aliases hold the same rows; an object read from the replica may be related to one from the
        # primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA
