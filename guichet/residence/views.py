"""Public page: is this prefecture the competent one for where I live? If not, which one, and file there."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from guichet.catalog.models import Procedure
from guichet.errors import InvalidInput

from . import communes, services


class ResidenceForm(forms.Form):
    postal_code = forms.CharField(
        label=_("Postal code of where you live"),
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
        error_messages={"required": _("Give the 5 digits of your postal code, for example 93000.")},
    )
    commune = forms.CharField(required=False, widget=forms.HiddenInput, max_length=10)


class CommuneForm(ResidenceForm):
    commune = forms.ChoiceField(label=_("Your commune"), widget=forms.RadioSelect, choices=[])


def residence_check(request: HttpRequest, prefecture: str, code: str) -> HttpResponse:
    procedure = get_object_or_404(
        Procedure.objects.select_related("prefecture"), prefecture__code=prefecture.upper(), code=code
    )
    form = ResidenceForm(request.GET or None)
    routing = None
    if form.is_bound and form.is_valid():
        try:
            routing = services.route(
                postal_code=form.cleaned_data["postal_code"], commune_code=form.cleaned_data["commune"]
            )
        except InvalidInput as error:
            if error.code == "ambiguous":
                form = CommuneForm(request.GET)
                form.fields["commune"].choices = [
                    tuple(item.split(" ", 1)) for item in error.fields["commune"]
                ]
                form.is_valid()
                form.errors.pop("commune", None)
                form.add_error("commune", str(error.message))
            else:
                for field, problems in error.fields.items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else "postal_code", problem)
    context = {"procedure": procedure, "form": form, "routing": routing, "source": communes.source()}
    if routing is not None:
        context["competent"] = routing.is_competent(procedure.prefecture)
        context["elsewhere"] = None if context["competent"] else routing.procedure_like(procedure)
        context["department_names"] = sorted({commune.name for commune in routing.communes})
    return render(request, "residence/check.html", context)
