"""The one allocation trigger: queued after commit, once for a burst of commits per prefecture."""

import types

import pytest
from django.core.cache import cache

from guichet import coalesce
from guichet.allocation import tasks
from guichet.notifications import services as notifications
from guichet.notifications import tasks as notification_tasks
from tests.waitlist.intake_helpers import catalogue, file

pytestmark = pytest.mark.django_db


def name(number: int) -> str:
    return "Burst " + chr(65 + number // 26) + chr(97 + number % 26)


@pytest.fixture
def queued(monkeypatch):
    """What the trigger queues, without running it."""
    runs: list[int] = []
    monkeypatch.setattr(tasks, "allocate_prefecture", types.SimpleNamespace(enqueue=runs.append))
    return runs


def test_a_burst_of_filings_queues_one_run_per_prefecture(queued, django_capture_on_commit_callbacks):
    seine_saint_denis, paris = catalogue("93"), catalogue("75")
    for number in range(30):
        with django_capture_on_commit_callbacks(execute=True):
            file(seine_saint_denis, family_names=name(number))
            file(paris, family_names=name(number))
    assert sorted(queued) == sorted([seine_saint_denis.prefecture.pk, paris.prefecture.pk])


def test_a_commit_after_the_run_started_queues_the_next(queued, django_capture_on_commit_callbacks):
    world = catalogue("93")
    with django_capture_on_commit_callbacks(execute=True):
        file(world, family_names="First")
    coalesce.started(tasks.PENDING_KEY.format(world.prefecture.pk))  # the worker starts the run
    with django_capture_on_commit_callbacks(execute=True):
        file(world, family_names="Second")
        file(world, family_names="Third")
    assert queued == [world.prefecture.pk, world.prefecture.pk]


def test_a_repeated_filing_rolls_back_and_triggers_nothing(queued, django_capture_on_commit_callbacks):
    world = catalogue("93")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        file(world, family_names="Twice")
    coalesce.started(tasks.PENDING_KEY.format(world.prefecture.pk))
    with django_capture_on_commit_callbacks(execute=True) as repeated:
        assert not file(world, family_names="Twice").created
    assert len(callbacks) == 1 and repeated == [] and queued == [world.prefecture.pk]


def test_a_queue_that_fails_is_logged_and_the_next_trigger_tries_again(
    monkeypatch, caplog, django_capture_on_commit_callbacks
):
    world = catalogue("93")
    attempts = []

    def broken(prefecture_id):
        attempts.append(prefecture_id)
        raise ConnectionError("task queue down")

    monkeypatch.setattr(tasks, "allocate_prefecture", types.SimpleNamespace(enqueue=broken))
    for name in ("One", "Two"):
        with django_capture_on_commit_callbacks(execute=True):
            file(world, family_names=name)
    assert attempts == [world.prefecture.pk, world.prefecture.pk]
    assert "could not queue the task" in caplog.text


def test_a_cache_that_does_not_answer_queues_without_coalescing(monkeypatch, queued):
    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(cache, "add", down)
    assert coalesce.enqueue_once(tasks.allocate_prefecture, "guichet:test", 7)
    assert coalesce.enqueue_once(tasks.allocate_prefecture, "guichet:test", 7)
    assert queued == [7, 7]


def test_the_run_itself_clears_its_mark(world, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    key = tasks.PENDING_KEY.format(world.prefecture.pk)
    cache.set(key, 1)
    tasks.allocate_prefecture.enqueue(world.prefecture.pk)
    assert cache.get(key) is None


def test_a_burst_of_messages_wakes_the_sender_once(monkeypatch, settings, django_capture_on_commit_callbacks):
    settings.OUTBOX_ENQUEUE_ON_COMMIT = True
    woken = []
    sender = types.SimpleNamespace(enqueue=lambda: woken.append(1))
    monkeypatch.setattr(notification_tasks, "send_messages", sender)
    world = catalogue("93")
    for number in range(10):
        with django_capture_on_commit_callbacks(execute=True):
            file(world, family_names=name(number))
    assert woken == [1]
    assert cache.get(notifications.SENDER_PENDING_KEY) is not None
