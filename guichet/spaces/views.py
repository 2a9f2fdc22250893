"""The person's space page, under a request's private address: every request of the space, and filing
another procedure without typing one's identity and contact again."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy

from guichet.errors import DomainError
from guichet.evidence.audit import APPLICANT
from guichet.public.views.common import applicant_page, page_context
from guichet.waitlist import access

from . import services


class AnotherForm(forms.Form):
    procedure = forms.ChoiceField(label=gettext_lazy("Procedure"), widget=forms.RadioSelect)
    permit_expires_on = forms.DateField(
        label=gettext_lazy("Expiry date of your current permit (for a renewal)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy("Give a real date, for example 1990-03-31.")},
    )


@applicant_page
def space(request: HttpRequest, found, token: str) -> HttpResponse:
    choices = [(p.code, p.name) for p in services.procedures_to_add(found)]
    form = AnotherForm(request.POST or None)
    form.fields["procedure"].choices = choices
    if request.method == "POST" and form.is_valid():
        try:
            result = services.file_another(
                found,
                form.cleaned_data["procedure"],
                APPLICANT,
                permit_expires_on=form.cleaned_data["permit_expires_on"],
            )
        except DomainError as error:
            for field, problems in (error.fields or {"": [str(error.message)]}).items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            if result.created:
                return redirect(access.request_url(result.request.reference, result.access_token, "received"))
            for notice in result.notice_for_the_public:
                messages.info(request, notice)
            return redirect("spaces:space", reference=found.reference, token=token)
    rows = [
        {"request": other, "url": access.request_url(other.reference, access.signed_key(other.reference))}
        for other in services.requests_in_space(found)
    ]
    return render(
        request,
        "spaces/space.html",
        page_context(found, token, rows=rows, form=form, can_add=bool(choices)),
        status=422 if form.errors else 200,
    )
