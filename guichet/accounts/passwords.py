"""Passwords of staff accounts: invitations and resets by a one-time link sent by email, changes by the
owner, and deactivation. Each change is audited; no password or link enters the audit log.

The link carries Django's password-reset token, which is bound to the account's current password hash and
last login: it works once (setting the password changes the hash) and for PASSWORD_RESET_TIMEOUT seconds.
Setting a password never logs anyone in: the person then passes the second factor as at every login
(a new account enrols its authenticator first), so a stolen mailbox alone opens nothing.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from guichet.catalog.models import Prefecture
from guichet.errors import Conflict, Forbidden, InvalidInput
from guichet.evidence import audit

from . import permissions
from .models import ApiToken, Membership, Role
from .services import _audit, account_errors, can_manage_accounts, ensure_profile, set_membership

User = get_user_model()
logger = logging.getLogger(__name__)

INVITATION = "invitation"
RESET = "reset"


def link_for(user, purpose: str, language: str) -> str:
    """The absolute one-time address where `user` sets a password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    with translation.override(language):
        path = reverse("backoffice:set_password", args=[uid, token])
    return f"{settings.SITE_URL.rstrip('/')}{path}?purpose={purpose}"


def user_for_link(uidb64: str, token: str):
    """The active account a link was made for, or None when the link is wrong, used or expired."""
    try:
        user = User.objects.get(pk=int(force_str(urlsafe_base64_decode(uidb64))), is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        return None
    return user if default_token_generator.check_token(user, token) else None


def _send_link(user, purpose: str, language: str) -> None:
    link = link_for(user, purpose, language)
    with translation.override(language):
        if purpose == INVITATION:
            subject = _("Your Guichet account")
            body = _(
                "An account was opened for you in the back office of Guichet (username: %(username)s).\n\n"
                "Choose your password at this address (it works once, for %(days)s days):\n%(link)s\n\n"
                "You will then set up an authenticator app on your phone: it gives the second factor asked "
                "at every login."
            ) % {"username": user.get_username(), "link": link, "days": _link_days()}
        else:
            subject = _("Reset your Guichet password")
            body = _(
                "Someone asked to reset the password of your Guichet account (username: %(username)s).\n\n"
                "Choose a new password at this address (it works once, for %(days)s days):\n%(link)s\n\n"
                "The code of your authenticator app will still be asked. If you did not ask for this, "
                "ignore this message: your password has not changed."
            ) % {"username": user.get_username(), "link": link, "days": _link_days()}
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


def _link_days() -> int:
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)


def invite(
    username: str,
    *,
    email: str,
    role: str,
    prefecture: Prefecture,
    by,
    first_name: str = "",
    last_name: str = "",
    language: str = "fr",
):
    """A new account of `prefecture` with `role` and no password yet; its owner gets a one-time link by email
    to choose one, then enrols the second factor at the first login."""
    if not can_manage_accounts(by, prefecture):
        raise Forbidden("forbidden", _("You cannot manage the accounts of this prefecture."))
    username = (username or "").strip()
    errors = {
        field: messages
        for field, messages in account_errors(username, "", email=email).items()
        if field != "password"
    }
    if not email:
        errors["email"] = [_("Give the email address the invitation is sent to.")]
    if errors:
        raise InvalidInput("invalid", _("The account could not be created."), fields=errors)
    with transaction.atomic():
        # No password: create_user makes it unusable until the owner chooses one through the link.
        user = User.objects.create_user(
            username=username, email=email, first_name=first_name, last_name=last_name
        )
        ensure_profile(user)
        _audit(prefecture.code, "account.invited", user, by)
        set_membership(user, prefecture, role, by=by)
        # Last, inside the transaction: an invitation that could not be sent leaves no account behind.
        try:
            _send_link(user, INVITATION, language)
        except (OSError, smtplib.SMTPException) as exc:
            raise Conflict(
                "mail_failed", _("The invitation could not be sent by email; nothing was created. Try again.")
            ) from exc
    return user


def request_reset(identifier: str, *, language: str) -> None:
    """Send a reset link to the account named by `identifier` (username or email), if it is an active staff
    or partner account with an address. Says nothing either way: the page answers the same for all."""
    identifier = (identifier or "").strip()
    if not identifier:
        return
    accounts = User.objects.filter(is_active=True).filter(username__iexact=identifier) | User.objects.filter(
        is_active=True, email__iexact=identifier
    )
    for user in accounts.distinct()[:5]:
        if user.email and (
            permissions.is_staff_member(user)
            or permissions.is_platform_admin(user)
            or permissions.partner_member(user) is not None
        ):
            try:
                _send_link(user, RESET, language)
            except (OSError, smtplib.SMTPException):
                logger.warning("password reset mail to account %s could not be sent", user.pk)
                continue
            with transaction.atomic():
                _audit(audit.PLATFORM_CHAIN, "account.password_reset_sent", user, None)


def password_errors(user, password: str, confirmation: str) -> dict[str, list]:
    errors: dict[str, list] = {}
    if password != confirmation:
        errors["confirmation"] = [_("The two passwords differ.")]
    try:
        password_validation.validate_password(password or "", user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    return errors


def set_password(user, password: str, confirmation: str) -> None:
    """Set the password of the account a valid link was made for (the link then stops working)."""
    errors = password_errors(user, password, confirmation)
    if errors:
        raise InvalidInput("invalid_password", _("The password was not changed."), fields=errors)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        _audit(audit.PLATFORM_CHAIN, "account.password_set", user, user)


def change_password(user, current: str, password: str, confirmation: str) -> None:
    """The owner changes their password, knowing the current one."""
    if not user.check_password(current or ""):
        raise InvalidInput(
            "wrong_password",
            _("The password was not changed."),
            fields={"current": [_("This is not your current password.")]},
        )
    set_password(user, password, confirmation)


def _may_manage(by, user) -> bool:
    memberships = list(Membership.objects.filter(user=user).values_list("prefecture_id", flat=True))
    if permissions.is_platform_admin(by):
        return True
    # Only an administrator of every prefecture the person works for may switch the whole account off.
    return bool(memberships) and all(
        permissions.has_role(by, prefecture_id, Role.PREFECTURE_ADMIN) for prefecture_id in memberships
    )


def set_active(user, active: bool, *, by) -> None:
    """Deactivate an account (it can no longer log in, its sessions and tokens stop working) or reactivate
    it. Its history stays: accounts are never deleted, the audit log names them."""
    if user.pk == getattr(by, "pk", None):
        raise Forbidden("forbidden", _("You cannot deactivate your own account."))
    if not _may_manage(by, user):
        raise Forbidden("forbidden", _("You cannot manage this account."))
    with transaction.atomic():
        user.is_active = active
        user.save(update_fields=["is_active"])
        if not active:
            ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
        chains = sorted(
            {m.prefecture.code for m in Membership.objects.filter(user=user).select_related("prefecture")}
        ) or [audit.PLATFORM_CHAIN]
        for chain in chains:
            _audit(chain, "account.activated" if active else "account.deactivated", user, by)
