"""API v1 routes for proofs: a request's proofs in order, and the verification of any token.

POST /proofs/verify reads its body by hand, so that every bad input (a body too large, not UTF-8, not JSON,
a token of the wrong type) gets a reason instead of a framework error, and never a 500. An invalid token is
a normal answer (200, `valid: false` with a code and a message): the question was well asked.
"""

from __future__ import annotations

import datetime

from django.http import HttpRequest
from django.utils.translation import gettext
from ninja import Header, Router, Schema, Status

from guichet.appointments import convocations
from guichet.edge import parse_json
from guichet.errors import DomainError, NotFound
from guichet.evidence import permissions, services, signing
from guichet.waitlist.models import AppointmentRequest
from guichet.waitlist.references import InvalidReference, parse_reference, token_matches

router = Router(tags=["proofs"])

# A body holding one token and a little JSON around it.
MAX_VERIFY_BODY = signing.MAX_TOKEN_LENGTH + 1024


class ProofOut(Schema):
    id: int
    event: str
    issued_at: datetime.datetime
    kid: str
    token: str


class RequestProofsOut(Schema):
    reference: str
    proofs: list[ProofOut]


class VerifyIn(Schema):
    token: str


class NewerAppointmentOut(Schema):
    starts_at: datetime.datetime
    site: str


class VerifyOut(Schema):
    valid: bool
    kid: str | None = None
    payload: dict | None = None
    code: str | None = None
    message: str | None = None
    # For a proof that confirms an appointment: whether its convocation is still valid.
    convocation: str | None = None
    newer_appointment: NewerAppointmentOut | None = None


class ErrorOut(Schema):
    code: str
    message: str
    fields: dict[str, list[str]]


@router.get(
    "/requests/{reference}/proofs",
    response={200: RequestProofsOut, 404: ErrorOut},
    summary="The proofs of a request, oldest first",
    description="Needs the request's access token in the X-Access-Token header. An unknown reference and a "
    "wrong token get the same 404.",
)
def request_proofs(
    request: HttpRequest, reference: str, x_access_token: str = Header("", alias="X-Access-Token")
):
    not_found = NotFound("not_found", gettext("No request matches this reference and access token."))
    try:
        canonical = parse_reference(reference)
    except InvalidReference:
        token_matches(x_access_token, "")  # the same work as a real comparison
        raise not_found from None
    found = AppointmentRequest.objects.select_related("prefecture").filter(reference=canonical).first()
    if found is None:
        token_matches(x_access_token, "")
        raise not_found
    if not permissions.can_read_request(request, found, x_access_token[:200]):
        raise not_found
    proofs = [
        {
            "id": proof.pk,
            "event": proof.event,
            "issued_at": proof.issued_at,
            "kid": proof.kid,
            "token": proof.token,
        }
        for proof in services.proofs_of(found)
    ]
    return Status(200, {"reference": found.reference, "proofs": proofs})


def _verify_body(request: HttpRequest) -> object:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_VERIFY_BODY:
        raise DomainError(
            "too_long", gettext("This text is too long to be a proof."), {"token": ["too long"]}, status=413
        )
    raw = request.body
    if len(raw) > MAX_VERIFY_BODY:
        raise DomainError("too_long", gettext("This text is too long to be a proof."), status=413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DomainError(
            "not_utf8", gettext("The body is not valid UTF-8 text."), {"token": ["not UTF-8"]}, status=400
        ) from None
    try:
        return parse_json(text.encode("utf-8"))
    except ValueError:
        raise DomainError(
            "invalid_json", gettext('The body must be a JSON object: {"token": "…"}.'), status=400
        ) from None


@router.post(
    "/proofs/verify",
    response={200: VerifyOut, 400: ErrorOut, 413: ErrorOut, 422: ErrorOut},
    summary="Check a proof",
    description="Says whether a token is a genuine, unchanged proof of this service: `valid`, the key id and "
    "the payload; or why not: a stable `code` (malformed, bad_algorithm, unknown_key, bad_signature, "
    "too_long, unsupported, empty, not_utf8) and a message. A genuine proof that confirms an appointment "
    "also says what its convocation is worth now, `convocation`: valid, replaced (the appointment was moved: "
    "`newer_appointment` gives the newer one), cancelled or past.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": VerifyIn.model_json_schema()}},
        }
    },
)
def verify(request: HttpRequest):
    body = _verify_body(request)
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str):
        raise DomainError(
            "invalid",
            gettext('Give the proof as a text: {"token": "…"}.'),
            {"token": [gettext("This field is required and must be a text.")]},
            status=422,
        )
    try:
        verified = services.verify_token(token)
    except signing.TokenError as error:
        return Status(200, {"valid": False, "code": error.code, "message": error.message})
    answer = {"valid": True, "kid": verified.kid, "payload": verified.payload}
    standing = convocations.for_proof(verified.payload)
    if standing is not None:
        answer["convocation"] = standing.state
        if standing.current is not None:
            newer = standing.current
            answer["newer_appointment"] = {"starts_at": newer.starts_at, "site": newer.counter.site.name}
    return Status(200, answer)
