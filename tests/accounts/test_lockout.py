"""Login throttling over the cache: wrong passwords or codes lock the account, then the address."""

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from guichet.accounts import throttle
from tests.backoffice.helpers import PASSWORD, code_for, staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def attempt(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("backoffice:login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=3)
def test_wrong_passwords_lock_the_account_even_for_the_right_password(client, prefecture):
    user = staff(prefecture)
    for _ in range(2):
        assert "Wrong username or password" in attempt(client, user.username, "nope").content.decode()
    locked = attempt(client, user.username, "nope")
    assert "Too many failed attempts" in locked.content.decode()
    right = attempt(client, user.username, PASSWORD)
    assert right.status_code == 400 and "Too many failed attempts" in right.content.decode()
    # From another address too: the account itself is locked.
    assert "Too many failed attempts" in attempt(client, user.username, PASSWORD, "10.9.9.9").content.decode()


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_LOCKOUT_SECONDS=900)
def test_the_lock_ends_after_the_lockout_time(client, prefecture, monkeypatch):
    import time

    user = staff(prefecture)
    for _ in range(3):
        attempt(client, user.username, "nope")
    assert throttle.locked_for(user.username, "") > 0
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 901)
    assert throttle.locked_for(user.username, "") == 0


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=3)
def test_wrong_codes_count_too(client, prefecture):
    user = staff(prefecture)
    attempt(client, user.username, PASSWORD)
    for _ in range(2):
        response = client.post(reverse("backoffice:verify"), {"code": "123456"}, REMOTE_ADDR="10.0.0.1")
        assert response.status_code == 400
    client.post(reverse("backoffice:verify"), {"code": "123456"}, REMOTE_ADDR="10.0.0.1")
    # The pending login is dropped: the right code now leads back to the login page.
    late = client.post(reverse("backoffice:verify"), {"code": code_for(user)}, REMOTE_ADDR="10.0.0.1")
    assert late.status_code == 302 and late["Location"] == reverse("backoffice:login")
    assert "Too many failed attempts" in attempt(client, user.username, PASSWORD).content.decode()


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=100, LOGIN_FAILURES_PER_ADDRESS=4)
def test_an_address_spraying_many_accounts_is_locked(client, prefecture):
    victims = [staff(prefecture) for _ in range(5)]
    for victim in victims[:4]:
        attempt(client, victim.username, "guess", "10.6.6.6")
    blocked = attempt(client, victims[4].username, PASSWORD, "10.6.6.6")
    assert "Too many failed attempts" in blocked.content.decode()
    # The same account from elsewhere is not locked.
    assert attempt(client, victims[4].username, PASSWORD, "10.7.7.7").status_code == 302


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=3)
def test_a_successful_login_clears_the_account_failures(client, prefecture):
    user = staff(prefecture)
    for _ in range(2):
        attempt(client, user.username, "nope")
    attempt(client, user.username, PASSWORD)
    client.post(reverse("backoffice:verify"), {"code": code_for(user)}, REMOTE_ADDR="10.0.0.1")
    client.logout()
    for _ in range(2):
        attempt(client, user.username, "nope")
    assert attempt(client, user.username, PASSWORD).status_code == 302


@override_settings(LOGIN_FAILURES_PER_ACCOUNT=2)
def test_unknown_usernames_are_throttled_like_real_ones(client, db):
    attempt(client, "nobody", "x")
    response = attempt(client, "nobody", "x")
    assert "Too many failed attempts" in response.content.decode()
