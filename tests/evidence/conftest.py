"""Every evidence test signs with its own key file, never with the development key in var/."""

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def signing_key_file(settings, tmp_path):
    settings.SIGNING_KEY_FILE = tmp_path / "signing-keys.json"
    settings.SIGNING_KEY_PEM = ""
    settings.SITE_URL = "https://guichet.example.org"
    return settings.SIGNING_KEY_FILE


@pytest.fixture(autouse=True)
def english():
    """Services speak the active language (French by default): tests read their messages in English."""
    with translation.override("en"):
        yield


@pytest.fixture
def staff_user(db, django_user_model):
    """A staff member (is_staff, and a manager membership of every prefecture when roles exist)."""
    user = django_user_model.objects.create_user(
        "agent", email="agent@prefecture.example", password="correct horse battery", is_staff=True
    )
    return user


@pytest.fixture
def staff_client(staff_user):
    """A client of its own, so that a test can compare it with the anonymous `client`."""
    from django.test import Client

    logged_in = Client()
    logged_in.force_login(staff_user)
    return logged_in
