"""Concurrent intake of one person on PostgreSQL: real parallel connections, exactly one request.

Each racer runs `file_request` in its own thread, hence its own connection and transaction. The service
checks for an existing request and then inserts; between the two, every racer is held for 50 ms so that
all of them pass the check before any commits. Only the partial unique index can then keep the second
row out, which the control shows by dropping it: the same race then stores several rows.
"""

import threading
import time

import pytest
from django.db import connection, connections

from guichet.evidence.audit import APPLICANT
from guichet.evidence.models import Proof
from guichet.waitlist import services
from guichet.waitlist.models import AppointmentRequest, RequestStatus
from guichet.waitlist.validation import validate_intake
from tests.waitlist.intake_helpers import raw_request

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RACERS = 20
INDEX = "one_active_request_per_identity"


@pytest.fixture
def slow_check_then_insert(monkeypatch):
    """Widen the window between the duplicate check and the insert, for every racer."""
    original = services._fresh_reference

    def slow(department):
        time.sleep(0.05)
        return original(department)

    monkeypatch.setattr(services, "_fresh_reference", slow)


def race(world, data):
    barrier = threading.Barrier(RACERS)
    results, errors = [], []
    lock = threading.Lock()

    def racer():
        try:
            barrier.wait(timeout=30)
            result = services.file_request(data, prefecture=world.prefecture, channel="web", actor=APPLICANT)
            with lock:
                results.append(result)
        except Exception as error:  # reported by the test, with its type
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a racer is stuck"
    return results, errors


def test_twenty_concurrent_submissions_make_one_request(world, slow_check_then_insert):
    data = validate_intake(
        raw_request(world, foreign_national_number="7501234567"), world.prefecture, channel="web"
    )
    results, errors = race(world, data)
    assert errors == []
    assert len(results) == RACERS
    assert AppointmentRequest.objects.count() == 1
    winner = AppointmentRequest.objects.get()
    assert {result.request.reference for result in results} == {winner.reference}
    assert sum(result.created for result in results) == 1
    assert [result.access_token is not None for result in results].count(True) == 1
    assert Proof.objects.filter(request=winner, event="received").count() == 1


def test_control_without_the_partial_unique_index_the_race_makes_duplicates(world, slow_check_then_insert):
    constraint = next(c for c in AppointmentRequest._meta.constraints if c.name == INDEX)
    data = validate_intake(raw_request(world), world.prefecture, channel="web")
    with connection.schema_editor() as editor:
        editor.remove_constraint(AppointmentRequest, constraint)
    try:
        results, errors = race(world, data)
        assert errors == []
        rows = AppointmentRequest.objects.filter(status=RequestStatus.WAITING).count()
        # The check before the insert is not a guarantee: without the index, several racers get in.
        assert rows > 1
        assert len({result.request.reference for result in results}) == rows
    finally:
        # Leave one active row so that the index can be built again, then rebuild it.
        keep = AppointmentRequest.objects.order_by("pk").values_list("pk", flat=True).first()
        AppointmentRequest.objects.exclude(pk=keep).update(status=RequestStatus.WITHDRAWN)
        with connection.schema_editor() as editor:
            editor.add_constraint(AppointmentRequest, constraint)
