"""Helpers for capacity tests: a minimal request, and a hold on a slot as offers and appointments make."""

import datetime
import itertools

from django.utils import timezone

from guichet.capacity.models import Hold, Slot
from guichet.catalog.models import Procedure
from guichet.waitlist.models import AppointmentRequest, Channel, DueReason, RequestStatus

_numbers = itertools.count(1)
UTC = datetime.UTC


def appointment_request(procedure: Procedure, status: str = RequestStatus.SCHEDULED) -> AppointmentRequest:
    number = next(_numbers)
    now = timezone.now()
    return AppointmentRequest.objects.create(
        prefecture=procedure.prefecture,
        procedure=procedure,
        reference=f"T{number:011d}",
        access_token_hash="0" * 64,
        family_names=f"Testperson{number}",
        given_names="Amina",
        birth_date=datetime.date(1990, 1, 1),
        nationality="DZ",
        identity_key=f"{number:064d}",
        channel=Channel.COUNTER,
        received_at=now,
        due_date=now.date() + datetime.timedelta(days=30),
        due_reason=DueReason.TARGET_WAIT,
        status=status,
        status_changed_at=now,
    )


def hold(slot: Slot, procedure: Procedure, kind: str = Hold.Kind.APPOINTMENT) -> Hold:
    return Hold.objects.create(slot=slot, request=appointment_request(procedure), kind=kind)


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)
