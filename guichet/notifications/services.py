"""Notifying people: messages go to the outbox in the transaction of their event; the worker sends them."""

from django.utils import timezone

from guichet.waitlist.models import AppointmentRequest

from .models import MessageChannel, OutboxMessage


def channels_for(request: AppointmentRequest) -> list[tuple[str, str]]:
    """Where to reach this person: email and SMS when given, a letter when post is the only way."""
    found = []
    if request.email:
        found.append((MessageChannel.EMAIL, request.email))
    if request.phone:
        found.append((MessageChannel.SMS, request.phone))
    if not found and request.postal_address:
        found.append((MessageChannel.LETTER, request.postal_address))
    return found


def notify(request: AppointmentRequest, kind: str, context: dict | None = None) -> list[OutboxMessage]:
    """Queue message `kind` (received, offer_made, appointment_confirmed…) to the person, in their language.

    `context` holds only JSON values (ids, ISO dates); templates look up the rest when the message is sent,
    so a message always shows the state it announces.
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
    return OutboxMessage.objects.bulk_create(messages)
