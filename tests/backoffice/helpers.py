"""Accounts, sessions and requests for the back office, partner and staff API tests."""

from __future__ import annotations

import datetime
import itertools

import pyotp
from django.contrib.auth import get_user_model
from django.utils import timezone

from guichet.accounts import permissions
from guichet.accounts.models import Membership, StaffProfile
from guichet.catalog.models import Prefecture
from guichet.partners.models import OrganisationStatus, PartnerMember, PartnerOrganisation
from guichet.waitlist.models import Channel

PASSWORD = "correct horse battery staple"  # noqa: S105
_numbers = itertools.count(1)


def account(username: str | None = None, *, enrolled: bool = True, **extra):
    username = username or f"user{next(_numbers)}"
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.org", **extra
    )
    profile = StaffProfile.objects.create(user=user)
    if enrolled:
        profile.totp_secret = pyotp.random_base32()
        profile.totp_confirmed_at = timezone.now()
        profile.save()
    return user


def staff(prefecture: Prefecture, role: str = "agent", username: str | None = None, **kwargs):
    user = account(username, **kwargs)
    Membership.objects.create(user=user, prefecture=prefecture, role=role)
    return user


def partner(
    prefecture: Prefecture, *, name: str | None = None, username: str | None = None, admin: bool = True
):
    """An approved organisation of `prefecture` and one enrolled member; returns (organisation, user)."""
    organisation = PartnerOrganisation.objects.create(
        prefecture=prefecture,
        name=name or f"Association {next(_numbers)}",
        kind="association",
        email=f"contact{next(_numbers)}@asso.example.org",
        status=OrganisationStatus.APPROVED,
        applied_at=timezone.now(),
    )
    user = account(username)
    PartnerMember.objects.create(organisation=organisation, user=user, is_admin=admin)
    return organisation, user


def code_for(user, offset_steps: int = 0) -> str:
    secret = StaffProfile.objects.get(user=user).totp_secret
    return pyotp.TOTP(secret).at(timezone.now().timestamp() + 30 * offset_steps)


def verified_login(client, user) -> None:
    """A session as after password and second factor."""
    client.force_login(user)
    session = client.session
    session[permissions.SESSION_2FA_KEY] = True
    session.save()


def intake_raw(
    world, *, family: str = "Dupont", given: str = "Céline", birth: str = "1990-05-17", **extra
) -> dict:
    raw = {
        "procedure": world.procedures["first"].code,
        "family_names": family,
        "given_names": given,
        "birth_date": birth,
        "nationality": "DZ",
        "email": f"{family.lower()}@example.org",
        "language": "fr",
    }
    raw.update(extra)
    return raw


def file(
    world, *, channel: str = Channel.WEB, received_at: datetime.datetime | None = None, user=None, **raw
):
    """A request filed through the real intake (validate_intake + file_request)."""
    from guichet.evidence.audit import APPLICANT, Actor
    from guichet.waitlist.services import file_request
    from guichet.waitlist.validation import validate_intake

    data = validate_intake(intake_raw(world, **raw), world.prefecture, channel=channel)
    actor = APPLICANT if user is None else Actor("staff", user.username, user.pk)
    return file_request(
        data,
        prefecture=world.prefecture,
        channel=channel,
        actor=actor,
        received_at=received_at,
        created_by=user,
    ).request
