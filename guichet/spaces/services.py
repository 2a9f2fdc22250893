"""The person's space: all the requests they hold in the prefecture, and filing another procedure with
the identity and contact already given (one service for the page and the API)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from guichet import locking
from guichet.catalog.models import Procedure
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import Actor
from guichet.waitlist.models import AppointmentRequest, Channel
from guichet.waitlist.services import IntakeResult, file_request
from guichet.waitlist.validation import validate_intake

from .models import Space, SpaceRequest


def requests_in_space(request: AppointmentRequest) -> list[AppointmentRequest]:
    """Every request of the space this request belongs to (itself alone when it has none), newest first."""
    link = SpaceRequest.objects.filter(request=request).first()
    if link is None:
        return [request]
    return list(
        AppointmentRequest.objects.filter(space_link__space_id=link.space_id)
        .select_related("procedure", "prefecture")
        .order_by("-received_at", "-id")
    )


def procedures_to_add(request: AppointmentRequest) -> list[Procedure]:
    """The prefecture's active procedures for which the space holds no active request."""
    held = {r.procedure_id for r in requests_in_space(request) if r.is_active}
    return list(
        Procedure.objects.filter(prefecture_id=request.prefecture_id, is_active=True)
        .exclude(pk__in=held)
        .order_by("name")
    )


def _raw_from(request: AppointmentRequest, procedure: Procedure, permit_expires_on) -> dict:
    return {
        "procedure": procedure.code,
        "family_names": request.family_names,
        "given_names": request.given_names,
        "birth_date": request.birth_date.isoformat(),
        "nationality": request.nationality,
        "foreign_national_number": request.foreign_national_number,
        "passport_number": request.passport_number,
        "email": request.email,
        "phone": request.phone,
        "postal_address": request.postal_address,
        "language": request.language,
        "interpreter_language": request.interpreter_language,
        "needs_step_free": request.needs_step_free,
        "needs_other": request.needs_other,
        "permit_expires_on": permit_expires_on.isoformat() if permit_expires_on else "",
    }


def file_another(
    request: AppointmentRequest,
    procedure_code: str,
    actor: Actor,
    *,
    permit_expires_on: datetime.date | None = None,
) -> IntakeResult:
    """File a request for another procedure with this request's identity and contact (the same checks as
    any filing), and keep both in the person's space."""
    procedure = Procedure.objects.filter(
        prefecture_id=request.prefecture_id, code=str(procedure_code)[:40], is_active=True
    ).first()
    if procedure is None:
        message = _("Choose a procedure of the list.")
        raise InvalidInput("invalid", message, fields={"procedure": [message]})
    if procedure not in procedures_to_add(request):
        raise Conflict("already_filed", _("You already have an active request for this procedure."))
    channel = request.channel if request.channel in {Channel.WEB, Channel.PARTNER} else Channel.WEB
    data = validate_intake(
        _raw_from(request, procedure, permit_expires_on), request.prefecture, channel=channel
    )
    with transaction.atomic():
        locking.request(request.pk)  # before anything the filing locks (docs/concurrency.md)
        result = file_request(data, prefecture=request.prefecture, channel=channel, actor=actor)
        if not result.created:
            # An active request under the same name exists outside this space: it may be someone else's
            # (names and birth dates are not secret), so it is neither shown nor joined.
            return result
        link = SpaceRequest.objects.filter(request=request).first()
        space = link.space if link else Space.objects.create(prefecture=request.prefecture)
        if link is None:
            SpaceRequest.objects.create(space=space, request=request)
        SpaceRequest.objects.get_or_create(request=result.request, defaults={"space": space})
    return result
