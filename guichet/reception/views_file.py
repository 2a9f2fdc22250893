"""Staff pages about one request's file after the counter: its registrations, interim documents, decision,
and the change of identity (/<lang>/staff/requests/<reference>/file/ and …/identity/)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from guichet.accounts import permissions
from guichet.accounts.models import Role
from guichet.backoffice import services as backoffice
from guichet.backoffice.decorators import verified_required
from guichet.backoffice.views.staff import apply_domain_error
from guichet.errors import DomainError, NotFound
from guichet.waitlist import services as waitlist
from guichet.waitlist.validation import validate_identity

from . import access, decisions, interim
from .forms import DecisionForm, IdentityChangeForm, ProlongationForm
from .models import Decision, FileRegistration, InterimDocument


def _staff_request(request, reference: str):
    try:
        found = backoffice.get_visible_request(request.user, reference)
    except NotFound:
        raise Http404 from None
    if not permissions.has_role(request.user, found.prefecture_id, Role.AGENT):
        raise Http404
    return found


@verified_required
@require_http_methods(["GET", "POST"])
def file_page(request, reference: str):
    found = _staff_request(request, reference)
    actor = access.actor(request.user)
    action = request.POST.get("action", "")
    decision_form = DecisionForm(request.POST if action == "decision" else None)
    prolongation_form = ProlongationForm(request.POST if action == "prolongation" else None)
    if request.method == "POST":
        try:
            if action == "decision" and decision_form.is_valid():
                decisions.record_decision(
                    found,
                    decision_form.cleaned_data["outcome"],
                    actor,
                    note=decision_form.cleaned_data["note"],
                    user=request.user,
                )
                messages.success(request, _("The decision is recorded and the person is told."))
                return redirect("reception:file", found.reference)
            if action == "prolongation" and prolongation_form.is_valid():
                interim.issue_prolongation(
                    found, actor, months=prolongation_form.cleaned_data["months"], user=request.user
                )
                messages.success(request, _("The attestation is issued."))
                return redirect("reception:file", found.reference)
            if action == "grace":
                interim.issue_grace_statement(found, actor, user=request.user)
                messages.success(request, _("The L.433-3 statement is issued."))
                return redirect("reception:file", found.reference)
            if action == "recepisse":
                interim.issue_on_registration(found, actor, user=request.user)
                messages.success(request, _("The récépissé is issued."))
                return redirect("reception:file", found.reference)
        except DomainError as exc:
            apply_domain_error(decision_form if action == "decision" else prolongation_form, exc)
            messages.error(request, exc.message)
    context = {
        "req": found,
        "registrations": FileRegistration.objects.filter(request=found).select_related("checklist_version"),
        "documents": InterimDocument.objects.filter(request=found).order_by("issued_at", "id"),
        "decisions": Decision.objects.filter(request=found).select_related("collection_request"),
        "final": interim.final_decision(found),
        "decision_form": decision_form,
        "prolongation_form": prolongation_form,
        "can_grace": found.procedure.is_renewal and found.permit_expires_on is not None,
    }
    return render(request, "reception/staff/file.html", context)


@verified_required
@require_http_methods(["GET", "POST"])
def identity_change(request, reference: str):
    """Correct the names or birth date (R19): an appointment is released, the request keeps its place."""
    found = _staff_request(request, reference)
    initial = {
        "family_names": found.family_names,
        "given_names": found.given_names,
        "birth_date": found.birth_date,
    }
    form = IdentityChangeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            identity = validate_identity(form.cleaned_data, found.prefecture)
            waitlist.change_identity(
                found, identity, access.actor(request.user), reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("The identity is changed. Any appointment was released; the request keeps its due date."),
            )
            return redirect("backoffice:request", reference=found.reference)
    return render(
        request,
        "backoffice/action.html",
        {"req": found, "form": form, "title": _("Change the identity"), "danger": True},
    )
