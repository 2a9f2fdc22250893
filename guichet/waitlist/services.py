"""State changes of requests: intake from every channel, lookup, withdrawal, closing, due-date changes.

Every function that changes a request does it in one transaction that also writes its audit entry and,
when the applicant is concerned, its signed proof (guichet.evidence.services.record_event).

Locks (docs/concurrency.md): a service that changes an existing request locks that request's row first
(`guichet.locking.request`, level 2), then lets the appointments service release its offer or appointment
(slots, offers, appointments: levels 3 and 4), and writes the audit entry last (level 5, the prefecture's
chain head, held until commit).

Intake needs no lock: the partial unique index `one_active_request_per_identity` (and its twin on the foreign
national number) is what refuses a second active request of one person for one procedure. The insert runs in
a savepoint; when the index refuses it, the request that won is read back and returned, so a repeated or
concurrent submission never makes a second row and everyone gets the same reference.
"""

from __future__ import annotations

import datetime
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext

from guichet import locking
from guichet.allocation.tasks import enqueue_allocation
from guichet.appointments.services import release_for_request
from guichet.catalog.models import ChecklistVersion, Prefecture
from guichet.catalog.services import current_checklist
from guichet.errors import Conflict, InvalidInput, NotFound
from guichet.evidence.audit import Actor
from guichet.evidence.models import CourtOrder
from guichet.evidence.services import record_event, record_events
from guichet.notifications.services import notify

from . import references
from .due_dates import FilingWindow, compute_due_date, filing_window
from .identity import foreign_number_key, identity_key
from .models import ACTIVE_STATUSES, AppointmentRequest, Channel, DueReason, RequestStatus
from .validation import IdentityData, IntakeData, clean_text, parse_date, validate_contact

REFERENCE_ATTEMPTS = 8


# --- results and messages ----------------------------------------------------------------------------------


def _day(day: datetime.date) -> str:
    """A date as people read it in the active language ("1 août 2025", "1 August 2025")."""
    return formats.date_format(day, "DATE_FORMAT")


def filing_window_message(window: FilingWindow | None) -> str:
    """What to tell a renewal applicant about their filing window (CESEDA R.431-5), in the active language."""
    if window is None:
        return ""
    if window.is_early:
        return gettext(
            "Your filing window opens on %(opens)s. Your request is registered now and keeps its place; "
            "the file itself is due between %(opens)s and %(closes)s."
        ) % {"opens": _day(window.opens_on), "closes": _day(window.closes_on)}
    if window.is_late:
        return gettext(
            "The filing window closed on %(closes)s. Your request is registered, but a late-filing fee may "
            "apply."
        ) % {"closes": _day(window.closes_on)}
    return gettext("You are within the filing window, which closes on %(closes)s.") % {
        "closes": _day(window.closes_on)
    }


def due_reason_label(reason: str) -> str:
    try:
        return str(DueReason(reason).label)
    except ValueError:
        return reason


@dataclass
class IntakeResult:
    """What intake gives back. `access_token` is shown once, only when the request was created now."""

    request: AppointmentRequest
    created: bool
    access_token: str | None
    filing_window: FilingWindow | None
    # When created is False: "identity" or "foreign_number", what matched the existing request.
    matched_on: str | None = None

    @property
    def message(self) -> str:
        if self.created:
            return gettext(
                "Your request is registered under reference %(reference)s. Its due date is %(due)s."
            ) % {"reference": self.request.reference, "due": _day(self.request.due_date)}
        return gettext(
            "You already have a request for this procedure, reference %(reference)s. It keeps its place "
            "in the queue: nothing new was created."
        ) % {"reference": self.request.reference}

    @property
    def notice_for_the_public(self) -> list[str]:
        """What the self-service channels (page, public API) tell someone who files again: that the request
        exists and nothing else, since names and a birth date are not secret (the reference, with the
        birth date, opens the request; its owner has it on their receipt)."""
        return [
            gettext(
                "A request for this procedure already exists in your name. We did not create a second one: "
                "your place in the queue and your due date are kept."
            ),
            gettext(
                "Your reference is in the receipt we sent you (email, SMS or letter). With it and your birth "
                "date, you can follow your request, answer an offer or change your contact details."
            ),
        ]


# --- helpers -----------------------------------------------------------------------------------------------


def local_date(at: datetime.datetime, prefecture: Prefecture) -> datetime.date:
    return at.astimezone(prefecture.tzinfo).date()


def _release(request: AppointmentRequest, actor: Actor, reason: str) -> None:
    """Let the appointments service free a pending offer or an active appointment of this request."""
    release_for_request(request, actor, reason)


def _locked(request: AppointmentRequest) -> AppointmentRequest:
    """The request's row, locked until commit, through the one locking helper (docs/concurrency.md)."""
    return locking.request(request.pk)


def _require_active(request: AppointmentRequest) -> None:
    if request.status not in ACTIVE_STATUSES:
        raise Conflict(
            "not_active",
            gettext("This request is %(status)s: it can no longer be changed.")
            % {"status": request.get_status_display()},
        )


def _court_deadlines(request: AppointmentRequest) -> list[datetime.date]:
    return [order.deadline for order in CourtOrder.objects.filter(request_id=request.pk)]


def _due_for(request: AppointmentRequest) -> tuple[datetime.date, DueReason]:
    return compute_due_date(
        local_date(request.received_at, request.prefecture),
        request.procedure,
        request.permit_expires_on,
        bool(request.vulnerability_reason),
        _court_deadlines(request),
    )


def _active_duplicate(
    prefecture_id: int, procedure_id: int, id_key: str, number_key: str
) -> tuple[AppointmentRequest | None, str | None]:
    match = Q(identity_key=id_key)
    if number_key:
        match |= Q(foreign_number_key=number_key)
    existing = (
        AppointmentRequest.objects.select_related("prefecture", "procedure")
        .filter(match, prefecture_id=prefecture_id, procedure_id=procedure_id, status__in=ACTIVE_STATUSES)
        .order_by("id")
        .first()
    )
    if existing is None:
        return None, None
    return existing, "identity" if existing.identity_key == id_key else "foreign_number"


def _fresh_reference(department: str) -> str:
    # Not looked up: the unique index refuses a reference already taken (29^7 of them), and file_request
    # then draws another.
    return references.new_reference(department)


def _request_fields(
    data: IntakeData,
    *,
    prefecture: Prefecture,
    channel: str,
    received_at: datetime.datetime,
    created_by: Any,
    checklist: ChecklistVersion,
) -> dict[str, Any]:
    due_date, due_reason = compute_due_date(
        local_date(received_at, prefecture), data.procedure, data.permit_expires_on, data.vulnerable, ()
    )
    return {
        "prefecture": prefecture,
        "procedure": data.procedure,
        "family_names": data.family_names,
        "given_names": data.given_names,
        "birth_date": data.birth_date,
        "nationality": data.nationality,
        "foreign_national_number": data.foreign_national_number,
        "passport_number": data.passport_number,
        "identity_key": identity_key(data.family_names, data.given_names, data.birth_date),
        "foreign_number_key": foreign_number_key(data.foreign_national_number),
        "email": data.email,
        "phone": data.phone,
        "postal_address": data.postal_address,
        "language": data.language,
        "permit_expires_on": data.permit_expires_on,
        "interpreter_language": data.interpreter_language,
        "needs_step_free": data.needs_step_free,
        "needs_other": data.needs_other,
        "unavailable_weekdays": list(data.unavailable_weekdays),
        "unavailable_dates": [day.isoformat() for day in data.unavailable_dates],
        "earliest_date": data.earliest_date,
        "vulnerability_reason": data.vulnerability_reason,
        "urgency_circumstances": data.urgency_circumstances,
        "channel": channel,
        "received_at": received_at,
        "due_date": due_date,
        "due_reason": due_reason,
        "status": RequestStatus.WAITING,
        "status_changed_at": received_at,
        "created_by": created_by,
        "checklist_version": checklist,
    }


def _received_details(request: AppointmentRequest, window: FilingWindow | None, sites: Sequence) -> dict:
    details: dict[str, Any] = {
        "due_reason": request.due_reason,
        "sites": [site.name for site in sites] or "any",
    }
    if window is not None:
        details["filing_window"] = window.as_dict()
    if request.checklist_version_id is not None:
        details["documents_version"] = request.checklist_version.number
    return details


def _check_intake(data: IntakeData, prefecture: Prefecture, channel: str) -> None:
    if data.procedure.prefecture_id != prefecture.pk or any(
        site.prefecture_id != prefecture.pk for site in data.sites
    ):
        raise InvalidInput(
            "invalid",
            gettext("Some fields are missing or invalid."),
            fields={"procedure": [gettext("This procedure does not exist in this prefecture.")]},
        )
    if channel not in Channel.values:
        raise InvalidInput(
            "invalid",
            gettext("Some fields are missing or invalid."),
            fields={"channel": [gettext("Unknown channel.")]},
        )


# --- intake ------------------------------------------------------------------------------------------------


def file_request(
    data: IntakeData,
    *,
    prefecture: Prefecture,
    channel: str,
    actor: Actor,
    received_at: datetime.datetime | None = None,
    created_by: Any = None,
) -> IntakeResult:
    """Put a validated request into the queue, or return the person's active one for this procedure.

    One transaction: the request, its sites, its "received" proof and audit entry, and the message to the
    person. On commit an allocation run is queued. `received_at` backdates a request received earlier
    (post opened today, demo data); the due date counts from its local date.
    """
    _check_intake(data, prefecture, channel)
    received_at = received_at or timezone.now()
    fields = _request_fields(
        data,
        prefecture=prefecture,
        channel=channel,
        received_at=received_at,
        created_by=created_by,
        checklist=current_checklist(data.procedure),
    )
    today = local_date(timezone.now(), prefecture)
    window = filing_window(data.procedure, data.permit_expires_on, local_date(received_at, prefecture))
    token = references.new_access_token()
    fields["access_token_hash"] = references.hash_token(token)

    for _attempt in range(REFERENCE_ATTEMPTS):
        fields["reference"] = _fresh_reference(prefecture.code)
        with transaction.atomic():
            # No look-up first: the unique indexes decide (one active request per person and procedure,
            # one reference per request), and the rare refusal is explained after the rollback.
            try:
                request = AppointmentRequest.objects.create(**fields)
            except IntegrityError:
                transaction.set_rollback(True)
                request = None
            if request is not None:
                _record_received(request, data, window, token, actor, created_by)
                return IntakeResult(request=request, created=True, access_token=token, filing_window=window)
        existing, matched_on = _active_duplicate(
            prefecture.pk, data.procedure.pk, fields["identity_key"], fields["foreign_number_key"]
        )
        if existing is not None:
            return _existing_result(existing, matched_on, today)
        # Otherwise the reference was taken in the meantime: draw another.
    raise RuntimeError("could not file the request")


def _record_received(
    request: AppointmentRequest,
    data: IntakeData,
    window: FilingWindow | None,
    token: str,
    actor: Actor,
    created_by: Any,
) -> None:
    """The proof, audit entry, message and allocation trigger of a request just created."""
    if data.sites:
        request.sites.through.objects.bulk_create(
            [request.sites.through(appointmentrequest_id=request.pk, site_id=site.pk) for site in data.sites]
        )
    record_event(
        request,
        "received",
        actor,
        details=_received_details(request, window, data.sites),
        audit_data={"created_by": created_by.pk if created_by is not None else None},
    )
    notify(
        request,
        "received",
        {
            "due_date": request.due_date.isoformat(),
            "due_reason": request.due_reason,
            # The private link goes out in this one message; the sender erases it once sent.
            "access_token": token,
            **({"filing_window": window.as_dict()} if window else {}),
        },
        # Mandates are recorded after their request: a request created in this transaction has none.
        partner_copies=False,
    )
    enqueue_allocation(request.prefecture_id)


def _existing_result(
    existing: AppointmentRequest, matched_on: str | None, today: datetime.date
) -> IntakeResult:
    return IntakeResult(
        request=existing,
        created=False,
        access_token=None,
        filing_window=filing_window(existing.procedure, existing.permit_expires_on, today),
        matched_on=matched_on,
    )


def file_requests_bulk(
    items: Sequence[tuple[IntakeData, str, datetime.datetime]],
    *,
    prefecture: Prefecture,
    actor: Actor,
    send_messages: bool = False,
) -> list[AppointmentRequest]:
    """Many requests at once (demo data, imports): same keys, due dates and proofs as `file_request`.

    A person who already has an active request for the procedure (in the database or earlier in `items`) is
    skipped. Everything is one transaction; the database's unique indexes still guard it.
    """
    now = timezone.now()
    prepared: list[tuple[dict[str, Any], IntakeData]] = []
    seen: set[tuple[int, str]] = set()
    checklists: dict[int, ChecklistVersion] = {}
    for data, channel, received_at in items:
        _check_intake(data, prefecture, channel)
        checklist = checklists.get(data.procedure.pk)
        if checklist is None:
            checklist = checklists[data.procedure.pk] = current_checklist(data.procedure)
        fields = _request_fields(
            data,
            prefecture=prefecture,
            channel=channel,
            received_at=received_at,
            created_by=None,
            checklist=checklist,
        )
        keys = {(data.procedure.pk, fields["identity_key"])}
        if fields["foreign_number_key"]:
            keys.add((data.procedure.pk, "n:" + fields["foreign_number_key"]))
        if keys & seen:
            continue
        seen |= keys
        fields["access_token_hash"] = references.hash_token(references.new_access_token())
        prepared.append((fields, data))
    if not prepared:
        return []

    with transaction.atomic():
        identity_keys = {fields["identity_key"] for fields, _data in prepared}
        number_keys = {
            fields["foreign_number_key"] for fields, _data in prepared if fields["foreign_number_key"]
        }
        taken: set[tuple[int, str]] = set()
        active = AppointmentRequest.objects.filter(prefecture=prefecture, status__in=ACTIVE_STATUSES)
        for procedure_id, key in active.filter(identity_key__in=identity_keys).values_list(
            "procedure_id", "identity_key"
        ):
            taken.add((procedure_id, key))
        for procedure_id, key in active.filter(foreign_number_key__in=number_keys).values_list(
            "procedure_id", "foreign_number_key"
        ):
            taken.add((procedure_id, "n:" + key))
        prepared = [
            (fields, data)
            for fields, data in prepared
            if (data.procedure.pk, fields["identity_key"]) not in taken
            and (data.procedure.pk, "n:" + fields["foreign_number_key"]) not in taken
        ]
        references_needed = len(prepared)
        chosen: set[str] = set()
        while len(chosen) < references_needed:
            batch = {
                references.new_reference(prefecture.code) for _ in range(references_needed - len(chosen))
            }
            batch -= chosen
            batch -= set(
                AppointmentRequest.objects.filter(reference__in=batch).values_list("reference", flat=True)
            )
            chosen |= batch
        for (fields, _data), reference in zip(prepared, sorted(chosen), strict=True):
            fields["reference"] = reference
        requests = AppointmentRequest.objects.bulk_create(
            [AppointmentRequest(**fields) for fields, _data in prepared], batch_size=500
        )
        if any(request.pk is None for request in requests):  # a backend that does not return ids
            by_reference = dict(
                AppointmentRequest.objects.filter(reference__in=chosen).values_list("reference", "pk")
            )
            for request in requests:
                request.pk = by_reference[request.reference]
        through = AppointmentRequest.sites.through
        through.objects.bulk_create(
            [
                through(appointmentrequest_id=request.pk, site_id=site.pk)
                for request, (_fields, data) in zip(requests, prepared, strict=True)
                for site in data.sites
            ],
            batch_size=2000,
        )
        events = []
        for request, (_fields, data) in zip(requests, prepared, strict=True):
            window = filing_window(
                data.procedure, data.permit_expires_on, local_date(request.received_at, prefecture)
            )
            events.append((request, "received", _received_details(request, window, data.sites)))
        record_events(events, actor, at=now)
        if send_messages:
            for request in requests:
                notify(request, "received", {"due_date": request.due_date.isoformat()})
        enqueue_allocation(prefecture.pk)
    return requests


# --- finding a request -------------------------------------------------------------------------------------


def _not_found() -> NotFound:
    # One message for an unknown reference, a wrong birth date and a wrong link: nothing tells them apart.
    return NotFound(
        "not_found",
        gettext("No request matches these details. Check the reference and the birth date, or the link."),
    )


def _canonical_reference(reference: str) -> str:
    try:
        return references.parse_reference(reference)
    except references.InvalidReference:
        raise InvalidInput(
            "invalid_reference",
            gettext("This reference is not valid: check it for a typo."),
            fields={"reference": [gettext("A reference looks like 93-K7M4-QX9T. Check it for a typo.")]},
        ) from None


def _lookup(reference: str) -> AppointmentRequest | None:
    return (
        AppointmentRequest.objects.select_related("prefecture", "procedure")
        .filter(reference=_canonical_reference(reference))
        .first()
    )


def find_request(reference: str, birth_date: datetime.date | str) -> AppointmentRequest:
    """The request with this reference, if the birth date is its own; NotFound otherwise (same answer).

    A reference with a wrong check character is a typo, told as such (InvalidInput on "reference"): that
    reveals nothing about which requests exist.
    """
    if not isinstance(birth_date, datetime.date):
        try:
            birth_date = parse_date(birth_date)
        except ValueError as error:
            raise InvalidInput(
                "invalid", gettext("Some fields are missing or invalid."), fields={"birth_date": [str(error)]}
            ) from None
    request = _lookup(reference)
    expected = request.birth_date.isoformat() if request is not None else "0000-00-00"
    matches = hmac.compare_digest(expected.encode("ascii"), birth_date.isoformat().encode("ascii"))
    if request is None or not matches:
        raise _not_found()
    return request


def find_request_by_token(reference: str, token: str) -> AppointmentRequest:
    """The request with this reference, if the token is its own (constant time); NotFound otherwise."""
    request = _lookup(reference)
    stored = request.access_token_hash if request is not None else references.DUMMY_TOKEN_HASH
    matches = references.token_matches(token or "", stored)
    if request is None or not matches:
        raise _not_found()
    return request


# --- changes of state --------------------------------------------------------------------------------------


def withdraw_request(request: AppointmentRequest, actor: Actor, reason: str = "") -> AppointmentRequest:
    """The applicant (or someone for them) gives up the request; any offer or appointment is released."""
    reason = clean_text(reason, required=False)
    with transaction.atomic():
        locked = _locked(request)
        _require_active(locked)
        previous = locked.status
        _release(locked, actor, reason)
        locked.refresh_from_db(fields=["status", "consecutive_lapses"])
        locked.status = RequestStatus.WITHDRAWN
        locked.status_changed_at = timezone.now()
        locked.closing_reason = reason
        locked.save(update_fields=["status", "status_changed_at", "closing_reason", "updated_at"])
        record_event(
            locked,
            "withdrawn",
            actor,
            details={"reason": reason} if reason else {},
            audit_data={"previous_status": previous},
        )
        notify(locked, "withdrawn", {})
        enqueue_allocation(locked.prefecture_id)
    request.refresh_from_db()
    return locked


def close_request(request: AppointmentRequest, actor: Actor, reason: str) -> AppointmentRequest:
    """The prefecture closes a request, with a reason for the person; its offer or appointment is freed."""
    reason = clean_text(reason, required=True)
    with transaction.atomic():
        locked = _locked(request)
        _require_active(locked)
        previous = locked.status
        _release(locked, actor, reason)
        locked.refresh_from_db(fields=["status", "consecutive_lapses"])
        locked.status = RequestStatus.CLOSED
        locked.status_changed_at = timezone.now()
        locked.closing_reason = reason
        locked.save(update_fields=["status", "status_changed_at", "closing_reason", "updated_at"])
        record_event(
            locked, "closed", actor, details={"reason": reason}, audit_data={"previous_status": previous}
        )
        notify(locked, "closed", {"reason": reason})
        enqueue_allocation(locked.prefecture_id)
    request.refresh_from_db()
    return locked


def reactivate_request(request: AppointmentRequest, actor: Actor) -> AppointmentRequest:
    """A paused request (offers lapsed) goes back to the queue with its due date, hence its place."""
    with transaction.atomic():
        locked = _locked(request)
        if locked.status != RequestStatus.PAUSED:
            raise Conflict(
                "not_paused",
                gettext("Only a paused request can be reactivated; this one is %(status)s.")
                % {"status": locked.get_status_display()},
            )
        locked.status = RequestStatus.WAITING
        locked.status_changed_at = timezone.now()
        locked.consecutive_lapses = 0
        locked.save(update_fields=["status", "status_changed_at", "consecutive_lapses", "updated_at"])
        record_event(locked, "reactivated", actor, details={"due_date": locked.due_date.isoformat()})
        notify(locked, "reactivated", {})
        enqueue_allocation(locked.prefecture_id)
    request.refresh_from_db()
    return locked


def update_contact(
    request: AppointmentRequest,
    *,
    email: str | None = None,
    phone: str | None = None,
    postal_address: str | None = None,
    language: str | None = None,
    actor: Actor,
) -> AppointmentRequest:
    """Change how to reach the person (None keeps a value). Validated as at intake; one way must remain."""
    raw = {
        "email": request.email if email is None else email,
        "phone": request.phone if phone is None else phone,
        "postal_address": request.postal_address if postal_address is None else postal_address,
        "language": request.language if language is None else language,
    }
    contact = validate_contact(raw, prefecture=request.prefecture)
    with transaction.atomic():
        locked = _locked(request)
        _require_active(locked)
        changed = [
            name
            for name in ("email", "phone", "postal_address", "language")
            if getattr(locked, name) != getattr(contact, name)
        ]
        if changed:
            for name in changed:
                setattr(locked, name, getattr(contact, name))
            locked.save(update_fields=[*changed, "updated_at"])
            record_event(locked, "details_changed", actor, details={"changed": changed})
    request.refresh_from_db()
    return locked


def change_identity(
    request: AppointmentRequest, identity: IdentityData, actor: Actor, *, reason: str
) -> AppointmentRequest:
    """Change the names or birth date of a request (R19: an appointment is bound to the identity).

    A changed identity releases the request's offer or appointment: it waits again with its due date (its
    place), and the next one is given to the person under the new identity. Refused when another active
    request of the same procedure already has that identity. Audited with the reason and proven; the
    previous identity stays in the earlier proofs.
    """
    reason = clean_text(reason, required=True)
    with transaction.atomic():
        locked = _locked(request)
        _require_active(locked)
        changed = [
            name
            for name in ("family_names", "given_names", "birth_date")
            if getattr(locked, name) != getattr(identity, name)
        ]
        if not changed:
            return locked
        new_key = identity_key(identity.family_names, identity.given_names, identity.birth_date)
        duplicate = (
            AppointmentRequest.objects.filter(
                prefecture_id=locked.prefecture_id,
                procedure_id=locked.procedure_id,
                identity_key=new_key,
                status__in=ACTIVE_STATUSES,
            )
            .exclude(pk=locked.pk)
            .exists()
        )
        if duplicate:
            raise Conflict(
                "duplicate_identity",
                gettext("Another active request for this procedure already has this identity."),
            )
        released = locked.status in (RequestStatus.OFFERED, RequestStatus.SCHEDULED)
        if released:
            _release(locked, actor, reason)
            locked.refresh_from_db(fields=["status", "status_changed_at"])
        for name in changed:
            setattr(locked, name, getattr(identity, name))
        locked.identity_key = new_key
        locked.save(update_fields=[*changed, "identity_key", "updated_at"])
        record_event(
            locked,
            "identity_changed",
            actor,
            details={"changed": changed, "appointment_released": released, "reason": reason},
        )
        if released:
            enqueue_allocation(locked.prefecture_id)
    request.refresh_from_db()
    return locked


def _apply_due_date(
    locked: AppointmentRequest, actor: Actor, *, cause: str, note: str = "", audit_data: dict | None = None
) -> bool:
    due_date, due_reason = _due_for(locked)
    if (due_date, due_reason) == (locked.due_date, locked.due_reason):
        return False
    previous = locked.due_date
    locked.due_date, locked.due_reason = due_date, due_reason
    locked.save(update_fields=["due_date", "due_reason", "updated_at"])
    details = {"previous_due_date": previous.isoformat(), "due_reason": due_reason, "cause": cause}
    if note:
        details["note"] = note
    record_event(locked, "due_date_changed", actor, details=details, audit_data=audit_data)
    if locked.is_active:
        enqueue_allocation(locked.prefecture_id)
    return True


def set_vulnerability(request: AppointmentRequest, reason: str | None, actor: Actor) -> AppointmentRequest:
    """Record (or remove, with None or "") a vulnerability; the due date is computed again."""
    reason = clean_text(reason or "", required=False, field="vulnerability_reason")
    with transaction.atomic():
        locked = _locked(request)
        _require_active(locked)
        if locked.vulnerability_reason == reason:
            return locked
        locked.vulnerability_reason = reason
        locked.save(update_fields=["vulnerability_reason", "updated_at"])
        cause = "vulnerability_recorded" if reason else "vulnerability_removed"
        # The reason itself stays on the request: the append-only log only says that it changed.
        if not _apply_due_date(locked, actor, cause=cause, audit_data={"vulnerability": bool(reason)}):
            record_event(
                locked,
                "vulnerability_changed",
                actor,
                audit_data={"vulnerability": bool(reason)},
                proof=False,
            )
    request.refresh_from_db()
    return locked


def recompute_due_date(request: AppointmentRequest, actor: Actor, *, note: str = "") -> bool:
    """Apply the due-date rule again (after a court order, for instance); True when the date changed."""
    note = clean_text(note, required=False, field="note")
    with transaction.atomic():
        locked = _locked(request)
        changed = _apply_due_date(locked, actor, cause="recomputed", note=note)
    if changed:
        request.refresh_from_db()
    return changed
