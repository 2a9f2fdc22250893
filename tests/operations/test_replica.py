"""The published figures read from a streaming replica (guichet/replica.py, docs/deployment.md "Read
replicas"), on a real primary and hot standby that the test makes (tests/operations/standby.py).

An app server runs against the primary with REPLICA_DATABASE_URL naming the standby. With the standby's
replay paused, people filed on the primary are missing from the figures, the weekly series and the queue
metrics of that server — they were read on the standby — while a control server, which allows no lag, reads
them from the primary and counts everyone. Once the standby has stopped, the figures, the metrics and
the figures page are still served, from the primary, and /readyz says so without taking the server out.

Needs the PostgreSQL server programs (initdb, pg_ctl, pg_basebackup): skipped without them, required in CI.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid

import pytest

from guichet import replica
from guichet.waitlist.models import AppointmentRequest
from tests import system
from tests.operations.servers import app_servers, filing, post_json
from tests.operations.standby import postgres_bin, primary_and_standby
from tests.real_redis import require_redis

POSTGRES_BIN = postgres_bin()
SCRAPER = "replica-test-scraper"
LAG_CHECK = 1.0


def get(base: str, path: str, **headers: str) -> tuple[int, bytes]:
    request = urllib.request.Request(base + path, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def queued(base: str) -> int:
    """Active requests as the server's /metrics counts them."""
    status, body = get(base, "/metrics", Authorization=f"Bearer {SCRAPER}")
    assert status == 200, body
    lines = re.findall(rb"^guichet_queue_requests\{[^}]*\} ([0-9.]+)$", body, flags=re.MULTILINE)
    return int(sum(float(value) for value in lines))


def published(base: str, world) -> tuple[int, int]:
    """(waiting, received this week) as the statistics API publishes them."""
    code = world.prefecture.code
    status, body = get(base, f"/api/v1/statistics?prefecture={code}")
    assert status == 200, body
    waiting = sum(row["waiting"] for row in json.loads(body)["procedures"])
    status, body = get(base, f"/api/v1/statistics/weekly?prefecture={code}")
    assert status == 200, body
    return waiting, json.loads(body)["weeks"][-1]["received"]


def file_people(base: str, world, names: list[str]) -> None:
    for name in names:
        created, body = post_json(base, "/api/v1/requests", filing(world, name))
        assert created == 201, body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@system.needs(
    POSTGRES_BIN is not None and (POSTGRES_BIN / "pg_basebackup").exists(),
    "needs the PostgreSQL server programs (initdb, pg_ctl, pg_basebackup)",
)
def test_figures_are_read_on_the_standby_and_on_the_primary_without_it(world):
    require_redis()
    with primary_and_standby(POSTGRES_BIN) as pair:
        servers = {
            "DATABASE_URL": pair.primary_url,
            "REPLICA_DATABASE_URL": pair.standby_url,
            "METRICS_TOKEN": SCRAPER,
            "RATE_LIMIT_FILING_ADDRESS": "100/h",
            "REPLICA_LAG_CHECK_SECONDS": str(LAG_CHECK),
        }
        # Each server caches the published figures in its own keys of the shared Redis.
        with (
            app_servers(1, CACHE_KEY_PREFIX=f"replica-{uuid.uuid4().hex}", **servers) as (reading,),
            app_servers(
                1, CACHE_KEY_PREFIX=f"control-{uuid.uuid4().hex}", REPLICA_MAX_LAG_SECONDS="0", **servers
            ) as (control,),
        ):
            file_people(reading, world, ["Avant Un", "Avant Deux"])
            pair.caught_up()
            assert queued(reading) == queued(control) == 2

            pair.sql(pair.standby_port, "SELECT pg_wal_replay_pause()")
            file_people(reading, world, ["Pendant Un", "Pendant Deux", "Pendant Trois"])
            time.sleep(LAG_CHECK + 0.3)  # each server looks at the lag again

            assert queued(reading) == 2, "the queue metrics were not read on the standby"
            assert published(reading, world) == (2, 2), "the figures were not read on the standby"
            assert queued(control) == 5, "the control reads the primary once the standby lags at all"
            assert published(control, world) == (5, 5)
            status, body = get(reading, "/readyz")
            answer = json.loads(body)
            assert status == 200 and answer["status"] == "ready", answer
            assert answer["replica"]["status"] == "ok" and answer["replica"]["lag_seconds"] > 0

            pair.sql(pair.standby_port, "SELECT pg_wal_replay_resume()")
            pair.caught_up()
            assert queued(reading) == 5

            pair.stop_standby()
            # At once (the lag seen a moment ago still vouches for the standby: the query fails there and is
            # read again from the primary), and after the next look at the lag.
            assert queued(reading) == 5
            time.sleep(LAG_CHECK + 0.3)
            assert queued(reading) == 5
            status, body = get(reading, f"/fr/figures/{world.prefecture.code}/")
            assert status == 200
            status, body = get(reading, "/readyz")
            answer = json.loads(body)
            assert status == 200 and answer["status"] == "ready", answer
            assert answer["replica"] == {"status": "failed: OperationalError", "lag_seconds": None}
    assert AppointmentRequest.objects.count() == 0  # the test database itself was only copied


# Without a standby: what the router and the wrapper decide, on SQLite and PostgreSQL.


@pytest.fixture
def lag(monkeypatch):
    """The replica's lag as the wrapper sees it, without a standby: a list of what replica_lag returns or
    raises, one item a look."""
    looks: list = []
    seen: list = []

    def looked() -> float:
        seen.append(True)
        outcome = looks.pop(0) if len(looks) > 1 else looks[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    replica.forget_lag()
    monkeypatch.setattr(replica, "configured", lambda: True)
    monkeypatch.setattr(replica, "replica_lag", looked)
    monkeypatch.setattr(replica, "connections", {replica.REPLICA: _Closable()})
    yield looks, seen
    replica.forget_lag()


class _Closable:
    def close(self) -> None:
        pass


@replica.reads_replica
def _where_reads_go() -> str | None:
    return replica.ReplicaRouter().db_for_read(AppointmentRequest)


def test_without_a_replica_every_read_goes_to_the_primary():
    assert not replica.configured()
    assert _where_reads_go() is None
    assert replica.ReplicaRouter().db_for_read(AppointmentRequest) is None


def test_inside_a_figures_function_reads_go_to_the_replica_and_writes_never(lag):
    looks, _ = lag
    looks.append(0.4)
    assert _where_reads_go() == replica.REPLICA
    assert replica.ReplicaRouter().db_for_read(AppointmentRequest) is None  # outside it, the primary
    router = replica.ReplicaRouter()
    assert router.db_for_write(AppointmentRequest) == "default"
    assert router.allow_migrate(replica.REPLICA, "waitlist") is False
    assert router.allow_migrate("default", "waitlist") is True


def test_a_replica_too_far_behind_or_unreachable_is_not_read(lag, settings, caplog):
    looks, _ = lag
    settings.REPLICA_MAX_LAG_SECONDS = 30
    looks.append(31.0)
    assert _where_reads_go() is None
    assert "31.0 s behind" in caplog.text
    replica.forget_lag()
    looks[:] = [replica.DatabaseError("connection refused")]
    assert _where_reads_go() is None
    assert "connection refused" in caplog.text


def test_the_lag_is_looked_at_once_per_period_not_on_every_read(lag, monkeypatch, settings):
    looks, seen = lag
    looks.append(0.0)
    clock = [1000.0]
    monkeypatch.setattr(replica.time, "monotonic", lambda: clock[0])
    for _ in range(5):
        assert _where_reads_go() == replica.REPLICA
    assert len(seen) == 1
    clock[0] += settings.REPLICA_LAG_CHECK_SECONDS
    assert _where_reads_go() == replica.REPLICA
    assert len(seen) == 2


def test_a_query_failing_on_the_replica_is_run_again_on_the_primary(lag, caplog):
    looks, _ = lag
    looks.append(0.0)
    calls = []

    @replica.reads_replica
    def figures() -> str:
        where = replica.ReplicaRouter().db_for_read(AppointmentRequest)
        calls.append(where)
        if where == replica.REPLICA:
            raise replica.DatabaseError("canceling statement due to conflict with recovery")
        return "from the primary"

    assert figures() == "from the primary"
    assert calls == [replica.REPLICA, None]
    assert "conflict with recovery" in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_server_that_is_no_standby_is_refused_as_a_replica():
    # REPLICA_DATABASE_URL naming the primary itself, or a standby since promoted.
    with pytest.raises(replica.ReplicaNotInRecovery):
        replica.replica_lag("default")
