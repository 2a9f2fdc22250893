"""Staff and partner API (/api/v1/staff/…): the back office's operations for programs.

Authentication: `Authorization: Bearer gch_…`, a personal token made on the account page. Only its SHA-256 is
stored; it can be revoked; it is scoped to one prefecture (staff) or one organisation (partner), and gives its
owner's current rights within that scope and nothing more. No session, hence no CSRF token.

Every route answers 404 for a request, appointment or mandate outside the token's scope (references cannot
be probed) and 403 for an action the role does not allow.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from ninja import Router, Schema, Status
from ninja.security import HttpBearer

from guichet.accounts import permissions
from guichet.accounts.models import AccessChannel, ApiToken, Role
from guichet.accounts.services import authenticate_token
from guichet.backoffice import services as backoffice
from guichet.catalog.models import Procedure, Site
from guichet.edge import parse_json
from guichet.errors import DomainError, Forbidden, InvalidInput, NotFound
from guichet.evidence.models import Proof
from guichet.partners import services as partners
from guichet.partners.models import Mandate
from guichet.waitlist.models import AppointmentRequest, Channel
from guichet.waitlist.validation import validate_intake


class TokenAuth(HttpBearer):
    """The personal API token; the request then acts as its owner, narrowed to the token's scope."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = authenticate_token(token)
        if found is None:
            return None
        user = found.user
        setattr(user, "guichet_api_token", found)  # noqa: B010 — read by guichet.accounts.permissions
        request.user = user
        return found


router = Router(tags=["staff"], auth=TokenAuth())


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def guarded(view):
    """A PermissionDenied deep in a service becomes the API's structured 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except PermissionDenied:
            raise Forbidden("forbidden", gettext("You are not allowed to do this.")) from None

    return wrapped


def _body(request: HttpRequest) -> dict:
    try:
        raw = request.body
    except RequestDataTooBig:
        raise DomainError("too_large", gettext("The request is too large."), status=413) from None
    try:
        body = parse_json(raw or b"{}")
    except (UnicodeDecodeError, ValueError):
        raise DomainError(
            "invalid_json", gettext("The body must be a JSON object (UTF-8)."), status=400
        ) from None
    if not isinstance(body, dict):
        raise InvalidInput("invalid", gettext("The request must be an object of named fields."))
    return body


def _text(body: dict, name: str, *, required: bool = False, max_length: int = 2000) -> str:
    value = body.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(
            "invalid",
            gettext("Some fields are missing or invalid."),
            fields={name: [gettext("Give a text.")]},
        )
    if len(value) > max_length:
        raise InvalidInput(
            "invalid", gettext("Some fields are missing or invalid."), fields={name: [gettext("Too long.")]}
        )
    if required and not value.strip():
        raise InvalidInput(
            "invalid",
            gettext("Some fields are missing or invalid."),
            fields={name: [gettext("This field is required.")]},
        )
    return value


def _date(body: dict, name: str, *, required: bool = True) -> datetime.date | None:
    value = body.get(name)
    if value in (None, "") and not required:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            "invalid",
            gettext("Some fields are missing or invalid."),
            fields={name: [gettext("Give a date as YYYY-MM-DD.")]},
        ) from None


def _token(request: HttpRequest) -> ApiToken:
    return request.auth


def _request(request: HttpRequest, reference: str) -> AppointmentRequest:
    return backoffice.get_visible_request(request.user, reference)


def _staff_prefecture(request: HttpRequest):
    token = _token(request)
    if token.prefecture_id is None or not permissions.has_role(request.user, token.prefecture_id, Role.AGENT):
        raise Forbidden("forbidden", gettext("This token is not a staff token of a prefecture."))
    return token.prefecture


# --- schemas ---------------------------------------------------------------------------------------------


class MeOut(Schema):
    username: str
    kind: str
    prefecture: str | None
    role: str | None
    organisation: int | None
    organisation_name: str | None


class RequestRowOut(Schema):
    reference: str
    prefecture: str
    procedure: str
    family_names: str
    given_names: str
    birth_date: datetime.date
    status: str
    channel: str
    received_at: datetime.datetime
    due_date: datetime.date


class ProofOut(Schema):
    id: int
    event: str
    issued_at: datetime.datetime
    token: str


class AppointmentOut(Schema):
    id: int
    status: str
    starts_at: datetime.datetime
    site: str
    counter: str


class MandateOut(Schema):
    id: int
    organisation: int
    organisation_name: str
    status: str
    consent_given_on: datetime.date
    consent_method: str
    signed_form: bool


class RequestOut(RequestRowOut):
    due_reason: str
    email: str
    phone: str
    postal_address: str
    language: str
    foreign_national_number: str
    vulnerability_reason: str
    closing_reason: str
    substitution_route: bool
    proofs: list[ProofOut]
    appointments: list[AppointmentOut]
    mandates: list[MandateOut]


class CreatedOut(Schema):
    reference: str
    created: bool
    access_token: str | None
    due_date: datetime.date
    message: str
    mandate: int | None = None


class QueueRowOut(Schema):
    position: int
    reference: str
    procedure: str
    due_date: datetime.date
    received_at: datetime.datetime
    channel: str
    late: bool
    days_late: int
    substitution_route: bool


class SlotOut(Schema):
    id: int
    starts_at: datetime.datetime
    site: str
    counter: str


class ReasonIn(Schema):
    reason: str


class ContactIn(Schema):
    email: str = ""
    phone: str = ""
    postal_address: str = ""
    language: str = "fr"
    reason: str


class VulnerabilityIn(Schema):
    vulnerability: str | None = None
    reason: str


class MoveIn(Schema):
    slot_id: int
    reason: str


class ImpossibilityIn(Schema):
    circumstances: str
    accompaniment_tried: bool = False


class RevokeIn(Schema):
    revoked_by: str
    reason: str = ""


class OkOut(Schema):
    ok: bool
    reference: str | None = None


class AffectedOut(Schema):
    kind: str
    appointment_id: int | None
    offer_id: int | None
    reference: str
    procedure: str
    site: str
    counter: str
    starts_at: datetime.datetime
    cause: str
    detail: str


class SettleIn(Schema):
    reason: str
    appointment_id: int | None = None
    offer_id: int | None = None


class MovedOut(Schema):
    reference: str
    previous_appointment_id: int
    appointment: AppointmentOut


class RefusedOut(Schema):
    reference: str
    code: str
    message: str


class SettlementOut(Schema):
    moved: list[MovedOut]
    requeued: list[str]
    offers_withdrawn: list[str]
    refused: list[RefusedOut]
    remaining: int = 0


def _row(r: AppointmentRequest) -> dict:
    return {
        "reference": r.reference,
        "prefecture": r.prefecture.code,
        "procedure": r.procedure.code,
        "family_names": r.family_names,
        "given_names": r.given_names,
        "birth_date": r.birth_date,
        "status": r.status,
        "channel": r.channel,
        "received_at": r.received_at,
        "due_date": r.due_date,
    }


def _detail(user, r: AppointmentRequest) -> dict:
    mandates = r.mandates.select_related("organisation")
    member = permissions.partner_member(user)
    if member is not None and not permissions.has_role(user, r.prefecture_id, Role.AGENT):
        mandates = mandates.filter(organisation=member.organisation)
    return {
        **_row(r),
        "due_reason": r.due_reason,
        "email": r.email,
        "phone": r.phone,
        "postal_address": r.postal_address,
        "language": r.language,
        "foreign_national_number": r.foreign_national_number,
        "vulnerability_reason": r.vulnerability_reason,
        "closing_reason": r.closing_reason,
        "substitution_route": r.impossibilities.exists(),
        "proofs": [
            {"id": p.pk, "event": p.event, "issued_at": p.issued_at, "token": p.token}
            for p in Proof.objects.filter(request=r).order_by("issued_at", "id")
        ],
        "appointments": [
            {
                "id": a.pk,
                "status": a.status,
                "starts_at": a.starts_at,
                "site": a.counter.site.name,
                "counter": a.counter.name,
            }
            for a in r.appointments.select_related("counter__site")
        ],
        "mandates": [
            {
                "id": m.pk,
                "organisation": m.organisation_id,
                "organisation_name": m.organisation.name,
                "status": m.status,
                "consent_given_on": m.consent_given_on,
                "consent_method": m.consent_method,
                "signed_form": bool(m.consent_form),
            }
            for m in mandates
        ],
    }


# --- routes ----------------------------------------------------------------------------------------------


@router.get("/staff/me", response={200: MeOut, **ERRORS}, summary="Who this token acts for")
@guarded
def me(request: HttpRequest):
    token = _token(request)
    member = permissions.partner_member(request.user)
    return {
        "username": request.user.get_username(),
        "kind": "partner" if token.organisation_id else "staff",
        "prefecture": token.prefecture.code if token.prefecture_id else None,
        "role": permissions.role_in(request.user, token.prefecture_id) if token.prefecture_id else None,
        "organisation": member.organisation_id if member else None,
        "organisation_name": member.organisation.name if member else None,
    }


@router.get("/staff/requests", response={200: list[RequestRowOut], **ERRORS}, summary="Search requests")
@guarded
def search_requests(request: HttpRequest, q: str = ""):
    """Search by reference, names, birth date (DD/MM/YYYY or YYYY-MM-DD) or foreign national number."""
    if len(q) > 200:
        raise InvalidInput(
            "invalid", gettext("Some fields are missing or invalid."), fields={"q": [gettext("Too long.")]}
        )
    if not q.strip():
        # Without a query, a partner lists their clients; staff must search.
        if permissions.partner_member(request.user) is None:
            raise InvalidInput(
                "invalid",
                gettext("Give something to search for."),
                fields={"q": [gettext("This field is required.")]},
            )
        found = permissions.visible_requests(request.user).select_related("prefecture", "procedure")[:200]
        return [_row(r) for r in found]
    return [_row(r) for r in backoffice.search_requests(request.user, q, channel=AccessChannel.API)]


@router.get("/staff/requests/{reference}", response={200: RequestOut, **ERRORS}, summary="One request")
@guarded
def get_request(request: HttpRequest, reference: str):
    return _detail(request.user, backoffice.open_request(request.user, reference, channel=AccessChannel.API))


@router.post(
    "/staff/requests",
    response={201: CreatedOut, 200: CreatedOut, **ERRORS},
    summary="Register a request for a person",
    description=(
        "Staff token: the intake fields of POST /requests plus `channel` (counter, phone or post), optional "
        "`received_at` (ISO 8601, at most 30 days back; `backdate_reason` when more than an hour ago). "
        "Organisation token: the intake fields plus the client's consent: `consent_given_on`, "
        "`consent_method`, optional `consent_form_base64` (PDF, JPEG or PNG)."
    ),
)
@guarded
def create_request(request: HttpRequest):
    body = _body(request)
    token = _token(request)
    if token.organisation_id:
        member = permissions.partner_member(request.user)
        if member is None:
            raise Forbidden("forbidden", gettext("This token's organisation is not approved."))
        data = validate_intake(body, member.organisation.prefecture, channel=Channel.PARTNER)
        result, mandate = partners.file_for_client(
            member.organisation,
            data,
            by=request.user,
            consent_given_on=_date(body, "consent_given_on"),
            consent_method=_text(body, "consent_method", required=True, max_length=20),
            consent_form=_upload(body),
        )
        mandate_id = mandate.pk
    else:
        prefecture = _staff_prefecture(request)
        channel = _text(body, "channel", required=True, max_length=10)
        received_at = None
        if body.get("received_at"):
            received_at = (
                parse_datetime(str(body["received_at"])) if isinstance(body["received_at"], str) else None
            )
            if received_at is None or received_at.tzinfo is None:
                raise InvalidInput(
                    "invalid",
                    gettext("Some fields are missing or invalid."),
                    fields={
                        "received_at": [
                            gettext("Give a date and time with its offset, e.g. 2025-03-01T09:30:00+01:00.")
                        ]
                    },
                )
        data = validate_intake(
            body, prefecture, channel=channel if channel in backoffice.ASSISTED_CHANNELS else Channel.COUNTER
        )
        result = backoffice.register_for_person(
            prefecture,
            data,
            channel=channel,
            user=request.user,
            received_at=received_at,
            backdate_reason=_text(body, "backdate_reason", max_length=500),
        )
        mandate_id = None
    return Status(
        201 if result.created else 200,
        {
            "reference": result.request.reference,
            "created": result.created,
            "access_token": result.access_token,
            "due_date": result.request.due_date,
            "message": result.message,
            "mandate": mandate_id,
        },
    )


def _upload(body: dict):
    encoded = body.get("consent_form_base64")
    if not encoded:
        return None
    if not isinstance(encoded, str) or len(encoded) > settings.MANDATE_FORM_MAX_BYTES * 4 // 3 + 8:
        message = gettext("The file is too large.")
        raise InvalidInput("invalid_upload", message, fields={"consent_form": [message]})
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        message = gettext("The file is not valid base64.")
        raise InvalidInput("invalid_upload", message, fields={"consent_form": [message]}) from None
    return SimpleUploadedFile("consent", content)


@router.post(
    "/staff/mandates", response={201: MandateOut, **ERRORS}, summary="Attach a mandate to a client's request"
)
@guarded
def attach_mandate(request: HttpRequest):
    body = _body(request)
    member = permissions.partner_member(request.user)
    if member is None:
        raise Forbidden("forbidden", gettext("Only a partner organisation holds mandates."))
    mandate = partners.attach_mandate(
        member.organisation,
        reference=_text(body, "reference", required=True, max_length=20),
        birth_date=_date(body, "birth_date"),
        by=request.user,
        consent_given_on=_date(body, "consent_given_on"),
        consent_method=_text(body, "consent_method", required=True, max_length=20),
        consent_form=_upload(body),
    )
    return Status(
        201,
        {
            "id": mandate.pk,
            "organisation": mandate.organisation_id,
            "organisation_name": mandate.organisation.name,
            "status": mandate.status,
            "consent_given_on": mandate.consent_given_on,
            "consent_method": mandate.consent_method,
            "signed_form": bool(mandate.consent_form),
        },
    )


@router.post(
    "/staff/mandates/{mandate_id}/revoke", response={200: OkOut, **ERRORS}, summary="Revoke a mandate"
)
@guarded
def revoke_mandate(request: HttpRequest, mandate_id: int, payload: RevokeIn):
    mandate = Mandate.objects.select_related("request", "organisation").filter(pk=mandate_id).first()
    member = permissions.partner_member(request.user)
    allowed = mandate is not None and (
        permissions.has_role(request.user, mandate.request.prefecture_id, Role.AGENT)
        or (member is not None and member.organisation_id == mandate.organisation_id)
    )
    if not allowed:
        raise NotFound("not_found", gettext("No such mandate."))
    partners.revoke_mandate(mandate, revoked_by=payload.revoked_by, reason=payload.reason, by=request.user)
    return {"ok": True, "reference": mandate.request.reference}


@router.post(
    "/staff/requests/{reference}/contact",
    response={200: RequestOut, **ERRORS},
    summary="Change contact details",
)
@guarded
def change_contact(request: HttpRequest, reference: str, payload: ContactIn):
    found = _request(request, reference)
    backoffice.update_contact(
        found,
        user=request.user,
        email=payload.email,
        phone=payload.phone,
        postal_address=payload.postal_address,
        language=payload.language,
        reason=payload.reason,
    )
    found.refresh_from_db()
    return _detail(request.user, found)


@router.post(
    "/staff/requests/{reference}/vulnerability",
    response={200: RequestOut, **ERRORS},
    summary="Record (text) or remove (null) a vulnerability",
)
@guarded
def vulnerability(request: HttpRequest, reference: str, payload: VulnerabilityIn):
    found = _request(request, reference)
    backoffice.set_vulnerability(
        found, user=request.user, vulnerability=payload.vulnerability, reason=payload.reason
    )
    found.refresh_from_db()
    return _detail(request.user, found)


@router.post(
    "/staff/requests/{reference}/close", response={200: RequestOut, **ERRORS}, summary="Close a request"
)
@guarded
def close(request: HttpRequest, reference: str, payload: ReasonIn):
    found = _request(request, reference)
    backoffice.close(found, user=request.user, reason=payload.reason)
    found.refresh_from_db()
    return _detail(request.user, found)


@router.post(
    "/staff/requests/{reference}/impossibility",
    response={201: RequestOut, **ERRORS},
    summary="Record « impossibilité constatée » (CESEDA R.431-2)",
)
@guarded
def impossibility(request: HttpRequest, reference: str, payload: ImpossibilityIn):
    found = _request(request, reference)
    partners.record_impossibility(
        found,
        by=request.user,
        circumstances=payload.circumstances,
        accompaniment_tried=payload.accompaniment_tried,
    )
    return Status(201, _detail(request.user, found))


@router.get(
    "/staff/appointments/{appointment_id}/free-slots",
    response={200: list[SlotOut], **ERRORS},
    summary="Free slots to move to",
)
@guarded
def free_slots(request: HttpRequest, appointment_id: int):
    appointment = backoffice._appointment_for(request.user, appointment_id)
    return [
        {"id": s.pk, "starts_at": s.starts_at, "site": s.counter.site.name, "counter": s.counter.name}
        for s in backoffice.free_slots_for(appointment)
    ]


@router.post(
    "/staff/appointments/{appointment_id}/cancel",
    response={200: OkOut, **ERRORS},
    summary="Cancel an appointment",
)
@guarded
def cancel(request: HttpRequest, appointment_id: int, payload: ReasonIn):
    appointment = backoffice.cancel_appointment(appointment_id, user=request.user, reason=payload.reason)
    return {"ok": True, "reference": appointment.request.reference}


@router.post(
    "/staff/appointments/{appointment_id}/move",
    response={200: AppointmentOut, **ERRORS},
    summary="Move an appointment",
)
@guarded
def move(request: HttpRequest, appointment_id: int, payload: MoveIn):
    moved = backoffice.move_appointment(
        appointment_id, payload.slot_id, user=request.user, reason=payload.reason
    )
    return {
        "id": moved.pk,
        "status": moved.status,
        "starts_at": moved.starts_at,
        "site": moved.counter.site.name,
        "counter": moved.counter.name,
    }


def _settlement(done) -> dict:
    return {
        "moved": [
            {
                "reference": one.reference,
                "previous_appointment_id": one.appointment_id,
                "appointment": {
                    "id": moved.pk,
                    "status": moved.status,
                    "starts_at": moved.starts_at,
                    "site": moved.counter.site.name,
                    "counter": moved.counter.name,
                },
            }
            for one, moved in done.moved
        ],
        "requeued": [one.reference for one in done.requeued],
        "offers_withdrawn": [one.reference for one in done.offers_withdrawn],
        "refused": [
            {"reference": one.reference, "code": error.code, "message": str(error.message)}
            for one, error in done.refused
        ],
        "remaining": done.remaining,
    }


@router.get(
    "/staff/affected",
    response={200: list[AffectedOut], **ERRORS},
    summary="Appointments and offers on slots the catalogue no longer opens",
    description="A closure, a public holiday, shorter hours or a counter closed leave these in place until "
    "a manager settles them (manager role).",
)
@guarded
def affected(request: HttpRequest):
    prefecture = _staff_prefecture(request)
    return backoffice.affected_appointments(request.user, prefecture)


@router.post(
    "/staff/affected/settle",
    response={200: SettlementOut, **ERRORS},
    summary="Move one affected appointment, or withdraw one affected offer",
    description="Give `appointment_id` or `offer_id` from GET /staff/affected. The appointment is moved to "
    "the earliest free slot that suits its request; when none does, it is cancelled and the request waits "
    "again with its due date. The person is told; their old convocation stops being valid.",
)
@guarded
def settle_affected(request: HttpRequest, payload: SettleIn):
    prefecture = _staff_prefecture(request)
    done = backoffice.settle_affected(
        request.user,
        prefecture,
        reason=payload.reason,
        appointment_id=payload.appointment_id,
        offer_id=payload.offer_id,
    )
    return _settlement(done)


@router.post(
    "/staff/affected/settle-all",
    response={200: SettlementOut, **ERRORS},
    summary="Move all affected appointments and withdraw all affected offers",
    description="The same as /staff/affected/settle for each of them in turn; one refused leaves the others "
    "done (listed in `refused`). At most 150 per call: `remaining` says how many are left; call again.",
)
@guarded
def settle_all_affected(request: HttpRequest, payload: ReasonIn):
    prefecture = _staff_prefecture(request)
    return _settlement(backoffice.settle_all_affected(request.user, prefecture, reason=payload.reason))


@router.get(
    "/staff/queue", response={200: list[QueueRowOut], **ERRORS}, summary="The queue, in serving order"
)
@guarded
def queue(request: HttpRequest, procedure: str = "", site: int | None = None):
    prefecture = _staff_prefecture(request)
    chosen_procedure = chosen_site = None
    if procedure:
        chosen_procedure = Procedure.objects.filter(prefecture=prefecture, code=procedure).first()
        if chosen_procedure is None:
            raise NotFound(
                "not_found",
                gettext("Unknown procedure."),
                fields={"procedure": [gettext("Unknown procedure.")]},
            )
    if site is not None:
        chosen_site = Site.objects.filter(prefecture=prefecture, pk=site).first()
        if chosen_site is None:
            raise NotFound("not_found", gettext("Unknown site."), fields={"site": [gettext("Unknown site.")]})
    rows = backoffice.list_queue(
        request.user, prefecture, channel=AccessChannel.API, procedure=chosen_procedure, site=chosen_site
    )
    return [
        {
            "position": row.position,
            "reference": row.request.reference,
            "procedure": row.request.procedure.code,
            "due_date": row.request.due_date,
            "received_at": row.request.received_at,
            "channel": row.request.channel,
            "late": row.late,
            "days_late": row.days_late,
            "substitution_route": row.substitution,
        }
        for row in rows
    ]
