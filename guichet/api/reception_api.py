"""Staff API of reception and the counter (/api/v1/staff/reception/…, /api/v1/staff/counters/…): the same
services as the pages, for a counter application or a kiosk. A staff token of the prefecture is required;
ids of another prefecture answer 404. Errors are the API's structured ones ({code, message, fields})."""

import datetime

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext
from ninja import Router, Schema, Status

from guichet.accounts import permissions
from guichet.accounts.models import Role
from guichet.api.staff_api import ERRORS, TokenAuth, _request, _staff_prefecture, guarded
from guichet.dossiers import services as dossiers
from guichet.errors import Forbidden, InvalidInput, NotFound
from guichet.reception import access, calls, decisions, figures, interim, outcomes, services
from guichet.reception.models import Visit
from guichet.waitlist import services as waitlist
from guichet.waitlist.validation import validate_identity

router = Router(tags=["reception"], auth=TokenAuth())


class VisitOut(Schema):
    id: int
    ticket: str
    status: str
    appointment: int
    reference: str
    counter: str | None
    checked_in_at: datetime.datetime
    called_at: datetime.datetime | None
    dossier_complete: bool
    planned_minutes: int | None


class TodayOut(Schema):
    appointment: int
    reference: str
    starts_at: datetime.datetime
    counter: str
    procedure: str
    status: str
    late: bool
    ticket: str | None
    dossier: str


class DossierReadinessOut(Schema):
    """What the counter needs to know of the dossier: its state and what lacks, by label."""

    state: str
    complete: bool
    reviewed_at: datetime.datetime | None
    missing_answers: list[str]
    missing_documents: list[str]
    to_correct: list[dict]
    to_review: list[str]
    accepted: list[str]


class IdentityOut(Schema):
    appointment: int
    reference: str
    family_names: str
    given_names: str
    birth_date: datetime.date
    nationality: str
    foreign_national_number: str
    passport_number: str
    dossier: DossierReadinessOut


class CheckInIn(Schema):
    scan: str = ""
    appointment: int | None = None
    identity_checked: bool = False


class ReasonIn(Schema):
    reason: str


class SendIn(Schema):
    counter: int


class FileIn(Schema):
    outcome: str
    missing: list[str] = []
    reason: str = ""


class FileOut(Schema):
    reference: str
    appointment_status: str
    request_status: str
    complete: bool | None
    interim_documents: list[int]


class DecisionIn(Schema):
    outcome: str
    note: str = ""


class DecisionOut(Schema):
    id: int
    outcome: str
    collection_reference: str | None


class InterimIn(Schema):
    kind: str
    months: int = 3


class InterimOut(Schema):
    id: int
    kind: str
    number: int
    valid_from: datetime.date
    valid_until: datetime.date
    work_allowed: bool
    travel_allowed: bool
    proof: int


class IdentityIn(Schema):
    family_names: str
    given_names: str = ""
    birth_date: str
    reason: str


class OkOut(Schema):
    ok: bool
    reference: str


def _visit(visit: Visit) -> dict:
    visit.refresh_from_db()
    return {
        "id": visit.pk,
        "ticket": visit.ticket_label,
        "status": visit.status,
        "appointment": visit.appointment_id,
        "reference": visit.appointment.request.reference,
        "counter": visit.counter.name if visit.counter_id else None,
        "checked_in_at": visit.checked_in_at,
        "called_at": visit.called_at,
        "dossier_complete": visit.dossier_complete,
        "planned_minutes": visit.planned_minutes,
    }


def _interim(document) -> dict:
    return {
        "id": document.pk,
        "kind": document.kind,
        "number": document.number,
        "valid_from": document.valid_from,
        "valid_until": document.valid_until,
        "work_allowed": document.work_allowed,
        "travel_allowed": document.travel_allowed,
        "proof": document.proof_id,
    }


@router.get("/staff/reception/sites/{site_id}/today", response={200: list[TodayOut], **ERRORS})
@guarded
def today(request: HttpRequest, site_id: int):
    site = access.site_of(_staff_prefecture(request), site_id)
    return [
        {
            "appointment": row.appointment.pk,
            "reference": row.appointment.request.reference,
            "starts_at": row.appointment.starts_at,
            "counter": row.appointment.counter.name,
            "procedure": row.appointment.request.procedure.code,
            "status": row.appointment.status,
            "late": row.late,
            "ticket": row.visit.ticket_label if row.visit else None,
            "dossier": row.dossier_state,
        }
        for row in services.todays_appointments(site)
    ]


@router.get("/staff/reception/sites/{site_id}/find", response={200: IdentityOut, **ERRORS})
@guarded
def find(request: HttpRequest, site_id: int, scan: str):
    """The appointment today at this site of a scanned convocation (or typed reference), with its identity."""
    site = access.site_of(_staff_prefecture(request), site_id)
    appointment = services.find_by_scan(site, scan)
    r = appointment.request
    return {
        "appointment": appointment.pk,
        "reference": r.reference,
        "family_names": r.family_names,
        "given_names": r.given_names,
        "birth_date": r.birth_date,
        "nationality": r.nationality,
        "foreign_national_number": r.foreign_national_number,
        "passport_number": r.passport_number,
        "dossier": _readiness(r),
    }


def _readiness(found) -> dict:
    dossier = dossiers.readiness(found)
    return {
        "state": dossier.state,
        "complete": dossier.complete,
        "reviewed_at": dossier.reviewed_at,
        "missing_answers": dossier.missing_answers,
        "missing_documents": dossier.missing_documents,
        "to_correct": [{"document": label, "reason": reason} for label, reason in dossier.to_correct],
        "to_review": dossier.to_review,
        "accepted": dossier.accepted,
    }


@router.post("/staff/reception/sites/{site_id}/check-in", response={201: VisitOut, **ERRORS})
@guarded
def check_in(request: HttpRequest, site_id: int, payload: CheckInIn):
    """Check in once the identity is checked against the document shown (`identity_checked: true`)."""
    prefecture = _staff_prefecture(request)
    site = access.site_of(prefecture, site_id)
    if not payload.identity_checked:
        message = gettext("Check the identity against the document shown first.")
        raise InvalidInput("identity_not_checked", message, {"identity_checked": [message]})
    if payload.appointment is not None:
        appointment = access.appointment_of(prefecture, payload.appointment)
    else:
        appointment = services.find_by_scan(site, payload.scan)
    visit = services.check_in(appointment, access.actor(request.user), user=request.user)
    return Status(201, _visit(visit))


class WalkInIn(Schema):
    scan: str
    identity_checked: bool = False


@router.post("/staff/reception/sites/{site_id}/walk-in", response={201: VisitOut, **ERRORS})
@guarded
def walk_in(request: HttpRequest, site_id: int, payload: WalkInIn):
    """A person without an appointment, for an open-mode procedure: today's earliest free slot, checked in."""
    site = access.site_of(_staff_prefecture(request), site_id)
    if not payload.identity_checked:
        message = gettext("Check the identity against the document shown first.")
        raise InvalidInput("identity_not_checked", message, {"identity_checked": [message]})
    visit = services.walk_in(site, payload.scan, access.actor(request.user), user=request.user)
    return Status(201, _visit(visit))


@router.post(
    "/staff/reception/appointments/{appointment_id}/identity-mismatch", response={200: OkOut, **ERRORS}
)
@guarded
def identity_mismatch(request: HttpRequest, appointment_id: int, payload: ReasonIn):
    appointment = access.appointment_of(_staff_prefecture(request), appointment_id)
    services.refuse_identity(appointment, access.actor(request.user), reason=payload.reason)
    return {"ok": True, "reference": appointment.request.reference}


@router.post("/staff/reception/appointments/{appointment_id}/no-show", response={200: OkOut, **ERRORS})
@guarded
def no_show(request: HttpRequest, appointment_id: int):
    appointment = access.appointment_of(_staff_prefecture(request), appointment_id)
    outcomes.record_no_show(appointment, access.actor(request.user))
    return {"ok": True, "reference": appointment.request.reference}


@router.post("/staff/counters/{counter_id}/call-next", response={200: VisitOut, 204: None, **ERRORS})
@guarded
def call_next(request: HttpRequest, counter_id: int):
    counter = access.counter_of(_staff_prefecture(request), counter_id)
    visit = calls.call_next(counter, access.actor(request.user))
    if visit is None:
        return Status(204, None)
    return Status(200, _visit(visit))


@router.post("/staff/counters/{counter_id}/visits/{visit_id}/call", response={200: VisitOut, **ERRORS})
@guarded
def call(request: HttpRequest, counter_id: int, visit_id: int):
    prefecture = _staff_prefecture(request)
    counter = access.counter_of(prefecture, counter_id)
    return _visit(calls.call(access.visit_of(prefecture, visit_id), counter, access.actor(request.user)))


@router.post("/staff/counters/{counter_id}/visits/{visit_id}/hold", response={200: VisitOut, **ERRORS})
@guarded
def hold(request: HttpRequest, counter_id: int, visit_id: int):
    prefecture = _staff_prefecture(request)
    counter = access.counter_of(prefecture, counter_id)
    return _visit(calls.hold(access.visit_of(prefecture, visit_id), counter, access.actor(request.user)))


@router.post("/staff/counters/{counter_id}/visits/{visit_id}/resume", response={200: VisitOut, **ERRORS})
@guarded
def resume(request: HttpRequest, counter_id: int, visit_id: int):
    prefecture = _staff_prefecture(request)
    access.counter_of(prefecture, counter_id)
    return _visit(calls.resume(access.visit_of(prefecture, visit_id), access.actor(request.user)))


@router.post("/staff/counters/{counter_id}/visits/{visit_id}/send", response={200: VisitOut, **ERRORS})
@guarded
def send(request: HttpRequest, counter_id: int, visit_id: int, payload: SendIn):
    prefecture = _staff_prefecture(request)
    counter = access.counter_of(prefecture, counter_id)
    target = access.counter_of(prefecture, payload.counter)
    visit = access.visit_of(prefecture, visit_id)
    return _visit(calls.send_to(visit, counter, target, access.actor(request.user)))


@router.post("/staff/visits/{visit_id}/file", response={200: FileOut, **ERRORS})
@guarded
def record_file(request: HttpRequest, visit_id: int, payload: FileIn):
    """complete, incomplete (with `missing`, from the person's list of documents) or refused (`reason`)."""
    visit = access.visit_of(_staff_prefecture(request), visit_id)
    appointment = visit.appointment
    actor = access.actor(request.user)
    complete = None
    if payload.outcome in ("complete", "incomplete"):
        if payload.outcome == "incomplete" and not payload.missing:
            message = gettext("Tick the missing documents.")
            raise InvalidInput("missing_required", message, {"missing": [message]})
        missing = payload.missing if payload.outcome == "incomplete" else []
        complete = outcomes.register_file(appointment, actor, missing=missing, user=request.user).complete
    elif payload.outcome == "refused":
        outcomes.refuse_file(appointment, actor, reason=payload.reason)
    else:
        message = gettext("Choose complete, incomplete or refused.")
        raise InvalidInput("invalid_outcome", message, {"outcome": [message]})
    appointment.refresh_from_db()
    appointment.request.refresh_from_db()
    return {
        "reference": appointment.request.reference,
        "appointment_status": appointment.status,
        "request_status": appointment.request.status,
        "complete": complete,
        "interim_documents": list(appointment.request.interim_documents.values_list("pk", flat=True)),
    }


@router.post("/staff/requests/{reference}/decision", response={201: DecisionOut, **ERRORS})
@guarded
def decision(request: HttpRequest, reference: str, payload: DecisionIn):
    found = _agent_request(request, reference)
    made = decisions.record_decision(
        found, payload.outcome, access.actor(request.user), note=payload.note, user=request.user
    )
    collection = made.collection_request.reference if made.collection_request_id else None
    return Status(201, {"id": made.pk, "outcome": made.outcome, "collection_reference": collection})


@router.post("/staff/requests/{reference}/interim-documents", response={201: InterimOut, **ERRORS})
@guarded
def issue_interim(request: HttpRequest, reference: str, payload: InterimIn):
    """kind: recepisse, prolongation (with months, 1 to 3) or grace (the L.433-3 statement)."""
    found = _agent_request(request, reference)
    actor = access.actor(request.user)
    if payload.kind == "prolongation":
        document = interim.issue_prolongation(found, actor, months=payload.months, user=request.user)
    elif payload.kind == "grace":
        document = interim.issue_grace_statement(found, actor, user=request.user)
    elif payload.kind == "recepisse":
        document = interim.issue_on_registration(found, actor, user=request.user)
        if document is None:
            raise InvalidInput("no_recepisse", gettext("This procedure gives no récépissé."), {"kind": []})
    else:
        message = gettext("Choose recepisse, prolongation or grace.")
        raise InvalidInput("invalid_kind", message, {"kind": [message]})
    return Status(201, _interim(document))


@router.post("/staff/requests/{reference}/identity", response={200: OkOut, **ERRORS})
@guarded
def change_identity(request: HttpRequest, reference: str, payload: IdentityIn):
    """A changed name or birth date releases any appointment (R19); the request keeps its due date."""
    found = _agent_request(request, reference)
    identity = validate_identity(payload.dict(), found.prefecture)
    waitlist.change_identity(found, identity, access.actor(request.user), reason=payload.reason)
    return {"ok": True, "reference": found.reference}


@router.get("/staff/interim-documents/expiring", response={200: list[InterimOut], **ERRORS})
@guarded
def expiring(request: HttpRequest):
    return [_interim(document) for document in interim.expiring(_staff_prefecture(request))]


@router.get("/staff/figures/day", response={200: list[figures.DayFigures], **ERRORS})
@guarded
def day_figures(request: HttpRequest, day: datetime.date | None = None):
    prefecture = _staff_prefecture(request)
    if not permissions.has_role(request.user, prefecture, Role.MANAGER):
        raise Forbidden("forbidden", gettext("The day's figures are for managers."))
    day = day or timezone.now().astimezone(prefecture.tzinfo).date()
    return [figures.day_figures(site, day) for site in prefecture.sites.order_by("name")]


def _agent_request(request: HttpRequest, reference: str):
    prefecture = _staff_prefecture(request)
    found = _request(request, reference)
    if found.prefecture_id != prefecture.pk:
        raise NotFound("not_found", gettext("No request has this reference."))
    return found
