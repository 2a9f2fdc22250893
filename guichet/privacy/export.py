"""The person's own data (GDPR art. 15 and 20): everything Guichet holds about one request, as plain JSON.

One function builds it; the JSON download and the PDF are two renderings of the same dict. Staff identities
are not part of it (who acted is given as applicant, staff, partner or system); the names of the partner
organisations the person mandated are.
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from guichet.appointments.models import Appointment, Offer
from guichet.evidence.models import AuditEntry, CourtOrder, Proof
from guichet.notifications.models import OutboxMessage
from guichet.partners.models import ImpossibilityRecord, Mandate
from guichet.waitlist.models import AppointmentRequest

from . import retention

FORMAT = "guichet-personal-data/1"


def _when(value: datetime.datetime | datetime.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _request(found: AppointmentRequest) -> dict:
    return {
        "reference": found.reference,
        "prefecture": found.prefecture.name,
        "procedure": found.procedure.name,
        "channel": found.channel,
        "received_at": _when(found.received_at),
        "status": found.status,
        "status_changed_at": _when(found.status_changed_at),
        "due_date": _when(found.due_date),
        "due_reason": found.due_reason,
        "closing_reason": found.closing_reason,
        "list_of_documents": found.documents,
    }


def _identity(found: AppointmentRequest) -> dict:
    return {
        "family_names": found.family_names,
        "given_names": found.given_names,
        "birth_date": _when(found.birth_date),
        "nationality": found.nationality,
        "foreign_national_number": found.foreign_national_number,
        "passport_number": found.passport_number,
    }


def _contact(found: AppointmentRequest) -> dict:
    return {
        "email": found.email,
        "phone": found.phone,
        "postal_address": found.postal_address,
        "language": found.language,
    }


def _needs(found: AppointmentRequest) -> dict:
    return {
        "sites": [site.name for site in found.sites.order_by("name")],
        "permit_expires_on": _when(found.permit_expires_on),
        "interpreter_language": found.interpreter_language,
        "needs_step_free": found.needs_step_free,
        "needs_other": found.needs_other,
        "unavailable_weekdays": found.unavailable_weekdays,
        "unavailable_dates": found.unavailable_dates,
        "earliest_date": _when(found.earliest_date),
        "vulnerability": found.vulnerability_reason,
        "urgency_circumstances": found.urgency_circumstances,
    }


def _offers(found: AppointmentRequest) -> list[dict]:
    return [
        {
            "site": offer.slot.counter.site.name,
            "starts_at": _when(offer.slot.starts_at),
            "status": offer.status,
            "made_at": _when(offer.created_at),
            "decline_reason": offer.decline_reason,
        }
        for offer in Offer.objects.filter(request=found).select_related("slot__counter__site").order_by("pk")
    ]


def _appointments(found: AppointmentRequest) -> list[dict]:
    return [
        {
            "site": appointment.counter.site.name,
            "starts_at": _when(appointment.starts_at),
            "status": appointment.status,
            "confirmed_at": _when(appointment.confirmed_at),
            "cancelled_by": appointment.cancelled_by,
            "cancel_reason": appointment.cancel_reason,
            "outcome": appointment.outcome,
        }
        for appointment in Appointment.objects.filter(request=found)
        .select_related("counter__site")
        .order_by("pk")
    ]


def _proofs(found: AppointmentRequest) -> list[dict]:
    return [
        {
            "event": proof.event,
            "issued_at": _when(proof.issued_at),
            "kid": proof.kid,
            "sha256": proof.fingerprint,
            "token": proof.token,
        }
        for proof in Proof.objects.filter(request=found).order_by("issued_at", "pk")
    ]


def _messages(found: AppointmentRequest) -> list[dict]:
    return [
        {
            "channel": message.channel,
            "kind": message.kind,
            "recipient": message.recipient,
            "status": message.status,
            "written_at": _when(message.created_at),
            "sent_at": _when(message.sent_at),
        }
        for message in OutboxMessage.objects.filter(request=found).order_by("pk")
    ]


def _mandates(found: AppointmentRequest) -> list[dict]:
    return [
        {
            "organisation": mandate.organisation.name,
            "consent_given_on": _when(mandate.consent_given_on),
            "consent_method": mandate.consent_method,
            "signed_form_kept": bool(mandate.consent_form),
            "status": mandate.status,
            "revoked_at": _when(mandate.revoked_at),
            "revoke_reason": mandate.revoke_reason,
        }
        for mandate in Mandate.objects.filter(request=found).select_related("organisation").order_by("pk")
    ]


def _impossibilities(found: AppointmentRequest) -> list[dict]:
    return [
        {
            "recorded_at": _when(record.recorded_at),
            "circumstances": record.circumstances,
            "accompaniment_tried": record.accompaniment_tried,
        }
        for record in ImpossibilityRecord.objects.filter(request=found).order_by("pk")
    ]


def _court_orders(found: AppointmentRequest) -> list[dict]:
    return [
        {
            "tribunal": order.tribunal,
            "case_number": order.case_number,
            "ordered_on": _when(order.ordered_on),
            "convoke_by": _when(order.convoke_by),
            "appointment_by": _when(order.appointment_by),
            "case_ended_on": _when(order.case_ended_on),
        }
        for order in CourtOrder.objects.filter(request=found).order_by("pk")
    ]


def _history(found: AppointmentRequest) -> list[dict]:
    entries = AuditEntry.objects.filter(request=found).select_related("personal_data").order_by("at", "id")
    return [
        {
            "at": _when(entry.at),
            "action": entry.action,
            "by": entry.actor.split(":", 1)[0],
            "data": {k: v for k, v in entry.readable_data.items() if k != "proof"},
        }
        for entry in entries
    ]


def personal_data(found: AppointmentRequest, now: datetime.datetime | None = None) -> dict:
    """All the data of this request, as the person may download it."""
    now = now or timezone.now()
    return {
        "format": FORMAT,
        "generated_at": _when(now.replace(microsecond=0)),
        "request": _request(found),
        "identity": _identity(found),
        "contact": _contact(found),
        "needs": _needs(found),
        "offers": _offers(found),
        "appointments": _appointments(found),
        "proofs": _proofs(found),
        "messages": _messages(found),
        "mandates": _mandates(found),
        "impossibility_records": _impossibilities(found),
        "court_orders": _court_orders(found),
        "history": _history(found),
        "retention": {
            "phase": retention.phase_of(found, now),
            "erasure_on": _when(retention.erasure_date(found, now)),
        },
    }
