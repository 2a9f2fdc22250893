"""Background task: wake the sender as soon as messages are committed (the clock's job is the safety net)."""

from django_tasks import task


@task()
def send_messages() -> dict[str, int]:
    from .services import send_due_messages  # noqa: PLC0415 — services enqueue this task: the one cycle

    return send_due_messages().as_dict()
