"""Evidence services: every event of a request leaves an audit entry and, for the applicant, a proof.

Both are written in the transaction of the event itself: an event that rolls back leaves neither.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from guichet.waitlist.models import AppointmentRequest

from . import audit, signing
from .audit import Actor, Change
from .models import Proof, SigningKey


def chain_for(request: AppointmentRequest) -> str:
    return request.prefecture.code


def published_keys() -> dict[str, bytes]:
    return {key.kid: signing.b64url_decode(key.public_key) for key in SigningKey.objects.all()}


def signing_key() -> signing.KeyPair:
    """The current key, published in the database before it signs anything."""
    key = signing.current_key()
    SigningKey.objects.get_or_create(
        kid=key.kid, defaults={"public_key": signing.b64url(signing.raw_public_key(key.public_key))}
    )
    return key


def rotate_signing_key() -> signing.KeyPair:
    """Sign with a new key from now on; the old public keys stay published."""
    if settings.SIGNING_KEY_PEM:
        raise RuntimeError("the signing key comes from SIGNING_KEY_PEM: rotate it there")
    with transaction.atomic():
        previous = signing_key()
        new_key = signing.add_key_to_file()
        SigningKey.objects.filter(kid=previous.kid).update(retired_at=timezone.now())
        SigningKey.objects.create(
            kid=new_key.kid, public_key=signing.b64url(signing.raw_public_key(new_key.public_key))
        )
        audit.record(
            audit.PLATFORM_CHAIN,
            Change(
                "signing_key.rotated",
                "signing_key",
                new_key.kid,
                audit.SYSTEM,
                data={"previous": previous.kid},
            ),
        )
    return new_key


def proof_payload(request: AppointmentRequest, event: str, at: datetime.datetime, details: dict) -> dict:
    local = at.astimezone(request.prefecture.tzinfo)
    return {
        "iss": settings.SITE_URL,
        "typ": "guichet-proof/1",
        "event": event,
        "at": signing.utc_iso(at),
        "at_local": local.isoformat(timespec="seconds"),
        "tz": request.prefecture.timezone,
        "ref": request.reference,
        "prefecture": request.prefecture.code,
        "procedure": request.procedure.code,
        "procedure_name": request.procedure.name,
        "channel": request.channel,
        "received_at": signing.utc_iso(request.received_at),
        "due_date": request.due_date.isoformat(),
        "status": request.status,
        "name": {"family": request.family_names, "given": request.given_names},
        "birth_date": request.birth_date.isoformat(),
        **({"details": details} if details else {}),
    }


def record_event(
    request: AppointmentRequest,
    event: str,
    actor: Actor,
    *,
    details: dict | None = None,
    audit_data: dict | None = None,
    at: datetime.datetime | None = None,
    proof: bool = True,
) -> Proof | None:
    """Write the audit entry and (by default) the signed proof of one event of a request."""
    at = (at or timezone.now()).replace(microsecond=0)
    details = details or {}
    issued = None
    if proof:
        key = signing_key()
        token = signing.sign(proof_payload(request, event, at, details), key)
        issued = Proof.objects.create(request=request, event=event, issued_at=at, kid=key.kid, token=token)
    audit.append(
        chain_for(request),
        [
            Change(
                action=f"request.{event}",
                object_type="appointment_request",
                object_id=request.reference,
                actor=actor,
                request_id=request.pk,
                data={**details, **(audit_data or {}), **({"proof": issued.pk} if issued else {})},
            )
        ],
        at=at,
    )
    return issued


def record_events(
    events: list[tuple[AppointmentRequest, str, dict]],
    actor: Actor,
    at: datetime.datetime | None = None,
) -> list[Proof]:
    """Many events at once (an allocation run): one bulk insert of proofs, one append per chain."""
    at = (at or timezone.now()).replace(microsecond=0)
    key = signing_key()
    proofs = [
        Proof(
            request=request,
            event=event,
            issued_at=at,
            kid=key.kid,
            token=signing.sign(proof_payload(request, event, at, details), key),
        )
        for request, event, details in events
    ]
    Proof.objects.bulk_create(proofs, batch_size=2000)
    by_chain: dict[str, list[Change]] = {}
    for (request, event, details), issued in zip(events, proofs, strict=True):
        by_chain.setdefault(chain_for(request), []).append(
            Change(
                action=f"request.{event}",
                object_type="appointment_request",
                object_id=request.reference,
                actor=actor,
                request_id=request.pk,
                data={**details, "proof": issued.pk},
            )
        )
    for chain in sorted(by_chain):
        audit.append(chain, by_chain[chain], at=at)
    return proofs


def record_change(chain: str, change: Change) -> None:
    """Audit a change that concerns no single applicant (catalogue, staff, configuration)."""
    audit.record(chain, change)
