"""API v1: answer an offer, cancel an appointment.

Authenticated by the request's secret access token in the `X-Access-Token` header, compared in constant time
with the stored hash. An unknown id and a wrong token get the same answer (404), so ids cannot be probed.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac

from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from guichet.appointments import services
from guichet.appointments.models import Appointment, CancelledBy, Offer
from guichet.evidence.audit import APPLICANT
from guichet.waitlist.models import AppointmentRequest

from .errors import ApiError

router = Router(tags=["offers and appointments"])

TOKEN_HEADER = "X-Access-Token"  # noqa: S105 (a header name, not a secret)
MAX_TOKEN = 200
# Compared against when the id is unknown, so that both answers cost the same work.
_DUMMY_HASH = hashlib.sha256(b"no request has this token").hexdigest()


class ReasonIn(Schema):
    reason: str = Field("", max_length=services.MAX_REASON)


class CancelIn(Schema):
    reason: str = Field("", max_length=services.MAX_REASON)
    rebook: bool = Field(False, description="wait for another slot, keeping the due date and place")


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class AppointmentOut(Schema):
    id: int
    reference: str
    status: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    site: str
    address: str
    counter: str


class AcceptOut(Schema):
    appointment: AppointmentOut
    already_accepted: bool = Field(False, description="true when the offer had been accepted before")


class OfferOut(Schema):
    id: int
    reference: str
    status: str
    request_status: str


def _token(http_request) -> str:
    token = http_request.headers.get(TOKEN_HEADER, "")
    if not token:
        raise ApiError(
            401, "unauthorised", _("Give the request's access token in the X-Access-Token header.")
        )
    return token[:MAX_TOKEN]


def _matches(token: str, request: AppointmentRequest | None) -> bool:
    stored = request.access_token_hash if request is not None else _DUMMY_HASH
    digest = hashlib.sha256(token.encode("utf-8")).hexdigest()
    return hmac.compare_digest(digest, stored) and request is not None


def _not_found() -> ApiError:
    return ApiError(404, "not_found", _("No such offer or appointment for this access token."))


def _offer(http_request, offer_id: int) -> Offer:
    token = _token(http_request)
    offer = Offer.objects.select_related("request").filter(pk=offer_id).first()
    if not _matches(token, offer.request if offer else None):
        raise _not_found()
    return offer


def _appointment(http_request, appointment_id: int) -> Appointment:
    token = _token(http_request)
    appointment = Appointment.objects.select_related("request").filter(pk=appointment_id).first()
    if not _matches(token, appointment.request if appointment else None):
        raise _not_found()
    return appointment


def appointment_out(appointment: Appointment) -> dict:
    appointment = Appointment.objects.select_related("request", "counter__site").get(pk=appointment.pk)
    site = appointment.counter.site
    return {
        "id": appointment.pk,
        "reference": appointment.request.reference,
        "status": appointment.status,
        "starts_at": appointment.starts_at,
        "ends_at": appointment.ends_at,
        "site": site.name,
        "address": f"{site.address}, {site.postal_code} {site.city}",
        "counter": appointment.counter.name,
    }


ERRORS = {401: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


@router.post("/offers/{offer_id}/accept", response={200: AcceptOut, **ERRORS}, summary="Accept an offer")
def accept_offer(request, offer_id: int):
    """Accept a pending offer: it becomes a confirmed appointment. Accepting again gives the same one."""
    offer = _offer(request, offer_id)
    try:
        appointment = services.accept_offer(offer, APPLICANT)
    except services.OfferAlreadyAccepted as already:
        if already.appointment is None:
            raise
        return {"appointment": appointment_out(already.appointment), "already_accepted": True}
    return {"appointment": appointment_out(appointment), "already_accepted": False}


@router.post("/offers/{offer_id}/decline", response={200: OfferOut, **ERRORS}, summary="Decline an offer")
def decline_offer(request, offer_id: int, payload: ReasonIn | None = None):
    """Decline a pending offer: the request keeps its due date and place; the slot goes to the next one."""
    offer = _offer(request, offer_id)
    services.decline_offer(offer, APPLICANT, reason=payload.reason if payload else "")
    offer.refresh_from_db()
    offer.request.refresh_from_db()
    return {
        "id": offer.pk,
        "reference": offer.request.reference,
        "status": offer.status,
        "request_status": offer.request.status,
    }


@router.post(
    "/appointments/{appointment_id}/cancel", response={200: AppointmentOut, **ERRORS}, summary="Cancel"
)
def cancel_appointment(request, appointment_id: int, payload: CancelIn | None = None):
    """Cancel an appointment; with `rebook` the request waits for another slot with its due date."""
    appointment = _appointment(request, appointment_id)
    payload = payload or CancelIn()
    services.cancel_appointment(
        appointment, APPLICANT, by=CancelledBy.APPLICANT, reason=payload.reason, rebook=payload.rebook
    )
    return appointment_out(appointment)
