"""Account services: staff accounts and roles, 2FA enrolment, API tokens. Each change is audited.

Changes to an account are written to the audit chain of the prefecture concerned (or "platform"), with the
person who made them; secrets never enter the audit log.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guichet.catalog.models import Prefecture
from guichet.errors import Conflict, Forbidden, InvalidInput
from guichet.evidence import audit
from guichet.evidence.audit import Actor, Change
from guichet.evidence.services import record_change

from . import permissions, twofactor
from .models import (
    ROLE_RANK,
    AccessChannel,
    AccessKind,
    AccessRecord,
    ApiToken,
    Membership,
    Role,
    StaffProfile,
)

User = get_user_model()
TOKEN_PREFIX = "gch_"  # noqa: S105 — the visible start of every token


def ensure_profile(user) -> StaffProfile:
    return StaffProfile.objects.get_or_create(user=user)[0]


def _actor(user) -> Actor:
    return permissions.actor_for(user) if user is not None else audit.SYSTEM


def _audit(chain: str, action: str, user, by, data: dict | None = None) -> None:
    record_change(
        chain,
        Change(action, "account", user.get_username(), _actor(by), data={"user_id": user.pk, **(data or {})}),
    )


def can_manage_accounts(by, prefecture: Prefecture) -> bool:
    return permissions.is_platform_admin(by) or permissions.has_role(by, prefecture, Role.PREFECTURE_ADMIN)


def account_errors(username: str, password: str, **fields) -> dict[str, list]:
    """What is wrong with a new account's username and password (field name → messages)."""
    username = (username or "").strip()
    errors: dict[str, list] = {}
    if not username:
        errors["username"] = [_("Give a username.")]
    elif len(username) > 150 or not all(ch.isalnum() or ch in "@.+-_" for ch in username):
        errors["username"] = [_("Use at most 150 letters, digits and @ . + - _ only.")]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = [_("This username is taken.")]
    try:
        password_validation.validate_password(password or "", User(username=username, **fields))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    return errors


def create_account(
    username: str,
    *,
    password: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    by=None,
    chain: str = audit.PLATFORM_CHAIN,
):
    """A new account with a checked password; 2FA is enrolled by its owner at the first login."""
    username = (username or "").strip()
    errors = account_errors(username, password, email=email, first_name=first_name, last_name=last_name)
    if errors:
        raise InvalidInput("invalid", _("The account could not be created."), fields=errors)
    with transaction.atomic():
        user = User.objects.create_user(
            username=username, email=email, password=password, first_name=first_name, last_name=last_name
        )
        ensure_profile(user)
        _audit(chain, "account.created", user, by)
    return user


def set_membership(user, prefecture: Prefecture, role: str, *, by) -> Membership:
    """Give `user` a role in `prefecture`. Prefecture administrators manage their prefecture; only the
    platform administrator names a prefecture administrator."""
    if role not in ROLE_RANK:
        raise InvalidInput("invalid_role", _("Unknown role."), fields={"role": [_("Unknown role.")]})
    if by is not None:
        if not can_manage_accounts(by, prefecture):
            raise Forbidden("forbidden", _("You cannot manage the accounts of this prefecture."))
        if role == Role.PREFECTURE_ADMIN and not (
            permissions.is_platform_admin(by) or permissions.has_role(by, prefecture, Role.PREFECTURE_ADMIN)
        ):
            raise Forbidden("forbidden", _("Only an administrator can name an administrator."))
    if hasattr(user, "partner_membership"):
        raise Conflict("partner_account", _("A partner account cannot be given a staff role."))
    with transaction.atomic():
        ensure_profile(user)
        membership, created = Membership.objects.update_or_create(
            user=user, prefecture=prefecture, defaults={"role": role}
        )
        _audit(prefecture.code, "account.role_set", user, by, {"role": role, "new": created})
    return membership


def remove_membership(user, prefecture: Prefecture, *, by) -> None:
    if by is not None and not can_manage_accounts(by, prefecture):
        raise Forbidden("forbidden", _("You cannot manage the accounts of this prefecture."))
    with transaction.atomic():
        deleted, _detail = Membership.objects.filter(user=user, prefecture=prefecture).delete()
        if deleted:
            # Tokens scoped to a prefecture the person left must not keep working.
            ApiToken.objects.filter(user=user, prefecture=prefecture, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            )
            _audit(prefecture.code, "account.role_removed", user, by)


def set_proconnect(prefecture: Prefecture, enabled: bool, *, by) -> None:
    """Let the prefecture's staff log in through ProConnect, or stop it (its administrators decide)."""
    if not can_manage_accounts(by, prefecture):
        raise Forbidden("forbidden", _("You cannot manage the accounts of this prefecture."))
    with transaction.atomic():
        changed = Prefecture.objects.filter(pk=prefecture.pk).exclude(proconnect_enabled=enabled)
        if changed.update(proconnect_enabled=enabled):
            record_change(
                prefecture.code,
                Change(
                    "prefecture.proconnect_set",
                    "prefecture",
                    prefecture.code,
                    _actor(by),
                    data={"value": enabled},
                ),
            )
    prefecture.proconnect_enabled = enabled


def set_platform_admin(user, value: bool, *, by) -> None:
    if by is not None and not permissions.is_platform_admin(by):
        raise Forbidden("forbidden", _("Only a platform administrator can do this."))
    with transaction.atomic():
        found = ensure_profile(user)
        found.is_platform_admin = value
        found.save(update_fields=["is_platform_admin"])
        _audit(audit.PLATFORM_CHAIN, "account.platform_admin_set", user, by, {"value": value})


def confirm_enrolment(user, secret: str, code: str) -> list[str]:
    """Turn on 2FA with `secret` once the owner proves it with a code; returns new recovery codes."""
    found = ensure_profile(user)
    step = twofactor.check_code(secret, code, last_step=None)
    if step is None:
        raise InvalidInput(
            "bad_code",
            _("This code does not match. Check the time on your phone and type the current code."),
            fields={"code": [_("This code does not match.")]},
        )
    with transaction.atomic():
        found.totp_secret = secret
        found.totp_confirmed_at = timezone.now()
        found.totp_last_step = step
        found.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])
        codes = twofactor.new_recovery_codes(user)
        _audit(audit.PLATFORM_CHAIN, "account.2fa_enrolled", user, user)
    return codes


def regenerate_recovery_codes(user) -> list[str]:
    with transaction.atomic():
        codes = twofactor.new_recovery_codes(user)
        _audit(audit.PLATFORM_CHAIN, "account.recovery_codes_renewed", user, user)
    return codes


def reset_2fa(user, *, by) -> None:
    """Forget an account's authenticator (lost phone): its owner enrols again at the next login."""
    allowed = permissions.is_platform_admin(by) or any(
        permissions.has_role(by, m.prefecture_id, Role.PREFECTURE_ADMIN)
        for m in Membership.objects.filter(user=user)
    )
    member = getattr(user, "partner_membership", None)
    if member is not None and permissions.has_role(
        by, member.organisation.prefecture_id, Role.PREFECTURE_ADMIN
    ):
        allowed = True
    if not allowed:
        raise Forbidden("forbidden", _("You cannot manage this account."))
    with transaction.atomic():
        found = ensure_profile(user)
        found.totp_secret = ""
        found.totp_confirmed_at = None
        found.totp_last_step = None
        found.save(update_fields=["totp_secret", "totp_confirmed_at", "totp_last_step"])
        user.recovery_codes.all().delete()  # the old ones must stop working too
        _audit(audit.PLATFORM_CHAIN, "account.2fa_reset", user, by)


# --- API tokens -------------------------------------------------------------------------------------------


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_api_token(
    user, *, name: str, prefecture: Prefecture | None = None, organisation=None, expires_at=None
) -> tuple[ApiToken, str]:
    """A new token for `user`, scoped to one prefecture they belong to, or to their organisation.

    Returns the row and the token in clear, which is shown once and never stored.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidInput(
            "invalid", _("Give the token a name."), fields={"name": [_("Give the token a name.")]}
        )
    if (prefecture is None) == (organisation is None):
        raise InvalidInput("invalid_scope", _("A token is scoped to one prefecture or one organisation."))
    if prefecture is not None and not permissions.has_role(user, prefecture, Role.AGENT):
        raise Forbidden("forbidden", _("You are not a member of this prefecture."))
    if organisation is not None:
        member = permissions.partner_member(user)
        if member is None or member.organisation_id != organisation.pk:
            raise Forbidden("forbidden", _("You are not a member of this organisation."))
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidInput(
            "invalid", _("The expiry must be in the future."), fields={"expires_at": [_("Too early.")]}
        )
    chain = prefecture.code if prefecture is not None else organisation.prefecture.code
    for _attempt in range(5):
        prefix = secrets.token_hex(4)
        raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user,
                    name=name,
                    prefix=prefix,
                    token_hash=hash_token(raw),
                    prefecture=prefecture,
                    organisation=organisation,
                    expires_at=expires_at,
                )
                _audit(chain, "api_token.created", user, user, {"token": prefix, "name": name})
            return token, raw
        except IntegrityError:  # prefix collision: try another
            continue
    raise Conflict("token_collision", _("Could not create a token; try again."))


def revoke_api_token(token: ApiToken, *, by) -> None:
    chain = token.prefecture.code if token.prefecture_id else token.organisation.prefecture.code
    if by.pk != token.user_id and not can_manage_accounts(
        by, token.prefecture or token.organisation.prefecture
    ):
        raise Forbidden("forbidden", _("You cannot revoke this token."))
    if token.revoked_at is not None:
        return
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _audit(chain, "api_token.revoked", token.user, by, {"token": token.prefix})


def authenticate_token(raw: str) -> ApiToken | None:
    """The usable token matching `raw`, with its user, or None. Constant-time on the secret part."""
    raw = (raw or "").strip()
    if not raw.startswith(TOKEN_PREFIX) or raw.count("_") < 2:
        return None
    prefix = raw[len(TOKEN_PREFIX) :].split("_", 1)[0]
    token = (
        ApiToken.objects.select_related("user", "prefecture", "organisation", "organisation__prefecture")
        .filter(prefix=prefix)
        .first()
    )
    if token is None or not secrets.compare_digest(token.token_hash, hash_token(raw)):
        return None
    if not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    # One write per minute at most: the last use is for people reviewing tokens, not an audit trail.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


# --- reads of applicants' data (R27) ----------------------------------------------------------------------


def record_access(
    user,
    kind: str,
    *,
    channel: str,
    request=None,
    prefecture: Prefecture | None = None,
    detail: str = "",
) -> AccessRecord:
    """Log that `user` read applicants' data: opened a file, searched, listed a queue."""
    if kind not in AccessKind.values or channel not in AccessChannel.values:
        raise ValueError(f"unknown access {kind!r} through {channel!r}")
    if request is not None and prefecture is None:
        prefecture = request.prefecture
    return AccessRecord.objects.create(
        user=user,
        kind=kind,
        channel=channel,
        request=request,
        prefecture=prefecture,
        detail=" ".join(str(detail).split())[:200],
    )


def accesses_to(request, *, limit: int = 100) -> list[AccessRecord]:
    """Who opened this request's file, latest first."""
    return list(
        AccessRecord.objects.filter(request=request).select_related("user").order_by("-at", "-id")[:limit]
    )


def purge_access_records(now: datetime.datetime | None = None) -> int:
    """Delete the records older than ACCESS_LOG_RETENTION_DAYS; returns how many."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS)
    deleted, _ = AccessRecord.objects.filter(at__lt=cutoff).delete()
    return deleted
