"""Several stateless app servers on one PostgreSQL and one Redis (docs/deployment.md), on real components.

Two gunicorn instances on two ports serve the test database, with the same secrets and the same Redis: a
person filed on one is a duplicate on the other, a rate limit counts the attempts made on both, and a staff
session opened on one goes on on the other. Two task workers drain one queue of allocation runs of one
prefecture without running them at the same time (the prefecture row lock) and leave a consistent state.
"""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import contextmanager

import pytest
from django.utils import timezone

from guichet.appointments.models import Offer, OfferStatus
from guichet.evidence.services import verify_audit
from guichet.waitlist.models import AppointmentRequest
from tests.appointments import builders
from tests.backoffice.helpers import PASSWORD, code_for, staff
from tests.operations.servers import ROOT, app_servers, filing, post_json, server_environment, stop
from tests.real_redis import require_redis

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _redis():
    require_redis()


@pytest.fixture(autouse=True)
def _own_keys(monkeypatch):
    # Each test's servers count in their own keys of the shared Redis: nothing left by another test or run.
    monkeypatch.setenv("CACHE_KEY_PREFIX", f"guichet-test-{uuid.uuid4().hex}")


def test_a_person_filed_on_one_server_is_a_duplicate_on_the_other(world):
    with app_servers() as (first, second):
        created, body = post_json(first, "/api/v1/requests", filing(world, "Benali"))
        assert created == 201, body
        again, repeated = post_json(second, "/api/v1/requests", filing(world, "Benali"))
    assert again == 200 and repeated["created"] is False
    assert AppointmentRequest.objects.filter(family_names="Benali").count() == 1


def test_a_rate_limit_counts_the_attempts_made_on_both_servers(world):
    with app_servers(RATE_LIMIT_FILING_ADDRESS="3/h") as (first, second):
        answers = [
            post_json(base, "/api/v1/requests", filing(world, name))[0]
            for base, name in zip(
                (first, second, first, second), ("Alpha", "Beta", "Gamma", "Delta"), strict=True
            )
        ]
    assert answers == [201, 201, 201, 429]


class Browser:
    """One person's cookies, kept across both servers (a load balancer sends each request anywhere)."""

    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def get(self, url: str) -> tuple[int, str, str]:
        return self._open(urllib.request.Request(url))

    def post_form(self, url: str, fields: dict) -> tuple[int, str, str]:
        page = self.get(url)[1]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
        return self._open(urllib.request.Request(url, data=data, headers={"Referer": url}))

    def _open(self, request) -> tuple[int, str, str]:
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, answer.read().decode(), answer.headers.get("Location", "")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers.get("Location", "")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_a_session_opened_on_one_server_goes_on_on_the_other(world):
    user = staff(world.prefecture)
    browser = Browser()
    with app_servers() as (first, second):
        status, _, location = browser.post_form(
            f"{first}/fr/staff/login/", {"username": user.username, "password": PASSWORD}
        )
        assert status == 302 and location.endswith("/fr/staff/login/verify/") or "verify" in location
        status, _, location = browser.post_form(f"{second}{location}", {"code": code_for(user)})
        assert status == 302, location
        on_first = browser.get(f"{first}/fr/staff/")
        on_second = browser.get(f"{second}/fr/staff/")
    assert on_first[0] == 200 and on_second[0] == 200
    assert user.username in on_first[1]


@contextmanager
def task_workers(count: int = 2):
    env = server_environment()
    processes = [
        subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--interval", "0.1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        for _ in range(count)
    ]
    try:
        yield processes
    finally:
        stop(processes)


def test_two_task_workers_never_run_one_prefectures_allocation_twice_at_once(world):
    from django_tasks_db.models import DBTaskResult

    from guichet.allocation.tasks import allocate_prefecture

    day = builders.weekday_after(timezone.now().astimezone(world.prefecture.tzinfo).date(), 4)
    counter = world.counters[0]
    for hour in range(9, 17):
        builders.slot(counter, builders.at_local(counter, day, hour))
    for number in range(30):
        builders.request(world, due_in_days=10 + number)
    for _ in range(12):
        allocate_prefecture.enqueue(world.prefecture.pk)
    with task_workers(2):
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
                break
            time.sleep(0.3)
    results = list(DBTaskResult.objects.filter(task_path__endswith="allocate_prefecture"))
    assert results and all(result.status == "SUCCESSFUL" for result in results)
    # Which worker claims which run is the scheduler's choice: on a loaded machine one may take them all.
    assert 1 <= len({worker for result in results for worker in result.worker_ids}) <= 2
    offers_by_run = [result.return_value.get("offers", 0) for result in results]
    # Runs of one prefecture follow each other (its row lock): the first to get it offered the eight slots
    # and every later one found none free. Two runs at once would have read the same free slots.
    assert sorted(offers_by_run)[-1] == 8 and sum(offers_by_run) == 8
    assert Offer.objects.filter(status=OfferStatus.PENDING).count() == 8
    assert Offer.objects.values("slot").distinct().count() == 8
    assert verify_audit() == []
