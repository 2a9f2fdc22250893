"""Filing through a real PgBouncer in transaction mode (docs/deployment.md, "PgBouncer in transaction mode").

PgBouncer runs on 127.0.0.1 in front of the test database with two server connections handed out in turn
(`server_round_robin`), so consecutive transactions of one client land on different server connections, as
they do under load. An app server with four threads files people concurrently through it, with
`DATABASE_POOLING=transaction`; then `verify_audit`, which reads the log with `QuerySet.iterator()`, runs
through it too, and once without the setting as the control: its server-side cursor, declared on one server
connection, is not found on the next.

Needs the pgbouncer program (Debian package `pgbouncer`): skipped without it, required in CI.
`TEST_PGBOUNCER_PORT` chooses its port (by default a free one).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from guichet.waitlist.models import AppointmentRequest
from tests import system
from tests.operations.servers import ROOT, app_servers, filing, free_port, post_json, server_environment, stop
from tests.real_redis import require_redis

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    system.needs(Path(PGBOUNCER).exists(), "needs PgBouncer (apt-get install pgbouncer)"),
]

POOL = "guichet"


@pytest.fixture(autouse=True)
def _redis(monkeypatch):
    require_redis()
    # The server's own keys in the shared Redis: nothing counted by another test or run.
    monkeypatch.setenv("CACHE_KEY_PREFIX", f"guichet-test-{uuid.uuid4().hex}")


@contextmanager
def pgbouncer(folder: Path):
    """PgBouncer in transaction mode before the test database; yields the address of its pool."""
    database = connection.settings_dict
    port = int(os.environ.get("TEST_PGBOUNCER_PORT") or free_port())
    (folder / "users.txt").write_text(f'"{database["USER"]}" ""\n')
    (folder / "pgbouncer.ini").write_text(
        f"""[databases]
{POOL} = host={database["HOST"] or "127.0.0.1"} port={database["PORT"] or 5432} dbname={database["NAME"]} \
user={database["USER"]}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
pool_mode = transaction
default_pool_size = 2
min_pool_size = 2
server_round_robin = 1
max_client_conn = 100
"""
    )
    # It refuses to run as root; it reads its files before it gives up root for `nobody`.
    command = [PGBOUNCER, *(["-u", "nobody"] if os.geteuid() == 0 else []), str(folder / "pgbouncer.ini")]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"pgbouncer exited: {process.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        time.sleep(1.5)  # min_pool_size: its two server connections, open and idle
        yield f"postgres://{database['USER']}@127.0.0.1:{port}/{POOL}"
    finally:
        stop([process])


def verify_audit(url: str, **extra: str) -> subprocess.CompletedProcess:
    env = server_environment(DATABASE_URL=url, **extra)
    return subprocess.run(
        [sys.executable, "manage.py", "verify_audit"], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_filings_through_pgbouncer_in_transaction_mode(world, tmp_path):
    names = [f"Pooled {letter}" for letter in "ABCDEFGHIJKL"]
    # Twelve people from one address: more than the default limit per address.
    pooling = {"DATABASE_POOLING": "transaction", "CONN_MAX_AGE": "60", "RATE_LIMIT_FILING_ADDRESS": "100/h"}
    with pgbouncer(tmp_path) as pooled:
        with app_servers(1, threads=4, DATABASE_URL=pooled, **pooling) as (base,):
            with ThreadPoolExecutor(max_workers=6) as pool:
                answers = list(
                    pool.map(lambda name: post_json(base, "/api/v1/requests", filing(world, name)), names)
                )
            again, repeated = post_json(base, "/api/v1/requests", filing(world, names[0]))
        checked = verify_audit(pooled, DATABASE_POOLING="transaction")
        control = verify_audit(pooled, DATABASE_POOLING="")

    assert [status for status, _ in answers] == [201] * len(names), answers
    assert again == 200 and repeated["created"] is False
    stored = AppointmentRequest.objects.filter(family_names__in=names)
    assert stored.count() == len(names)
    assert {request.proofs.filter(event="received").count() for request in stored} == {1}
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no problem found" in checked.stdout
    # Without the setting, the cursor declared on one server connection is fetched from another.
    assert control.returncode != 0
    assert "does not exist" in control.stderr
