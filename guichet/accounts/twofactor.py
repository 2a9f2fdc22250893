"""TOTP (RFC 6238) two-factor authentication and one-time recovery codes."""

import hashlib
import secrets
import time

import pyotp
import segno
from django.db import transaction
from django.utils import timezone

from .models import RecoveryCode, StaffProfile

ISSUER = "Guichet"
STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed by hand


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(username: str, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG: no image request, no JavaScript, allowed by the CSP."""
    return segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in str(code) if ch.isdigit())


def check_code(secret: str, code: str, *, last_step: int | None, at: float | None = None) -> int | None:
    """The time step matched by `code` (one step of clock drift allowed either way), or None.

    A step at or before `last_step` is refused, so an observed code cannot be replayed.
    """
    code = _normalise_code(code)
    if not secret or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now_step = int((at if at is not None else time.time()) // STEP_SECONDS)
    for step in (now_step - 1, now_step, now_step + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def verify_and_consume(profile: StaffProfile, code: str, *, secret: str | None = None) -> bool:
    """Check a code against the account's secret (or a secret being enrolled) and burn its time step."""
    with transaction.atomic():
        locked = StaffProfile.objects.select_for_update().get(pk=profile.pk)
        step = check_code(secret or locked.totp_secret, code, last_step=locked.totp_last_step)
        if step is None:
            return False
        StaffProfile.objects.filter(pk=locked.pk).update(totp_last_step=step)
    profile.totp_last_step = step
    return True


def hash_recovery_code(code: str) -> str:
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(cleaned.encode()).hexdigest()


def new_recovery_codes(user) -> list[str]:
    """Replace the account's recovery codes with new ones; returns them in clear, to show once."""
    codes = []
    for _i in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _j in range(16))
        codes.append("-".join(raw[k : k + 4] for k in range(0, 16, 4)))
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        RecoveryCode.objects.bulk_create(
            [RecoveryCode(user=user, code_hash=hash_recovery_code(code)) for code in codes]
        )
    return codes


def use_recovery_code(user, code: str) -> bool:
    """Accept an unused recovery code once."""
    digest = hash_recovery_code(code)
    if len(digest) != 64 or not code.strip():
        return False
    updated = RecoveryCode.objects.filter(user=user, code_hash=digest, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    return updated == 1


def remaining_recovery_codes(user) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
