"""What the applicant's, the partner's and the staff's dossier pages share."""

from django.http import FileResponse, Http404

from guichet.errors import DomainError, NotFound

from .. import services
from ..models import Dossier, DossierState


def dossier_context(dossier: Dossier) -> dict:
    answers = services.current_answers(dossier)
    return {
        "dossier": dossier,
        "questions": services.asked_questions(dossier, answers),
        "answers": answers,
        "items": services.items(dossier),
        "missing": services.missing(dossier),
        "complete": dossier.state == DossierState.COMPLETE,
    }


def apply_error(form, error: DomainError, field: str | None = None) -> None:
    """A service's refusal on the form: each field's message on its field, else on `field` or on top."""
    placed = False
    for name, problems in (error.fields or {}).items():
        target = name if name in form.fields else field
        if target is None and placed:
            continue
        for problem in problems:
            if target is not None and problem in form.errors.get(target, []):
                continue
            form.add_error(target, problem)
            placed = True
    if not placed:
        form.add_error(field, str(error.message))


def file_response(document, handle) -> FileResponse:
    response = FileResponse(handle, content_type=document.content_type)
    # Shown in the browser, never run: no sniffing, no scripts, no forms, even inside a PDF viewer.
    response["Content-Disposition"] = "inline"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


def open_document(found, document_id: int, **kwargs) -> FileResponse:
    try:
        return file_response(*services.read_document(found, document_id, **kwargs))
    except NotFound:
        raise Http404("no such document") from None
