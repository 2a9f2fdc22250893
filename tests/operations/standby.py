"""A PostgreSQL primary and a streaming hot standby of it, made by a test in folders of its own
(tests/operations/test_replica.py): initdb, the test database copied in with pg_dump, pg_basebackup -R.

The machine's own PostgreSQL is left alone: its pg_hba.conf need not allow replication, and a base backup
of it would copy every other database on it. As root, the servers run as the `postgres` user (PostgreSQL
refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.operations.helpers import database_url
from tests.operations.servers import free_port


def postgres_bin() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent  # Debian links a few of them from /usr/local/bin
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _as_server_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


@dataclass
class Pair:
    bin: Path
    folder: Path
    primary_port: int
    standby_port: int
    database: str

    def url(self, port: int, database: str | None = None) -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{database or self.database}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def standby_url(self) -> str:
        return self.url(self.standby_port)

    def sql(self, port: int, statement: str) -> str:
        done = run([str(self.bin / "psql"), "-XAtq", "-d", self.url(port), "-c", statement])
        return done.stdout.strip()

    def caught_up(self, timeout: float = 30) -> None:
        """Wait until the standby has replayed everything the primary has written so far."""
        target = self.sql(self.primary_port, "SELECT pg_current_wal_lsn()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            replayed = self.sql(self.standby_port, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
            if replayed == "t":
                return
            time.sleep(0.1)
        raise RuntimeError(f"the standby did not replay up to {target} within {timeout} s")

    def stop_standby(self) -> None:
        _pg_ctl(self.bin, self.folder / "standby", "stop", "-m", "fast")


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stdout[-1000:]}{done.stderr[-2000:]}")
    return done


def _pg_ctl(bin: Path, data: Path, *action: str, options: str = "") -> None:
    command = [*_as_server_user(), str(bin / "pg_ctl"), "-D", str(data), "-w", "-t", "60"]
    if options:
        command += ["-o", options]
    run([*command, "-l", str(data.parent / f"{data.name}.log"), *action])


@contextmanager
def primary_and_standby(bin: Path):
    """Yields a Pair whose primary holds a copy of the test database (as it is now) and whose standby
    streams from it."""
    folder = Path(tempfile.mkdtemp(prefix="guichet-standby-"))
    if os.geteuid() == 0:
        server = pwd.getpwnam("postgres")
        os.chown(folder, server.pw_uid, server.pw_gid)
    pair = Pair(bin, folder, free_port(), free_port(), "guichet")
    started = []
    try:
        as_server = _as_server_user()
        run(
            [*as_server, str(bin / "initdb"), "-D", str(folder / "primary"), "-U", "postgres", "--auth=trust"]
        )
        common = f"-c listen_addresses=127.0.0.1 -c unix_socket_directories={folder} -c fsync=off"
        _pg_ctl(
            bin,
            folder / "primary",
            "start",
            options=f"-p {pair.primary_port} {common} -c wal_level=replica -c max_wal_senders=4",
        )
        started.append(folder / "primary")
        run(
            [
                str(bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(pair.primary_port),
                "-U",
                "postgres",
                "guichet",
            ]
        )
        dump = subprocess.Popen(
            [str(bin / "pg_dump"), "--format=custom", "--no-owner", f"--dbname={database_url()}"],
            stdout=subprocess.PIPE,
        )
        run(
            [str(bin / "pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={pair.primary_url}"],
            stdin=dump.stdout,
        )
        dump.wait(timeout=60)
        run(
            [
                *as_server,
                str(bin / "pg_basebackup"),
                f"--dbname={pair.url(pair.primary_port, 'postgres')}",
                "-D",
                str(folder / "standby"),
                "--write-recovery-conf",
                "--wal-method=stream",
                "--checkpoint=fast",  # by default it waits for a spread checkpoint: minutes
            ]
        )
        _pg_ctl(
            bin, folder / "standby", "start", options=f"-p {pair.standby_port} {common} -c hot_standby=on"
        )
        started.append(folder / "standby")
        pair.caught_up()
        yield pair
    finally:
        for data in reversed(started):
            try:
                _pg_ctl(bin, data, "stop", "-m", "immediate")
            except RuntimeError:
                pass  # already stopped by the test
        shutil.rmtree(folder, ignore_errors=True)
