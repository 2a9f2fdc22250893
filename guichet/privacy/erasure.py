"""Erasing a person's data, by type (as pretix's shredders do): each type says what it removes and counts it.

What stays of an erased request is what the figures and the registers need and what names nobody: the
request row (reference, prefecture, procedure, channel, dates, status, due date), its offers and
appointments (slots, times, statuses), its court orders, its proofs' rows with their fingerprints, and
every audit entry (which never held the texts). Everything below is removed.

A new kind of personal data (a new app, a new field) gets its DataType here, or the purge leaves it behind.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from guichet.appointments.models import Appointment, Offer
from guichet.dossiers import storage
from guichet.dossiers.models import Answer, Document
from guichet.evidence.models import AuditPersonalData, Proof
from guichet.notifications.models import MessageStatus, OutboxMessage
from guichet.partners.models import ImpossibilityRecord, Mandate
from guichet.reception.models import Decision
from guichet.waitlist.models import AppointmentRequest

from .models import RightsRequest

# What an erased request keeps in each personal field: nothing (and no birth date).
REQUEST_FIELDS_ERASED = {
    "family_names": "",
    "given_names": "",
    "birth_date": None,
    "nationality": "",
    "foreign_national_number": "",
    "passport_number": "",
    "identity_key": "",
    "foreign_number_key": "",
    "access_token_hash": "",
    "email": "",
    "phone": "",
    "postal_address": "",
    "interpreter_language": "",
    "needs_step_free": False,
    "needs_other": "",
    "unavailable_weekdays": [],
    "unavailable_dates": [],
    "earliest_date": None,
    "vulnerability_reason": "",
    "urgency_circumstances": "",
    "closing_reason": "",
}


@dataclass(frozen=True)
class DataType:
    code: str
    label: str  # for the operator reading the purge's output (English, like every command's output)
    erase: Callable[[list[int], datetime.datetime], int]  # request ids, time -> how many items were removed


def _requests(ids: list[int], at: datetime.datetime) -> int:
    # One statement: the database accepts a request without a name only once it is marked erased.
    return AppointmentRequest.objects.filter(pk__in=ids).update(erased_at=at, **REQUEST_FIELDS_ERASED)


def _proof_texts(ids: list[int], at: datetime.datetime) -> int:
    return Proof.objects.filter(request_id__in=ids).exclude(token="").update(token="")


def _audit_texts(ids: list[int], at: datetime.datetime) -> int:
    deleted, _ = AuditPersonalData.objects.filter(entry__request_id__in=ids).delete()
    return deleted


def _messages(ids: list[int], at: datetime.datetime) -> int:
    rows = OutboxMessage.objects.filter(request_id__in=ids).exclude(recipient="", context={})
    # A message still waiting for an ended request has nobody left to reach.
    OutboxMessage.objects.filter(request_id__in=ids, status=MessageStatus.PENDING).update(
        status=MessageStatus.SKIPPED
    )
    return rows.update(recipient="", context={}, last_error="")


def _consent_forms(ids: list[int], at: datetime.datetime) -> int:
    count = 0
    for mandate in Mandate.objects.filter(request_id__in=ids).exclude(consent_form=""):
        mandate.consent_form.delete(save=False)
        Mandate.objects.filter(pk=mandate.pk).update(consent_form="", consent_form_type="")
        count += 1
    return count


def _free_texts(ids: list[int], at: datetime.datetime) -> int:
    return (
        Offer.objects.filter(request_id__in=ids).exclude(decline_reason="").update(decline_reason="")
        + Appointment.objects.filter(request_id__in=ids).exclude(cancel_reason="").update(cancel_reason="")
        + Mandate.objects.filter(request_id__in=ids).exclude(revoke_reason="").update(revoke_reason="")
        + Decision.objects.filter(request_id__in=ids).exclude(note="").update(note="")
        + ImpossibilityRecord.objects.filter(request_id__in=ids)
        .exclude(circumstances="")
        .update(circumstances="")
    )


def _dossier_answers(ids: list[int], at: datetime.datetime) -> int:

    deleted, _ = Answer.objects.filter(dossier__request_id__in=ids).delete()
    return deleted


def _dossier_documents(ids: list[int], at: datetime.datetime) -> int:
    """The files themselves, and their rows (original names, digests); the dossier keeps its state."""

    documents = Document.objects.filter(dossier__request_id__in=ids)
    backend = storage.backend()
    for name in documents.values_list("storage_name", flat=True):
        if backend.exists(name):
            backend.delete(name)
    deleted, _ = documents.delete()
    return deleted


def _rights_requests(ids: list[int], at: datetime.datetime) -> int:

    return (
        RightsRequest.objects.filter(request_id__in=ids)
        .exclude(message="", answer="")
        .update(message="", answer="")
    )


DATA_TYPES: tuple[DataType, ...] = (
    DataType("requests", "Requests: identity, contact details, needs and circumstances", _requests),
    DataType("proof_texts", "Texts of the signed proofs kept by the service", _proof_texts),
    DataType("audit_texts", "Free texts of the audit log (reasons, notes)", _audit_texts),
    DataType("messages", "Messages: addresses and contents", _messages),
    DataType(
        "rights_requests", "Messages of the person's requests about their data, and answers", _rights_requests
    ),
    DataType("dossier_answers", "Answers of the dossiers", _dossier_answers),
    DataType("dossier_documents", "Documents of the dossiers (files deleted)", _dossier_documents),
    DataType("consent_forms", "Signed consent forms of mandates", _consent_forms),
    DataType(
        "free_texts",
        "Reasons, notes and circumstances given on offers, appointments, decisions and mandates",
        _free_texts,
    ),
)


def erase(ids: list[int], at: datetime.datetime) -> dict[str, int]:
    """Remove every type of personal data of these requests (locked by the caller); counts by type."""
    return {data_type.code: data_type.erase(ids, at) for data_type in DATA_TYPES}
