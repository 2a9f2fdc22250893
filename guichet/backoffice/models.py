"""Long staff jobs: work too long for a request (a print run of a hundred letters), done by the task worker.

A job says who asked, for which prefecture, what (kind and batch), how far it got (done of total), and ends
with a result file in the private storage STORAGES["staff_jobs"] (outside the web root, served only to the
prefecture's staff by guichet.backoffice.views.jobs) or an error. The database allows one active job per
batch, so two clicks or two agents never print the same letters twice. The result is deleted
STAFF_JOB_RESULT_RETENTION_DAYS after the job ended (the job stays, "expired", to say so).
"""

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guichet.catalog.models import Prefecture


def job_files() -> Storage:
    """The storage of job results, looked up at each use (the field keeps the one of start-up): a test or a
    deployment can name another in STORAGES."""
    return storages["staff_jobs"]


class JobKind(models.TextChoices):
    PRINT_LETTERS = "print_letters", _("Print the letters waiting")
    REPRINT_LETTERS = "reprint_letters", _("Print a day's letters again")


class JobState(models.TextChoices):
    QUEUED = "queued", _("Waiting for the worker")
    RUNNING = "running", _("In progress")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    # Done, and its result deleted after STAFF_JOB_RESULT_RETENTION_DAYS (guichet.backoffice.jobs).
    EXPIRED = "expired", _("Result deleted")


ACTIVE_STATES = (JobState.QUEUED, JobState.RUNNING)


class StaffJob(models.Model):
    kind = models.CharField(max_length=32, choices=JobKind.choices)
    prefecture = models.ForeignKey(Prefecture, on_delete=models.PROTECT, related_name="staff_jobs")
    # The batch inside the kind: "today" for the print run of the letters waiting, the date for a reprint.
    batch = models.CharField(max_length=64)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=8, choices=JobState.choices, default=JobState.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    result = models.FileField(storage=job_files, upload_to="jobs/%Y/%m/", blank=True)
    result_name = models.CharField(max_length=120, blank=True)
    # What the result holds, in words (kept for the access log: "letters printed on 2026-12-02 (120)").
    summary = models.CharField(max_length=200, blank=True)
    # Shown to staff as is: plain words, no traceback (that goes to the log).
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    # Touched at every step: a running job that stops moving lost its worker (guichet.backoffice.jobs).
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the result file was deleted (state "expired").
    result_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prefecture", "kind", "batch"],
                condition=Q(state__in=["queued", "running"]),
                name="staff_job_one_active_per_batch",
            ),
            models.CheckConstraint(condition=Q(done__lte=F("total")), name="staff_job_done_within_total"),
            models.CheckConstraint(
                condition=~Q(state="done") | ~Q(result=""), name="staff_job_done_has_result"
            ),
            models.CheckConstraint(
                condition=~Q(state="failed") | ~Q(error=""), name="staff_job_failed_says_why"
            ),
            models.CheckConstraint(
                condition=~Q(state="expired") | (Q(result="") & Q(result_deleted_at__isnull=False)),
                name="staff_job_expired_has_no_result",
            ),
        ]
        indexes = [models.Index(fields=["prefecture", "kind", "-created_at"], name="staff_job_recent")]

    def __str__(self) -> str:
        return f"{self.kind} {self.batch} of {self.prefecture_id} ({self.state})"

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def percent(self) -> int:
        return (100 * self.done // self.total) if self.total else 0
