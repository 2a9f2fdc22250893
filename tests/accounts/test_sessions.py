"""Staff sessions expire after a period without activity, and the cookie has a maximum age."""

import time

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from guichet.accounts.middleware import LAST_SEEN_KEY
from tests.backoffice.helpers import staff, verified_login

pytestmark = pytest.mark.django_db


@override_settings(STAFF_IDLE_TIMEOUT_SECONDS=600)
def test_idle_session_is_logged_out(client, prefecture):
    user = staff(prefecture)
    verified_login(client, user)
    home = reverse("backoffice:home")
    assert client.get(home).status_code == 200

    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - 601
    session.save()
    response = client.get(home)
    assert response.status_code == 302 and reverse("backoffice:login") in response["Location"]
    login_page = client.get(reverse("backoffice:login"))
    assert "period without activity" in login_page.content.decode()


@override_settings(STAFF_IDLE_TIMEOUT_SECONDS=600)
def test_activity_keeps_the_session(client, prefecture):
    user = staff(prefecture)
    verified_login(client, user)
    client.get(reverse("backoffice:home"))
    session = client.session
    session[LAST_SEEN_KEY] = int(time.time()) - 500
    session.save()
    assert client.get(reverse("backoffice:home")).status_code == 200
    assert client.session[LAST_SEEN_KEY] >= int(time.time()) - 5  # refreshed


def test_the_session_cookie_has_a_maximum_age():
    assert 0 < settings.SESSION_COOKIE_AGE <= 24 * 3600
    assert settings.SESSION_COOKIE_HTTPONLY
