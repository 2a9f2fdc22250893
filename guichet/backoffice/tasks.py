"""The task that runs long staff jobs (guichet.backoffice.jobs), and the one way to ask for one.

The worker is `manage.py db_worker`, started by `manage.py serve` (and `make run`) beside the web server.
"""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from guichet.catalog.models import Prefecture

from . import jobs, letters
from .models import JobKind, StaffJob

# What each kind of job does; a new long staff job (the court-file bundle) is one more line here.
HANDLERS = {
    JobKind.PRINT_LETTERS: letters.print_job,
    JobKind.REPRINT_LETTERS: letters.reprint_job,
}


@task()
def run_staff_job(job_id: int) -> str:
    job = StaffJob.objects.filter(pk=job_id).only("kind").first()
    if job is None:
        return "no such job"
    return jobs.execute(job_id, HANDLERS[JobKind(job.kind)])


def _enqueue(job: StaffJob) -> None:
    transaction.on_commit(lambda: run_staff_job.enqueue(job.pk))


def start_job(kind: str, prefecture: Prefecture, batch: str, *, by) -> tuple[StaffJob, bool]:
    """Ask for a job (jobs.request_job); a new one goes to the worker once the transaction commits."""
    job, created = jobs.request_job(kind, prefecture, batch, by=by)
    if created:
        _enqueue(job)
    return job, created


def retry_job(job: StaffJob, *, by) -> tuple[StaffJob, bool]:
    again, created = jobs.retry_job(job, by=by)
    if created:
        _enqueue(again)
    return again, created
