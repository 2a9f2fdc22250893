"""The person's own data: see what is held, download it (JSON, PDF), ask to correct or erase it."""

import json

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guichet import documents
from guichet.errors import DomainError
from guichet.privacy import export, retention
from guichet.privacy import services as privacy
from guichet.privacy.models import RightsRequest
from guichet.public.views.common import applicant_page, page_context
from guichet.waitlist import access
from guichet.waitlist.models import AppointmentRequest


class RightsRequestForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("What do you ask?"), choices=RightsRequest.Kind.choices, widget=forms.RadioSelect
    )
    message = forms.CharField(
        label=gettext_lazy("Your message"),
        help_text=gettext_lazy("For a correction: what is wrong and what it should be."),
        required=False,
        max_length=privacy.MESSAGE_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


def _context(found: AppointmentRequest, token: str, form: RightsRequestForm) -> dict:
    return page_context(
        found,
        token,
        form=form,
        phase=retention.Phase.LABELS[retention.phase_of(found)],
        erasure_on=retention.erasure_date(found),
        asked=RightsRequest.objects.filter(request=found).order_by("-received_at", "-id"),
        json_url=access.request_url(found.reference, token, "your_data_json"),
        pdf_url=access.request_url(found.reference, token, "your_data_pdf"),
    )


@applicant_page
def page(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    form = RightsRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            privacy.ask(found, form.cleaned_data["kind"], form.cleaned_data["message"])
        except DomainError as error:
            for field, errors in error.fields.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
            if not error.fields:
                form.add_error(None, str(error.message))
        else:
            messages.success(request, _("Your request is recorded. The prefecture answers within one month."))
            return redirect(access.request_url(found.reference, token, "your_data"))
    return render(request, "public/your_data.html", _context(found, token, form))


@applicant_page
def as_json(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    body = json.dumps(export.personal_data(found), ensure_ascii=False, indent=2)
    response = HttpResponse(body + "\n", content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="my-data-{found.reference}.json"'
    return response


# The request's fields the PDF lists, under their own (translated) names.
PDF_SECTIONS = (
    (
        gettext_lazy("Your identity"),
        (
            "family_names",
            "given_names",
            "birth_date",
            "nationality",
            "foreign_national_number",
            "passport_number",
        ),
    ),
    (gettext_lazy("How we reach you"), ("email", "phone", "postal_address", "language")),
    (
        gettext_lazy("What you told us"),
        (
            "permit_expires_on",
            "interpreter_language",
            "needs_step_free",
            "needs_other",
            "earliest_date",
            "vulnerability_reason",
            "urgency_circumstances",
        ),
    ),
)


def _sections(found: AppointmentRequest) -> list[tuple[str, list[tuple[str, object]]]]:
    fields = AppointmentRequest._meta
    return [
        (title, [(fields.get_field(name).verbose_name, getattr(found, name)) for name in names])
        for title, names in PDF_SECTIONS
    ]


@applicant_page
def as_pdf(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    context = {
        "req": found,
        "sections": _sections(found),
        "data": export.personal_data(found),
        "LANGUAGE_CODE": translation.get_language(),
        "LANGUAGE_BIDI": translation.get_language_bidi(),
    }
    pdf = documents.write_pdf(render_to_string("public/your_data_pdf.html", context, request=request))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="my-data-{found.reference}.pdf"'
    return response
