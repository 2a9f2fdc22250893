"""What a load balancer and an operator ask of a process: is it up, can it serve, how far behind is it.

`liveness` says the process answers (GET /healthz). `readiness` (GET /readyz) checks what a request needs:
the database, the cache (rate limits and sessions' throttling live there) and the task queue (django-tasks'
database queue), and says how many outbox messages and tasks wait; any check failing makes it "not ready"
(503), so that the balancer stops sending traffic to this process until it passes again. The figures'
replica, when there is one, is reported (its lag) but decides nothing: without it the figures are read
from the primary (guichet/replica.py).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from guichet import replica
from guichet.notifications.models import MessageStatus, OutboxMessage

logger = logging.getLogger(__name__)


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)  # name → "ok" or what failed
    outbox_backlog: int | None = None
    task_backlog: int | None = None
    replica: dict | None = None  # with REPLICA_DATABASE_URL: {"status": "ok"|"failed: …", "lag_seconds": …}

    @property
    def ready(self) -> bool:
        return all(result == "ok" for result in self.checks.values())

    def as_dict(self) -> dict:
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": self.checks,
            "outbox_backlog": self.outbox_backlog,
            "task_backlog": self.task_backlog,
            **({"replica": self.replica} if self.replica is not None else {}),
        }


def _check(readiness: Readiness, name: str, probe) -> object:
    try:
        value = probe()
    except Exception as error:  # a readiness probe reports what fails instead of failing itself
        logger.warning("readiness: %s failed: %s", name, error)
        readiness.checks[name] = f"failed: {type(error).__name__}"
        return None
    readiness.checks[name] = "ok"
    return value


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key = f"guichet:readyz:{uuid.uuid4().hex}"
    cache.set(key, time.time(), timeout=10)
    if cache.get(key) is None:
        raise RuntimeError("the cache did not keep a value")
    cache.delete(key)


def _task_backlog() -> int:
    return DBTaskResult.objects.filter(status=TaskResultStatus.READY).count()


def _outbox_backlog() -> int:
    return OutboxMessage.objects.filter(status=MessageStatus.PENDING).count()


def readiness() -> Readiness:
    result = Readiness()
    _check(result, "database", _database)
    _check(result, "cache", _cache)
    if result.checks["database"] == "ok":
        result.task_backlog = _check(result, "task_queue", _task_backlog)
        result.outbox_backlog = _check(result, "outbox", _outbox_backlog)
    else:
        result.checks["task_queue"] = result.checks["outbox"] = "failed: no database"
    if replica.configured():
        result.replica = _replica()
    return result


def _replica() -> dict:
    try:
        lag = replica.replica_lag()
    except DatabaseError as error:
        logger.warning("readiness: the replica failed: %s", error)
        return {"status": f"failed: {type(error).__name__}", "lag_seconds": None}
    status = "behind: figures read from the primary" if lag > settings.REPLICA_MAX_LAG_SECONDS else "ok"
    return {"status": status, "lag_seconds": round(lag, 3)}
