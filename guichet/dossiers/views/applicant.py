"""The person's dossier pages, under their request's private address (r/<reference>/<key>/dossier/).

Plain forms, one per action, so that a phone without JavaScript does everything: the answers form, one
upload form per document, the "ready" button. Conditional questions appear once the answer they depend
on is saved.
"""

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guichet.errors import DomainError
from guichet.evidence.audit import APPLICANT
from guichet.public.views.common import applicant_page, page_context
from guichet.waitlist.models import AppointmentRequest

from .. import services
from ..forms import AnswersForm, UploadForm
from .common import apply_error, dossier_context, open_document


def _dossier_url(found: AppointmentRequest, token: str) -> str:
    return reverse("dossiers:applicant_dossier", kwargs={"reference": found.reference, "token": token})


def _render(request, found, token, *, answers_form=None, upload_forms=None, submit_errors=None, status=200):
    dossier = services.dossier_for(found)
    context = dossier_context(dossier)
    answers_form = answers_form or AnswersForm(questions=context["questions"], answers=context["answers"])
    upload_forms = upload_forms or {}
    for item in context["items"]:
        item_form = upload_forms.get(item.code) or UploadForm(prefix=item.code)
        upload_forms[item.code] = item_form
    context.update(
        answers_form=answers_form,
        upload_forms=upload_forms,
        upload_rows=[(item, upload_forms[item.code]) for item in context["items"]],
        submit_errors=submit_errors or {},
        dossier_url=_dossier_url(found, token),
    )
    return render(
        request, "dossiers/applicant_dossier.html", page_context(found, token, **context), status=status
    )


@applicant_page
def dossier(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        return _render(request, found, token)
    dossier = services.dossier_for(found)
    context = dossier_context(dossier)
    form = AnswersForm(request.POST, questions=context["questions"], answers=context["answers"])
    if form.is_valid():
        try:
            services.save_answers(found, form.raw_answers(), APPLICANT)
        except DomainError as error:
            apply_error(form, error)
        else:
            messages.success(request, _("Your answers are saved."))
            return redirect(_dossier_url(found, token))
    return _render(request, found, token, answers_form=form, status=422)


@require_POST
@applicant_page
def upload(request: HttpRequest, found: AppointmentRequest, token: str, item: str) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES, prefix=item)
    if form.is_valid():
        try:
            services.upload_document(found, item, form.cleaned_data["file"], APPLICANT)
        except DomainError as error:
            apply_error(form, error, field="file")
        else:
            messages.success(request, _("The document is received. The prefecture will review it."))
            return redirect(_dossier_url(found, token))
    return _render(request, found, token, upload_forms={item: form}, status=422)


@require_POST
@applicant_page
def submit(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    try:
        services.submit_dossier(found, APPLICANT)
    except DomainError as error:
        return _render(
            request, found, token, submit_errors=error.fields or {"": [str(error.message)]}, status=422
        )
    messages.success(request, _("Your dossier is sent for review. We will tell you the result."))
    return redirect(_dossier_url(found, token))


@applicant_page
def document(request: HttpRequest, found: AppointmentRequest, token: str, document_id: int) -> FileResponse:
    return open_document(found, document_id)
