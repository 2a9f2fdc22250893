"""Background tasks of capacity: regenerate slots after a catalogue change, off the request."""

from django_tasks import task

from guichet import retrying
from guichet.catalog.models import Prefecture

from .services import generate_slots


@task()
def generate_slots_task(prefecture_code: str | None = None, weeks: int | None = None) -> dict:
    """generate_slots for one prefecture (by code) or all; returns the report as JSON.

    Enqueue it with `generate_slots_task.enqueue("93")`, after the transaction that changed the rules
    commits (transaction.on_commit), so the worker sees the new rules.
    """
    prefecture = Prefecture.objects.get(code=prefecture_code) if prefecture_code else None
    return retrying.run(lambda: generate_slots(prefecture, weeks=weeks).as_dict(), what="slot generation")
