"""Administration pages: a prefecture administrator manages staff and partners; the platform administrator
names prefecture administrators. Other roles get 403."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
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


def _invite(client, url, username, email, **fields):
    data = {"action": "invite", "invite-username": username, "invite-email": email, "invite-first_name": ""}
    data.update({f"invite-{name}": value for name, value in fields.items()})
    return client.post(url, data)


def test_administrator_invites_an_account_changes_a_role_and_removes_it(client, prefecture):
    admin = staff(prefecture, "prefecture_admin")
    verified_login(client, admin)
    url = reverse("backoffice:members", args=[prefecture.code])
    page = client.get(url).content.decode()
    # One way in: the invitation. No form gives an account a password chosen by someone else.
    assert 'type="password"' not in page and 'value="create"' not in page
    assert _invite(client, url, "nadia", "n@example.org", role="agent").status_code == 302
    nadia = get_user_model().objects.get(username="nadia")
    assert permissions.role_in(nadia, prefecture) == "agent" and not nadia.has_usable_password()
    assert mail.outbox[-1].to == ["n@example.org"]
    # The retired form's fields do nothing any more: no account, no password set by the administrator.
    retired = client.post(
        url,
        {
            "action": "create",
            "new-username": "old",
            "new-email": "o@example.org",
            "new-password": PASSWORD,
            "new-role": "agent",
        },
    )
    assert retired.status_code == 200 and not get_user_model().objects.filter(username="old").exists()
    taken = _invite(client, url, "NADIA", "other@example.org", role="agent")
    assert taken.status_code == 200 and get_user_model().objects.filter(username__iexact="nadia").count() == 1
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


def test_platform_page_invites_prefecture_administrators(client, prefecture):
    url = reverse("backoffice:platform")
    verified_login(client, staff(prefecture, "prefecture_admin"))
    assert client.get(url).status_code == 403
    platform = account()
    set_platform_admin(platform, True, by=None)
    verified_login(client, platform)
    page = client.get(url)
    assert page.status_code == 200 and 'type="password"' not in page.content.decode()
    response = client.post(
        url, {"new-username": "prefadmin", "new-email": "p@example.org", "new-prefecture": prefecture.code}
    )
    assert response.status_code == 302
    named = get_user_model().objects.get(username="prefadmin")
    assert permissions.role_in(named, prefecture) == "prefecture_admin" and not named.has_usable_password()
    assert mail.outbox[-1].to == ["p@example.org"]
    unknown = client.post(url, {"new-username": "x", "new-email": "x@example.org", "new-prefecture": "99"})
    assert unknown.status_code == 200 and not get_user_model().objects.filter(username="x").exists()


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
