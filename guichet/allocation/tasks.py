"""Background allocation, and the one trigger that queues it (`enqueue_allocation`).

Everything that adds requests or frees or adds capacity (intake, declines, lapses, cancellations, new slots,
court orders, a run that left work over) calls `enqueue_allocation` inside its transaction; the run is queued
once the transaction commits, and a burst of such commits coalesces into one run per prefecture
(guichet/coalesce.py): a run queued and not yet started reads every commit made before it starts.
"""

from __future__ import annotations

import datetime
import logging

from django.core.cache import cache
from django.db import transaction
from django_tasks import TaskContext, task

from guichet import coalesce, retrying
from guichet.catalog.models import Prefecture

LAST_LOAD_KEY = "guichet:allocation:last-load:{}"
PENDING_KEY = "guichet:allocation:pending:{}"
# Freed slots have a queue and a worker of their own (`manage.py serve`), so that giving one slot never
# waits behind a full run of a long queue (docs/benchmarks.md, "Freed slot to next offer").
FREED_SLOTS_QUEUE = "freed_slots"

logger = logging.getLogger(__name__)


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

    coalesce.started(PENDING_KEY.format(prefecture_id))
    if _already_seen(prefecture_id, context.task_result.enqueued_at):
        return {"skipped": "a later run already saw this change"}
    prefecture = Prefecture.objects.filter(pk=prefecture_id).first()
    if prefecture is None:
        return {"skipped": "no such prefecture"}
    # The net under the lock order (guichet/retrying.py): a run that lost a deadlock runs again.
    return retrying.run(lambda: allocate(prefecture).as_dict(), what=f"allocation of {prefecture.code}")


def enqueue_allocation(prefecture_id: int) -> None:
    """Allocate this prefecture's free slots soon, once (and only if) the current transaction commits."""
    transaction.on_commit(
        lambda: coalesce.enqueue_once(allocate_prefecture, PENDING_KEY.format(prefecture_id), prefecture_id)
    )


@task(queue_name=FREED_SLOTS_QUEUE)
def offer_freed_slots(slot_ids: list[int]) -> dict:
    """Give each freed slot to the next person (allocation/freed_slot.py), each in its own transaction."""
    from .freed_slot import offer_freed_slot  # noqa: PLC0415 — the freeing services import this module

    return {
        "slots": [
            retrying.run(lambda pk=pk: offer_freed_slot(pk).as_dict(), what=f"freed slot {pk}")
            for pk in sorted(set(slot_ids))
        ]
    }


def enqueue_freed_slots(slot_ids: list[int]) -> None:
    """Offer these freed slots to the next people as soon as the current transaction commits.

    The full run queued by the same change (``enqueue_allocation``) stays the safety net: a failure to queue
    is logged, never raised, as the change that freed the slots is committed already.
    """
    slot_ids = sorted(set(slot_ids))
    if not slot_ids:
        return

    def enqueue() -> None:
        try:
            offer_freed_slots.enqueue(slot_ids)
        except Exception:
            logger.exception("could not queue the freed slots %s; the full run will give them", slot_ids)

    transaction.on_commit(enqueue)
