"""Back office: transfer a request after the person moved to another département (staff only)."""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from guichet.accounts import permissions
from guichet.accounts.models import Role
from guichet.backoffice import services as backoffice
from guichet.backoffice.decorators import verified_required
from guichet.backoffice.views.staff import apply_domain_error
from guichet.errors import DomainError, NotFound

from . import services


class TransferForm(forms.Form):
    postal_code = forms.CharField(label=gettext_lazy("Postal code of the new residence"), max_length=10)
    commune = forms.CharField(
        label=gettext_lazy("INSEE code of the commune (only when the postal code is shared)"),
        required=False,
        max_length=5,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason (the person reads it)"),
        max_length=services.MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
        initial=gettext_lazy("Change of residence"),
    )


@verified_required
@require_http_methods(["GET", "POST"])
def transfer(request, reference: str):
    try:
        found = backoffice.get_visible_request(request.user, reference)
    except NotFound:
        raise Http404 from None
    if not permissions.has_role(request.user, found.prefecture_id, Role.AGENT):
        raise Http404
    form = TransferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = services.transfer_request(
                found,
                postal_code=form.cleaned_data["postal_code"],
                commune_code=form.cleaned_data["commune"],
                reason=form.cleaned_data["reason"],
                actor=permissions.actor_for(request.user),
                user=request.user,
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Transferred to %(prefecture)s under reference %(reference)s, with its due date.")
                % {"prefecture": done.to_request.prefecture.name, "reference": done.to_request.reference},
            )
            return redirect("backoffice:request", reference=found.reference)
    return render(
        request,
        "backoffice/action.html",
        {"req": found, "form": form, "title": _("Transfer after a move"), "danger": True},
        status=422 if form.errors else 200,
    )
