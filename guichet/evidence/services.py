"""Evidence services: every event of a request leaves an audit entry and, for the applicant, a proof.

Both are written in the transaction of the event itself: an event that rolls back leaves neither.

What a proof says (DESIGN.md, "Proofs"): who (name, birth date), which request (reference, prefecture,
procedure, channel), what happened (`event`, and `details` for that event), when (UTC and the prefecture's
local time) and the due date. The details each event carries are listed in EVENT_DETAILS (and in
docs/proofs.md); datetimes given in details are written as UTC with a local-time twin.
"""

import datetime
import decimal
import hashlib
import logging
import time
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from guichet import bulk, locking
from guichet.appointments.models import ACTIVE_APPOINTMENT_STATUSES, Appointment
from guichet.catalog.models import Prefecture
from guichet.notifications.content import KINDS
from guichet.notifications.services import notify
from guichet.waitlist.facts import RequestFacts
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from . import audit, signing
from .audit import Actor, Change
from .models import (
    AuditChainHead,
    AuditCheckpoint,
    AuditEntry,
    AuditPersonalData,
    Proof,
    ProofEvent,
    SigningKey,
)

logger = logging.getLogger(__name__)

PROOF_TYPE = "guichet-proof/1"
PUBLISHED_KEY_CACHE = "guichet:signing-key-published:{}"
PUBLISHED_KEY_SECONDS = 300
CHECKPOINT_TYPE = "guichet-audit-checkpoint/1"

# What an interim document's proof (récépissé, attestation, L.433-3 statement) states: guichet.reception.
INTERIM_DETAILS = ("document", "number", "valid_from", "valid_until", "work_allowed", "travel_allowed")
# The details each event is expected to carry (all optional; what is given is signed as is). Other apps
# call record_event with these keys so that pages, PDFs and the verify page can say them in plain words.
EVENT_DETAILS: dict[str, tuple[str, ...]] = {
    ProofEvent.RECEIVED: ("position",),
    ProofEvent.OFFER_MADE: ("offer", "site", "counter", "starts_at", "expires_at"),
    ProofEvent.OFFER_DECLINED: ("offer", "site", "starts_at", "reason"),
    ProofEvent.OFFER_LAPSED: ("offer", "site", "starts_at", "consecutive_lapses"),
    ProofEvent.OFFER_WITHDRAWN: ("offer", "reason"),
    ProofEvent.APPOINTMENT_CONFIRMED: ("appointment", "site", "counter", "starts_at"),
    ProofEvent.APPOINTMENT_CANCELLED: ("appointment", "site", "starts_at", "cancelled_by", "reason"),
    ProofEvent.CHECKED_IN: ("appointment", "site", "ticket", "identity_checked", "dossier_complete"),
    ProofEvent.SERVED: ("appointment", "site", "outcome"),
    ProofEvent.NO_SHOW: ("appointment", "site", "starts_at"),
    ProofEvent.STILL_WAITING: ("days_waiting", "week", "since"),
    ProofEvent.COURT_ORDER: (
        "tribunal",
        "case_number",
        "ordered_on",
        "notified_on",
        "convoke_by",
        "appointment_by",
        "penalty_per_day",
    ),
    ProofEvent.DUE_DATE_CHANGED: ("previous_due_date", "due_reason", "note"),
    ProofEvent.LATE_RENEWAL: ("permit_expires_on", "received_on"),
    ProofEvent.CLOSED: ("reason",),
    ProofEvent.WITHDRAWN: ("reason",),
    ProofEvent.REFUSED_AT_COUNTER: ("appointment", "site", "reason"),
    ProofEvent.FILE_REGISTERED: ("appointment", "documents_version"),
    ProofEvent.FILE_INCOMPLETE: ("appointment", "documents_version", "missing_documents"),
    ProofEvent.RECEPISSE: INTERIM_DETAILS,
    ProofEvent.PROLONGATION: INTERIM_DETAILS,
    ProofEvent.GRACE_PERIOD: INTERIM_DETAILS,
    ProofEvent.DECISION: ("outcome", "note", "collection_reference"),
    ProofEvent.IDENTITY_CHANGED: ("changed", "appointment_released", "reason"),
    # The dossier (guichet.dossiers): "by" is who acted (applicant, partner, prefecture), never a name.
    ProofEvent.DOSSIER_ANSWERS: ("questions", "by"),
    ProofEvent.DOCUMENT_SENT: ("document_name", "pages", "file_sha256", "by"),
    ProofEvent.DOCUMENT_SCANNED: ("document_name", "pages", "file_sha256"),
    ProofEvent.DOCUMENT_BY_POST: ("document_name", "pages", "file_sha256"),
    ProofEvent.DOSSIER_SUBMITTED: ("documents",),
    ProofEvent.DOSSIER_REVIEWED: ("accepted_documents", "pending_documents"),
    ProofEvent.CORRECTION_ASKED: ("accepted_documents", "corrections"),
    ProofEvent.DOSSIER_COMPLETE: ("accepted_documents",),
}

# Details and audit data that are free text about the person: the audit entry keeps only a commitment to
# them (audit.Change.personal), so that erasure removes them without breaking the chain (docs/privacy.md).
PERSONAL_DETAILS = frozenset(
    {"reason", "note", "outcome", "circumstances", "case_number", "resolution", "corrections"}
)


def split_personal(data: dict) -> tuple[dict, dict]:
    """(what the audit entry carries, what goes to its erasable personal data)."""
    public = {name: value for name, value in data.items() if name not in PERSONAL_DETAILS}
    personal = {
        name: value for name, value in data.items() if name in PERSONAL_DETAILS and value not in ("", None)
    }
    return public, personal


def fingerprint(token: str) -> str:
    """SHA-256 of a proof as handed out: `printf '%s' "$TOKEN" | openssl dgst -sha256` gives the same."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


# Requests that wait for an appointment: what the weekly statement and the late-renewal attestation cover.
WAITING_STATUSES = (RequestStatus.WAITING, RequestStatus.OFFERED, RequestStatus.PAUSED)
WEEK = datetime.timedelta(days=7)


def chain_for(request: AppointmentRequest) -> str:
    return request.prefecture.code


def published_keys() -> dict[str, bytes]:
    return {key.kid: signing.b64url_decode(key.public_key) for key in SigningKey.objects.all()}


def signing_key() -> signing.KeyPair:
    """The current key, published in the database before it signs anything.

    A key seen for the first time (a new SIGNING_KEY_PEM, a rotation in another process) retires the
    others: they stay published, they just no longer sign.
    """
    key = signing.current_key()
    if _seen_published.get(key.kid, 0.0) > time.monotonic():
        return key
    published = PUBLISHED_KEY_CACHE.format(key.kid)
    if cache.get(published):
        _remember_published(key.kid)
        return key
    _, created = SigningKey.objects.get_or_create(
        kid=key.kid, defaults={"public_key": signing.public_key_b64(key.public_key)}
    )
    if created:
        SigningKey.objects.filter(retired_at__isnull=True).exclude(kid=key.kid).update(
            retired_at=timezone.now()
        )
    else:
        # Seen published (a row is never deleted): every signer may skip the look-up for a while. Only once
        # the row is committed, so that no signer trusts a row another transaction may still roll back.
        transaction.on_commit(lambda: cache.set(published, True, timeout=PUBLISHED_KEY_SECONDS))
    return key


# Keys this process saw published, until when it may trust that without asking the shared cache (a cache
# round trip was a twentieth of a filing). As long as the shared mark lasts; the kid is the key: a new key,
# from any process, is looked up.
_seen_published: dict[str, float] = {}


def _remember_published(kid: str) -> None:
    _seen_published[kid] = time.monotonic() + PUBLISHED_KEY_SECONDS


def forget_published_keys() -> None:
    """Forget what this process saw published (a test that empties the database and the cache)."""
    _seen_published.clear()


def rotate_signing_key() -> signing.KeyPair:
    """Sign with a new key from now on; the old public keys stay published."""
    if settings.SIGNING_KEY_PEM:
        raise RuntimeError(
            "the signing key comes from SIGNING_KEY_PEM: put a new PEM there; the old key stays published"
        )
    with transaction.atomic():
        previous = signing_key()
        new_key = signing.add_key_to_file()
        SigningKey.objects.filter(kid=previous.kid).update(retired_at=timezone.now())
        SigningKey.objects.create(kid=new_key.kid, public_key=signing.public_key_b64(new_key.public_key))
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


def jwk_set() -> dict:
    """The JWK set (RFC 7517) of every key that ever signed, newest first."""
    try:
        signing_key()
    except Exception:  # a read-only replica or a missing key file must not hide the published keys
        logger.exception("could not publish the current signing key")
    keys = SigningKey.objects.order_by("-created_at", "-id")
    return {"keys": [signing.public_jwk(key.kid, key.public_key) for key in keys]}


# --- payloads -------------------------------------------------------------------------------------------


def _jsonable(value, tz) -> object:
    """Details as JSON: datetimes in UTC (the caller adds their local twin), dates ISO, models by pk."""
    if isinstance(value, datetime.datetime):
        return signing.utc_iso(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return normalise_details(value, tz)
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item, tz) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def normalise_details(details: dict | None, tz) -> dict:
    """Make details signable; each datetime `x` also gets `x_local` in the prefecture's time zone."""
    result: dict = {}
    for name, value in (details or {}).items():
        result[str(name)] = _jsonable(value, tz)
        if isinstance(value, datetime.datetime) and f"{name}_local" not in (details or {}):
            result[f"{name}_local"] = value.astimezone(tz).isoformat(timespec="seconds")
    return result


def proof_payload(request: AppointmentRequest, event: str, at: datetime.datetime, details: dict) -> dict:
    local = at.astimezone(request.prefecture.tzinfo)
    return {
        "iss": settings.SITE_URL,
        "typ": PROOF_TYPE,
        "event": event,
        "at": signing.utc_iso(at),
        "at_local": local.isoformat(timespec="seconds"),
        "tz": request.prefecture.timezone,
        "ref": request.reference,
        "prefecture": request.prefecture.code,
        "prefecture_name": request.prefecture.name,
        "procedure": request.procedure.code,
        "procedure_name": request.procedure.name,
        "channel": request.channel,
        "received_at": signing.utc_iso(request.received_at),
        "due_date": request.due_date.isoformat(),
        "due_reason": request.due_reason,
        "status": request.status,
        "name": {"family": request.family_names, "given": request.given_names},
        "birth_date": request.birth_date.isoformat(),
        **({"details": details} if details else {}),
    }


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("proofs and audit entries are written in the transaction of the event they record")


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
    """Write the audit entry and (by default) the signed proof of one event of a request.

    Call it inside the transaction that makes the change (it refuses to run outside one), after the
    request is saved: the proof states the request as it is now (status, due date).
    """
    _require_transaction()
    if request.erased_at is not None:
        raise RuntimeError("an erased request records no more events")
    at = (at or timezone.now()).replace(microsecond=0)
    tz = request.prefecture.tzinfo
    details = normalise_details(details, tz)
    issued = None
    if proof:
        key = signing_key()
        token = signing.sign(proof_payload(request, event, at, details), key)
        issued = Proof.objects.create(
            request=request,
            event=event,
            issued_at=at,
            kid=key.kid,
            token=token,
            fingerprint=fingerprint(token),
        )
    data, personal = split_personal({**details, **normalise_details(audit_data, tz)})
    audit.append(
        chain_for(request),
        [
            Change(
                action=f"request.{event}",
                object_type="appointment_request",
                object_id=request.reference,
                actor=actor,
                request_id=request.pk,
                data={**data, **({"proof": issued.pk, "proof_sha256": issued.fingerprint} if issued else {})},
                personal=personal,
            )
        ],
        at=at,
    )
    return issued


def record_events(
    events: list[tuple[AppointmentRequest | RequestFacts, str, dict]],
    actor: Actor,
    at: datetime.datetime | None = None,
) -> list[int]:
    """Many events at once (an allocation run): one bulk insert of proofs, one append per chain.

    Writes exactly what record_event would for each (same payloads, tokens and audit entries), with COPY
    on PostgreSQL; what all the events share (the time and its local forms, the token header, the
    prefecture and procedure fields) is computed once. Requests may be given as RequestFacts (plain
    values). Returns the ids of the proofs, in the order of the events.
    """
    _require_transaction()
    if not events:
        return []
    at = (at or timezone.now()).replace(microsecond=0)
    key = signing_key()
    sign = key.private_key.sign
    header = signing.b64url(signing.canonical_json({"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}))
    at_utc = signing.utc_iso(at)
    shared: dict[tuple[int, int], dict] = {}
    tzinfo: dict[int, object] = {}
    normalised = []
    proof_rows = []
    for request, event, details in events:
        prefecture, procedure = request.prefecture, request.procedure
        tz = tzinfo.get(prefecture.pk)
        if tz is None:
            tz = tzinfo[prefecture.pk] = prefecture.tzinfo
        details = normalise_details(details, tz)
        normalised.append((request, event, details))
        common = shared.get((prefecture.pk, procedure.pk))
        if common is None:
            # Key order as in proof_payload (canonical_json sorts them anyway).
            common = shared[(prefecture.pk, procedure.pk)] = {
                "iss": settings.SITE_URL,
                "typ": PROOF_TYPE,
                "at": at_utc,
                "at_local": at.astimezone(tz).isoformat(timespec="seconds"),
                "tz": prefecture.timezone,
                "prefecture": prefecture.code,
                "prefecture_name": prefecture.name,
                "procedure": procedure.code,
                "procedure_name": procedure.name,
            }
        payload = {
            **common,
            "event": event,
            "ref": request.reference,
            "channel": request.channel,
            "received_at": signing.utc_iso(request.received_at),
            "due_date": request.due_date.isoformat(),
            "due_reason": request.due_reason,
            "status": request.status,
            "name": {"family": request.family_names, "given": request.given_names},
            "birth_date": request.birth_date.isoformat(),
            **({"details": details} if details else {}),
        }
        signing_input = f"{header}.{signing.b64url(signing.canonical_json(payload))}"
        token = f"{signing_input}.{signing.b64url(sign(signing_input.encode('ascii')))}"
        proof_rows.append(
            {
                "request_id": request.pk,
                "event": event,
                "issued_at": at,
                "kid": key.kid,
                "token": token,
                "fingerprint": fingerprint(token),
            }
        )
    proof_ids = bulk.insert(Proof, proof_rows, with_ids=True)
    by_chain: dict[str, list[Change]] = {}
    for (request, event, details), pk, row in zip(normalised, proof_ids, proof_rows, strict=True):
        data, personal = split_personal(details)
        by_chain.setdefault(chain_for(request), []).append(
            Change(
                action=f"request.{event}",
                object_type="appointment_request",
                object_id=request.reference,
                actor=actor,
                request_id=request.pk,
                data={**data, "proof": pk, "proof_sha256": row["fingerprint"]},
                personal=personal,
            )
        )
    for chain in sorted(by_chain):
        # The data is normalise_details' output plus an id: already what the JSON column gives back.
        audit.write_entries(chain, by_chain[chain], at, data_is_stored=True)
    return proof_ids


def record_change(chain: str, change: Change) -> None:
    """Audit a change that concerns no single applicant (catalogue, staff, configuration)."""
    audit.record(chain, change)


# --- reading proofs ----------------------------------------------------------------------------------


def proofs_of(request: AppointmentRequest) -> models.QuerySet[Proof]:
    return Proof.objects.filter(request=request).order_by("issued_at", "id")


def verify_token(token: str | bytes | None) -> signing.VerifiedToken:
    """Check a token against every key this service ever published. Raises signing.TokenError."""
    return signing.parse_and_verify(token, published_keys())


# --- weekly "still waiting" statements ----------------------------------------------------------------


def _has_active_appointment():
    return Exists(Appointment.objects.filter(request=OuterRef("pk"), status__in=ACTIVE_APPOINTMENT_STATUSES))


def requests_due_a_statement(now: datetime.datetime) -> models.QuerySet[AppointmentRequest]:
    """Waiting requests whose last "received" or "still waiting" proof is at least a week old."""
    last = (
        Proof.objects.filter(
            request=OuterRef("pk"), event__in=(ProofEvent.RECEIVED, ProofEvent.STILL_WAITING)
        )
        .order_by()
        .values("request")
        .annotate(last=Max("issued_at"))
        .values("last")
    )
    return (
        AppointmentRequest.objects.filter(status__in=WAITING_STATUSES)
        .annotate(last_statement=models.Subquery(last), booked=_has_active_appointment())
        .filter(booked=False)
        .filter(
            Q(last_statement__lte=now - WEEK) | Q(last_statement__isnull=True, received_at__lte=now - WEEK)
        )
    )


def _statement_details(request: AppointmentRequest, now: datetime.datetime, since: datetime.datetime) -> dict:
    days = (now - request.received_at).days
    return {"days_waiting": days, "week": max(1, days // 7), "since": since}


def issue_weekly_statements(now: datetime.datetime | None = None, batch_size: int = 500) -> int:
    """Issue the dated "still waiting" proof of every request that has waited another week. Idempotent.

    At most one per request per 7 days, counted from its last "received" or "still waiting" proof, so a
    run that is repeated, late or concurrent issues nothing twice: each batch locks its requests and checks
    again under the lock.
    """

    now = (now or timezone.now()).replace(microsecond=0)
    issued = 0
    candidate_ids = list(requests_due_a_statement(now).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(candidate_ids), batch_size):
        batch = candidate_ids[start : start + batch_size]
        with transaction.atomic():
            locked = locking.requests(batch, skip_locked=True)
            due = list(
                requests_due_a_statement(now)
                .filter(pk__in=locked)
                .select_related("prefecture", "procedure")
                .order_by("pk")
            )
            events = [
                (
                    request,
                    ProofEvent.STILL_WAITING,
                    _statement_details(request, now, request.last_statement or request.received_at),
                )
                for request in due
            ]
            record_events(events, audit.SYSTEM, at=now)
            for request in due:
                notify(request, "still_waiting", {})
            issued += len(due)
    return issued


# --- late-renewal attestations ------------------------------------------------------------------------


def requests_due_a_late_renewal_attestation(today: datetime.date) -> models.QuerySet[AppointmentRequest]:
    """Renewals filed before expiry, whose permit has expired by `today`, still without an appointment."""
    already = Proof.objects.filter(request=OuterRef("pk"), event=ProofEvent.LATE_RENEWAL)
    return (
        AppointmentRequest.objects.filter(
            prefecture__late_renewal_attestation=True,
            procedure__is_renewal=True,
            status__in=WAITING_STATUSES,
            permit_expires_on__isnull=False,
            permit_expires_on__lte=today,
        )
        .annotate(booked=_has_active_appointment(), attested=Exists(already))
        .filter(booked=False, attested=False)
    )


def filed_before_expiry(request: AppointmentRequest) -> bool:
    received_on = request.received_at.astimezone(request.prefecture.tzinfo).date()
    return request.permit_expires_on is not None and received_on < request.permit_expires_on


def issue_late_renewal_attestations(now: datetime.datetime | None = None) -> int:
    """Attest, once, that a renewal still without an appointment on expiry was requested before it.

    Each prefecture decides (Prefecture.late_renewal_attestation). "Today" is the prefecture's local date.
    """

    now = (now or timezone.now()).replace(microsecond=0)
    issued = 0
    for prefecture in Prefecture.objects.filter(late_renewal_attestation=True):
        today = now.astimezone(prefecture.tzinfo).date()
        ids = list(
            requests_due_a_late_renewal_attestation(today)
            .filter(prefecture=prefecture)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for start in range(0, len(ids), 500):
            with transaction.atomic():
                locked = locking.requests(ids[start : start + 500], skip_locked=True)
                due = [
                    request
                    for request in requests_due_a_late_renewal_attestation(today)
                    .filter(pk__in=locked)
                    .select_related("prefecture", "procedure")
                    .order_by("pk")
                    if filed_before_expiry(request)
                ]
                record_events(
                    [
                        (
                            request,
                            ProofEvent.LATE_RENEWAL,
                            {
                                "permit_expires_on": request.permit_expires_on,
                                "received_on": request.received_at.astimezone(prefecture.tzinfo).date(),
                            },
                        )
                        for request in due
                    ],
                    audit.SYSTEM,
                    at=now,
                )
                if "late_renewal" in KINDS:
                    for request in due:
                        notify(request, "late_renewal", {})
                issued += len(due)
    return issued


# --- audit checkpoints and verification ---------------------------------------------------------------


def checkpoint_audit(now: datetime.datetime | None = None) -> list[AuditCheckpoint]:
    """Sign the head of every audit chain, once per UTC day (the first run of the day). Audited.

    The checkpoint covers the chain as committed; the audit entry that records it goes to the platform
    chain (so the chain a checkpoint covers does not grow because of it).
    """
    now = (now or timezone.now()).replace(microsecond=0)
    day_start = now.replace(hour=0, minute=0, second=0)
    made: list[AuditCheckpoint] = []
    with transaction.atomic():
        key = signing_key()
        # The platform chain's head is where this run writes last; locking it first makes two runs
        # (two clocks) take turns, and the second one finds the first one's checkpoints.
        audit.lock_chain(audit.PLATFORM_CHAIN)
        today = AuditCheckpoint.objects.filter(
            at__gte=day_start, at__lt=day_start + datetime.timedelta(days=1)
        )
        if today.exists():
            # One run a day, in one transaction: it checkpointed every chain that existed then. (Checking per
            # chain instead would checkpoint the platform chain again, as the first run appended to it.)
            return []
        for head in AuditChainHead.objects.filter(last_seq__gt=0).order_by("chain"):
            payload = {
                "typ": CHECKPOINT_TYPE,
                "iss": settings.SITE_URL,
                "chain": head.chain,
                "seq": head.last_seq,
                "hash": head.last_hash,
                "at": signing.utc_iso(now),
            }
            made.append(
                AuditCheckpoint.objects.create(
                    chain=head.chain,
                    seq=head.last_seq,
                    hash=head.last_hash,
                    at=now,
                    kid=key.kid,
                    token=signing.sign(payload, key),
                )
            )
        if made:
            audit.append(
                audit.PLATFORM_CHAIN,
                [
                    Change(
                        "audit.checkpoint",
                        "audit_checkpoint",
                        str(checkpoint.pk),
                        audit.SYSTEM,
                        data={"chain": checkpoint.chain, "seq": checkpoint.seq, "hash": checkpoint.hash},
                    )
                    for checkpoint in made
                ],
                at=now,
            )
    return made


def verify_checkpoints(chains: Iterable[str] | None = None) -> list[audit.ChainProblem]:
    """Each checkpoint: a valid signature over its own fields, and the chain still has that entry and hash."""

    keys = published_keys()
    problems: list[audit.ChainProblem] = []
    checkpoints = AuditCheckpoint.objects.order_by("chain", "at", "id")
    if chains is not None:
        checkpoints = checkpoints.filter(chain__in=list(chains))
    for checkpoint in checkpoints.iterator(chunk_size=1000):
        label = f"checkpoint of {checkpoint.at:%Y-%m-%d %H:%M} UTC"
        try:
            verified = signing.parse_and_verify(checkpoint.token, keys)
        except signing.TokenError as error:
            problems.append(
                audit.ChainProblem(checkpoint.chain, checkpoint.seq, None, f"{label}: {error.code}")
            )
            continue
        payload = verified.payload
        if (payload.get("chain"), payload.get("seq"), payload.get("hash")) != (
            checkpoint.chain,
            checkpoint.seq,
            checkpoint.hash,
        ):
            problems.append(
                audit.ChainProblem(
                    checkpoint.chain, checkpoint.seq, None, f"{label}: its row differs from what it signed"
                )
            )
        entry = AuditEntry.objects.filter(chain=checkpoint.chain, seq=payload.get("seq")).first()
        if entry is None:
            problems.append(
                audit.ChainProblem(
                    checkpoint.chain,
                    payload.get("seq"),
                    None,
                    f"{label}: signed entry {payload.get('seq')} no longer exists (deleted)",
                )
            )
        elif entry.hash != payload.get("hash"):
            problems.append(
                audit.ChainProblem(
                    checkpoint.chain,
                    entry.seq,
                    entry.id,
                    f"{label}: the entry's hash differs from the signed one (the chain was rewritten)",
                )
            )
    return problems


def verify_proofs() -> list[audit.ChainProblem]:
    """Every stored proof verifies and matches its fingerprint, and the audit log recorded both (a proof
    deleted, added or changed shows here). An erased proof (token removed) is accepted only on an erased
    request: its fingerprint, recorded by the chain, is what stays."""

    keys = published_keys()
    problems: list[audit.ChainProblem] = []
    audited: dict[int, str | None] = {}
    for data in (
        AuditEntry.objects.filter(object_type="appointment_request")
        .values_list("data", flat=True)
        .iterator(chunk_size=5000)
    ):
        proof_id = data.get("proof") if isinstance(data, dict) else None
        if isinstance(proof_id, int):
            audited[proof_id] = data.get("proof_sha256")
    proofs = Proof.objects.select_related("request__prefecture").order_by("pk")
    for proof in proofs.iterator(chunk_size=2000):
        chain = proof.request.prefecture.code
        recorded = audited.pop(proof.pk, False)
        if recorded is False:
            problems.append(
                audit.ChainProblem(
                    chain, None, None, f"proof {proof.pk}: no audit entry records it (inserted)"
                )
            )
        elif recorded is not None and recorded != proof.fingerprint:
            problems.append(
                audit.ChainProblem(
                    chain,
                    None,
                    None,
                    f"proof {proof.pk}: its fingerprint differs from the audited one (edited)",
                )
            )
        if proof.erased:
            if proof.request.erased_at is None:
                problems.append(
                    audit.ChainProblem(
                        chain,
                        None,
                        None,
                        f"proof {proof.pk}: its text was removed outside an erasure (deleted)",
                    )
                )
            continue
        try:
            verified = signing.parse_and_verify(proof.token, keys)
        except signing.TokenError as error:
            problems.append(audit.ChainProblem(chain, None, None, f"proof {proof.pk}: {error.code}"))
            continue
        if (
            verified.payload.get("ref") != proof.request.reference
            or verified.payload.get("event") != proof.event
            or fingerprint(proof.token) != proof.fingerprint
        ):
            problems.append(
                audit.ChainProblem(
                    chain, None, None, f"proof {proof.pk}: its row differs from what it signed"
                )
            )
    for missing in sorted(audited):
        problems.append(
            audit.ChainProblem(
                "*", None, None, f"proof {missing} is recorded in the audit log but missing (deleted)"
            )
        )
    return problems


def verify_personal_data() -> list[audit.ChainProblem]:
    """Each audit entry's erasable personal data matches the commitment its entry carries; data missing is
    accepted only for an erased request (the erasure itself is an audited event)."""
    problems: list[audit.ChainProblem] = []
    stored = {
        row.entry_id: row for row in AuditPersonalData.objects.order_by("entry_id").iterator(chunk_size=2000)
    }
    committed = (
        AuditEntry.objects.filter(data__has_key=audit.PERSONAL_KEY)
        .values_list("id", "chain", "seq", "data", "request__erased_at")
        .order_by("id")
    )
    for entry_id, chain, seq, data, erased_at in committed.iterator(chunk_size=2000):
        row = stored.pop(entry_id, None)
        if row is None:
            if erased_at is None:
                problems.append(
                    audit.ChainProblem(
                        chain, seq, entry_id, "its personal data was removed outside an erasure (deleted)"
                    )
                )
        elif audit.personal_commitment(row.salt, row.fields) != data.get(audit.PERSONAL_KEY):
            problems.append(
                audit.ChainProblem(
                    chain, seq, entry_id, "its personal data does not match its commitment (edited)"
                )
            )
    for entry_id in sorted(stored):
        problems.append(
            audit.ChainProblem("*", None, entry_id, "personal data belongs to no committing entry (inserted)")
        )
    return problems


def verify_audit(*, proofs: bool = True) -> list[audit.ChainProblem]:
    """What `manage.py verify_audit` checks: each chain, each checkpoint, and (optionally) each proof."""
    problems: list[audit.ChainProblem] = []
    for chain in audit.chains():
        problems.extend(audit.verify_chain(chain))
    problems.extend(verify_checkpoints())
    problems.extend(verify_personal_data())
    if proofs:
        problems.extend(verify_proofs())
    return problems
