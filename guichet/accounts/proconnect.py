"""ProConnect (the State's OpenID Connect for agents): who may log in through it, and whether their identity
provider already checked a second factor.

The authorisation code flow itself is mozilla-django-oidc's (state, nonce, PKCE, the ID token's signature
checked against the provider's JWK set). This backend only decides who the verified identity is here:
- an existing, active account with that email address (compared without case), exactly one; no account is
  ever created (`OIDC_CREATE_USER = False`): roles are given by a prefecture's administrator;
- a member of at least one prefecture's staff, and only of prefectures that turned ProConnect on (a
  prefecture that did not never sees a ProConnect session on its data);
- never a platform administrator (they log in with their password and Guichet's second factor).

The second factor: when the ID token says the agent passed multi-factor authentication at their provider
(`amr` holds one of PROCONNECT_MFA_AMR, or `acr` is one of PROCONNECT_MFA_ACR), the session counts as past
the second factor; otherwise Guichet's own step follows (the authenticator code, or its enrolment).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from . import permissions
from .models import Membership

logger = logging.getLogger(__name__)

# Why the last ProConnect login of this browser was refused, for the login page to say (session key).
REFUSAL_KEY = "guichet_proconnect_refusal"
REFUSALS = {
    "no_account": _(
        "No Guichet account has the email address your ProConnect account gave. Ask your prefecture's "
        "administrator to invite you with that address."
    ),
    "not_open": _("Your prefecture has not opened the login with ProConnect. Log in with your password."),
    "not_staff": _("Only the prefecture's staff may log in with ProConnect."),
    "platform_admin": _("Platform administrators log in with their password and second factor."),
}


def refusal(user) -> str | None:
    """Why this account may not log in through ProConnect (a key of REFUSALS), or None."""
    if permissions.is_platform_admin(user):
        return "platform_admin"
    memberships = Membership.objects.filter(user=user)
    if not memberships.exists():
        return "not_staff"
    if memberships.filter(prefecture__proconnect_enabled=False).exists():
        return "not_open"
    return None


def second_factor_done(claims: dict) -> bool:
    """Whether the ID token says the agent passed multi-factor authentication at their provider."""
    methods = claims.get("amr") or []
    if isinstance(methods, str):
        methods = [methods]
    return bool(set(methods) & set(settings.PROCONNECT_MFA_AMR)) or (
        claims.get("acr") in settings.PROCONNECT_MFA_ACR
    )


class ProConnectBackend(OIDCAuthenticationBackend):
    def verify_claims(self, claims) -> bool:
        return bool(claims.get("email"))

    def filter_users_by_claims(self, claims):
        return get_user_model().objects.filter(email__iexact=claims["email"].strip(), is_active=True)

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        reason = "no_account" if user is None else refusal(user)
        if reason is not None:
            logger.info("ProConnect login refused: %s", reason)
            self.request.session[REFUSAL_KEY] = reason
            return None
        # Read by the callback view: the verified ID token's claims, not the userinfo answer.
        user.proconnect_second_factor = second_factor_done(payload)
        return user
