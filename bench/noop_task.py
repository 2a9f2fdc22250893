"""A task that does nothing: the baseline of bench/freed_slot.py (what the task queue itself costs)."""

from django_tasks import task


@task()
def noop() -> None:
    return None
