"""Background task: wake the sender as soon as messages are committed (the clock's job is the safety net)."""

from django_tasks import task

from guichet import retrying

from .services import send_due_messages


@task()
def send_messages() -> dict[str, int]:
    return retrying.run(lambda: send_due_messages().as_dict(), what="sending messages")
