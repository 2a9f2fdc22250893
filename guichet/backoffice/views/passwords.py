"""Passwords and authenticators that their owners manage: the invitation or reset link, a forgotten
password, a password change, and a new authenticator set up after logging in with a recovery code.

Services: guichet/accounts/passwords.py (links, passwords, deactivation) and accounts.services (enrolment).
"""

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from guichet.accounts import passwords, throttle, twofactor
from guichet.accounts import services as accounts
from guichet.errors import DomainError

from ..decorators import verified_required
from ..forms import ChangePasswordForm, ForgotPasswordForm, ReenrolForm, SetPasswordForm
from .auth import begin_second_factor, client_address
from .staff import apply_domain_error

REENROL_SECRET = "guichet_reenrol_secret"  # noqa: S105 — a session key, not a secret
# Reset requests per client address and hour: enough for a person, too few to mail-bomb anyone.
RESETS_PER_HOUR = 5


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def forgot_view(request):
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not throttle.allow("password-reset", client_address(request), limit=RESETS_PER_HOUR, window=3600):
            form.add_error(None, _("Too many requests from this connection. Try again in an hour."))
        else:
            passwords.request_reset(form.cleaned_data["identifier"], language=get_language())
            # The same answer whether or not the account exists: addresses cannot be probed.
            return render(request, "backoffice/password_forgot.html", {"sent": True})
    return render(
        request, "backoffice/password_forgot.html", {"form": form}, status=400 if form.errors else 200
    )


@sensitive_post_parameters("password", "confirmation")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def set_password_view(request, uidb64: str, token: str):
    user = passwords.user_for_link(uidb64, token)
    if user is None:
        # Not found: a wrong, used or expired link opens nothing, and says so.
        return render(request, "backoffice/password_set.html", {"invalid": True}, status=404)
    form = SetPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            passwords.set_password(user, form.cleaned_data["password"], form.cleaned_data["confirmation"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("Your password is set. Now the second factor."))
            return begin_second_factor(request, user)
    invitation = request.GET.get("purpose") == passwords.INVITATION
    return render(
        request,
        "backoffice/password_set.html",
        {"form": form, "account": user, "invitation": invitation},
        status=400 if form.errors else 200,
    )


@sensitive_post_parameters("current", "password", "confirmation")
@verified_required
@never_cache
@require_http_methods(["GET", "POST"])
def change_password_view(request):
    form = ChangePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            passwords.change_password(request.user, data["current"], data["password"], data["confirmation"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            # The other sessions of the account end; this one goes on.
            update_session_auth_hash(request, request.user)
            messages.success(request, _("Your password is changed."))
            return redirect("backoffice:account")
    return render(
        request, "backoffice/password_change.html", {"form": form}, status=400 if form.errors else 200
    )


@verified_required
@never_cache
@require_http_methods(["GET", "POST"])
def reenrol_view(request):
    """A new authenticator, for a verified session (typically opened with a recovery code after the phone
    was lost): the old key stops working once the new one is proved with a code."""
    secret = request.session.get(REENROL_SECRET) or twofactor.new_secret()
    request.session[REENROL_SECRET] = secret
    form = ReenrolForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        codes, error = _reenrol(request, secret, form.cleaned_data)
        if codes:
            request.session.pop(REENROL_SECRET, None)
            messages.success(request, _("Your new authenticator is set up; the old one no longer works."))
            return render(
                request,
                "backoffice/recovery_codes.html",
                {"codes": codes, "next_url": reverse("backoffice:account")},
            )
    uri = twofactor.provisioning_uri(request.user.get_username(), secret)
    return render(
        request,
        "backoffice/enrol.html",
        {
            "form": form,
            "error": error,
            "qr_svg": twofactor.qr_svg(uri),
            "secret": secret,
            "uri": uri,
            "action_url": reverse("backoffice:reenrol"),
        },
        status=400 if error else 200,
    )


def _reenrol(request, secret: str, data: dict) -> tuple[list[str], str]:
    """(new recovery codes, "") once the password and the new app's code are right, else ([], why)."""
    username, address = request.user.get_username(), client_address(request)
    # A session left open is not enough to replace the authenticator: the password is asked too, and
    # failures count towards the account's lockout like failed logins.
    if throttle.locked_for(username, address) or not request.user.check_password(data["current"]):
        throttle.register_failure(username, address)
        return [], _("This is not your current password.")
    try:
        return accounts.confirm_enrolment(request.user, secret, data["code"]), ""
    except DomainError as exc:
        throttle.register_failure(username, address)
        return [], str(exc.message)
