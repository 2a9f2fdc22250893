"""Partner pages (under /<lang>/staff/partner/): an organisation's clients, filing under a mandate, members.

And the pages around them: applying as an organisation (no account yet), revoking a mandate, downloading its
signed form.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guichet.accounts import permissions, throttle
from guichet.accounts import services as accounts
from guichet.accounts.models import AccessChannel, AccessKind, Role
from guichet.errors import DomainError
from guichet.forms import apply_domain_error
from guichet.partners import services as partners
from guichet.partners.models import Mandate, PartnerMember
from guichet.waitlist.forms import IntakeForm
from guichet.waitlist.models import AppointmentRequest, Channel

from ..decorators import partner_required, verified_required
from ..forms import ApplyForm, AttachMandateForm, ConsentForm, PartnerMemberForm, RevokeMandateForm
from .auth import client_address

APPLICATIONS_PER_HOUR = 5


@partner_required
def home(request, member):
    clients = (
        AppointmentRequest.objects.filter(
            mandates__organisation=member.organisation, mandates__status="active"
        )
        .select_related("procedure")
        .distinct()
        .order_by("due_date", "received_at", "id")
    )
    return render(request, "backoffice/partner_home.html", {"member": member, "clients": clients})


@partner_required
@require_http_methods(["GET", "POST"])
def file_for_client(request, member):
    organisation = member.organisation
    form = IntakeForm(request.POST or None, prefecture=organisation.prefecture, channel=Channel.PARTNER)
    consent = ConsentForm(request.POST or None, request.FILES or None, prefix="consent")
    if request.method == "POST":
        consent_ok = consent.is_valid()
        form_ok = form.is_valid() and form.intake is not None
        if consent_ok and form_ok:
            try:
                result, _mandate = partners.file_for_client(
                    organisation,
                    form.intake,
                    by=request.user,
                    consent_given_on=consent.cleaned_data["consent_given_on"],
                    consent_method=consent.cleaned_data["consent_method"],
                    consent_form=consent.cleaned_data.get("consent_form"),
                )
            except DomainError as exc:
                if set(exc.fields) & set(consent.fields):
                    apply_domain_error(consent, exc)
                else:
                    apply_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Request %(ref)s registered for your client.") % {"ref": result.request.reference},
                )
                return redirect("backoffice:request", reference=result.request.reference)
    return render(
        request, "backoffice/partner_file.html", {"member": member, "form": form, "consent": consent}
    )


@partner_required
@require_http_methods(["GET", "POST"])
def attach(request, member):
    form = AttachMandateForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            mandate = partners.attach_mandate(
                member.organisation,
                reference=form.cleaned_data["reference"],
                birth_date=form.cleaned_data["birth_date"],
                by=request.user,
                consent_given_on=form.cleaned_data["consent_given_on"],
                consent_method=form.cleaned_data["consent_method"],
                consent_form=form.cleaned_data.get("consent_form"),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The mandate is recorded."))
            return redirect("backoffice:request", reference=mandate.request.reference)
    return render(request, "backoffice/partner_attach.html", {"member": member, "form": form})


@partner_required
@require_http_methods(["GET", "POST"])
def members(request, member):
    organisation = member.organisation
    form = PartnerMemberForm(request.POST or None) if member.is_admin else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                partners.add_member(
                    organisation,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                    email=form.cleaned_data["email"],
                    is_admin=form.cleaned_data["is_admin"],
                    by=request.user,
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(
                    request, _("The member is added; they set up their second factor at first login.")
                )
                return redirect("backoffice:partner_members")
    return render(
        request,
        "backoffice/partner_members.html",
        {"member": member, "members": organisation.members.select_related("user"), "form": form},
    )


@require_POST
@partner_required
def deactivate_member(request, member, member_id: int):
    target = get_object_or_404(PartnerMember, pk=member_id, organisation=member.organisation)
    try:
        partners.deactivate_member(target, by=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The member can no longer act for the organisation."))
    return redirect("backoffice:partner_members")


def _mandate_for(request, mandate_id: int) -> Mandate:
    """A mandate the user may act on: their organisation's, or one on a request of their prefecture."""
    mandate = Mandate.objects.select_related("organisation", "request").filter(pk=mandate_id).first()
    if mandate is None:
        raise Http404
    if permissions.has_role(request.user, mandate.request.prefecture_id, Role.AGENT):
        return mandate
    member = permissions.partner_member(request.user)
    if member is not None and member.organisation_id == mandate.organisation_id:
        return mandate
    raise Http404


@verified_required
@require_http_methods(["GET", "POST"])
def revoke_mandate(request, mandate_id: int):
    mandate = _mandate_for(request, mandate_id)
    is_staff = permissions.has_role(request.user, mandate.request.prefecture_id, Role.AGENT)
    form = RevokeMandateForm(
        request.POST or None, initial={"revoked_by": "client" if is_staff else "organisation"}
    )
    if not is_staff:
        form.fields["revoked_by"].choices = [("organisation", _("the organisation"))]
    if request.method == "POST" and form.is_valid():
        try:
            partners.revoke_mandate(
                mandate,
                revoked_by=form.cleaned_data["revoked_by"],
                reason=form.cleaned_data["reason"],
                by=request.user,
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The mandate is revoked."))
            if is_staff:
                return redirect("backoffice:request", reference=mandate.request.reference)
            return redirect("backoffice:partner_home")
    return render(
        request,
        "backoffice/action.html",
        {
            "req": mandate.request,
            "form": form,
            "title": _("Revoke the mandate of %(org)s") % {"org": mandate.organisation},
        },
    )


@verified_required
def mandate_form(request, mandate_id: int):
    mandate = _mandate_for(request, mandate_id)
    if not mandate.consent_form:
        raise Http404
    accounts.record_access(
        request.user,
        AccessKind.OPENED,
        channel=AccessChannel.PAGE,
        request=mandate.request,
        detail=f"consent form of mandate {mandate.pk}",
    )
    extension = mandate.consent_form.name.rsplit(".", 1)[-1]
    response = FileResponse(
        mandate.consent_form.open("rb"),
        content_type=mandate.consent_form_type or "application/octet-stream",
        as_attachment=True,
        filename=f"mandate-{mandate.request.reference}-{mandate.pk}.{extension}",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
def apply(request):
    """An organisation applies (no account yet); a prefecture administrator decides."""
    form = ApplyForm(request.POST or None)
    if request.method == "POST" and not throttle.allow(
        "partner-apply", client_address(request), limit=APPLICATIONS_PER_HOUR, window=3600
    ):
        form.is_valid()
        form.add_error(None, _("Too many applications from this address. Try again in an hour."))
        return render(request, "backoffice/partner_apply.html", {"form": form}, status=429)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            partners.apply(
                data["prefecture"],
                name=data["name"],
                kind=data["kind"],
                email=data["email"],
                phone=data["phone"],
                address=data["address"],
                registration_number=data["registration_number"],
                contact_username=data["contact_username"],
                contact_password=data["contact_password"],
                contact_email=data["contact_email"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return render(request, "backoffice/partner_applied.html", {"prefecture": data["prefecture"]})
    return render(request, "backoffice/partner_apply.html", {"form": form})
