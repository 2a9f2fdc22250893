"""Administration pages: a prefecture's staff and partner organisations; the platform's administrators."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guichet.accounts import passwords, permissions
from guichet.accounts import services as accounts
from guichet.accounts.models import Membership, Role
from guichet.catalog.models import Prefecture
from guichet.errors import DomainError
from guichet.forms import apply_domain_error
from guichet.partners import services as partners
from guichet.partners.models import PartnerOrganisation

from ..decorators import platform_admin_required, prefecture_role
from ..forms import DecisionForm, InvitationForm, MembershipForm, PrefectureAdminInvitationForm

User = get_user_model()


@prefecture_role(Role.PREFECTURE_ADMIN)
@require_http_methods(["GET", "POST"])
def members(request, prefecture):
    role_form = MembershipForm(request.POST if request.POST.get("action") == "role" else None, prefix="role")
    invite_form = InvitationForm(
        request.POST if request.POST.get("action") == "invite" else None, prefix="invite"
    )
    if request.method == "POST":
        if request.POST.get("action") == "invite" and invite_form.is_valid():
            data = invite_form.cleaned_data
            try:
                user = passwords.invite(
                    data["username"],
                    email=data["email"],
                    role=data["role"],
                    prefecture=prefecture,
                    by=request.user,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    language=get_language(),
                )
            except DomainError as exc:
                apply_domain_error(invite_form, exc)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s for %(name)s.")
                    % {"email": user.email, "name": user.get_username()},
                )
                return redirect("backoffice:members", code=prefecture.code)
        if request.POST.get("action") == "role" and role_form.is_valid():
            user = User.objects.filter(username__iexact=role_form.cleaned_data["username"]).first()
            if user is None:
                role_form.add_error("username", _("No account has this username."))
            else:
                try:
                    accounts.set_membership(user, prefecture, role_form.cleaned_data["role"], by=request.user)
                except DomainError as exc:
                    apply_domain_error(role_form, exc)
                else:
                    messages.success(request, _("Role changed."))
                    return redirect("backoffice:members", code=prefecture.code)
        if request.POST.get("action") == "proconnect" and settings.PROCONNECT_ENABLED:
            enabled = request.POST.get("enabled") == "1"
            accounts.set_proconnect(prefecture, enabled, by=request.user)
            messages.success(
                request,
                _("The login with ProConnect is open.")
                if enabled
                else _("The login with ProConnect is stopped."),
            )
            return redirect("backoffice:members", code=prefecture.code)
    memberships = Membership.objects.filter(prefecture=prefecture).select_related("user", "user__guichet")
    return render(
        request,
        "backoffice/members.html",
        {
            "prefecture": prefecture,
            "memberships": memberships,
            "role_form": role_form,
            "invite_form": invite_form,
            "proconnect": settings.PROCONNECT_ENABLED,
        },
    )


@require_POST
@prefecture_role(Role.PREFECTURE_ADMIN)
def member_action(request, prefecture, user_id: int):
    membership = get_object_or_404(Membership, prefecture=prefecture, user_id=user_id)
    action = request.POST.get("action")
    try:
        if action == "remove":
            accounts.remove_membership(membership.user, prefecture, by=request.user)
            messages.success(request, _("The account no longer belongs to this prefecture."))
        elif action in ("deactivate", "activate"):
            passwords.set_active(membership.user, action == "activate", by=request.user)
            messages.success(
                request,
                _("The account is deactivated.")
                if action == "deactivate"
                else _("The account is active again."),
            )
        elif action == "reset_2fa":
            accounts.reset_2fa(membership.user, by=request.user)
            messages.success(
                request, _("The second factor is reset; the person sets it up again at next login.")
            )
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("backoffice:members", code=prefecture.code)


@prefecture_role(Role.PREFECTURE_ADMIN)
def partner_list(request, prefecture):
    organisations = PartnerOrganisation.objects.filter(prefecture=prefecture).order_by("status", "name")
    return render(
        request, "backoffice/partner_list.html", {"prefecture": prefecture, "organisations": organisations}
    )


@prefecture_role(Role.PREFECTURE_ADMIN)
@require_http_methods(["GET", "POST"])
def partner_detail(request, prefecture, organisation_id: int):
    organisation = get_object_or_404(PartnerOrganisation, pk=organisation_id, prefecture=prefecture)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
        try:
            if decision == "suspend":
                partners.suspend(organisation, by=request.user, reason=reason)
            else:
                partners.decide(organisation, approve=decision == "approve", by=request.user, reason=reason)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Decision recorded."))
            return redirect(
                "backoffice:partner_detail", code=prefecture.code, organisation_id=organisation.pk
            )
    return render(
        request,
        "backoffice/partner_detail.html",
        {
            "prefecture": prefecture,
            "organisation": organisation,
            "form": form,
            "members": organisation.members.select_related("user"),
            "mandate_count": organisation.mandates.filter(status="active").count(),
        },
    )


@platform_admin_required
@require_http_methods(["GET", "POST"])
def platform(request):
    """The platform administrator names each prefecture's administrators, by invitation: the person chooses
    their own password through a one-time link (nobody else ever knows it)."""
    form = PrefectureAdminInvitationForm(request.POST or None, prefix="new")
    if request.method == "POST" and form.is_valid():
        prefecture = Prefecture.objects.filter(code=form.cleaned_data["prefecture"].strip().upper()).first()
        if prefecture is None:
            form.add_error("prefecture", _("No prefecture has this code."))
        else:
            data = form.cleaned_data
            try:
                user = passwords.invite(
                    data["username"],
                    email=data["email"],
                    role=Role.PREFECTURE_ADMIN,
                    prefecture=prefecture,
                    by=request.user,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    language=get_language(),
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Invitation sent to %(email)s for %(name)s.")
                    % {"email": user.email, "name": user.get_username()},
                )
                return redirect("backoffice:platform")
    prefectures = Prefecture.objects.all()
    admins = Membership.objects.filter(role=Role.PREFECTURE_ADMIN).select_related("user", "prefecture")
    by_prefecture: dict[int, list] = {}
    for membership in admins:
        by_prefecture.setdefault(membership.prefecture_id, []).append(membership.user)
    rows = [{"prefecture": p, "admins": by_prefecture.get(p.pk, [])} for p in prefectures]
    return render(
        request,
        "backoffice/platform.html",
        {"rows": rows, "form": form, "is_platform_admin": permissions.is_platform_admin(request.user)},
    )
