"""API v1 routes for requests and the catalogue they refer to (procedures, sites).

The body of POST /requests is read by hand rather than by a typed schema, so that every bad input (broken
JSON, wrong types, 10,000-character strings) goes through the one intake validation and gets its message in
the requester's language, like the page form. The schema below only documents the body in OpenAPI.

Language of messages: the `language` field of the body when it names a supported language, else the
Accept-Language header.
"""

from __future__ import annotations

import datetime
from contextlib import nullcontext
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext
from ninja import Field, Header, Router, Schema, Status

from guichet.appointments.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, Offer
from guichet.catalog import cached
from guichet.catalog.models import Prefecture, Procedure, Site
from guichet.catalog.services import published_checklist
from guichet.edge import parse_json
from guichet.errors import DomainError, InvalidInput, NotFound
from guichet.evidence.audit import Actor
from guichet.public import ratelimit, series, statistics
from guichet.waitlist import position, services
from guichet.waitlist.due_dates import FilingWindow, filing_window
from guichet.waitlist.models import AppointmentRequest, Channel, RequestStatus
from guichet.waitlist.validation import validate_intake

router = Router(tags=["requests"])

API_APPLICANT = Actor("applicant", "api")
MAX_PREFECTURE_CODE = 3


# --- schemas (documentation and responses) -----------------------------------------------------------------


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


class IntakeIn(Schema):
    """A request, as POST /requests takes it. Dates are YYYY-MM-DD; give at least one way to reach you."""

    prefecture: str
    procedure: str
    sites: list[int] = []
    family_names: str
    given_names: str = ""
    birth_date: datetime.date
    nationality: str
    foreign_national_number: str = ""
    passport_number: str = ""
    email: str = ""
    phone: str = ""
    postal_address: str = ""
    language: str = "fr"
    permit_expires_on: datetime.date | None = None
    interpreter_language: str = ""
    needs_step_free: bool = False
    needs_other: str = ""
    unavailable_weekdays: list[int] = []
    unavailable_dates: list[datetime.date] = []
    earliest_date: datetime.date | None = None
    urgency_circumstances: str = ""


class FilingWindowOut(Schema):
    opens_on: datetime.date
    closes_on: datetime.date
    expires_on: datetime.date
    state: str
    message: str


class RequestCreatedOut(Schema):
    """A new request (201), or the answer to someone who already has one (200, `created: false`): then
    nothing about that request is given, since names and a birth date are not secret; its reference is in
    the receipt its owner received."""

    reference: str | None
    access_token: str | None
    created: bool
    message: str
    status: str | None
    due_date: datetime.date | None
    due_reason: str | None
    due_reason_label: str | None
    filing_window: FilingWindowOut | None


class SiteRef(Schema):
    id: int
    name: str


class OfferOut(Schema):
    id: int
    status: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    site: SiteRef
    made_at: datetime.datetime
    answer_before: datetime.datetime


class AppointmentOut(Schema):
    id: int
    status: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    site: SiteRef
    address: str
    counter: str


class ProcedureRef(Schema):
    code: str
    name: str


class RequestStatusOut(Schema):
    reference: str
    prefecture: str
    procedure: ProcedureRef
    status: str
    status_label: str
    channel: str
    received_at: datetime.datetime
    due_date: datetime.date
    due_reason: str
    due_reason_label: str
    overdue: bool
    queue_position: int | None
    # When the place was counted, and what may have moved it since (guichet/waitlist/position.py).
    queue_position_as_of: datetime.datetime | None
    queue_position_note: str
    sites: list[SiteRef]
    filing_window: FilingWindowOut | None
    offers: list[OfferOut]
    appointment: AppointmentOut | None
    language: str


class ProcedureOut(Schema):
    code: str
    name: str
    kind: str
    description: str
    mode: str
    duration_minutes: int
    target_wait_days: int
    is_renewal: bool
    renewal_window_opens_days: int | None
    renewal_window_closes_days: int | None
    documents: list[str]
    documents_version: int | None = Field(
        None, description="version of the list of documents (R.431-11); each request keeps its own"
    )
    documents_in_force_since: datetime.datetime | None = None


class SiteOut(Schema):
    id: int
    name: str
    address: str
    postal_code: str
    city: str
    step_free: bool
    access_notes: str
    latitude: float | None
    longitude: float | None


ERRORS = {400: ErrorOut, 401: ErrorOut, 404: ErrorOut, 413: ErrorOut, 422: ErrorOut}
FILING_ERRORS = {**ERRORS, 429: ErrorOut}


# --- helpers -----------------------------------------------------------------------------------------------


def _json_body(request: HttpRequest) -> Any:
    try:
        raw = request.body
    except RequestDataTooBig:
        raise DomainError("too_large", gettext("The request is too large."), status=413) from None
    try:
        return parse_json(raw)
    except (UnicodeDecodeError, ValueError):
        raise DomainError(
            "invalid_json", gettext("The body must be a JSON object (UTF-8)."), status=400
        ) from None


def _language_of(body: Any):
    """Speak the body's `language` when it is one we have; otherwise keep the Accept-Language choice."""
    if isinstance(body, dict) and isinstance(body.get("language"), str) and len(body["language"]) <= 16:
        try:
            code = translation.get_supported_language_variant(body["language"].strip().lower())
        except LookupError:
            return nullcontext()
        return translation.override(code)
    return nullcontext()


def _prefecture(code: Any, *, field: str = "prefecture") -> Prefecture:
    if code is None or (isinstance(code, str) and not code.strip()):
        raise InvalidInput(
            "invalid",
            gettext("Some fields are missing or invalid."),
            fields={field: [gettext("This field is required.")]},
        )
    if isinstance(code, int) and not isinstance(code, bool):
        code = f"{code:02d}"
    if not isinstance(code, str) or len(code.strip()) > MAX_PREFECTURE_CODE:
        raise InvalidInput(
            "invalid",
            gettext("Some fields are missing or invalid."),
            fields={field: [gettext("Unknown prefecture.")]},
        )
    prefecture = cached.prefecture(code.strip().upper())
    if prefecture is None:
        raise NotFound(
            "unknown_prefecture",
            gettext("Unknown prefecture."),
            fields={field: [gettext("Unknown prefecture.")]},
        )
    return prefecture


def _window_out(window: FilingWindow | None) -> dict | None:
    if window is None:
        return None
    return {**window.as_dict(), "message": services.filing_window_message(window)}


def _site_ref(site: Site) -> dict:
    return {"id": site.pk, "name": site.name}


# --- requests ----------------------------------------------------------------------------------------------


@router.post(
    "/requests",
    response={201: RequestCreatedOut, 200: RequestCreatedOut, **FILING_ERRORS},
    summary="File a request",
    description=(
        "Puts a request in the queue of a prefecture and returns its reference and, once, its access token. "
        "If the person already has an active request for this procedure, answers 200 with `created: false` "
        "and a message: nothing new is created, and nothing about the existing request is disclosed (its "
        "reference is in its receipt). Filings are limited per client address and per identity, as on the "
        "filing page: 429 with Retry-After beyond."
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": IntakeIn.model_json_schema()}},
        }
    },
)
def create_request(request: HttpRequest):
    body = _json_body(request)
    with _language_of(body):
        if not isinstance(body, dict):
            raise InvalidInput("invalid", gettext("The request must be an object of named fields."))
        try:
            ratelimit.check(request, "filing", ratelimit.filing_identity(body))
        except ratelimit.RateLimited as error:
            error.explained = ratelimit.explain(error)
            raise
        prefecture = _prefecture(body.get("prefecture"))
        data = validate_intake(body, prefecture, channel=Channel.WEB)
        result = services.file_request(data, prefecture=prefecture, channel=Channel.WEB, actor=API_APPLICANT)
        if not result.created:
            return Status(200, _already_filed(result))
        filed = result.request
        answer = {
            "reference": filed.reference,
            "access_token": result.access_token,
            "created": result.created,
            "message": result.message,
            "status": filed.status,
            "due_date": filed.due_date,
            "due_reason": filed.due_reason,
            "due_reason_label": services.due_reason_label(filed.due_reason),
            "filing_window": _window_out(result.filing_window),
        }
    return Status(201, answer)


def _already_filed(result: services.IntakeResult) -> dict:
    """The page's words, and nothing about the existing request itself."""
    empty = ("reference", "access_token", "status", "due_date", "due_reason", "due_reason_label")
    message = " ".join(result.notice_for_the_public)
    return {**dict.fromkeys(empty), "created": False, "message": message, "filing_window": None}


@router.get(
    "/requests/{reference}",
    response={200: RequestStatusOut, **ERRORS},
    summary="Status of a request",
    description=(
        "Needs the access token given when the request was filed, in the `X-Access-Token` header (or "
        "the `token` query parameter of the secret link). An unknown reference and a wrong token get the "
        "same 404."
    ),
)
def get_request(
    request: HttpRequest,
    reference: str,
    token: str | None = None,
    x_access_token: str | None = Header(None, alias="X-Access-Token"),
):
    secret = x_access_token or token
    if not secret:
        raise DomainError(
            "token_required",
            gettext("Give the access token of the request in the X-Access-Token header."),
            status=401,
        )
    found = services.find_request_by_token(reference, secret)
    return _status_out(found)


def _status_out(found: AppointmentRequest) -> dict:
    place = position.queue_position(found)
    today = services.local_date(timezone.now(), found.prefecture)
    offers = (
        Offer.objects.filter(request=found)
        .select_related("slot__counter__site")
        .order_by("-created_at", "-id")[:10]
    )
    appointment = (
        Appointment.objects.filter(request=found)
        .select_related("counter__site")
        .order_by("-confirmed_at", "-id")
        .first()
    )
    return {
        "reference": found.reference,
        "prefecture": found.prefecture.code,
        "procedure": {"code": found.procedure.code, "name": found.procedure.name},
        "status": found.status,
        "status_label": str(found.get_status_display()),
        "channel": found.channel,
        "received_at": found.received_at,
        "due_date": found.due_date,
        "due_reason": found.due_reason,
        "due_reason_label": services.due_reason_label(found.due_reason),
        "overdue": found.is_active
        and found.status in (RequestStatus.WAITING, RequestStatus.OFFERED, RequestStatus.PAUSED)
        and found.due_date < today,
        "queue_position": place.number if place else None,
        "queue_position_as_of": place.as_of if place else None,
        "queue_position_note": position.position_note(place, found.prefecture.tzinfo) if place else "",
        "sites": [_site_ref(site) for site in found.sites.order_by("name")],
        "filing_window": _window_out(filing_window(found.procedure, found.permit_expires_on, today)),
        "offers": [
            {
                "id": offer.pk,
                "status": offer.status,
                "starts_at": offer.slot.starts_at,
                "ends_at": offer.slot.ends_at,
                "site": _site_ref(offer.slot.counter.site),
                "made_at": offer.created_at,
                "answer_before": offer.expires_at,
            }
            for offer in offers
        ],
        "appointment": (
            {
                "id": appointment.pk,
                "status": appointment.status,
                "starts_at": appointment.starts_at,
                "ends_at": appointment.ends_at,
                "site": _site_ref(appointment.counter.site),
                "address": f"{appointment.counter.site.address}, {appointment.counter.site.postal_code} "
                f"{appointment.counter.site.city}",
                "counter": appointment.counter.name,
            }
            if appointment is not None
            and (appointment.status in ACTIVE_APPOINTMENT_STATUSES or found.status == RequestStatus.SERVED)
            else None
        ),
        "language": found.language,
    }


# --- catalogue ---------------------------------------------------------------------------------------------


@router.get(
    "/procedures",
    response={200: list[ProcedureOut], **ERRORS},
    tags=["catalogue"],
    summary="Procedures of a prefecture",
)
def list_procedures(request: HttpRequest, prefecture: str | None = None):
    found = _prefecture(prefecture)
    procedures = Procedure.objects.filter(prefecture=found, is_active=True).order_by("name", "code")
    return [
        {
            "code": procedure.code,
            "name": procedure.name,
            "kind": procedure.kind,
            "description": procedure.description,
            "mode": procedure.mode,
            "duration_minutes": procedure.duration_minutes,
            "target_wait_days": procedure.target_wait_days,
            "is_renewal": procedure.is_renewal,
            "renewal_window_opens_days": procedure.renewal_window_opens_days
            if procedure.is_renewal
            else None,
            "renewal_window_closes_days": procedure.renewal_window_closes_days
            if procedure.is_renewal
            else None,
            "documents": list(procedure.documents or []),
            **_documents_version(procedure),
        }
        for procedure in procedures
    ]


def _documents_version(procedure: Procedure) -> dict:
    version = published_checklist(procedure)
    return {
        "documents_version": version.number if version else None,
        "documents_in_force_since": version.published_at if version else None,
    }


@router.get(
    "/sites",
    response={200: list[SiteOut], **ERRORS},
    tags=["catalogue"],
    summary="Sites of a prefecture",
)
def list_sites(request: HttpRequest, prefecture: str | None = None):
    found = _prefecture(prefecture)
    return [
        {
            "id": site.pk,
            "name": site.name,
            "address": site.address,
            "postal_code": site.postal_code,
            "city": site.city,
            "step_free": site.step_free,
            "access_notes": site.access_notes,
            "latitude": float(site.latitude) if site.latitude is not None else None,
            "longitude": float(site.longitude) if site.longitude is not None else None,
        }
        for site in Site.objects.filter(prefecture=found, is_active=True).order_by("name")
    ]


@router.get(
    "/statistics",
    response={200: statistics.PrefectureFigures, **ERRORS},
    tags=["catalogue"],
    url_name="statistics",
    summary="Public figures of a prefecture",
    description=(
        "Supply, demand and waiting, by procedure, as on the page /<lang>/figures/<prefecture>/ (open data; "
        "each figure's period is given; recomputed at most every 10 minutes)."
    ),
)
def prefecture_statistics(request: HttpRequest, prefecture: str | None = None):
    return statistics.cached_prefecture_figures(_prefecture(prefecture))


@router.get(
    "/statistics/weekly",
    response={200: series.WeeklySeries, **ERRORS},
    tags=["catalogue"],
    url_name="statistics_weekly",
    summary="Weekly public figures of a prefecture over 12 months",
    description=(
        "One row per week (Monday, in the prefecture's time zone) over the last 52 weeks: requests received "
        "(total and by channel), served, waiting at the end of the week, median and 90th-percentile days "
        "from request to appointment, share served after the due date, no-show rate, court orders received, "
        "met and missed. The same rows as the CSV at /<lang>/figures/<prefecture>/weekly.csv and the charts "
        "of /<lang>/figures/<prefecture>/ (open data; recomputed at most every hour). With `procedure` "
        "(a procedure's code), the rows of that procedure only, as on "
        "/<lang>/figures/<prefecture>/<procedure>/ and its weekly.csv; an unknown procedure answers 404 "
        "`unknown_procedure`."
    ),
)
def prefecture_weekly_statistics(
    request: HttpRequest, prefecture: str | None = None, procedure: str | None = None
):
    found = _prefecture(prefecture)
    if procedure is None:
        return series.cached_series(found)
    chosen = Procedure.objects.filter(prefecture=found, code=str(procedure).strip(), is_active=True).first()
    if chosen is None:
        raise NotFound(
            "unknown_procedure",
            gettext("Unknown procedure."),
            fields={"procedure": [gettext("Unknown procedure.")]},
        )
    return series.cached_series(found, chosen)
