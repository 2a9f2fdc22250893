"""The postal channel's print run, per prefecture: letters waiting, the PDF to print, reprints by date.

Rendering a hundred letters takes longer than a request may: both the run and a reprint are staff jobs
(guichet.backoffice.jobs), done by the task worker while the job's page shows how far it got."""

import datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guichet.accounts.models import Role

from .. import jobs, letters
from ..decorators import prefecture_role
from ..forms import LettersForm
from ..models import JobKind
from ..tasks import start_job

LETTER_JOBS = (JobKind.PRINT_LETTERS, JobKind.REPRINT_LETTERS)
# The batch of the print run: the letters waiting (one run at a time per prefecture, whatever the day).
WAITING = "waiting"


@prefecture_role(Role.AGENT)
def letters_page(request, prefecture):
    form = LettersForm(request.GET or None, initial={"date": timezone.localdate()})
    day = form.cleaned_data["date"] if form.is_valid() else timezone.localdate()
    return render(
        request,
        "backoffice/letters.html",
        {
            "prefecture": prefecture,
            "form": form,
            "pending": letters.pending_letters(prefecture),
            "printed": letters.printed_letters(prefecture, day),
            "day": day,
            "jobs": jobs.recent_jobs(prefecture, LETTER_JOBS),
        },
    )


def _to_job(request, prefecture, job, created: bool):
    if not created:
        messages.info(request, _("This work is already in progress: here it is."))
    return redirect("backoffice:job", code=prefecture.code, job_id=job.pk)


@require_POST
@prefecture_role(Role.AGENT)
def letters_print(request, prefecture):
    """Today's run, as a job: the PDF of every letter waiting, which are then marked printed (and audited)."""
    if not letters.pending_letters(prefecture):
        messages.info(request, _("No letter is waiting to be printed."))
        return redirect("backoffice:letters", code=prefecture.code)
    job, created = start_job(JobKind.PRINT_LETTERS, prefecture, WAITING, by=request.user)
    return _to_job(request, prefecture, job, created)


@require_POST
@prefecture_role(Role.AGENT)
def letters_reprint(request, prefecture, day: str):
    try:
        date = datetime.date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    if not letters.printed_letters(prefecture, date):
        raise Http404
    job, created = start_job(JobKind.REPRINT_LETTERS, prefecture, date.isoformat(), by=request.user)
    return _to_job(request, prefecture, job, created)
