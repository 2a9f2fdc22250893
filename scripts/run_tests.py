"""Run the whole suite on SQLite, then again on PostgreSQL when one answers.

PostgreSQL is found at TEST_DATABASE_URL, or at 127.0.0.1:5432 as user postgres. With
REQUIRE_POSTGRES=1 (CI) a missing PostgreSQL is a failure, not a skip.

Both suites run on every core (pytest-xdist, TEST_WORKERS: "auto" by default, a number, or 0 for one
process). Each worker has its own test database (pytest-django adds `_gw0`, `_gw1`... to its name on
PostgreSQL; SQLite's test database is in memory, one per process) and its own cache (local memory).
"""

import os
import socket
import subprocess
import sys
from urllib.parse import urlparse

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/guichet"


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_POSTGRES_URL
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), timeout=2):
            return url
    except OSError:
        return None


def pytest(label: str, env: dict[str, str], extra: list[str]) -> int:
    print(f"\n=== tests on {label} ===", flush=True)
    workers = os.environ.get("TEST_WORKERS", "auto")
    command = [sys.executable, "-m", "pytest", "-q", "-n", workers, *extra]
    return subprocess.call(command, env={**os.environ, "TESTING": "1", **env})


def main() -> int:
    extra = sys.argv[1:]
    sqlite_env = {"DATABASE_URL": "sqlite:///" + os.path.abspath("var/test.sqlite3")}
    os.makedirs("var", exist_ok=True)
    status = pytest("SQLite", sqlite_env, ["-m", "not postgres", *extra])
    url = postgres_url()
    if url is None:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            print("PostgreSQL is required (REQUIRE_POSTGRES=1) but does not answer.", flush=True)
            return 1
        print(
            "\nPostgreSQL does not answer on 127.0.0.1:5432 and TEST_DATABASE_URL is not set:"
            " the PostgreSQL suite is skipped.",
            flush=True,
        )
        return status
    status_pg = pytest("PostgreSQL", {"DATABASE_URL": url, "TEST_ON_POSTGRES": "1"}, extra)
    return status or status_pg


if __name__ == "__main__":
    sys.exit(main())
