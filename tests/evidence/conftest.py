"""Every evidence test signs with its own key file, never with the development key in var/."""

import pytest
from django.test import Client
from django.utils import translation

from guichet.accounts.models import Membership
from guichet.accounts.permissions import SESSION_2FA_KEY


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


def make_staff(django_user_model, username: str, prefecture, role: str = "manager"):
    """A staff member of `prefecture`, with a role there."""
    user = django_user_model.objects.create_user(
        username, email=f"{username}@prefecture.example", is_staff=True
    )
    Membership.objects.create(user=user, prefecture=prefecture, role=role)
    return user


def verified_client(user) -> Client:
    """A client of its own (so a test can compare it with the anonymous `client`), past the second factor."""
    logged_in = Client()
    logged_in.force_login(user)
    session = logged_in.session
    session[SESSION_2FA_KEY] = True
    session.save()
    return logged_in


@pytest.fixture
def staff_user(world, django_user_model):
    return make_staff(django_user_model, "agent", world.prefecture)


@pytest.fixture
def staff_client(staff_user):
    return verified_client(staff_user)
