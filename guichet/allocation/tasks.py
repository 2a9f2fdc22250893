"""Background allocation: enqueued once the transaction that freed or added capacity has committed."""

from __future__ import annotations

import datetime

from django.core.cache import cache
from django.db import transaction
from django_tasks import TaskContext, task

from guichet.catalog.models import Prefecture

LAST_LOAD_KEY = "guichet:allocation:last-load:{}"


def note_run(prefecture_id: int, loaded_at: datetime.datetime) -> None:
    """Remember when an allocation run of this prefecture read the queue (after its lock)."""
    cache.set(LAST_LOAD_KEY.format(prefecture_id), loaded_at.timestamp(), timeout=24 * 3600)


def _already_seen(prefecture_id: int, enqueued_at: datetime.datetime | None) -> bool:
    # A run that read the queue after this task was enqueued saw the change it was enqueued for
    # (enqueueing happens after the commit): running again would find the same state.
    last = cache.get(LAST_LOAD_KEY.format(prefecture_id))
    return last is not None and enqueued_at is not None and last > enqueued_at.timestamp()


@task(takes_context=True)
def allocate_prefecture(context: TaskContext, prefecture_id: int) -> dict:
    from .service import allocate  # noqa: PLC0415 — the service enqueues this task: the one cycle

    if _already_seen(prefecture_id, context.task_result.enqueued_at):
        return {"skipped": "a later run already saw this change"}
    prefecture = Prefecture.objects.filter(pk=prefecture_id).first()
    if prefecture is None:
        return {"skipped": "no such prefecture"}
    return allocate(prefecture).as_dict()


def enqueue_allocation(prefecture_id: int) -> None:
    """Allocate this prefecture's free slots soon, once (and only if) the current transaction commits."""
    transaction.on_commit(lambda: allocate_prefecture.enqueue(prefecture_id))
