"""Demo staff accounts for `manage.py demo`: one per role in a prefecture, plus a partner organisation.

Decision (docs/backoffice.md): there is no way around the second factor, even in DEBUG. Demo accounts are
created already enrolled, with a secret stored like any other, and flagged `is_demo`; whoever runs the demo
gets the current code with `manage.py staff_totp <username>` (refused for any account that is not a demo
account), or adds the printed otpauth:// URI to an authenticator app. Passwords are fixed and printed:
never run the demo in production.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from guichet.catalog.models import Prefecture
from guichet.partners.models import OrganisationKind, OrganisationStatus, PartnerMember, PartnerOrganisation

from . import twofactor
from .models import Membership, Role, StaffProfile

DEMO_ROLES = (
    ("agent", Role.AGENT),
    ("manager", Role.MANAGER),
    ("admin", Role.PREFECTURE_ADMIN),
)


def demo_password(username: str) -> str:
    return f"{username}-demo-password"


def _demo_user(username: str, email: str):
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if created or not user.check_password(demo_password(username)):
        user.set_password(demo_password(username))
        user.is_active = True
        user.save()
    profile, _ = StaffProfile.objects.get_or_create(user=user)
    if not profile.has_2fa:
        profile.totp_secret = twofactor.new_secret()
        profile.totp_confirmed_at = timezone.now()
    profile.is_demo = True
    profile.save()
    return user


@transaction.atomic
def create_demo_staff(prefecture: Prefecture) -> list[tuple[str, str, str]]:
    """(username, password, role) of the demo accounts of `prefecture`; idempotent.

    Roles: agent, manager, prefecture_admin, and "partner" for a member of an approved demo organisation.
    """

    accounts = []
    for label, role in DEMO_ROLES:
        username = f"{label}-{prefecture.code.lower()}"
        user = _demo_user(username, f"{username}@guichet.localhost")
        Membership.objects.update_or_create(user=user, prefecture=prefecture, defaults={"role": role})
        accounts.append((username, demo_password(username), str(role)))
    organisation, _ = PartnerOrganisation.objects.get_or_create(
        prefecture=prefecture,
        name="Association Accès aux droits (démo)",
        defaults={
            "kind": OrganisationKind.ASSOCIATION,
            "email": f"asso-{prefecture.code.lower()}@guichet.localhost",
            "status": OrganisationStatus.APPROVED,
            "applied_at": timezone.now(),
            "decided_at": timezone.now(),
            "decision_reason": "demo",
        },
    )
    username = f"partner-{prefecture.code.lower()}"
    user = _demo_user(username, f"{username}@guichet.localhost")
    PartnerMember.objects.get_or_create(user=user, defaults={"organisation": organisation, "is_admin": True})
    accounts.append((username, demo_password(username), "partner"))
    return accounts


def demo_totp_uri(username: str) -> str:
    """The otpauth:// URI of a demo account (for an authenticator app); "" for any other account."""
    profile = StaffProfile.objects.filter(user__username=username, is_demo=True).first()
    if profile is None or not profile.totp_secret:
        return ""
    return twofactor.provisioning_uri(username, profile.totp_secret)
