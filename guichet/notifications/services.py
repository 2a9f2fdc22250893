"""Notifying people: messages go to the outbox in the transaction of their event; the worker sends them.

Sending is at least once: a message is claimed (its attempt counted, a lease set), sent outside any
transaction, then marked. A worker that dies mid-way leaves the message to be tried again when the lease
ends; a mail or SMS server that is down only delays messages, with growing pauses between tries.
"""

import datetime
import hashlib
import logging
import random
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core import mail
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from guichet import bulk, coalesce
from guichet.appointments.models import Appointment, AppointmentStatus, Offer, OfferStatus
from guichet.partners.models import Mandate
from guichet.waitlist.facts import RequestFacts
from guichet.waitlist.models import AppointmentRequest

from . import content, sms, tasks
from .models import MessageChannel, MessageStatus, OutboxMessage
from .rendering import render_email, render_sms

logger = logging.getLogger(__name__)

# Pauses after the 1st, 2nd… failed try; the last one repeats. With 8 tries a message is given up after
# about two and a half days of failures.
RETRY_DELAYS = [
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
    datetime.timedelta(hours=12),
    datetime.timedelta(hours=24),
]
# How long a claimed message stays reserved for the worker that claimed it.
CLAIM_LEASE = datetime.timedelta(minutes=10)
# After this many failures in a row on one channel, the rest of the batch waits: the server is down.
CIRCUIT_BREAKER = 3
# At most one SMS a day per phone number; these are always sent and do not count.
SMS_LIMIT_EXEMPT_KINDS = {"appointment_confirmed", "appointment_changed", "appointment_cancelled"}
# Secrets a message may carry only until it is sent (the request's access token is otherwise stored hashed).
SECRET_CONTEXT_KEYS = ("access_token", "status_url")


def channels_for(request: AppointmentRequest | RequestFacts) -> list[tuple[str, str]]:
    """Where to reach this person: email and SMS when given, a letter when post is the only way."""
    found = []
    if request.email:
        found.append((MessageChannel.EMAIL, request.email))
    if request.phone:
        found.append((MessageChannel.SMS, request.phone))
    if not found and request.postal_address:
        found.append((MessageChannel.LETTER, request.postal_address))
    return found


def notify(
    request: AppointmentRequest, kind: str, context: dict | None = None, *, partner_copies: bool = True
) -> list[OutboxMessage]:
    """Queue message `kind` (received, offer_made, appointment_confirmed…) to the person, in their language.

    With partner_copies=False the organisations acting for the person are not looked up (a request created
    in the same transaction has no mandate yet).

    `context` holds only JSON values (ids, ISO dates); templates look up the rest when the message is sent,
    so a message always shows the state it announces. See docs/notifications.md for the keys each kind reads.
    """
    now = timezone.now()
    messages = [
        OutboxMessage(
            request=request,
            channel=channel,
            kind=kind,
            language=request.language,
            recipient=recipient,
            context=context or {},
            next_attempt_at=now,
        )
        for channel, recipient in channels_for(request)
    ]
    if partner_copies:
        messages += _partner_copies(request, kind, context or {}, now)
    created = OutboxMessage.objects.bulk_create(messages)
    if created and settings.OUTBOX_ENQUEUE_ON_COMMIT:
        _enqueue_sender_on_commit()
    return created


def _partner_copies(
    request: AppointmentRequest, kind: str, context: dict, now: datetime.datetime
) -> list[OutboxMessage]:
    """A copy by email to each organisation acting for the person under a mandate, in French (the
    organisations' working language), without the person's private link."""
    shared = {key: value for key, value in context.items() if key not in SECRET_CONTEXT_KEYS}
    return [
        OutboxMessage(
            request=request,
            channel=MessageChannel.EMAIL,
            kind=kind,
            language=settings.LANGUAGE_CODE,
            recipient=email,
            context={**shared, "partner_copy": True},
            next_attempt_at=now,
        )
        for email in Mandate.objects.copy_recipients([request.pk]).get(request.pk, [])
        if email != request.email
    ]


def notify_many(items: list[tuple[AppointmentRequest | RequestFacts, str, dict]]) -> list[int]:
    """notify() for many events at once (an allocation run): the same messages, partner copies included,
    written in one bulk insert (COPY on PostgreSQL) instead of one INSERT per person, and one wake-up of
    the sender. Requests may be given as RequestFacts (plain values). Returns the ids of the messages
    queued."""
    if not items:
        return []
    now = timezone.now()
    copies = Mandate.objects.copy_recipients([request.pk for request, _, _ in items])
    rows: list[dict] = []

    def add(request_id: int, channel: str, kind: str, language: str, recipient: str, context: dict) -> None:
        rows.append(
            {
                "request_id": request_id,
                "channel": channel,
                "kind": kind,
                "language": language,
                "recipient": recipient,
                "context": context,
                "next_attempt_at": now,
                "created_at": now,
            }
        )

    for request, kind, context in items:
        context = context or {}
        for channel, recipient in channels_for(request):
            add(request.pk, channel, kind, request.language, recipient, context)
        emails = [email for email in copies.get(request.pk, ()) if email != request.email]
        if emails:
            shared = {key: value for key, value in context.items() if key not in SECRET_CONTEXT_KEYS}
            for email in emails:
                add(
                    request.pk,
                    MessageChannel.EMAIL,
                    kind,
                    settings.LANGUAGE_CODE,
                    email,
                    {**shared, "partner_copy": True},
                )
    ids = bulk.insert(OutboxMessage, rows, with_ids=True)
    if ids and settings.OUTBOX_ENQUEUE_ON_COMMIT:
        _enqueue_sender_on_commit()
    return ids


def _enqueue_sender_on_commit() -> None:
    # One wake-up of the sender per transaction is enough, however many messages it queued.
    if any(getattr(item[1], "__name__", "") == "_enqueue_sender" for item in connection.run_on_commit):
        return
    transaction.on_commit(_enqueue_sender, robust=True)


SENDER_PENDING_KEY = "guichet:outbox:sender-pending"


def _enqueue_sender() -> None:

    # A burst of filings wakes the sender once, not once per message (guichet/coalesce.py).
    coalesce.enqueue_once(tasks.send_messages, SENDER_PENDING_KEY)


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    deferred: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def __str__(self) -> str:
        return ", ".join(f"{value} {name}" for name, value in asdict(self).items())


def retry_delay(failures: int, rng: random.Random | None = None) -> datetime.timedelta:
    """The pause after `failures` failed tries, with ±20 % jitter so retries do not all land together."""
    base = RETRY_DELAYS[min(max(failures, 1), len(RETRY_DELAYS)) - 1]
    return base * (rng or random).uniform(0.8, 1.2)


def _due(now: datetime.datetime) -> QuerySet:
    # Letters are not sent by the worker: they wait for the day's print run (letters_to_print).
    return OutboxMessage.objects.filter(
        status=MessageStatus.PENDING,
        next_attempt_at__lte=now,
        channel__in=[MessageChannel.EMAIL, MessageChannel.SMS],
    ).order_by("next_attempt_at", "id")


def _claim(now: datetime.datetime, limit: int) -> list[int]:
    with transaction.atomic():
        due = _due(now)
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:limit])
        OutboxMessage.objects.filter(id__in=ids).update(
            attempts=F("attempts") + 1, next_attempt_at=now + CLAIM_LEASE
        )
    return ids


def _scrubbed(message: OutboxMessage) -> dict:
    return {key: value for key, value in (message.context or {}).items() if key not in SECRET_CONTEXT_KEYS}


def _finish(message: OutboxMessage, status: str, now: datetime.datetime, note: str = "") -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=status,
        sent_at=now if status == MessageStatus.SENT else None,
        last_error=note[:2000],
        context=_scrubbed(message),
    )


def _fail(message: OutboxMessage, error: Exception, now: datetime.datetime, report: SendReport) -> None:
    note = f"{type(error).__name__}: {error}"[:2000]
    if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        logger.error("outbox: giving up message %s after %s tries: %s", message.pk, message.attempts, note)
        _finish(message, MessageStatus.FAILED, now, note)
        report.failed += 1
        return
    logger.warning("outbox: message %s failed (try %s): %s", message.pk, message.attempts, note)
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=now + retry_delay(message.attempts), last_error=note
    )
    report.retrying += 1


def _defer(message: OutboxMessage, now: datetime.datetime, report: SendReport) -> None:
    # Not tried at all: give the claimed attempt back.
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=F("attempts") - 1, next_attempt_at=now + retry_delay(1)
    )
    report.deferred += 1


def _send_email(message: OutboxMessage, subjects: content.Subjects, connection_) -> None:
    rendered = render_email(message, subjects)
    email = mail.EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        connection=connection_,
        headers={"Auto-Submitted": "auto-generated", "Content-Language": message.language},
    )
    email.attach_alternative(rendered.html, "text/html")
    for filename, data, mimetype in rendered.attachments:
        email.attach(filename, data, mimetype)
    email.send(fail_silently=False)


def _local_day(now: datetime.datetime, tz) -> tuple[datetime.datetime, datetime.datetime]:
    day = now.astimezone(tz).date()
    start = datetime.datetime.combine(day, datetime.time.min, tzinfo=tz)
    return start, datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)


def sms_already_sent_today(phone: str, now: datetime.datetime, tz) -> bool:
    """Whether this number already had its one SMS of the (local) day, confirmations not counted."""
    start, end = _local_day(now, tz)
    return (
        OutboxMessage.objects.filter(
            channel=MessageChannel.SMS,
            recipient=phone,
            status=MessageStatus.SENT,
            sent_at__gte=start,
            sent_at__lt=end,
        )
        .exclude(kind__in=SMS_LIMIT_EXEMPT_KINDS)
        .exists()
    )


def _lock_phone(phone: str) -> None:
    # Two workers could otherwise both see "no SMS today" and both send; SQLite has one writer anyway.
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"sms:{phone}".encode()).digest()[:8], "big", signed=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _send_sms(message: OutboxMessage, subjects: content.Subjects, now, backend, report: SendReport) -> None:
    """Send one SMS and mark it, keeping the limit of one a day per number (confirmations aside)."""
    text = render_sms(message, subjects)
    with transaction.atomic():
        if message.kind not in SMS_LIMIT_EXEMPT_KINDS:
            _lock_phone(message.recipient)
            if sms_already_sent_today(message.recipient, now, subjects.request.prefecture.tzinfo):
                _finish(message, MessageStatus.SKIPPED, now, "daily limit: this number had an SMS today")
                report.skipped += 1
                return
        backend.send(message.recipient, text)
        _finish(message, MessageStatus.SENT, now)
    report.sent += 1


def send_due_messages(*, now: datetime.datetime | None = None, limit: int = 200) -> SendReport:
    """Send the emails and SMS that are due; failed ones are tried again later, letters wait for printing."""
    now = now or timezone.now()
    report = SendReport()
    ids = _claim(now, limit)
    if not ids:
        return report
    failures_in_a_row = {MessageChannel.EMAIL: 0, MessageChannel.SMS: 0}
    email_connection = mail.get_connection(fail_silently=False)
    sms_backend = None
    for message in OutboxMessage.objects.filter(id__in=ids).order_by("next_attempt_at", "id"):
        if failures_in_a_row[message.channel] >= CIRCUIT_BREAKER:
            _defer(message, now, report)
            continue
        try:
            subjects = content.load(message)
            reason = content.outdated_reason(message, subjects, now)
            if reason:
                _finish(message, MessageStatus.SKIPPED, now, f"outdated: {reason}")
                report.skipped += 1
                continue
            if message.channel == MessageChannel.EMAIL:
                _send_email(message, subjects, email_connection)
                _finish(message, MessageStatus.SENT, now)
                report.sent += 1
            else:
                sms_backend = sms_backend or sms.get_backend()
                _send_sms(message, subjects, now, sms_backend, report)
            failures_in_a_row[message.channel] = 0
        except Exception as error:
            failures_in_a_row[message.channel] += 1
            _fail(message, error, now, report)
    return report


def letters_to_print(*, now: datetime.datetime | None = None, prefecture=None) -> list[OutboxMessage]:
    """The letters waiting for the print run, oldest first; those that no longer make sense are skipped."""
    now = now or timezone.now()
    pending = OutboxMessage.objects.filter(
        channel=MessageChannel.LETTER, status=MessageStatus.PENDING, next_attempt_at__lte=now
    ).select_related("request")
    if prefecture is not None:
        pending = pending.filter(request__prefecture=prefecture)
    printable = []
    for message in pending.order_by("created_at", "id"):
        reason = content.outdated_reason(message, content.load(message), now)
        if reason:
            _finish(message, MessageStatus.SKIPPED, now, f"outdated: {reason}")
        else:
            printable.append(message)
    return printable


def mark_letters_printed(messages: list[OutboxMessage], *, now: datetime.datetime | None = None) -> int:
    """Record that these letters went to print (and forget any secret link they carried)."""
    now = now or timezone.now()
    for message in messages:
        _finish(message, MessageStatus.SENT, now)
    return len(messages)


def queue_reminders(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Queue the reminders that are due: offers about to lapse, appointments in two days. Idempotent."""
    now = now or timezone.now()
    counts = {"offer_reminder": 0, "appointment_reminder": 0}
    lapsing = Offer.objects.filter(
        status=OfferStatus.PENDING,
        expires_at__gt=now + datetime.timedelta(hours=1),
        expires_at__lte=now + datetime.timedelta(hours=24),
    ).select_related("request")
    for offer in lapsing:
        # A short offer (made the day before its deadline) needs no reminder: the offer itself is one.
        if offer.expires_at - offer.created_at <= datetime.timedelta(hours=30):
            continue
        if _already_queued(offer.request_id, "offer_reminder", "offer_id", offer.pk):
            continue
        with transaction.atomic():
            notify(offer.request, "offer_reminder", {"offer_id": offer.pk})
        counts["offer_reminder"] += 1
    coming = Appointment.objects.filter(
        status=AppointmentStatus.CONFIRMED,
        starts_at__gt=now + datetime.timedelta(hours=24),
        starts_at__lte=now + datetime.timedelta(hours=48),
    ).select_related("request")
    for appointment in coming:
        if appointment.starts_at - appointment.confirmed_at <= datetime.timedelta(days=3):
            continue
        if _already_queued(appointment.request_id, "appointment_reminder", "appointment_id", appointment.pk):
            continue
        with transaction.atomic():
            notify(appointment.request, "appointment_reminder", {"appointment_id": appointment.pk})
        counts["appointment_reminder"] += 1
    return counts


def _already_queued(request_id: int, kind: str, key: str, value: int) -> bool:
    return OutboxMessage.objects.filter(
        Q(**{f"context__{key}": value}), request_id=request_id, kind=kind
    ).exists()
