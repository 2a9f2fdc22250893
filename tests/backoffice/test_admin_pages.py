"""Administration pages: a prefecture administrator manages staff and partners; the platform administrator
names prefecture administrators. Other roles get 403."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from guichet.accounts import permissions
from guichet.accounts.services import set_platform_admin
from tests.backoffice.helpers import PASSWORD, account, staff, verified_login

pytestmark = pytest.mark.django_db


def test_only_administrators_reach_the_staff_page(client, prefecture):
    url = reverse("backoffice:members", args=[prefecture.code])
    for role in ("agent", "manager"):
        verified_login(client, staff(prefecture, role))
        assert client.get(url).status_code == 403
    verified_login(client, staff(prefecture, "prefecture_admin"))
    assert client.get(url).status_code == 200


def test_administrator_creates_an_account_changes_a_role_and_removes_it(client, prefecture):
    admin = staff(prefecture, "prefecture_admin")
    verified_login(client, admin)
    url = reverse("backoffice:members", args=[prefecture.code])
    created = client.post(
        url,
        {
            "action": "create",
            "new-username": "nadia",
            "new-email": "n@example.org",
            "new-password": PASSWORD,
            "new-role": "agent",
            "new-first_name": "",
            "new-last_name": "",
        },
    )
    assert created.status_code == 302
    nadia = get_user_model().objects.get(username="nadia")
    assert permissions.role_in(nadia, prefecture) == "agent"
    weak = client.post(
        url,
        {
            "action": "create",
            "new-username": "weak",
            "new-email": "w@example.org",
            "new-password": "1234",
            "new-role": "agent",
        },
    )
    assert weak.status_code == 200 and not get_user_model().objects.filter(username="weak").exists()
    assert (
        client.post(url, {"action": "role", "role-username": "NADIA", "role-role": "manager"}).status_code
        == 302
    )
    assert permissions.role_in(nadia, prefecture) == "manager"
    assert (
        client.post(url, {"action": "role", "role-username": "ghost", "role-role": "agent"}).status_code
        == 200
    )
    action = reverse("backoffice:member_action", args=[prefecture.code, nadia.pk])
    assert client.post(action, {"action": "reset_2fa"}).status_code == 302
    assert client.post(action, {"action": "remove"}).status_code == 302
    assert permissions.role_in(nadia, prefecture) is None


def test_platform_page(client, prefecture):
    url = reverse("backoffice:platform")
    verified_login(client, staff(prefecture, "prefecture_admin"))
    assert client.get(url).status_code == 403
    platform = account()
    set_platform_admin(platform, True, by=None)
    verified_login(client, platform)
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "new-username": "prefadmin",
            "new-email": "p@example.org",
            "new-password": PASSWORD,
            "new-prefecture": prefecture.code,
        },
    )
    assert response.status_code == 302
    assert (
        permissions.role_in(get_user_model().objects.get(username="prefadmin"), prefecture)
        == "prefecture_admin"
    )
    unknown = client.post(
        url,
        {"new-username": "x", "new-email": "x@example.org", "new-password": PASSWORD, "new-prefecture": "99"},
    )
    assert unknown.status_code == 200


def test_csrf_is_enforced_on_staff_forms(prefecture):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    verified_login(strict, staff(prefecture))
    response = strict.post(reverse("backoffice:intake", args=[prefecture.code]), {})
    assert response.status_code == 403
    login = Client(enforce_csrf_checks=True).post(
        reverse("backoffice:login"), {"username": "a", "password": "b"}
    )
    assert login.status_code == 403
