"""A filing committing while an allocation run of its prefecture holds the prefecture lock (PostgreSQL).

The filing inserts a request that references the prefecture; PostgreSQL checks that foreign key at COMMIT,
taking FOR KEY SHARE on the prefecture row, after the filing has locked the audit chain head. The run holds
the prefecture lock and, at its end, wants the audit chain head. With a FOR UPDATE prefecture lock the two
wait for each other (a deadlock); with FOR NO KEY UPDATE (guichet/locking.py) the check does not wait.
The control puts FOR UPDATE back and shows the deadlock, so that the test can fail.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.utils import timezone

from guichet import locking
from guichet.allocation import service as allocation_service
from guichet.appointments.models import Offer
from guichet.catalog.models import Prefecture
from guichet.evidence.audit import verify_chain
from guichet.waitlist.models import AppointmentRequest
from tests import factories
from tests.appointments import builders
from tests.waitlist.intake_helpers import file, raw_request

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db):
    """The shared world with counters and opening rules: the allocation needs a slot to offer."""
    return factories.world()


def _someone_waits_for_a_lock() -> bool:
    # pg_locks is read live (pg_stat_activity would be a snapshot frozen for the transaction).
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def _file_while_allocating(world, monkeypatch, filing_action=None) -> dict[str, object]:
    """Pause an allocation run just after its prefecture lock, file a request meanwhile, then let it go on.

    The run goes on once the filing has finished or is waiting for a lock; returns each side's outcome.
    """
    counter = world.counters[0]
    day = builders.weekday_after(timezone.now().astimezone(world.prefecture.tzinfo).date(), 4)
    builders.slot(counter, builders.at_local(counter, day, 9))
    builders.request(world)
    locked, filed = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}
    load = allocation_service._World.load

    def paused_load(prefecture, now):
        locked.set()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not filed.is_set() and not _someone_waits_for_a_lock():
            time.sleep(0.05)
        time.sleep(0.2)
        return load(prefecture, now)

    monkeypatch.setattr(allocation_service._World, "load", staticmethod(paused_load))

    def side(name, action, done=None):
        try:
            outcome[name] = action()
        except OperationalError as error:
            outcome[name] = error
        finally:
            if done is not None:
                done.set()
            connection.close()

    run = threading.Thread(
        target=side, args=("allocation", lambda: allocation_service.allocate(world.prefecture))
    )
    run.start()
    assert locked.wait(10)
    filing_action = filing_action or (lambda: file(world, family_names="O'Connor"))
    filing = threading.Thread(target=side, args=("filing", filing_action, filed))
    filing.start()
    filing.join(30)
    run.join(30)
    return outcome


def test_a_filing_commits_while_the_allocation_holds_the_prefecture(world, monkeypatch):
    outcome = _file_while_allocating(world, monkeypatch)

    assert not isinstance(outcome["filing"], Exception), outcome
    assert not isinstance(outcome["allocation"], Exception), outcome
    assert outcome["filing"].created
    assert AppointmentRequest.objects.filter(pk=outcome["filing"].request.pk).exists()
    assert Offer.objects.count() == 1
    assert verify_chain(world.prefecture.code) == []


def _prefecture_for_update(prefecture_id: int) -> None:
    """The lock before issue 16: FOR UPDATE, which conflicts with the foreign-key checks' FOR KEY SHARE."""
    list(Prefecture.objects.select_for_update().filter(pk=prefecture_id).values_list("pk", flat=True))


def test_control_with_for_update_the_same_race_deadlocks(world, monkeypatch):
    monkeypatch.setattr(locking, "prefecture", _prefecture_for_update)

    outcome = _file_while_allocating(world, monkeypatch)

    failures = [value for value in outcome.values() if isinstance(value, OperationalError)]
    assert len(failures) == 1, outcome
    assert "deadlock detected" in str(failures[0])


def test_through_http_the_deadlock_loser_is_run_again_and_the_person_sees_it_filed(
    world, monkeypatch, caplog
):
    """With the old lock the deadlock happens; guichet/retrying.py runs the filing again: 201, not 500."""
    monkeypatch.setattr(locking, "prefecture", _prefecture_for_update)
    body = json.dumps({"prefecture": world.prefecture.code, **raw_request(world, family_names="李")})

    def file_by_api():
        return Client().post("/api/v1/requests", data=body, content_type="application/json")

    with caplog.at_level(logging.WARNING, logger="guichet.retrying"):
        outcome = _file_while_allocating(world, monkeypatch, file_by_api)

    response = outcome["filing"]
    assert not isinstance(response, Exception), outcome
    assert response.status_code == 201, response.content
    assert AppointmentRequest.objects.filter(reference=response.json()["reference"]).count() == 1
    retried = [r.getMessage() for r in caplog.records if r.name == "guichet.retrying"]
    assert retried and all("retried after deadlock" in message for message in retried), retried
    assert verify_chain(world.prefecture.code) == []
