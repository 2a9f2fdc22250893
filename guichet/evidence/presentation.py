"""A proof's content in plain words, for pages and PDFs: the event, the person, the request, the dates.

The payload comes from a verified token, but possibly from an older version of the format: every field is
read defensively and an unknown one is shown as it is, never an error.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass, field

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guichet.waitlist.models import Channel, DueReason, RequestStatus

from .models import ProofEvent

# What each detail is called; ids of internal rows (offer, appointment…) are not shown.
DETAIL_LABELS = {
    "position": gettext_lazy("Position in the queue"),
    "site": gettext_lazy("Site"),
    "counter": gettext_lazy("Counter"),
    "starts_at": gettext_lazy("Appointment time"),
    "expires_at": gettext_lazy("Answer before"),
    "reason": gettext_lazy("Reason"),
    "cancelled_by": gettext_lazy("Cancelled by"),
    "consecutive_lapses": gettext_lazy("Offers lapsed in a row"),
    "outcome": gettext_lazy("Outcome"),
    "days_waiting": gettext_lazy("Days waited so far"),
    "week": gettext_lazy("Week of waiting"),
    "since": gettext_lazy("Previous statement"),
    "tribunal": gettext_lazy("Tribunal"),
    "case_number": gettext_lazy("Case number"),
    "ordered_on": gettext_lazy("Date of the order"),
    "notified_on": gettext_lazy("Date notified"),
    "convoke_by": gettext_lazy("Convoke by"),
    "appointment_by": gettext_lazy("Appointment by"),
    "penalty_per_day": gettext_lazy("Penalty per day (EUR)"),
    "previous_due_date": gettext_lazy("Previous due date"),
    "due_reason": gettext_lazy("Reason for the due date"),
    "note": gettext_lazy("Note"),
    "permit_expires_on": gettext_lazy("Permit expires on"),
    "received_on": gettext_lazy("Request made on"),
    "sites": gettext_lazy("Acceptable sites"),
    "changed": gettext_lazy("What changed"),
    "by_post": gettext_lazy("Convocation sent by post"),
    "due_date": gettext_lazy("Due date"),
    "moved_from": gettext_lazy("Moved from an earlier appointment"),
    "documents_version": gettext_lazy("Version of the list of documents"),
    "ticket": gettext_lazy("Ticket"),
    "identity_checked": gettext_lazy("Identity checked"),
    "missing_documents": gettext_lazy("Missing documents"),
    "number": gettext_lazy("Number"),
    "valid_from": gettext_lazy("Valid from"),
    "valid_until": gettext_lazy("Valid until"),
    "work_allowed": gettext_lazy("Work allowed"),
    "travel_allowed": gettext_lazy("Travel abroad and return allowed"),
    "appointment_released": gettext_lazy("Appointment released"),
    "collection_reference": gettext_lazy("Request to collect the card"),
    "walk_in": gettext_lazy("Came without an appointment"),
    "document_name": gettext_lazy("Document"),
    "pages": gettext_lazy("Pages"),
    "file_sha256": gettext_lazy("SHA-256 fingerprint of the file"),
    "documents": gettext_lazy("Documents"),
    "accepted_documents": gettext_lazy("Documents accepted"),
    "pending_documents": gettext_lazy("Documents still to review"),
    "corrections": gettext_lazy("To correct"),
    "questions": gettext_lazy("Questions answered"),
    "by": gettext_lazy("By"),
    "dossier_complete": gettext_lazy("Dossier found complete before the visit"),
}
# Ids of internal rows, and data other pages already show, are not repeated.
HIDDEN_DETAILS = {
    "offer",
    "appointment",
    "court_order",
    "proof",
    "slot",
    "filing_window",
    "cause",
    "source",
    "document",  # the kind of interim document: the event already names it
}
CANCELLED_BY = {"applicant": gettext_lazy("the applicant"), "prefecture": gettext_lazy("the prefecture")}
ACTED_BY = {**CANCELLED_BY, "partner": gettext_lazy("a partner organisation under mandate")}

LIST_TEXT = 4000

# One sentence per event, for the statement at the top of a proof.
EVENT_SENTENCES = {
    ProofEvent.RECEIVED: gettext_lazy("The request was received and joined the queue."),
    ProofEvent.OFFER_MADE: gettext_lazy("An appointment was offered."),
    ProofEvent.OFFER_DECLINED: gettext_lazy("The offered appointment was declined."),
    ProofEvent.OFFER_LAPSED: gettext_lazy("The offered appointment lapsed without an answer."),
    ProofEvent.OFFER_WITHDRAWN: gettext_lazy("The offered appointment was withdrawn."),
    ProofEvent.APPOINTMENT_CONFIRMED: gettext_lazy("An appointment was confirmed."),
    ProofEvent.APPOINTMENT_CANCELLED: gettext_lazy("The appointment was cancelled."),
    ProofEvent.CHECKED_IN: gettext_lazy("The applicant came to the appointment and was checked in."),
    ProofEvent.SERVED: gettext_lazy("The applicant was received at the counter."),
    ProofEvent.NO_SHOW: gettext_lazy("The applicant did not come to the appointment."),
    ProofEvent.STILL_WAITING: gettext_lazy(
        "On this date the request was still waiting for an appointment, and none had been given."
    ),
    ProofEvent.PAUSED: gettext_lazy("The request was paused."),
    ProofEvent.REACTIVATED: gettext_lazy("The request was reactivated."),
    ProofEvent.WITHDRAWN: gettext_lazy("The applicant withdrew the request."),
    ProofEvent.CLOSED: gettext_lazy("The prefecture closed the request."),
    ProofEvent.DUE_DATE_CHANGED: gettext_lazy("The due date of the request changed."),
    ProofEvent.COURT_ORDER: gettext_lazy("The prefecture recorded a court order on this request."),
    ProofEvent.LATE_RENEWAL: gettext_lazy(
        "The renewal was requested before the current permit expired, and on its expiry date no "
        "appointment had been given yet."
    ),
    ProofEvent.IMPOSSIBILITY: gettext_lazy(
        "It was found impossible for the applicant to use the online service."
    ),
    ProofEvent.DETAILS_CHANGED: gettext_lazy("The details of the request changed."),
    ProofEvent.REFUSED_AT_COUNTER: gettext_lazy("The prefecture refused the appointment at the counter."),
    ProofEvent.FILE_REGISTERED: gettext_lazy("The file was received complete and registered at the counter."),
    ProofEvent.FILE_INCOMPLETE: gettext_lazy(
        "The file was received at the counter with documents missing; the request waits for another"
        " appointment."
    ),
    ProofEvent.RECEPISSE: gettext_lazy(
        "A récépissé was issued: it allows its holder to stay in France for the period it states."
    ),
    ProofEvent.PROLONGATION: gettext_lazy(
        "An attestation of extended examination was issued for the period it states."
    ),
    ProofEvent.GRACE_PERIOD: gettext_lazy(
        "The expired card stays valid for the period stated, while its renewal is examined (article L.433-3)."
    ),
    ProofEvent.DECISION: gettext_lazy("The prefecture recorded its decision on the file."),
    ProofEvent.IDENTITY_CHANGED: gettext_lazy("The identity given with the request was changed."),
    ProofEvent.DOSSIER_ANSWERS: gettext_lazy("Answers to the questions of the dossier were saved."),
    ProofEvent.DOCUMENT_SENT: gettext_lazy("A document was sent online and added to the dossier."),
    ProofEvent.DOCUMENT_SCANNED: gettext_lazy(
        "A paper document was scanned at the counter and added to the dossier."
    ),
    ProofEvent.DOCUMENT_BY_POST: gettext_lazy("A document received by post was added to the dossier."),
    ProofEvent.DOSSIER_SUBMITTED: gettext_lazy("The dossier was sent to the prefecture for review."),
    ProofEvent.DOSSIER_REVIEWED: gettext_lazy(
        "An agent of the prefecture reviewed documents of the dossier."
    ),
    ProofEvent.CORRECTION_ASKED: gettext_lazy(
        "An agent of the prefecture reviewed the dossier and asked for documents to be corrected."
    ),
    ProofEvent.DOSSIER_COMPLETE: gettext_lazy(
        "An agent of the prefecture reviewed the dossier and found it complete: every document was accepted."
    ),
}


# The court file is a French legal document whatever the reader's language: its chronology uses these
# fixed French wordings rather than the translation catalogues (which may lag behind, or be absent).
FRENCH_EVENT_LABELS = {
    ProofEvent.RECEIVED: "Demande enregistrée",
    ProofEvent.OFFER_MADE: "Proposition de rendez-vous",
    ProofEvent.OFFER_DECLINED: "Proposition refusée",
    ProofEvent.OFFER_LAPSED: "Proposition expirée sans réponse",
    ProofEvent.OFFER_WITHDRAWN: "Proposition retirée",
    ProofEvent.APPOINTMENT_CONFIRMED: "Rendez-vous confirmé",
    ProofEvent.APPOINTMENT_CANCELLED: "Rendez-vous annulé",
    ProofEvent.CHECKED_IN: "Présence au guichet enregistrée",
    ProofEvent.SERVED: "Reçu au guichet",
    ProofEvent.NO_SHOW: "Absence au rendez-vous",
    ProofEvent.STILL_WAITING: "Attestation hebdomadaire : toujours en attente",
    ProofEvent.PAUSED: "Demande suspendue",
    ProofEvent.REACTIVATED: "Demande réactivée",
    ProofEvent.WITHDRAWN: "Demande retirée",
    ProofEvent.CLOSED: "Demande close par la préfecture",
    ProofEvent.DUE_DATE_CHANGED: "Date cible modifiée",
    ProofEvent.COURT_ORDER: "Décision de justice enregistrée",
    ProofEvent.LATE_RENEWAL: "Attestation de demande antérieure à l'expiration du titre",
    ProofEvent.IMPOSSIBILITY: "Impossibilité constatée d'utiliser le téléservice",
    ProofEvent.DETAILS_CHANGED: "Coordonnées modifiées",
    ProofEvent.REFUSED_AT_COUNTER: "Refus au guichet",
    ProofEvent.FILE_REGISTERED: "Dossier complet enregistré",
    ProofEvent.FILE_INCOMPLETE: "Dossier incomplet",
    ProofEvent.RECEPISSE: "Récépissé délivré",
    ProofEvent.PROLONGATION: "Attestation de prolongation d'instruction délivrée",
    ProofEvent.GRACE_PERIOD: "Attestation de maintien de validité du titre (L.433-3)",
    ProofEvent.DECISION: "Décision sur le dossier",
    ProofEvent.IDENTITY_CHANGED: "Identité modifiée",
    ProofEvent.DOSSIER_ANSWERS: "Réponses au dossier enregistrées",
    ProofEvent.DOCUMENT_SENT: "Pièce déposée en ligne",
    ProofEvent.DOCUMENT_SCANNED: "Pièce numérisée au guichet",
    ProofEvent.DOCUMENT_BY_POST: "Pièce reçue par courrier",
    ProofEvent.DOSSIER_SUBMITTED: "Dossier transmis pour instruction",
    ProofEvent.DOSSIER_REVIEWED: "Pièces du dossier examinées",
    ProofEvent.CORRECTION_ASKED: "Demande de correction",
    ProofEvent.DOSSIER_COMPLETE: "Dossier complet",
}
FRENCH_DETAIL_LABELS = {
    "position": "Rang dans la file",
    "site": "Site",
    "counter": "Guichet",
    "starts_at": "Date du rendez-vous",
    "expires_at": "Réponse attendue avant",
    "reason": "Motif",
    "cancelled_by": "Annulé par",
    "consecutive_lapses": "Propositions expirées de suite",
    "outcome": "Issue",
    "days_waiting": "Jours d'attente",
    "week": "Semaine d'attente",
    "since": "Attestation précédente",
    "tribunal": "Tribunal",
    "case_number": "Numéro de requête",
    "ordered_on": "Date de la décision",
    "notified_on": "Date de notification",
    "convoke_by": "Convoquer avant le",
    "appointment_by": "Rendez-vous avant le",
    "penalty_per_day": "Astreinte par jour (EUR)",
    "previous_due_date": "Date cible précédente",
    "due_reason": "Motif de la date cible",
    "note": "Note",
    "permit_expires_on": "Expiration du titre",
    "received_on": "Demande faite le",
    "sites": "Sites acceptés",
    "changed": "Éléments modifiés",
    "by_post": "Convocation envoyée par courrier",
    "due_date": "Date cible",
    "moved_from": "Déplacé depuis un rendez-vous antérieur",
    "documents_version": "Version de la liste des pièces",
    "ticket": "Ticket",
    "identity_checked": "Identité vérifiée",
    "missing_documents": "Pièces manquantes",
    "number": "Numéro",
    "valid_from": "Valable du",
    "valid_until": "Valable jusqu'au",
    "work_allowed": "Autorise à travailler",
    "travel_allowed": "Autorise à voyager et revenir",
    "appointment_released": "Rendez-vous libéré",
    "collection_reference": "Demande de remise du titre",
    "walk_in": "Venu sans rendez-vous",
    "document_name": "Pièce",
    "pages": "Pages",
    "file_sha256": "Empreinte SHA-256 du fichier",
    "documents": "Pièces",
    "accepted_documents": "Pièces acceptées",
    "pending_documents": "Pièces restant à examiner",
    "corrections": "À corriger",
    "questions": "Questions répondues",
    "by": "Par",
    "dossier_complete": "Dossier complet avant le rendez-vous",
}


def _parse_datetime(value) -> datetime.datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


def _parse_date(value) -> datetime.date | None:
    if not isinstance(value, str) or len(value) > 12:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def _zone(name) -> datetime.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name) if isinstance(name, str) and name else datetime.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return datetime.UTC


def local_text(moment: datetime.datetime | None, tz) -> str:
    """A moment in the given zone, written in the active language, with the zone's offset."""
    if moment is None:
        return ""
    local = moment.astimezone(tz)
    offset = local.strftime("%z")
    offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    return f"{date_format(local.replace(tzinfo=None), 'DATETIME_FORMAT')} ({offset})"


def date_text(day: datetime.date | None) -> str:
    return date_format(day, "DATE_FORMAT") if day else ""


def _choice_label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


def event_label(event) -> str:
    return _choice_label(ProofEvent, event)


@dataclass
class ProofContent:
    typ: str
    event: str
    event_label: str
    sentence: str
    at: datetime.datetime | None
    at_text: str
    at_utc_text: str
    reference: str
    name: str
    birth_date: str
    prefecture: str
    procedure: str
    channel: str
    received: str
    due_date: str
    due_reason: str
    status: str
    details: list[tuple[str, str]] = field(default_factory=list)
    is_checkpoint: bool = False


def _detail_value(name: str, value, details: dict, tz) -> str:
    local = details.get(f"{name}_local")
    moment = _parse_datetime(local) or _parse_datetime(value)
    if moment is not None:
        return local_text(moment, tz)
    day = _parse_date(value)
    if day is not None:
        return date_text(day)
    if name == "sites" and value == "any":
        return _("any site of the prefecture")
    if name == "moved_from":
        return _("yes")
    if name == "cancelled_by" and value in CANCELLED_BY:
        return str(CANCELLED_BY[value])
    if name == "by" and value in ACTED_BY:
        return str(ACTED_BY[value])
    if name == "due_reason":
        return _choice_label(DueReason, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if name == "corrections" and isinstance(value, list):
        # Each "document: what to correct"; the reasons are the agent's own words, kept whole.
        return "; ".join(str(v) for v in value)[:LIST_TEXT]
    if isinstance(value, dict | list):
        # A list of documents names each of them whole (a prefecture's list runs to a dozen long labels).
        return ", ".join(f"{v}" for v in (value.values() if isinstance(value, dict) else value))[:LIST_TEXT]
    return str(value)[:300]


def describe(payload: dict, *, french: bool = False) -> ProofContent:
    """Everything a person needs to read in a proof, formatted in the active language.

    With `french`, labels come from the fixed French tables (for the court file; activate "fr" too so
    that dates are written in French)."""
    tz = _zone(payload.get("tz"))
    at = _parse_datetime(payload.get("at"))
    name = payload.get("name") if isinstance(payload.get("name"), dict) else {}
    full_name = " ".join(str(part) for part in (name.get("given"), name.get("family")) if part)
    event = str(payload.get("event", ""))[:40]
    raw_details = payload.get("details") if isinstance(payload.get("details"), dict) else {}
    details = []
    # Signed JSON has its keys sorted; people read them in the order of DETAIL_LABELS (place, time…).
    order = {key: index for index, key in enumerate(DETAIL_LABELS)}
    for key, value in sorted(raw_details.items(), key=lambda item: (order.get(item[0], len(order)), item[0])):
        if key in HIDDEN_DETAILS or key.endswith("_local") or value in (None, "", [], {}):
            continue
        if key in payload and payload[key] == value:
            continue  # already said above (the due reason of a received proof, for instance)
        labels = FRENCH_DETAIL_LABELS if french else DETAIL_LABELS
        label = str(labels.get(key, key.replace("_", " ")))
        details.append((label, _detail_value(key, value, raw_details, tz)))
    typ = str(payload.get("typ", ""))
    content = ProofContent(
        typ=typ,
        event=event,
        event_label=(FRENCH_EVENT_LABELS.get(event, event) if french else event_label(event))
        if event
        else "",
        sentence=str(EVENT_SENTENCES.get(event, "")),
        at=at,
        at_text=local_text(at, tz),
        at_utc_text=local_text(at, datetime.UTC),
        reference=str(payload.get("ref", ""))[:40],
        name=full_name[:320],
        birth_date=date_text(_parse_date(payload.get("birth_date"))),
        prefecture=str(payload.get("prefecture_name") or payload.get("prefecture") or "")[:160],
        procedure=str(payload.get("procedure_name") or payload.get("procedure") or "")[:200],
        channel=_choice_label(Channel, payload.get("channel")) if payload.get("channel") else "",
        received=local_text(_parse_datetime(payload.get("received_at")), tz),
        due_date=date_text(_parse_date(payload.get("due_date"))),
        due_reason=_choice_label(DueReason, payload.get("due_reason")) if payload.get("due_reason") else "",
        status=_choice_label(RequestStatus, payload.get("status")) if payload.get("status") else "",
        details=details,
    )
    if typ.startswith("guichet-audit-checkpoint"):
        content.is_checkpoint = True
        content.event_label = _("Audit log checkpoint")
        content.sentence = _(
            "The audit log of %(chain)s had %(seq)s entries; the last one has this hash."
        ) % {
            "chain": str(payload.get("chain", ""))[:16],
            "seq": str(payload.get("seq", ""))[:20],
        }
        content.details = [(_("Hash of the last entry"), str(payload.get("hash", ""))[:64])]
    return content
