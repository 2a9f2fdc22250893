"""The postal channel's daily print run: the letters waiting in the outbox, as one PDF to print and post.

The letters themselves (French first, then the person's language) are rendered by guichet.notifications;
this module picks which ones go into a run, writes the PDF, marks them printed and audits the run.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guichet.accounts import permissions
from guichet.catalog.models import Prefecture
from guichet.evidence import audit
from guichet.evidence.audit import Actor, Change
from guichet.evidence.services import record_change
from guichet.notifications.letters import render_letter_batch_pdf
from guichet.notifications.models import MessageChannel, MessageStatus, OutboxMessage
from guichet.notifications.services import letters_to_print, mark_letters_printed

from .jobs import JobOutput, JobRefused, Progress
from .models import StaffJob


@dataclass
class PrintRun:
    prefecture: Prefecture | None
    day: datetime.date
    message_ids: list[int]
    pdf: bytes

    @property
    def count(self) -> int:
        return len(self.message_ids)


def end_of_day(day: datetime.date, prefecture: Prefecture | None = None) -> datetime.datetime:
    """The first instant after `day` in the prefecture's time zone (or the project's)."""
    tz = prefecture.tzinfo if prefecture is not None else timezone.get_default_timezone()
    return datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)


def pending_letters(prefecture: Prefecture | None, day: datetime.date | None = None) -> list:
    """Letters waiting to be printed, queued on or before `day` (default today), oldest first."""

    day = day or timezone.localdate()
    now = min(timezone.now(), end_of_day(day, prefecture))
    return letters_to_print(now=now, prefecture=prefecture)


def printed_letters(prefecture: Prefecture | None, day: datetime.date) -> list:
    """Letters marked printed on `day`: to print a run again (a jammed printer)."""

    start = end_of_day(day - datetime.timedelta(days=1), prefecture)
    found = OutboxMessage.objects.filter(
        channel=MessageChannel.LETTER,
        status=MessageStatus.SENT,
        sent_at__gte=start,
        sent_at__lt=end_of_day(day, prefecture),
    ).select_related("request")
    if prefecture is not None:
        found = found.filter(request__prefecture=prefecture)
    return list(found.order_by("created_at", "id"))


def render_batch(messages: list, progress: Callable[[int], None] | None = None) -> bytes:
    return render_letter_batch_pdf(messages, progress) if messages else b""


def mark_printed(messages: list, day: datetime.date, actor: Actor) -> None:
    """Record these letters as printed and audit the run in each prefecture's chain, in one transaction."""
    with transaction.atomic():
        mark_letters_printed(messages)
        by_chain: dict[str, list[int]] = {}
        for message in messages:
            code = message.request.prefecture.code if message.request_id else audit.PLATFORM_CHAIN
            by_chain.setdefault(code, []).append(message.pk)
        for chain, ids in sorted(by_chain.items()):
            record_change(
                chain,
                Change("letters.printed", "letter_run", day.isoformat(), actor, data={"messages": ids}),
            )


def print_run(
    prefecture: Prefecture | None,
    day: datetime.date | None = None,
    *,
    actor: Actor = audit.SYSTEM,
    mark: bool = True,
) -> PrintRun:
    """The PDF of the letters waiting on `day`; with `mark`, they are recorded as printed and the run is
    audited in each prefecture's chain. Rendering comes before marking: a failure marks nothing."""

    day = day or timezone.localdate()
    messages = pending_letters(prefecture, day)
    pdf = render_batch(messages)
    if mark and messages:
        mark_printed(messages, day, actor)
    return PrintRun(prefecture, day, [m.pk for m in messages], pdf)


# --- the same as staff jobs (guichet/backoffice/tasks.py runs them, off the request) ----------------------


def job_day(job: StaffJob) -> datetime.date:
    """The day a print job is about: the date it was asked, in its prefecture's time zone."""
    return job.created_at.astimezone(job.prefecture.tzinfo).date()


def print_job(job: StaffJob, progress: Progress) -> JobOutput:
    """The letters waiting when the job runs; they are marked printed in the transaction that stores the
    PDF as the job's result, so a failure anywhere before marks nothing and the job can simply run again."""
    day = job_day(job)
    messages = pending_letters(job.prefecture, day)
    if not messages:
        raise JobRefused(_("No letter was waiting any more: nothing to print (another run printed them?)."))
    progress(0, len(messages))
    pdf = render_batch(messages, lambda n: progress(n, len(messages)))
    actor = permissions.actor_for(job.requested_by)
    return JobOutput(
        content=pdf,
        name=f"letters-{job.prefecture.code}-{day.isoformat()}.pdf",
        summary=f"letters printed on {day.isoformat()} ({len(messages)})",
        commit=lambda: mark_printed(messages, day, actor),
    )


def reprint_job(job: StaffJob, progress: Progress) -> JobOutput:
    """The letters printed on the job's batch date, again (a jammed printer); nothing is marked."""
    day = datetime.date.fromisoformat(job.batch)
    messages = printed_letters(job.prefecture, day)
    if not messages:
        raise JobRefused(_("No letter was printed on that day."))
    progress(0, len(messages))
    pdf = render_batch(messages, lambda n: progress(n, len(messages)))
    return JobOutput(
        content=pdf,
        name=f"letters-{job.prefecture.code}-{day.isoformat()}-reprint.pdf",
        summary=f"letters of {day.isoformat()} printed again ({len(messages)})",
    )
