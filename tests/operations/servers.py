"""App servers started by a test: gunicorn as `manage.py serve` configures it, on 127.0.0.1, against the test
database (tests/operations/test_two_app_servers.py, test_pgbouncer.py)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.operations.helpers import database_url
from tests.real_redis import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_environment(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        # Test settings (the suite's password hasher, static files without a manifest), production caching.
        "TESTING": "1",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CONN_MAX_AGE": "0",
        **extra,
    }


@contextmanager
def app_servers(count: int = 2, *, threads: int = 1, **extra: str):
    """`count` gunicorn instances (one worker of `threads` threads each), each on its own port; yields their
    base addresses."""
    env = server_environment(**extra)
    ports = [free_port() for _ in range(count)]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "guichet.wsgi",
                "--config",
                "python:guichet.operations.gunicorn_conf",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                str(threads),
                "--access-logfile",
                "/dev/null",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base, process in zip(bases, processes, strict=True):
            wait_ready(base, process)
        yield bases
    finally:
        stop(processes)


def stop(processes: list[subprocess.Popen]) -> None:
    """End the processes this test started (each leads its own process group), and wait for them."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_ready(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{base} did not answer within 60 s")


def post_json(base: str, path: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def filing(world, family_names: str) -> dict:
    return {
        "prefecture": world.prefecture.code,
        "procedure": world.procedures["first"].code,
        "family_names": family_names,
        "given_names": "Amina",
        "birth_date": "1991-02-03",
        "nationality": "DZ",
        "email": "amina@example.org",
        "language": "fr",
    }
