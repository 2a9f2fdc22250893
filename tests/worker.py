"""The task worker of `manage.py serve`, run in the test's own process until nothing is left to do."""

from unittest import mock

from django.core.management import call_command


def run_db_worker() -> None:
    """Run `db_worker --batch` inside the test's transaction.

    The worker calls `close_old_connections()` on every round, as a request would. Inside the test's
    transaction the connection is not in autocommit, so Django closes it, which on PostgreSQL ends the
    test's transaction (SQLite's in-memory database ignores the close, which is why only PostgreSQL showed
    it). The test's connection is neither old nor broken: the check is left out here, nothing else.
    """
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command(
            "db_worker", "--batch", "--interval", "0", "--no-startup-delay", "--no-reload", verbosity=0
        )
