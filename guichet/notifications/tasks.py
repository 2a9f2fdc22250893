"""Background task: wake the sender as soon as messages are committed (the clock's job is the safety net)."""

from django_tasks import task

from guichet import coalesce, retrying

BATCH = 200


@task()
def send_messages() -> dict[str, int]:
    # The services enqueue this task: the one cycle of this app, broken here.
    from .services import SENDER_PENDING_KEY, send_due_messages  # noqa: PLC0415

    coalesce.started(SENDER_PENDING_KEY)
    # The net under the lock order (guichet/retrying.py): a batch that lost a deadlock runs again.
    report = retrying.run(lambda: send_due_messages(limit=BATCH), what="sending messages")
    if sum(report.as_dict().values()) >= BATCH:
        # A full batch: more may be due, and the burst that queued them woke the sender only once.
        coalesce.enqueue_once(send_messages, SENDER_PENDING_KEY)
    return report.as_dict()
