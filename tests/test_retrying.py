"""The one retry of transactions that lost a deadlock or a serialisation race (guichet/retrying.py).

The real deadlock, retried through HTTP, is in tests/waitlist/test_filing_during_allocation.py.
"""

import json
import logging

import psycopg.errors
import pytest
from django.db import IntegrityError, OperationalError
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation

from guichet import retry_middleware, retrying


def lost(error_class=psycopg.errors.DeadlockDetected) -> OperationalError:
    """What Django raises when PostgreSQL aborts the transaction (the driver's error as the cause)."""
    error = OperationalError("deadlock detected")
    error.__cause__ = error_class("deadlock detected")
    return error


class Flaky:
    """Fails `failures` times with `error`, then answers."""

    def __init__(self, failures: int, error: Exception):
        self.calls = 0
        self.failures = failures
        self.error = error

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return HttpResponse("done")


@pytest.fixture(autouse=True)
def _no_pause(monkeypatch):
    monkeypatch.setattr(retrying.time, "sleep", lambda seconds: None)


@pytest.mark.parametrize(
    "error_class", [psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure]
)
def test_a_lost_transaction_runs_again_and_is_logged(caplog, error_class):
    action = Flaky(2, lost(error_class))
    with caplog.at_level(logging.WARNING, logger="guichet.retrying"):
        assert retrying.run(action, what="test").content == b"done"
    assert action.calls == 3
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"transaction retried after {retrying.TRANSIENT[error_class.sqlstate]}"
    ] * 2


def test_after_the_last_attempt_the_person_is_asked_to_try_again(caplog):
    action = Flaky(retrying.ATTEMPTS, lost())
    with pytest.raises(retrying.TryAgain) as refused:
        retrying.run(action, what="test")
    assert action.calls == retrying.ATTEMPTS
    assert refused.value.code == "try_again" and refused.value.status == 409
    assert "gave up" in caplog.records[-1].getMessage()


@pytest.mark.parametrize("error", [IntegrityError("duplicate key"), OperationalError("server closed")])
def test_other_database_errors_are_not_retried(error):
    action = Flaky(1, error)
    with pytest.raises(type(error)):
        retrying.run(action, what="test")
    assert action.calls == 1


@pytest.mark.django_db
def test_inside_an_enclosing_transaction_nothing_is_retried():
    # The test's own transaction encloses the action: only its opener could run it again.
    action = Flaky(1, lost())
    with pytest.raises(OperationalError):
        retrying.run(action, what="test")
    assert action.calls == 1


def test_the_middleware_runs_the_view_again():
    view = Flaky(1, lost())
    request = RequestFactory().post("/api/v1/requests")
    response = retry_middleware.RetryMiddleware(lambda r: None).process_view(request, view, (), {})
    assert response.status_code == 200 and view.calls == 2


def test_the_middleware_answers_the_api_with_a_structured_409():
    request = RequestFactory().post("/api/v1/requests")
    view = Flaky(retrying.ATTEMPTS, lost())
    response = retry_middleware.RetryMiddleware(lambda r: None).process_view(request, view, (), {})
    assert response.status_code == 409 and response["Retry-After"] == str(retrying.RETRY_AFTER_SECONDS)
    assert json.loads(response.content)["code"] == "try_again"


def test_the_middleware_answers_a_page_in_the_persons_language():
    request = RequestFactory().post("/ar/procedures/93/first-permit/request/")
    view = Flaky(retrying.ATTEMPTS, lost())
    with translation.override("ar"):
        response = retry_middleware.RetryMiddleware(lambda r: None).process_view(request, view, (), {})
        page = response.content.decode()
        assert response.status_code == 409
        assert 'dir="rtl"' in page
        assert translation.gettext("What you sent was not accepted") in page
