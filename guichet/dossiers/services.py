"""Dossier services: every change to a form or a dossier, for the pages, the staff screens and the API alike.

Every change of a dossier locks its request (guichet.locking, level REQUEST: the dossier and its answers
and documents are the request's), checks the dossier's revision when the caller read one, writes, raises
the revision and appends the audit entry in the same transaction. Files are checked before the transaction
and written to storage inside it; a refused or failed change leaves no file behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guichet import locking
from guichet.accounts.models import AccessKind
from guichet.accounts.services import record_access
from guichet.catalog.models import Procedure
from guichet.errors import Conflict, InvalidInput, NotFound
from guichet.evidence.audit import Actor
from guichet.evidence.models import ProofEvent
from guichet.evidence.services import record_event
from guichet.notifications.services import notify
from guichet.waitlist.models import AppointmentRequest

from . import questions as q
from . import scanning, storage, uploads
from .models import (
    Answer,
    Document,
    DocumentSource,
    DocumentStatus,
    Dossier,
    DossierState,
    FormVersion,
    Question,
    QuestionKind,
)

MAX_QUESTIONS = 60
MAX_REASON = 1000


def _invalid(fields: dict[str, list[str]]) -> InvalidInput:
    return InvalidInput("invalid", _("Some fields are missing or invalid."), fields=fields)


# --- forms in force ------------------------------------------------------------------------------------


def form_in_force(procedure: Procedure, at=None) -> FormVersion | None:
    """The published version of the procedure's form in force at `at` (now by default)."""
    at = at or timezone.now()
    return (
        FormVersion.objects.filter(procedure=procedure, published_at__isnull=False, published_at__lte=at)
        .order_by("-published_at", "-number")
        .first()
    )


# --- the dossier -------------------------------------------------------------------------------------------


def dossier_for(request: AppointmentRequest) -> Dossier:
    """The request's dossier, made on first use with the form version in force when the request was filed."""
    existing = Dossier.objects.filter(request=request).select_related("form_version").first()
    if existing is not None:
        return existing
    with transaction.atomic():
        locking.request(request.pk)
        dossier, _created = Dossier.objects.get_or_create(
            request=request,
            defaults={
                "form_version": form_in_force(request.procedure, request.received_at),
                "state_changed_at": timezone.now(),
            },
        )
        return dossier


@dataclass(frozen=True)
class Item:
    """One thing the dossier needs: a document of the list, or a file question."""

    code: str
    label: str
    help: str
    document: Document | None


def asked_questions(dossier: Dossier, answers: Mapping[str, str] | None = None) -> list[Question]:
    if dossier.form_version_id is None:
        return []
    answers = current_answers(dossier) if answers is None else answers
    return [question for question in dossier.form_version.questions.all() if q.is_asked(question, answers)]


def current_answers(dossier: Dossier) -> dict[str, str]:
    return dict(dossier.answers.values_list("question__key", "value"))


def items(dossier: Dossier, language: str | None = None) -> list[Item]:
    """The documents of the request's list, then the file questions asked, each with its current file."""
    current = {doc.item: doc for doc in dossier.documents.filter(replaced_at__isnull=True)}
    found = [
        Item(f"doc-{index}", label, "", current.get(f"doc-{index}"))
        for index, label in enumerate(dossier.request.documents, start=1)
    ]
    for question in asked_questions(dossier):
        if question.kind == QuestionKind.FILE:
            code = f"q-{question.key}"
            found.append(
                Item(code, q.label(question, language), q.help_text(question, language), current.get(code))
            )
    return found


def missing(dossier: Dossier) -> dict[str, list[str]]:
    """What still lacks before a review can find the dossier complete, by field."""
    answers = current_answers(dossier)
    problems: dict[str, list[str]] = {}
    for question in asked_questions(dossier, answers):
        if question.required and question.kind != QuestionKind.FILE and not answers.get(question.key):
            problems[question.key] = [_("Answer this question.")]
    for item in items(dossier):
        if item.document is None:
            problems[item.code] = [_("Send this document, or bring it to the counter.")]
    return problems


@dataclass(frozen=True)
class Readiness:
    """Where a dossier stands, as reception and the counter read it on the day of the visit."""

    state: str
    state_label: str
    complete: bool
    reviewed_at: object  # datetime of the latest review, or None
    missing_answers: list[str]
    missing_documents: list[str]
    to_correct: list[tuple[str, str]]  # (document, what to correct)
    to_review: list[str]
    accepted: list[str]

    @property
    def has_work(self) -> bool:
        """Something the counter must still see to: a document lacking, to correct or to review."""
        return bool(self.missing_answers or self.missing_documents or self.to_correct or self.to_review)


def readiness(request: AppointmentRequest) -> Readiness:
    """The dossier's state and what lacks: answers not given, documents not sent, to correct (with the
    reason the person was given), sent but not reviewed yet, accepted."""
    dossier = dossier_for(request)
    answers = current_answers(dossier)
    found = items(dossier)
    missing_answers = [
        q.label(question)
        for question in asked_questions(dossier, answers)
        if question.required and question.kind != QuestionKind.FILE and not answers.get(question.key)
    ]
    by_status: dict[str, list[Item]] = {status: [] for status in DocumentStatus.values}
    for item in found:
        if item.document is not None:
            by_status[item.document.status].append(item)
    reviewed = [item.document.reviewed_at for item in found if item.document and item.document.reviewed_at]
    return Readiness(
        state=dossier.state,
        state_label=str(dossier.get_state_display()),
        complete=dossier.state == DossierState.COMPLETE,
        reviewed_at=max(reviewed) if reviewed else None,
        missing_answers=missing_answers,
        missing_documents=[item.label for item in found if item.document is None],
        to_correct=[(item.label, item.document.reason) for item in by_status[DocumentStatus.TO_CORRECT]],
        to_review=[item.label for item in by_status[DocumentStatus.PENDING]],
        accepted=[item.label for item in by_status[DocumentStatus.ACCEPTED]],
    )


def states_of(request_ids: Iterable[int]) -> dict[int, str]:
    """The dossier state of each request (one query, for a day's list); a request whose dossier was never
    opened is being completed."""
    request_ids = list(request_ids)
    found = dict(Dossier.objects.filter(request_id__in=request_ids).values_list("request_id", "state"))
    return {pk: found.get(pk, DossierState.IN_PROGRESS) for pk in request_ids}


def _lock(request: AppointmentRequest, expected_revision: int | None) -> Dossier:
    locking.request(request.pk)
    dossier = Dossier.objects.select_related("request", "form_version").get(request_id=request.pk)
    if expected_revision is not None and dossier.revision != expected_revision:
        raise Conflict(
            "changed",
            _("The dossier changed since you opened it (someone else saved it). Read it again, then save."),
        )
    return dossier


def _settle(dossier: Dossier, *, submitted: bool = False) -> str:
    """Bring the state in line with the documents: to correct while any is, complete once all are accepted
    and nothing lacks, else waiting for review once submitted. Saves and returns the new state."""
    current = list(dossier.documents.filter(replaced_at__isnull=True).values_list("status", flat=True))
    if DocumentStatus.TO_CORRECT in current:
        state = DossierState.TO_CORRECT
    elif (
        current
        and all(s == DocumentStatus.ACCEPTED for s in current)
        and not missing(dossier)
        and (submitted or dossier.state != DossierState.IN_PROGRESS)
    ):
        state = DossierState.COMPLETE
    elif submitted or dossier.state != DossierState.IN_PROGRESS:
        state = DossierState.SUBMITTED
    else:
        state = DossierState.IN_PROGRESS
    if state != dossier.state:
        dossier.state = state
        dossier.state_changed_at = timezone.now()
    dossier.revision += 1
    dossier.save(update_fields=["state", "state_changed_at", "revision"])
    return state


# Who acted, as a proof says it: never a staff member's name.
ACTED_BY = {"applicant": "applicant", "partner": "partner"}
DOCUMENT_EVENTS = {
    DocumentSource.APPLICANT: ProofEvent.DOCUMENT_SENT,
    DocumentSource.PARTNER: ProofEvent.DOCUMENT_SENT,
    DocumentSource.COUNTER: ProofEvent.DOCUMENT_SCANNED,
    DocumentSource.POST: ProofEvent.DOCUMENT_BY_POST,
}


def _record(
    dossier: Dossier, event: str, actor: Actor, details: dict, audit_data: dict | None = None
) -> None:
    """The audit entry and the signed proof the person keeps of one step of their dossier."""
    record_event(dossier.request, event, actor, details=details, audit_data=audit_data)


def _labels(documents: Iterable[Document]) -> list[str]:
    return [document.label for document in documents]


def _record_complete(dossier: Dossier, actor: Actor, audit_data: dict) -> None:
    """The dossier was just found complete: the person gets the proof and is told by each channel."""
    accepted = dossier.documents.filter(replaced_at__isnull=True).order_by("item")
    _record(
        dossier, ProofEvent.DOSSIER_COMPLETE, actor, {"accepted_documents": _labels(accepted)}, audit_data
    )
    notify(dossier.request, "dossier_complete", {})


def save_answers(
    request: AppointmentRequest,
    raw: Mapping[str, object],
    actor: Actor,
    *,
    expected_revision: int | None = None,
) -> Dossier:
    """Record the answers given (question key → answer); an empty answer removes the previous one.

    All answers are checked first: one bad answer refuses the whole form with each field's message, and
    nothing is stored."""
    dossier = dossier_for(request)
    if dossier.form_version_id is None:
        raise Conflict("no_form", _("This procedure asks no questions."))
    by_key = {question.key: question for question in dossier.form_version.questions.all()}
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for key, value in raw.items():
        question = by_key.get(key)
        if question is None or question.kind == QuestionKind.FILE:
            errors[str(key)[:40]] = [_("This form has no such question.")]
            continue
        try:
            values[key] = q.normalise(question, value)
        except ValueError as error:
            errors[key] = [str(error)]
    if errors:
        raise _invalid(errors)
    with transaction.atomic():
        dossier = _lock(request, expected_revision)
        now = timezone.now()
        for key, value in values.items():
            question = by_key[key]
            if value:
                Answer.objects.update_or_create(
                    dossier=dossier,
                    question=question,
                    defaults={"value": value, "answered_by": str(actor)[:120], "answered_at": now},
                )
            else:
                Answer.objects.filter(dossier=dossier, question=question).delete()
        before = dossier.state
        if dossier.state == DossierState.COMPLETE:
            # A changed answer reopens the review.
            dossier.state = DossierState.SUBMITTED
        state = _settle(dossier)
        _record(
            dossier,
            ProofEvent.DOSSIER_ANSWERS,
            actor,
            {
                "questions": [q.label(by_key[key], "fr") for key in sorted(values)],
                "by": ACTED_BY.get(actor.kind, "prefecture"),
            },
            {"keys": sorted(values)},
        )
        if state == DossierState.COMPLETE and before != DossierState.COMPLETE:
            # Every document was already accepted: the last answer missing completes the dossier.
            _record_complete(dossier, actor, {"state": state})
    return dossier


def upload_document(
    request: AppointmentRequest,
    item: str,
    upload,
    actor: Actor,
    *,
    source: str = DocumentSource.APPLICANT,
    user=None,
    name: str | None = None,
) -> Document:
    """Check and store one file for one item of the dossier, replacing the item's current file."""
    dossier = dossier_for(request)
    known = {entry.code: entry for entry in items(dossier)}
    if item not in known:
        raise _invalid({"item": [_("This dossier asks for no such document.")]})
    if source not in DocumentSource.values:
        raise _invalid({"source": [_("Unknown way of receiving a document.")]})
    try:
        content = uploads.read_limited(upload)
        checked = uploads.check(content, name if name is not None else getattr(upload, "name", "") or "")
        scanning.scan(checked.content)
    except uploads.Refused as refusal:
        raise _invalid({item: [refusal.message], "file": [refusal.message]}) from None
    storage_name = f"{request.prefecture.code}/{uuid.uuid4().hex}.{checked.extension}"
    backend = storage.backend()
    try:
        with transaction.atomic():
            dossier = _lock(request, None)
            now = timezone.now()
            previous = Document.objects.filter(dossier=dossier, item=item, replaced_at__isnull=True).first()
            if previous is not None:
                previous.replaced_at = now
                previous.save(update_fields=["replaced_at"])
            saved_name = backend.save(storage_name, ContentFile(checked.content))
            document = Document.objects.create(
                dossier=dossier,
                item=item,
                label=known[item].label[:300],
                storage_name=saved_name,
                original_name=checked.name,
                content_type=checked.content_type,
                size=len(checked.content),
                pages=checked.pages,
                sha256=checked.sha256,
                source=source,
                uploaded_by=user,
                uploaded_at=now,
            )
            _settle(dossier, submitted=source in {DocumentSource.COUNTER, DocumentSource.POST})
            details = {
                "document_name": document.label,
                "pages": document.pages,
                "file_sha256": checked.sha256,
            }
            if DOCUMENT_EVENTS[source] == ProofEvent.DOCUMENT_SENT:
                details["by"] = ACTED_BY.get(actor.kind, "prefecture")
            _record(
                dossier,
                DOCUMENT_EVENTS[source],
                actor,
                details,
                {"item": item, "document": document.pk, "source": source},
            )
    except BaseException:
        # The row was not committed: the file must not outlive it.
        if backend.exists(storage_name):
            backend.delete(storage_name)
        raise
    return document


def submit_dossier(request: AppointmentRequest, actor: Actor) -> Dossier:
    """The person says the dossier is ready: refused, with what lacks, while something required lacks."""
    dossier = dossier_for(request)
    with transaction.atomic():
        dossier = _lock(request, None)
        problems = missing(dossier)
        if problems:
            raise InvalidInput(
                "incomplete", _("Something is still missing in your dossier."), fields=problems
            )
        _settle(dossier, submitted=True)
        current = dossier.documents.filter(replaced_at__isnull=True).order_by("item")
        _record(dossier, ProofEvent.DOSSIER_SUBMITTED, actor, {"documents": _labels(current)})
    return dossier


@dataclass(frozen=True)
class Decision:
    document_id: int
    accepted: bool
    reason: str = ""


def review_dossier(
    request: AppointmentRequest,
    decisions: Iterable[Decision],
    actor: Actor,
    *,
    user=None,
    expected_revision: int | None = None,
) -> Dossier:
    """An agent accepts documents or asks for their correction, with a reason the person reads. The person
    is told by each of their channels, in their language, what to correct, or that the dossier is complete."""
    decisions = list(decisions)
    errors: dict[str, list[str]] = {}
    for decision in decisions:
        reason = decision.reason.strip()
        if not decision.accepted and not reason:
            errors[f"reason_{decision.document_id}"] = [_("Say what the person must correct.")]
        elif len(reason) > MAX_REASON:
            errors[f"reason_{decision.document_id}"] = [
                _("At most %(count)s characters.") % {"count": MAX_REASON}
            ]
    if not decisions:
        errors["decisions"] = [_("Review at least one document.")]
    if errors:
        raise _invalid(errors)
    dossier_for(request)
    with transaction.atomic():
        dossier = _lock(request, expected_revision)
        current = {
            doc.pk: doc for doc in dossier.documents.filter(replaced_at__isnull=True).select_for_update()
        }
        unknown = [d.document_id for d in decisions if d.document_id not in current]
        if unknown:
            raise Conflict(
                "replaced", _("A document was replaced since you opened the dossier: read it again.")
            )
        now = timezone.now()
        for decision in decisions:
            document = current[decision.document_id]
            document.status = DocumentStatus.ACCEPTED if decision.accepted else DocumentStatus.TO_CORRECT
            document.reason = "" if decision.accepted else decision.reason.strip()
            document.reviewed_by = user
            document.reviewed_at = now
            document.save(update_fields=["status", "reason", "reviewed_by", "reviewed_at"])
        documents = sorted(current.values(), key=lambda document: document.item)
        by_status = {
            status: [document for document in documents if document.status == status]
            for status in DocumentStatus.values
        }
        corrections = [
            {"document": document.label, "reason": document.reason}
            for document in by_status[DocumentStatus.TO_CORRECT]
        ]
        before = dossier.state
        state = _settle(dossier, submitted=True)
        reviewed = {
            "accepted": [d.document_id for d in decisions if d.accepted],
            "to_correct": [d.document_id for d in decisions if not d.accepted],
            "state": state,
        }
        accepted = _labels(by_status[DocumentStatus.ACCEPTED])
        if state == DossierState.TO_CORRECT:
            _record(
                dossier,
                ProofEvent.CORRECTION_ASKED,
                actor,
                {
                    "accepted_documents": accepted,
                    "corrections": [f"{c['document']}: {c['reason']}" for c in corrections],
                },
                reviewed,
            )
            notify(dossier.request, "dossier_to_correct", {"corrections": corrections})
        elif state == DossierState.COMPLETE and before != DossierState.COMPLETE:
            _record_complete(dossier, actor, reviewed)
        else:
            _record(
                dossier,
                ProofEvent.DOSSIER_COMPLETE
                if state == DossierState.COMPLETE
                else ProofEvent.DOSSIER_REVIEWED,
                actor,
                {
                    "accepted_documents": accepted,
                    "pending_documents": _labels(by_status[DocumentStatus.PENDING]),
                },
                reviewed,
            )
    return dossier


def document_of(request: AppointmentRequest, document_id: int) -> Document:
    document = Document.objects.filter(pk=document_id, dossier__request=request).first()
    if document is None:
        raise NotFound("not_found", _("No such document in this dossier."))
    return document


def read_document(request: AppointmentRequest, document_id: int, *, user=None, channel: str = "page"):
    """The document and an open file of its bytes. A staff or partner reading is logged (R27)."""
    document = document_of(request, document_id)
    if user is not None:
        record_access(
            user,
            AccessKind.OPENED,
            channel=channel,
            request=request,
            detail=f"document {document.pk}: {document.label}",
        )
    return document, storage.backend().open(document.storage_name, "rb")
