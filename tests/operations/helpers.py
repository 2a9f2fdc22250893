"""What the tests that start real processes (app servers, workers, pg_dump) share."""

from django.db import connection


def database_url(name: str | None = None) -> str:
    """The test database's address (or another database's on the same server), for a child process."""
    database = connection.settings_dict
    host, port = database["HOST"] or "127.0.0.1", database["PORT"] or 5432
    return f"postgres://{database['USER']}@{host}:{port}/{name or database['NAME']}"
