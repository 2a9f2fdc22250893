"""API v1 for dossiers, procedure forms and routing by residence: the same services as the pages.

The person (or a program acting for them) uses the request's access token in `X-Access-Token`; staff and
partners use their personal token (`Authorization: Bearer`, see staff_api.py), with the same rights as on
the pages: partners complete the dossiers of their clients, agents also review them, managers edit and
publish forms. Files are sent as multipart/form-data (field `file`). Every staff or partner reading of a
dossier or a file is logged (R27).
"""

import datetime

from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext
from ninja import File, Form, Header, Router, Schema, Status, UploadedFile

from guichet.accounts import permissions
from guichet.accounts.models import AccessChannel, AccessKind, Role
from guichet.accounts.services import record_access
from guichet.backoffice import services as backoffice
from guichet.catalog.models import Procedure
from guichet.dossiers import publishing, services
from guichet.dossiers import questions as q
from guichet.dossiers.models import DocumentSource, Dossier, FormVersion
from guichet.dossiers.views.common import file_response
from guichet.errors import DomainError, Forbidden, InvalidInput, NotFound
from guichet.evidence.audit import Actor
from guichet.residence import communes
from guichet.residence import services as residence
from guichet.waitlist.models import AppointmentRequest
from guichet.waitlist.services import find_request_by_token

from .staff_api import ERRORS, TokenAuth, _staff_prefecture, guarded

router = Router(tags=["dossiers"])
staff_router = Router(tags=["dossiers (staff)"], auth=TokenAuth())

API_APPLICANT = Actor("applicant", "api")


# --- schemas ---------------------------------------------------------------------------------------------


class ChoiceOut(Schema):
    value: str
    label: str


class QuestionOut(Schema):
    key: str
    kind: str
    label: str
    help: str
    required: bool
    choices: list[ChoiceOut]
    condition_key: str
    condition_values: list[str]
    answer: str


class DocumentOut(Schema):
    id: int
    item: str
    label: str
    name: str
    content_type: str
    size: int
    pages: int
    source: str
    status: str
    reason: str
    uploaded_at: datetime.datetime


class ItemOut(Schema):
    code: str
    label: str
    help: str
    document: DocumentOut | None


class DossierOut(Schema):
    reference: str
    state: str
    revision: int
    form_version: int | None
    checklist_version: int | None
    questions: list[QuestionOut]
    items: list[ItemOut]
    missing: dict[str, list[str]]


class AnswersIn(Schema):
    """Answers by question key (an empty answer removes one); `revision` refuses a stale write (409)."""

    answers: dict[str, str | int | float | bool | None]
    revision: int | None = None


class DecisionIn(Schema):
    document: int
    accepted: bool
    reason: str = ""


class ReviewIn(Schema):
    revision: int
    decisions: list[DecisionIn]


class TransferIn(Schema):
    postal_code: str
    commune: str = ""
    reason: str


class TransferOut(Schema):
    from_reference: str
    to_reference: str
    to_prefecture: str
    due_date: datetime.date


class CommuneOut(Schema):
    code: str
    name: str
    department: str


class RoutingOut(Schema):
    competent_prefecture: str
    on_guichet: bool
    prefecture_name: str | None
    communes: list[CommuneOut]
    source: str


class ChecklistVersionOut(Schema):
    number: int
    documents: list[str]
    in_force_from: datetime.datetime
    in_force_until: datetime.datetime | None


class QuestionIn(Schema):
    key: str
    kind: str
    labels: dict[str, str]
    help_texts: dict[str, str] = {}
    choices: list[dict] = []
    required: bool = True
    condition_key: str = ""
    condition_values: list[str] = []
    limits: dict = {}


class DocumentsIn(Schema):
    documents: list[str]


class FormOut(Schema):
    procedure: str
    number: int
    draft: bool
    published_at: datetime.datetime | None
    documents: list[str]
    questions: list[QuestionIn]


# --- shaping ---------------------------------------------------------------------------------------------


def _document_out(document) -> dict:
    return {
        "id": document.pk,
        "item": document.item,
        "label": document.label,
        "name": document.original_name,
        "content_type": document.content_type,
        "size": document.size,
        "pages": document.pages,
        "source": document.source,
        "status": document.status,
        "reason": document.reason,
        "uploaded_at": document.uploaded_at,
    }


def _dossier_out(found: AppointmentRequest) -> dict:
    dossier: Dossier = services.dossier_for(found)
    answers = services.current_answers(dossier)
    return {
        "reference": found.reference,
        "state": dossier.state,
        "revision": dossier.revision,
        "form_version": dossier.form_version.number if dossier.form_version_id else None,
        "checklist_version": found.checklist_version.number if found.checklist_version_id else None,
        "questions": [
            {
                "key": question.key,
                "kind": question.kind,
                "label": q.label(question),
                "help": q.help_text(question),
                "required": question.required,
                "choices": [{"value": v, "label": label} for v, label in q.choice_options(question)],
                "condition_key": question.condition_key,
                "condition_values": list(question.condition_values or []),
                "answer": answers.get(question.key, ""),
            }
            for question in services.asked_questions(dossier, answers)
        ],
        "items": [
            {
                "code": item.code,
                "label": item.label,
                "help": item.help,
                "document": _document_out(item.document) if item.document else None,
            }
            for item in services.items(dossier)
        ],
        "missing": services.missing(dossier),
    }


def _by_token(reference: str, token: str | None) -> AppointmentRequest:
    if not token:
        raise DomainError(
            "token_required",
            gettext("Give the access token of the request in the X-Access-Token header."),
            status=401,
        )
    return find_request_by_token(reference, token)


def _visible(request: HttpRequest, reference: str, *, log: bool = False) -> AppointmentRequest:
    if log:
        return backoffice.open_request(request.user, reference, channel=AccessChannel.API)
    return backoffice.get_visible_request(request.user, reference)


def _require_agent(request: HttpRequest, found: AppointmentRequest) -> None:
    if not permissions.has_role(request.user, found.prefecture_id, Role.AGENT):
        raise Forbidden("forbidden", gettext("Only the prefecture's agents can do this."))


def _upload(found, item: str, file: UploadedFile, actor: Actor, *, source: str, user=None) -> dict:
    document = services.upload_document(found, item, file, actor, source=source, user=user)
    return _document_out(document)


# --- the person ------------------------------------------------------------------------------------------

TOKEN = Header(None, alias="X-Access-Token")


@router.get("/requests/{reference}/dossier", response={200: DossierOut, **ERRORS}, summary="The dossier")
def get_dossier(request: HttpRequest, reference: str, x_access_token: str | None = TOKEN):
    return _dossier_out(_by_token(reference, x_access_token))


@router.put(
    "/requests/{reference}/dossier/answers", response={200: DossierOut, **ERRORS}, summary="Answer questions"
)
def put_answers(request: HttpRequest, reference: str, payload: AnswersIn, x_access_token: str | None = TOKEN):
    found = _by_token(reference, x_access_token)
    services.save_answers(found, payload.answers, API_APPLICANT, expected_revision=payload.revision)
    return _dossier_out(found)


@router.post(
    "/requests/{reference}/dossier/documents/{item}",
    response={201: DocumentOut, **ERRORS},
    summary="Send a document (multipart field `file`)",
)
def post_document(
    request: HttpRequest,
    reference: str,
    item: str,
    file: File[UploadedFile],
    x_access_token: str | None = TOKEN,
):
    found = _by_token(reference, x_access_token)
    return Status(201, _upload(found, item, file, API_APPLICANT, source=DocumentSource.APPLICANT))


@router.get("/requests/{reference}/dossier/files/{document_id}", summary="A document's file")
def get_document(request: HttpRequest, reference: str, document_id: int, x_access_token: str | None = TOKEN):
    found = _by_token(reference, x_access_token)
    return file_response(*services.read_document(found, document_id))


@router.post(
    "/requests/{reference}/dossier/submit", response={200: DossierOut, **ERRORS}, summary="Send for review"
)
def submit(request: HttpRequest, reference: str, x_access_token: str | None = TOKEN):
    found = _by_token(reference, x_access_token)
    services.submit_dossier(found, API_APPLICANT)
    return _dossier_out(found)


# --- public: lists of documents, routing -----------------------------------------------------------------


@router.get(
    "/procedures/{prefecture}/{code}/documents",
    response={200: list[ChecklistVersionOut], **ERRORS},
    summary="Every version of a procedure's list of documents",
)
def checklist_versions(request: HttpRequest, prefecture: str, code: str):
    procedure = Procedure.objects.filter(prefecture__code=prefecture.upper()[:3], code=code[:40]).first()
    if procedure is None:
        raise NotFound("not_found", gettext("No such procedure."))
    rows, until = [], None
    for version in procedure.checklist_versions.order_by("-number"):
        rows.append(
            {
                "number": version.number,
                "documents": list(version.documents),
                "in_force_from": version.published_at,
                "in_force_until": until,
            }
        )
        until = version.published_at
    return rows


@router.get(
    "/residence", response={200: RoutingOut, **ERRORS}, summary="The competent prefecture for a place"
)
def residence_route(request: HttpRequest, postal_code: str = "", commune: str = ""):
    routing = residence.route(postal_code=postal_code[:10], commune_code=commune[:10])
    return {
        "competent_prefecture": routing.competent_code,
        "on_guichet": routing.prefecture is not None,
        "prefecture_name": routing.prefecture.name if routing.prefecture else None,
        "communes": [{"code": c.code, "name": c.name, "department": c.department} for c in routing.communes],
        "source": communes.source(),
    }


# --- staff and partners ----------------------------------------------------------------------------------


@staff_router.get(
    "/staff/requests/{reference}/dossier", response={200: DossierOut, **ERRORS}, summary="A dossier"
)
@guarded
def staff_dossier(request: HttpRequest, reference: str):
    return _dossier_out(_visible(request, reference, log=True))


@staff_router.put(
    "/staff/requests/{reference}/dossier/answers",
    response={200: DossierOut, **ERRORS},
    summary="Answers typed for the person",
)
@guarded
def staff_answers(request: HttpRequest, reference: str, payload: AnswersIn):
    found = _visible(request, reference)
    services.save_answers(
        found, payload.answers, permissions.actor_for(request.user), expected_revision=payload.revision
    )
    return _dossier_out(found)


@staff_router.post(
    "/staff/requests/{reference}/dossier/documents/{item}",
    response={201: DocumentOut, **ERRORS},
    summary="Add a document: scanned at the counter, received by post, or sent by a partner",
)
@guarded
def staff_document_upload(
    request: HttpRequest, reference: str, item: str, file: File[UploadedFile], source: Form[str] = "counter"
):
    found = _visible(request, reference)
    is_agent = permissions.has_role(request.user, found.prefecture_id, Role.AGENT)
    if not is_agent:
        source = DocumentSource.PARTNER
    elif source not in {DocumentSource.COUNTER, DocumentSource.POST}:
        message = gettext("Say how the document was received: counter or post.")
        raise InvalidInput("invalid", message, fields={"source": [message]})
    actor = permissions.actor_for(request.user)
    return Status(201, _upload(found, item, file, actor, source=source, user=request.user))


@staff_router.get("/staff/requests/{reference}/dossier/files/{document_id}", summary="A document's file")
@guarded
def staff_document(request: HttpRequest, reference: str, document_id: int) -> FileResponse:
    found = _visible(request, reference)
    return file_response(
        *services.read_document(found, document_id, user=request.user, channel=AccessChannel.API)
    )


@staff_router.post(
    "/staff/requests/{reference}/dossier/review", response={200: DossierOut, **ERRORS}, summary="Review"
)
@guarded
def staff_review(request: HttpRequest, reference: str, payload: ReviewIn):
    found = _visible(request, reference)
    _require_agent(request, found)
    services.review_dossier(
        found,
        [services.Decision(d.document, d.accepted, d.reason) for d in payload.decisions],
        permissions.actor_for(request.user),
        user=request.user,
        expected_revision=payload.revision,
    )
    return _dossier_out(found)


@staff_router.post(
    "/staff/requests/{reference}/transfer",
    response={200: TransferOut, **ERRORS},
    summary="Transfer after a move to another département",
)
@guarded
def staff_transfer(request: HttpRequest, reference: str, payload: TransferIn):
    found = _visible(request, reference)
    _require_agent(request, found)
    done = residence.transfer_request(
        found,
        postal_code=payload.postal_code[:10],
        commune_code=payload.commune[:10],
        reason=payload.reason,
        actor=permissions.actor_for(request.user),
        user=request.user,
    )
    return {
        "from_reference": done.from_request.reference,
        "to_reference": done.to_request.reference,
        "to_prefecture": done.to_request.prefecture.code,
        "due_date": done.to_request.due_date,
    }


# --- managers: forms -------------------------------------------------------------------------------------


def _managed_procedure(request: HttpRequest, code: str) -> Procedure:
    prefecture = _staff_prefecture(request)
    if not permissions.has_role(request.user, prefecture, Role.MANAGER):
        raise Forbidden("forbidden", gettext("Only the prefecture's managers can do this."))
    procedure = Procedure.objects.filter(prefecture=prefecture, code=code[:40]).first()
    if procedure is None:
        raise NotFound("not_found", gettext("No such procedure."))
    record_access(
        request.user,
        AccessKind.OPENED,
        channel=AccessChannel.API,
        prefecture=prefecture,
        detail=f"form {code}",
    )
    return procedure


def _form_out(version: FormVersion) -> dict:
    return {
        "procedure": version.procedure.code,
        "number": version.number,
        "draft": version.is_draft,
        "published_at": version.published_at,
        "documents": list(version.documents),
        "questions": [
            {
                "key": question.key,
                "kind": question.kind,
                "labels": question.labels,
                "help_texts": question.help_texts,
                "choices": question.choices,
                "required": question.required,
                "condition_key": question.condition_key,
                "condition_values": question.condition_values,
                "limits": question.limits,
            }
            for question in version.questions.all()
        ],
    }


@staff_router.get(
    "/staff/procedures/{code}/form", response={200: FormOut, **ERRORS}, summary="The form in force (or none)"
)
@guarded
def form_in_force(request: HttpRequest, code: str):
    version = services.form_in_force(_managed_procedure(request, code))
    if version is None:
        raise NotFound("no_form", gettext("No version of this form is published yet."))
    return _form_out(version)


@staff_router.post(
    "/staff/procedures/{code}/form/draft/questions",
    response={200: FormOut, **ERRORS},
    summary="Add a question to the draft",
)
@guarded
def add_question(request: HttpRequest, code: str, payload: QuestionIn):
    actor = permissions.actor_for(request.user)
    draft = publishing.draft_form(_managed_procedure(request, code), actor)
    publishing.save_question(draft, publishing.QuestionData(**payload.dict()), actor)
    return _form_out(draft)


@staff_router.put(
    "/staff/procedures/{code}/form/draft/questions/{key}",
    response={200: FormOut, **ERRORS},
    summary="Change a question of the draft (its texts, kind, limits, condition; its code too)",
)
@guarded
def change_question(request: HttpRequest, code: str, key: str, payload: QuestionIn):
    actor = permissions.actor_for(request.user)
    draft = publishing.draft_form(_managed_procedure(request, code), actor)
    question = draft.questions.filter(key=key[:40]).first()
    if question is None:
        raise NotFound("not_found", gettext("This question is not in the draft."))
    publishing.save_question(draft, publishing.QuestionData(**payload.dict()), actor, question.pk)
    return _form_out(draft)


@staff_router.delete(
    "/staff/procedures/{code}/form/draft/questions/{key}",
    response={200: FormOut, **ERRORS},
    summary="Remove a question from the draft",
)
@guarded
def remove_question(request: HttpRequest, code: str, key: str):
    actor = permissions.actor_for(request.user)
    draft = publishing.draft_form(_managed_procedure(request, code), actor)
    question = draft.questions.filter(key=key[:40]).first()
    if question is None:
        raise NotFound("not_found", gettext("This question is not in the draft."))
    publishing.remove_question(draft, question.pk, actor)
    return _form_out(draft)


@staff_router.put(
    "/staff/procedures/{code}/form/draft/documents",
    response={200: FormOut, **ERRORS},
    summary="Set the draft's list of documents",
)
@guarded
def set_documents(request: HttpRequest, code: str, payload: DocumentsIn):
    actor = permissions.actor_for(request.user)
    draft = publishing.draft_form(_managed_procedure(request, code), actor)
    return _form_out(publishing.set_draft_documents(draft, payload.documents, actor))


@staff_router.post(
    "/staff/procedures/{code}/form/draft/publish",
    response={200: FormOut, **ERRORS},
    summary="Publish the draft",
)
@guarded
def publish(request: HttpRequest, code: str):
    actor = permissions.actor_for(request.user)
    draft = publishing.draft_form(_managed_procedure(request, code), actor)
    return _form_out(publishing.publish_form(draft, actor, user=request.user))
