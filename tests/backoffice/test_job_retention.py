"""Staff job results are not kept for ever: a print run (names and addresses) is deleted
STAFF_JOB_RESULT_RETENTION_DAYS after its job ended, by the clock's daily purge_staff_job_files; the job's
page then says the file was deleted, and nothing can download it. Files no job holds are swept too."""

import datetime
import os

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from guichet.backoffice import jobs
from guichet.backoffice.models import JobState, StaffJob, job_files
from guichet.operations.schedule import JOBS
from tests.backoffice.helpers import staff, verified_login
from tests.backoffice.test_letter_jobs import job_url, letters_waiting
from tests.worker import run_db_worker

pytestmark = pytest.mark.django_db


@pytest.fixture
def printed(client, world, django_capture_on_commit_callbacks):
    """A print run done by the worker, its PDF stored; the agent is logged in."""
    letters_waiting(world, 2)
    verified_login(client, staff(world.prefecture))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("backoffice:letters_print", args=[world.prefecture.code]))
    run_db_worker()
    job = StaffJob.objects.get(state=JobState.DONE)
    assert job_files().exists(job.result.name)
    return job


def ended(job, days_ago: float) -> None:
    StaffJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - datetime.timedelta(days=days_ago))


def test_a_result_past_its_retention_is_deleted_and_the_page_says_so(client, world, printed, settings):
    settings.STAFF_JOB_RESULT_RETENTION_DAYS = 7
    name = printed.result.name
    ended(printed, 6.9)
    call_command("purge_staff_job_files", stdout=open(os.devnull, "w"))
    printed.refresh_from_db()
    assert printed.state == JobState.DONE and job_files().exists(name)  # not yet

    ended(printed, 7.1)
    call_command("purge_staff_job_files", stdout=open(os.devnull, "w"))
    printed.refresh_from_db()
    assert printed.state == JobState.EXPIRED and not printed.result and printed.result_deleted_at
    assert not job_files().exists(name)
    page = client.get(job_url(world, printed)).content.decode()
    assert f"The file {printed.result_name} was deleted on" in page
    assert "kept 7 days after the job ended" in page and "printed again" in page
    assert "Download" not in page
    assert client.get(job_url(world, printed, "job_result")).status_code == 404
    letters_page = client.get(reverse("backoffice:letters", args=[world.prefecture.code])).content.decode()
    assert "Result deleted" in letters_page
    # A repeat finds nothing to do.
    assert jobs.purge_results() == jobs.PurgeReport()


def test_files_no_job_holds_are_swept_after_the_same_time(printed, settings):
    settings.STAFF_JOB_RESULT_RETENTION_DAYS = 7
    storage = job_files()
    # A worker killed between writing its file and recording the job done leaves a file nobody holds.
    stray = storage.save("jobs/2026/11/letters-stray.pdf", open(os.devnull, "rb"))
    recent_stray = storage.save("jobs/2026/12/letters-recent.pdf", open(os.devnull, "rb"))
    week_ago = (timezone.now() - datetime.timedelta(days=8)).timestamp()
    os.utime(storage.path(stray), (week_ago, week_ago))
    os.utime(storage.path(printed.result.name), (week_ago, week_ago))  # old file, but its job is recent

    report = jobs.purge_results()
    assert (report.expired, report.orphans, report.failures) == (0, 1, 0)
    assert not storage.exists(stray)
    assert storage.exists(recent_stray) and storage.exists(printed.result.name)


def test_the_database_refuses_an_expired_job_that_keeps_its_file(printed):
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffJob.objects.filter(pk=printed.pk).update(
            state=JobState.EXPIRED, result_deleted_at=timezone.now()
        )


def test_the_clock_runs_the_purge_daily():
    assert any(job.command == "purge_staff_job_files" and job.every_seconds <= 24 * 3600 for job in JOBS)
