"""Secrets kept in the database, encrypted at rest: a stolen dump or backup does not give them away.

`EncryptedTextField` stores Fernet tokens (AES-128-CBC with HMAC-SHA256, from `cryptography`) under a key
derived from FIELD_ENCRYPTION_KEY, which lives outside the database (environment, or `var/` in
development). Used for the staff's TOTP secrets: with them, anyone holding a password could make second
factors.

Reading fails loudly (ImproperlyConfigured) when the key cannot decrypt a value: an account whose secret
silently read as empty would look unenrolled, and whoever had the password could enrol their own
authenticator. Values written before encryption (no prefix) are read as they are; the migration that
introduced the field rewrote them encrypted.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    # Fernet wants 32 url-safe base64 bytes; the setting is any long random text.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def encrypt(value: str) -> str:
    if not value:
        return ""
    return PREFIX + _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode("ascii")


def decrypt(stored: str | None) -> str:
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        return stored  # written before encryption
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY cannot decrypt a stored secret: it is not the key the secret was "
            "written with (see docs/deployment.md)"
        ) from None


class EncryptedTextField(models.TextField):
    """A text kept encrypted in the database and clear in Python. It cannot be filtered on."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or (isinstance(value, str) and value.startswith(PREFIX)):
            return value
        return encrypt(value)
