"""Printing letters as a staff job: the page asks, the task worker renders (a hundred letters and more,
beyond a request's time), the job's page shows the progress, the PDF is downloaded by the prefecture's staff
only (and the read logged); one job per batch, a failure says so, changes nothing and can be tried again."""

import datetime
import itertools

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from guichet.accounts.models import AccessKind, AccessRecord
from guichet.backoffice import jobs, letters
from guichet.backoffice.models import JobKind, JobState, StaffJob
from guichet.evidence.models import AuditEntry
from guichet.notifications import letters as letter_rendering
from guichet.notifications.models import MessageChannel, MessageStatus, OutboxMessage
from tests import pdf
from tests.backoffice.helpers import staff, verified_login
from tests.backoffice.test_letters import by_post
from tests.factories import world as make_world
from tests.worker import run_db_worker

pytestmark = pytest.mark.django_db

MANY = 104


def letters_waiting(world, count: int) -> list:
    names = ["".join(letters) for letters in itertools.product("BDKLMR", "aeiou", "nrst")][:count]
    requests = [
        by_post(world, f"{name}ov", language=("ar", "en", "fr", "tr")[n % 4]) for n, name in enumerate(names)
    ]
    assert (
        OutboxMessage.objects.filter(channel=MessageChannel.LETTER, status=MessageStatus.PENDING).count()
        == count
    )
    return requests


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    """client.post, with the callbacks of its committed transaction run (the task is queued then)."""

    def posting(url, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url, **extra)

    return posting


def job_url(world, job, name="job"):
    return reverse(f"backoffice:{name}", args=[world.prefecture.code, job.pk])


def test_a_hundred_letters_print_through_the_worker_with_the_progress_on_the_page(
    client, post, world, staff_job_files
):
    requests = letters_waiting(world, MANY)
    agent = staff(world.prefecture)
    verified_login(client, agent)
    asked = post(reverse("backoffice:letters_print", args=[world.prefecture.code]))
    job = StaffJob.objects.get()
    assert asked.status_code == 302 and asked["Location"] == job_url(world, job)
    assert (job.kind, job.state, job.requested_by, job.prefecture) == (
        JobKind.PRINT_LETTERS,
        JobState.QUEUED,
        agent,
        world.prefecture,
    )
    # Queued for the worker, not rendered in the request: nothing printed yet.
    assert DBTaskResult.objects.filter(task_path__endswith="run_staff_job").count() == 1
    assert not OutboxMessage.objects.filter(status=MessageStatus.SENT).exists()
    waiting = client.get(job_url(world, job)).content.decode()
    assert (
        'http-equiv="refresh"' in waiting and "<progress" in waiting and "Waiting for the worker" in waiting
    )

    seen = []
    real_update = jobs._progress

    def watching(job):
        report = real_update(job)

        def both(done, total):
            report(done, total)
            seen.append(StaffJob.objects.values_list("state", "done", "total").get(pk=job.pk))

        return both

    jobs._progress = watching
    try:
        run_db_worker()
    finally:
        jobs._progress = real_update
    # Progress was stored letter by letter while the job ran, where the page reads it.
    assert seen[0] == (JobState.RUNNING, 0, MANY) and seen[-1] == (JobState.RUNNING, MANY, MANY)
    assert len(seen) == MANY + 1

    job.refresh_from_db()
    assert (job.state, job.done, job.total, job.error) == (JobState.DONE, MANY, MANY, "")
    finished = client.get(job_url(world, job)).content.decode()
    assert 'http-equiv="refresh"' not in finished and f"{MANY} letters in the PDF" in finished
    assert job_url(world, job, "job_result") in finished
    assert set(OutboxMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    entry = AuditEntry.objects.get(action="letters.printed", chain=world.prefecture.code)
    assert entry.actor == f"staff:{agent.username}" and len(entry.data["messages"]) == MANY

    download = client.get(job_url(world, job, "job_result"))
    body = b"".join(download.streaming_content)
    assert download.status_code == 200 and body.startswith(b"%PDF-")
    assert (
        download["Content-Disposition"].startswith("attachment") and "no-store" in download["Cache-Control"]
    )
    assert pdf.page_count(body) >= MANY
    text = pdf.text(body)
    assert all(r.reference in text for r in requests)
    read = AccessRecord.objects.get(kind=AccessKind.PRINTED_LETTERS)
    assert read.user == agent and read.prefecture == world.prefecture and f"({MANY})" in read.detail
    # The result is not under the web root: only the view above serves it.
    stored = staff_job_files / job.result.name
    assert stored.read_bytes() == body
    assert client.get("/" + job.result.name).status_code == 404
    assert client.get("/media/" + job.result.name).status_code == 404


def test_one_job_per_batch_a_second_click_joins_the_first(client, post, world):
    letters_waiting(world, 2)
    verified_login(client, staff(world.prefecture))
    url = reverse("backoffice:letters_print", args=[world.prefecture.code])
    first = post(url)
    second = post(url, follow=True)
    job = StaffJob.objects.get()
    assert first["Location"] == second.redirect_chain[-1][0] == job_url(world, job)
    assert "already in progress" in second.content.decode()
    assert DBTaskResult.objects.count() == 1
    # The database itself refuses a second active job of the batch.
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffJob.objects.create(
            kind=job.kind, prefecture=job.prefecture, batch=job.batch, requested_by=job.requested_by
        )
    run_db_worker()
    # Once it is done, the next run is a new job.
    letters_waiting_again = by_post(world, "Later")
    assert letters_waiting_again
    post(url)
    assert StaffJob.objects.count() == 2


def test_only_the_prefectures_staff_reach_the_job_and_its_result(client, post, world):
    letters_waiting(world, 1)
    verified_login(client, staff(world.prefecture))
    post(reverse("backoffice:letters_print", args=[world.prefecture.code]))
    run_db_worker()
    job = StaffJob.objects.get(state=JobState.DONE)
    other = make_world("75")
    outsider = staff(other.prefecture)
    verified_login(client, outsider)
    assert client.get(job_url(world, job, "job_result")).status_code == 403
    assert client.get(job_url(world, job)).status_code == 403
    # Through the outsider's own prefecture, the job does not exist.
    elsewhere = reverse("backoffice:job_result", args=[other.prefecture.code, job.pk])
    assert client.get(elsewhere).status_code == 404
    client.logout()
    assert client.get(job_url(world, job, "job_result")).status_code == 302  # to the login
    assert not AccessRecord.objects.filter(kind=AccessKind.PRINTED_LETTERS).exists()


def test_a_failure_is_shown_changes_nothing_and_is_tried_again(client, post, world, monkeypatch):
    letters_waiting(world, 6)
    verified_login(client, staff(world.prefecture))
    post(reverse("backoffice:letters_print", args=[world.prefecture.code]))
    real = letter_rendering.letter_html
    calls = []

    def broken(message):
        calls.append(message.pk)
        if len(calls) == 4:
            raise RuntimeError("font cache corrupted")
        return real(message)

    monkeypatch.setattr(letter_rendering, "letter_html", broken)
    run_db_worker()
    job = StaffJob.objects.get()
    assert (job.state, job.done, job.total) == (JobState.FAILED, 3, 6)
    assert "unexpected error" in job.error and "font cache" not in job.error
    assert not job.result and not OutboxMessage.objects.filter(status=MessageStatus.SENT).exists()
    assert not AuditEntry.objects.filter(action="letters.printed").exists()
    page = client.get(job_url(world, job)).content.decode()
    assert "The work failed" in page and 'role="alert"' in page and job_url(world, job, "job_retry") in page

    monkeypatch.setattr(letter_rendering, "letter_html", real)
    again = post(job_url(world, job, "job_retry"))
    retried = StaffJob.objects.exclude(pk=job.pk).get()
    assert again["Location"] == job_url(world, retried) and retried.state == JobState.QUEUED
    run_db_worker()
    retried.refresh_from_db()
    assert retried.state == JobState.DONE and retried.total == 6
    assert OutboxMessage.objects.filter(status=MessageStatus.SENT).count() == 6
    # Only a failed job is tried again.
    refused = post(job_url(world, retried, "job_retry"), follow=True)
    assert "Only a job that failed" in refused.content.decode()


def test_a_job_whose_worker_died_is_failed_and_can_run_again(client, post, world, settings):
    letters_waiting(world, 1)
    verified_login(client, staff(world.prefecture))
    post(reverse("backoffice:letters_print", args=[world.prefecture.code]))
    job = StaffJob.objects.get()
    long_ago = timezone.now() - datetime.timedelta(seconds=settings.STAFF_JOB_STALE_SECONDS + 1)
    StaffJob.objects.filter(pk=job.pk).update(state=JobState.RUNNING, updated_at=long_ago)
    page = client.get(job_url(world, job)).content.decode()
    assert "stopped moving" in page
    # The task delivered late finds the job failed and leaves it alone.
    run_db_worker()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    post(job_url(world, job, "job_retry"))
    run_db_worker()
    assert StaffJob.objects.filter(state=JobState.DONE).count() == 1


def test_nothing_left_to_print_fails_with_a_clear_message(world):
    letters_waiting(world, 1)
    agent = staff(world.prefecture)
    job, created = jobs.request_job(JobKind.PRINT_LETTERS, world.prefecture, "waiting", by=agent)
    letters.print_run(world.prefecture)  # the command printed them meanwhile
    assert created and jobs.execute(job.pk, letters.print_job) == JobState.FAILED
    job.refresh_from_db()
    assert "No letter was waiting any more" in job.error


def test_a_reprint_is_a_job_too_and_marks_nothing(client, post, world):
    by_post(world, "Jammed")
    letters.print_run(world.prefecture)
    verified_login(client, staff(world.prefecture))
    day = timezone.localdate().isoformat()
    asked = post(reverse("backoffice:letters_reprint", args=[world.prefecture.code, day]))
    job = StaffJob.objects.get(kind=JobKind.REPRINT_LETTERS)
    assert asked["Location"] == job_url(world, job) and job.batch == day
    run_db_worker()
    download = client.get(job_url(world, job, "job_result"))
    assert "Jammed" in pdf.text(b"".join(download.streaming_content))
    assert AuditEntry.objects.filter(action="letters.printed").count() == 1
    empty = reverse("backoffice:letters_reprint", args=[world.prefecture.code, "2001-01-01"])
    assert post(empty).status_code == 404
