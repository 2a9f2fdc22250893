"""Allocation runs queued after anything that frees capacity, and the periodic jobs."""

import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from guichet.allocation import tasks
from guichet.appointments import services
from guichet.appointments.models import CancelledBy, Offer, OfferStatus
from guichet.errors import Conflict
from guichet.evidence.audit import APPLICANT
from guichet.operations.schedule import JOBS
from tests.appointments import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def immediate_tasks(settings):
    """Tasks run as soon as they are enqueued (the worker's job, done inline)."""
    cache.clear()
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    yield
    cache.clear()


@pytest.fixture
def offered(world):
    now = timezone.now()
    day = builders.weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 4)
    c1 = world.counters[0]
    req = builders.request(world, due_in_days=2)
    return builders.offer(req, builders.slot(c1, builders.at_local(c1, day, 9)), now=now)


def test_a_declined_slot_goes_to_the_next_person_at_once(
    world, offered, immediate_tasks, django_capture_on_commit_callbacks
):
    nxt = builders.request(world, due_in_days=9)
    with django_capture_on_commit_callbacks(execute=True):
        services.decline_offer(offered, APPLICANT)
    assert Offer.objects.get(request=nxt, status=OfferStatus.PENDING).slot == offered.slot


def test_a_cancelled_appointment_goes_to_the_next_person_at_once(
    world, offered, immediate_tasks, django_capture_on_commit_callbacks
):
    appointment = services.accept_offer(offered, APPLICANT)
    nxt = builders.request(world, due_in_days=9)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_appointment(appointment, APPLICANT, by=CancelledBy.APPLICANT)
    assert Offer.objects.get(request=nxt, status=OfferStatus.PENDING).slot == offered.slot


def test_a_refused_change_queues_nothing(offered, django_capture_on_commit_callbacks):
    services.accept_offer(offered, APPLICANT)
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(Conflict):
            services.decline_offer(offered, APPLICANT)
    assert callbacks == []


def test_a_task_made_pointless_by_a_later_run_is_skipped(world, offered, immediate_tasks):
    nxt = builders.request(world, due_in_days=9)
    Offer.objects.filter(pk=offered.pk).update(status=OfferStatus.DECLINED)
    offered.slot.hold.delete()
    # A run read the queue after this task was enqueued: it saw the same state.
    tasks.note_run(world.prefecture.pk, timezone.now() + datetime.timedelta(minutes=1))
    result = tasks.allocate_prefecture.enqueue(world.prefecture.pk)
    assert result.return_value == {"skipped": "a later run already saw this change"}
    assert not Offer.objects.filter(request=nxt).exists()
    cache.clear()
    result = tasks.allocate_prefecture.enqueue(world.prefecture.pk)
    assert result.return_value["offers"] == 1


def test_the_clock_allocates_and_lapses():
    jobs = {job.command: job.every_seconds for job in JOBS}
    assert jobs["allocate"] == 300 and jobs["lapse_offers"] == 60
