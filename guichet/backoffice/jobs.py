"""Long staff jobs (guichet.backoffice.models.StaffJob): asking for one, running it, reading its result.

A kind of job is one function `handler(job, progress) -> JobOutput` (the print run: backoffice.letters).
`execute` runs it in the task worker (guichet.backoffice.tasks) and keeps the job's state: running with its
progress, then done with the result file, or failed with a message staff can read. The handler's `commit`
(marking the letters printed) runs in the same transaction that records the job done, so a job that fails
has changed nothing and can simply be started again. `purge_results` (the clock's daily
`purge_staff_job_files`) deletes results older than STAFF_JOB_RESULT_RETENTION_DAYS: a print run holds
names and addresses, and is needed for a day, not kept for ever.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from guichet.accounts import permissions
from guichet.accounts import services as accounts
from guichet.accounts.models import AccessChannel, AccessKind, Role
from guichet.catalog.models import Prefecture
from guichet.errors import Conflict, NotFound

from .models import ACTIVE_STATES, JobKind, JobState, StaffJob, job_files

logger = logging.getLogger(__name__)

# How downloading a job's result is logged among staff reads of applicants' data (R27).
ACCESS_KINDS = {
    JobKind.PRINT_LETTERS: AccessKind.PRINTED_LETTERS,
    JobKind.REPRINT_LETTERS: AccessKind.PRINTED_LETTERS,
}

Progress = Callable[[int, int], None]
# Stored in English (msgid) and translated when shown: the worker has no reader's language.
UNEXPECTED = gettext_noop(
    "The job stopped on an unexpected error; nothing was changed. Try again; if it fails again, tell the "
    "platform's support (the error is in the server's log)."
)
STALLED = gettext_noop(
    "The job stopped moving (the worker was probably restarted); nothing was changed. Try again."
)


class JobRefused(Exception):
    """The job cannot do its work, for a reason staff can read (nothing to print any more)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class JobOutput:
    content: bytes
    name: str
    summary: str
    # Run in the transaction that records the job done (marking letters printed); None for read-only jobs.
    commit: Callable[[], None] | None = None


def request_job(kind: str, prefecture: Prefecture, batch: str, *, by) -> tuple[StaffJob, bool]:
    """A new queued job, or the one of this batch already queued or running (and False): the database
    allows one active job per batch, so a second click or a second agent joins the first."""
    permissions.require_role(by, prefecture, Role.AGENT)
    try:
        with transaction.atomic():
            return StaffJob.objects.create(
                kind=kind, prefecture=prefecture, batch=batch, requested_by=by
            ), True
    except IntegrityError:
        active = StaffJob.objects.filter(
            kind=kind, prefecture=prefecture, batch=batch, state__in=ACTIVE_STATES
        ).first()
        if active is None:  # it ended between the two statements: ask again
            return request_job(kind, prefecture, batch, by=by)
        return active, False


def retry_job(job: StaffJob, *, by) -> tuple[StaffJob, bool]:
    """The same work again, as a new job (the failed one stays, with its message, in the list)."""
    if job.state != JobState.FAILED:
        raise Conflict("job_not_failed", _("Only a job that failed can be started again."))
    return request_job(job.kind, job.prefecture, job.batch, by=by)


def _progress(job: StaffJob) -> Progress:
    def report(done: int, total: int) -> None:
        job.done, job.total, job.updated_at = done, total, timezone.now()
        # An UPDATE of its own, outside any transaction: the page reads it while the job runs.
        StaffJob.objects.filter(pk=job.pk).update(done=done, total=total, updated_at=job.updated_at)

    return report


def _finish_failed(job: StaffJob, message: str) -> None:
    now = timezone.now()
    StaffJob.objects.filter(pk=job.pk, state__in=ACTIVE_STATES).update(
        state=JobState.FAILED, error=message, finished_at=now, updated_at=now
    )


def execute(job_id: int, handler: Callable[[StaffJob, Progress], JobOutput]) -> str:
    """Run one queued job to its end; returns its final state. Called by the task worker only."""
    now = timezone.now()
    # Claim it: a job already claimed (a task delivered twice) or stalled and failed is left alone.
    if not StaffJob.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, started_at=now, updated_at=now
    ):
        return "skipped"
    job = StaffJob.objects.select_related("prefecture", "requested_by").get(pk=job_id)
    try:
        output = handler(job, _progress(job))
        stored = job_files().save(
            job.result.field.generate_filename(job, output.name), ContentFile(output.content)
        )
        try:
            with transaction.atomic():
                # Still ours (not failed as stalled meanwhile), locked while the commit runs.
                if (
                    not StaffJob.objects.select_for_update()
                    .filter(pk=job.pk, state=JobState.RUNNING)
                    .exists()
                ):
                    raise JobRefused(_(STALLED))
                if output.commit is not None:
                    output.commit()
                finished = timezone.now()
                StaffJob.objects.filter(pk=job.pk).update(
                    state=JobState.DONE,
                    result=stored,
                    result_name=output.name,
                    summary=output.summary[:200],
                    done=job.total,
                    finished_at=finished,
                    updated_at=finished,
                )
        except BaseException:
            job_files().delete(stored)
            raise
    except JobRefused as refused:
        _finish_failed(job, refused.message)
        return JobState.FAILED
    except Exception:
        logger.exception("staff job %s (%s of %s) failed", job.pk, job.kind, job.prefecture.code)
        _finish_failed(job, UNEXPECTED)
        return JobState.FAILED
    return JobState.DONE


def fail_stalled(prefecture: Prefecture, *, now: datetime.datetime | None = None) -> int:
    """Jobs of this prefecture running without progress for STAFF_JOB_STALE_SECONDS lost their worker
    (killed, machine restarted): they are failed, so that the batch can be started again."""
    now = now or timezone.now()
    limit = now - datetime.timedelta(seconds=settings.STAFF_JOB_STALE_SECONDS)
    return StaffJob.objects.filter(
        prefecture=prefecture, state=JobState.RUNNING, updated_at__lt=limit
    ).update(state=JobState.FAILED, error=STALLED, finished_at=now, updated_at=now)


@dataclass
class PurgeReport:
    expired: int = 0  # jobs whose result was deleted
    orphans: int = 0  # files no job holds (a worker killed between writing the file and recording it)
    failures: int = 0  # files the storage would not delete (tried again at the next run)


def purge_results(*, now: datetime.datetime | None = None) -> PurgeReport:
    """Delete the results of jobs that ended more than STAFF_JOB_RESULT_RETENTION_DAYS ago, and mark the
    jobs expired; then the files of the same age that no job holds. Idempotent (a repeat finds nothing)."""
    now = now or timezone.now()
    limit = now - datetime.timedelta(days=settings.STAFF_JOB_RESULT_RETENTION_DAYS)
    report = PurgeReport()
    storage = job_files()
    old = StaffJob.objects.filter(state=JobState.DONE, finished_at__lt=limit).values_list("pk", flat=True)
    for job_id in list(old):
        try:
            with transaction.atomic():
                job = StaffJob.objects.select_for_update().filter(pk=job_id, state=JobState.DONE).first()
                if job is None:  # purged meanwhile by another run
                    continue
                name = job.result.name
                StaffJob.objects.filter(pk=job_id).update(
                    state=JobState.EXPIRED, result="", result_deleted_at=now, updated_at=now
                )
                # Inside the transaction: a file the storage refuses to delete leaves the job done, for the
                # next run to try again; a file already gone is no error.
                storage.delete(name)
        except OSError:
            logger.exception("staff job %s: its result could not be deleted", job_id)
            report.failures += 1
            continue
        report.expired += 1
    held = set(StaffJob.objects.exclude(result="").values_list("result", flat=True))
    for name in _stored_files(storage, "jobs"):
        if name in held or storage.get_modified_time(name) >= limit:
            continue
        try:
            storage.delete(name)
        except OSError:
            logger.exception("staff job file %s could not be deleted", name)
            report.failures += 1
            continue
        report.orphans += 1
    return report


def _stored_files(storage: Storage, folder: str) -> list[str]:
    """Every file under `folder` of the storage (jobs/<year>/<month>/…), as the names the storage knows."""
    if not storage.exists(folder):
        return []
    folders, files = storage.listdir(folder)
    found = [f"{folder}/{name}" for name in files]
    for inner in folders:
        found.extend(_stored_files(storage, f"{folder}/{inner}"))
    return found


def job_of(prefecture: Prefecture, job_id: int) -> StaffJob:
    job = StaffJob.objects.filter(pk=job_id, prefecture=prefecture).select_related("requested_by").first()
    if job is None:
        raise NotFound("no_job", _("No such job in this prefecture."))
    return job


def recent_jobs(prefecture: Prefecture, kinds: tuple[str, ...], limit: int = 10) -> list[StaffJob]:
    fail_stalled(prefecture)
    return list(
        StaffJob.objects.filter(prefecture=prefecture, kind__in=kinds).select_related("requested_by")[:limit]
    )


def open_result(job: StaffJob, user, *, channel: str = AccessChannel.PAGE):
    """The result file of a finished job, for a member of its prefecture; the read is logged (R27): a print
    run holds names and addresses."""
    permissions.require_role(user, job.prefecture, Role.AGENT)
    if job.state != JobState.DONE:
        raise Conflict("job_not_done", _("This job has no result to download."))
    try:
        handle = job_files().open(job.result.name, "rb")
    except FileNotFoundError:  # deleted by the purge, whose transaction then failed: the next run ends it
        raise Conflict("job_result_deleted", _("This job's result was deleted.")) from None
    accounts.record_access(
        user, ACCESS_KINDS[JobKind(job.kind)], channel=channel, prefecture=job.prefecture, detail=job.summary
    )
    return handle
