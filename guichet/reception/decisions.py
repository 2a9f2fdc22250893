"""The prefecture's decision on a registered file, and the card's collection when it is granted.

Granted: the person is told their card is ready and a request for the collection procedure is filed for
them (the same identity and contact), so that the collection appointment comes through the queue, or is
picked by the person in open mode, like any visit; it is checked in and recorded like any other.
Refused: final, with the reason. More information asked: the file stays open; interim documents go on.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guichet import locking
from guichet.catalog.models import Procedure
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import Actor
from guichet.evidence.services import record_event
from guichet.notifications.services import notify
from guichet.waitlist.models import AppointmentRequest, Channel
from guichet.waitlist.services import file_request
from guichet.waitlist.validation import IntakeData

from .models import Decision, DecisionOutcome, FileRegistration

MAX_NOTE = 2000


def collection_procedure(request: AppointmentRequest) -> Procedure | None:
    return (
        Procedure.objects.filter(
            prefecture_id=request.prefecture_id, kind=Procedure.Kind.COLLECTION, is_active=True
        )
        .order_by("pk")
        .first()
    )


def _collection_intake(request: AppointmentRequest, procedure: Procedure) -> IntakeData:
    return IntakeData(
        procedure=procedure,
        sites=tuple(request.sites.all()),
        family_names=request.family_names,
        given_names=request.given_names,
        birth_date=request.birth_date,
        nationality=request.nationality,
        foreign_national_number=request.foreign_national_number,
        passport_number=request.passport_number,
        email=request.email,
        phone=request.phone,
        postal_address=request.postal_address,
        language=request.language,
        interpreter_language=request.interpreter_language,
        needs_step_free=request.needs_step_free,
        needs_other=request.needs_other,
    )


def record_decision(
    request: AppointmentRequest,
    outcome: str,
    actor: Actor,
    *,
    note: str = "",
    user=None,
    now: datetime.datetime | None = None,
) -> Decision:
    """Record the decision on a file registered complete; a refusal needs its reason."""

    if outcome not in DecisionOutcome.values:
        message = _("Choose granted, refused or more information asked.")
        raise InvalidInput("invalid_decision", message, {"outcome": [message]})
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        message = _("Keep the note under %(max)d characters.") % {"max": MAX_NOTE}
        raise InvalidInput("note_too_long", message, {"note": [message]})
    if outcome != DecisionOutcome.GRANTED and not note:
        message = _("Say why, or what is asked: the person reads it.")
        raise InvalidInput("note_required", message, {"note": [message]})
    now = now or timezone.now()
    with transaction.atomic():
        request = locking.request(request.pk)
        if not FileRegistration.objects.filter(request=request, complete=True).exists():
            raise Conflict("file_not_complete", _("A decision is recorded on a file registered complete."))
        try:
            with transaction.atomic():
                decision = Decision.objects.create(
                    request=request, outcome=outcome, note=note, decided_at=now, decided_by=user
                )
        except IntegrityError:
            raise Conflict(
                "already_decided", _("A final decision is already recorded on this file.")
            ) from None
        details = {"outcome": outcome, **({"note": note} if note else {})}
        if outcome == DecisionOutcome.GRANTED:
            procedure = collection_procedure(request)
            if procedure is not None:
                result = file_request(
                    _collection_intake(request, procedure),
                    prefecture=request.prefecture,
                    channel=Channel.COUNTER,
                    actor=actor,
                    received_at=now,
                    created_by=user,
                )
                decision.collection_request = result.request
                decision.save(update_fields=["collection_request"])
                details["collection_reference"] = result.request.reference
        record_event(request, "decision", actor, details=details, at=now)
        kind = "card_ready" if outcome == DecisionOutcome.GRANTED else "decision"
        notify(request, kind, {"decision_id": decision.pk, "outcome": outcome, "reason": note})
    return decision
