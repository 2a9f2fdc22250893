"""Secrets encrypted at rest (guichet/encryption.py): staff TOTP secrets are never stored in clear."""

import importlib

import pyotp
import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from guichet import encryption
from guichet.accounts.models import StaffProfile
from tests.backoffice.helpers import account

pytestmark = pytest.mark.django_db


def stored_secret(profile: StaffProfile) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM accounts_staffprofile WHERE id = %s", [profile.pk])
        return cursor.fetchone()[0]


def test_the_database_holds_a_token_python_the_secret():
    user = account("agent-enc")
    profile = StaffProfile.objects.get(user=user)
    raw = stored_secret(profile)
    assert raw.startswith(encryption.PREFIX) and profile.totp_secret not in raw
    assert StaffProfile.objects.get(pk=profile.pk).totp_secret == profile.totp_secret
    # The same secret encrypts differently each time: equal secrets do not show in a dump.
    assert encryption.encrypt(profile.totp_secret) != encryption.encrypt(profile.totp_secret)
    assert encryption.encrypt("") == "" and encryption.decrypt(None) == ""


def test_a_wrong_key_stops_with_a_clear_error_rather_than_reading_empty(settings):
    user = account("agent-key")
    profile = StaffProfile.objects.get(user=user)
    settings.FIELD_ENCRYPTION_KEY = "another key altogether"
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        StaffProfile.objects.get(pk=profile.pk)


def test_secrets_stored_in_clear_before_are_read_and_rewritten_encrypted():
    user = account("agent-legacy", enrolled=False)
    profile = StaffProfile.objects.get(user=user)
    legacy = pyotp.random_base32()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_staffprofile SET totp_secret = %s WHERE id = %s", [legacy, profile.pk]
        )
    assert StaffProfile.objects.get(pk=profile.pk).totp_secret == legacy
    migration = importlib.import_module("guichet.accounts.migrations.0003_encrypt_totp_secrets")
    migration.encrypt_existing(apps, None)
    assert stored_secret(profile).startswith(encryption.PREFIX)
    assert StaffProfile.objects.get(pk=profile.pk).totp_secret == legacy
