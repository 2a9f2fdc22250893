"""Login in two steps (password, then a TOTP or recovery code), first-time 2FA enrolment, logout, and the
account page (recovery codes, API tokens).

Between the two steps the session holds only the id of the account being verified, for a few minutes; the
user is logged in (Django's login()) only once the second factor is checked.
"""

import datetime
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model, login, logout
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from guichet.accounts import permissions, throttle, twofactor
from guichet.accounts import services as accounts
from guichet.accounts.models import ApiToken
from guichet.errors import DomainError

from ..decorators import verified_required
from ..forms import CodeForm, EnrolForm, LoginForm, TokenForm

PENDING_USER = "guichet_pending_user"
PENDING_AT = "guichet_pending_at"
PENDING_NEXT = "guichet_pending_next"
ENROL_SECRET = "guichet_enrol_secret"  # noqa: S105 — a session key, not a secret
PENDING_SECONDS = 300


def client_address(request) -> str:
    """The client's address; behind TRUSTED_PROXY_HOPS proxies (a setting of the public pages), the one
    they saw."""
    address = request.META.get("REMOTE_ADDR", "")
    hops = int(getattr(settings, "TRUSTED_PROXY_HOPS", 0) or 0)
    if hops:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= hops:
            address = forwarded[-hops]
    return address[:64]


def _lock_message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return _("Too many failed attempts. Try again in %(minutes)d minutes.") % {"minutes": minutes}


def has_backoffice_access(user) -> bool:
    return (
        permissions.is_staff_member(user)
        or permissions.is_platform_admin(user)
        or permissions.partner_member(user) is not None
    )


def safe_next(request, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def begin_second_factor(request, user, next_url: str = ""):
    """After a password is checked (or set through a one-time link): the second factor comes next, never a
    session. A first login enrols the authenticator."""
    if request.user.is_authenticated:
        logout(request)
    request.session.cycle_key()
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_AT] = int(time.time())
    request.session[PENDING_NEXT] = next_url
    profile = accounts.ensure_profile(user)
    return redirect("backoffice:enrol" if not profile.has_2fa else "backoffice:verify")


def _pending_user(request):
    user_id = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_AT, 0)
    if not user_id or time.time() - started > PENDING_SECONDS:
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return user


def _clear_pending(request) -> None:
    for key in (PENDING_USER, PENDING_AT, ENROL_SECRET):
        request.session.pop(key, None)


def finish_login(request, user):
    next_url = request.session.get(PENDING_NEXT, "")
    _clear_pending(request)
    request.session.pop(PENDING_NEXT, None)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[permissions.SESSION_2FA_KEY] = True
    throttle.reset(user.get_username())
    return next_url or default_home(user)


def default_home(user) -> str:
    if permissions.partner_member(user) is not None and not permissions.is_staff_member(user):
        return reverse("backoffice:partner_home")
    return reverse("backoffice:home")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request):
    expired = request.session.pop("guichet_session_expired", False)
    if request.user.is_authenticated and request.session.get(permissions.SESSION_2FA_KEY):
        return redirect(default_home(request.user))
    form = LoginForm(request.POST or None)
    error = ""
    address = client_address(request)
    if request.method == "POST" and form.is_valid():
        username = form.cleaned_data["username"]
        locked = throttle.locked_for(username, address)
        if locked:
            error = _lock_message(locked)
        else:
            user = authenticate(request, username=username, password=form.cleaned_data["password"])
            if user is None or not has_backoffice_access(user):
                if throttle.register_failure(username, address):
                    error = _lock_message(throttle.locked_for(username, address))
                else:
                    error = _("Wrong username or password.")
            else:
                return begin_second_factor(
                    request, user, safe_next(request, request.POST.get("next") or request.GET.get("next"))
                )
    return render(
        request,
        "backoffice/login.html",
        {
            "form": form,
            "error": error,
            "expired": expired,
            "next": safe_next(request, request.GET.get("next")),
            "proconnect": settings.PROCONNECT_ENABLED,
        },
        status=200 if not error else 400,
    )


@csrf_protect
@never_cache
def verify_view(request):
    user = _pending_user(request)
    if user is None:
        _clear_pending(request)
        return redirect("backoffice:login")
    profile = accounts.ensure_profile(user)
    if not profile.has_2fa:
        return redirect("backoffice:enrol")
    form = CodeForm(request.POST or None)
    error = ""
    address = client_address(request)
    if request.method == "POST" and form.is_valid():
        locked = throttle.locked_for(user.get_username(), address)
        code = form.cleaned_data["code"].strip()
        if locked:
            _clear_pending(request)
            error = _lock_message(locked)
        elif twofactor.verify_and_consume(profile, code) or (
            len(code.replace("-", "").replace(" ", "")) >= 16 and twofactor.use_recovery_code(user, code)
        ):
            used_recovery = len(code) > 8
            target = finish_login(request, user)
            if used_recovery:
                messages.warning(
                    request,
                    _("You used a recovery code; %(n)d remain. Make new ones on your account page.")
                    % {"n": twofactor.remaining_recovery_codes(user)},
                )
            return redirect(target)
        else:
            if throttle.register_failure(user.get_username(), address):
                _clear_pending(request)
                error = _lock_message(throttle.locked_for(user.get_username(), address))
            else:
                error = _("This code is not valid. Type the current code, or a recovery code.")
    return render(
        request, "backoffice/verify.html", {"form": form, "error": error}, status=400 if error else 200
    )


@csrf_protect
@never_cache
def enrol_view(request):
    """First login: set up the authenticator app (QR code), prove it with a code, get recovery codes."""
    user = _pending_user(request)
    if user is None:
        _clear_pending(request)
        return redirect("backoffice:login")
    profile = accounts.ensure_profile(user)
    if profile.has_2fa:
        return redirect("backoffice:verify")
    secret = request.session.get(ENROL_SECRET)
    if not secret:
        secret = twofactor.new_secret()
        request.session[ENROL_SECRET] = secret
    form = EnrolForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        address = client_address(request)
        locked = throttle.locked_for(user.get_username(), address)
        if locked:
            _clear_pending(request)
            return render(
                request,
                "backoffice/login.html",
                {"form": LoginForm(), "error": _lock_message(locked)},
                status=400,
            )
        try:
            codes = accounts.confirm_enrolment(user, secret, form.cleaned_data["code"])
        except DomainError as exc:
            throttle.register_failure(user.get_username(), address)
            error = str(exc.message)
        else:
            target = finish_login(request, user)
            return render(request, "backoffice/recovery_codes.html", {"codes": codes, "next_url": target})
    uri = twofactor.provisioning_uri(user.get_username(), secret)
    return render(
        request,
        "backoffice/enrol.html",
        {
            "form": form,
            "error": error,
            "qr_svg": twofactor.qr_svg(uri),
            "secret": secret,
            "uri": uri,
            "action_url": reverse("backoffice:enrol"),
        },
        status=400 if error else 200,
    )


@require_POST
def logout_view(request):
    logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("backoffice:login")


def _token_scopes(user) -> list[tuple[str, str]]:
    scopes = [(f"prefecture:{p.code}", str(p)) for p in permissions.prefectures_for(user)]
    member = permissions.partner_member(user)
    if member is not None:
        scopes.append((f"organisation:{member.organisation_id}", str(member.organisation)))
    return scopes


@verified_required
@never_cache
def account_view(request):
    user = request.user
    profile = accounts.ensure_profile(user)
    scopes = _token_scopes(user)
    token_form = TokenForm(scopes=scopes, prefix="token")
    new_token = None
    codes = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "token":
            token_form = TokenForm(request.POST, scopes=scopes, prefix="token")
            if token_form.is_valid():
                kind, _sep, value = token_form.cleaned_data["scope"].partition(":")
                prefecture = organisation = None
                if kind == "prefecture":
                    prefecture = permissions.prefectures_for(user).get(code=value)
                else:
                    organisation = permissions.partner_member(user).organisation
                days = token_form.cleaned_data.get("expires_in_days")
                expires = timezone.now() + datetime.timedelta(days=days) if days else None
                try:
                    _token, new_token = accounts.create_api_token(
                        user,
                        name=token_form.cleaned_data["name"],
                        prefecture=prefecture,
                        organisation=organisation,
                        expires_at=expires,
                    )
                except DomainError as exc:
                    token_form.add_error(None, str(exc.message))
        elif action == "recovery":
            code_form = CodeForm(request.POST)
            if code_form.is_valid() and twofactor.verify_and_consume(profile, code_form.cleaned_data["code"]):
                codes = accounts.regenerate_recovery_codes(user)
            else:
                messages.error(request, _("Type a current code from your app to make new recovery codes."))
                return redirect("backoffice:account")
    tokens = ApiToken.objects.filter(user=user).select_related("prefecture", "organisation")
    return render(
        request,
        "backoffice/account.html",
        {
            "profile": profile,
            "token_form": token_form,
            "tokens": tokens,
            "new_token": new_token,
            "codes": codes,
            "recovery_left": twofactor.remaining_recovery_codes(user),
            "code_form": CodeForm(),
            "now": timezone.now(),
        },
    )


@require_POST
@verified_required
def revoke_token_view(request, token_id: int):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    accounts.revoke_api_token(token, by=request.user)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("backoffice:account")
