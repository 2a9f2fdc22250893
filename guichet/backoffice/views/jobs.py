"""A staff job's page (state, progress, the download, a retry) and its result, for the job's prefecture only.

While the job runs the page reloads itself every few seconds without JavaScript (a <noscript> refresh);
with JavaScript, backoffice/job.js reads the status as JSON and updates the page in place instead, so that
a screen reader's position is not lost to reloads."""

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from guichet.accounts.models import Role
from guichet.errors import DomainError

from .. import jobs
from ..decorators import prefecture_role
from ..models import JobState
from ..tasks import retry_job

REFRESH_SECONDS = 3


def _job(prefecture, job_id: int):
    jobs.fail_stalled(prefecture)
    try:
        return jobs.job_of(prefecture, job_id)
    except DomainError:
        raise Http404 from None


def _progress_text(job) -> str:
    if not job.total:
        return _("Waiting for the worker to start.") if job.state == JobState.QUEUED else _("Starting.")
    return ngettext(
        "%(done)s of %(total)s letter laid out.", "%(done)s of %(total)s letters laid out.", job.total
    ) % {"done": job.done, "total": job.total}


def _status(job) -> dict:
    return {
        "text": _progress_text(job),
        "state": job.state,
        "label": job.get_state_display(),
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "active": job.active,
    }


@prefecture_role(Role.AGENT)
def job_page(request, prefecture, job_id: int):
    job = _job(prefecture, job_id)
    response = render(
        request,
        "backoffice/job.html",
        {
            "prefecture": prefecture,
            "job": job,
            "error": _(job.error) if job.error else "",
            "refresh": REFRESH_SECONDS if job.active else None,
            "status": _status(job),
            "retention_days": settings.STAFF_JOB_RESULT_RETENTION_DAYS,
        },
    )
    response["Cache-Control"] = "private, no-store"
    return response


@prefecture_role(Role.AGENT)
def job_status(request, prefecture, job_id: int):
    response = JsonResponse(_status(_job(prefecture, job_id)))
    response["Cache-Control"] = "private, no-store"
    return response


@prefecture_role(Role.AGENT)
def job_result(request, prefecture, job_id: int):
    job = _job(prefecture, job_id)
    if job.state != JobState.DONE:
        raise Http404
    try:
        handle = jobs.open_result(job, request.user)
    except DomainError:
        raise Http404 from None
    response = FileResponse(handle, as_attachment=True, filename=job.result_name)
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@prefecture_role(Role.AGENT)
def job_retry(request, prefecture, job_id: int):
    job = _job(prefecture, job_id)
    try:
        again, _created = retry_job(job, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("backoffice:job", code=prefecture.code, job_id=job.pk)
    return redirect("backoffice:job", code=prefecture.code, job_id=again.pk)
