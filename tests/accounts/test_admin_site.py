"""The Django admin is for platform administrators only, behind the back office's login (throttled,
second factor): no other session reaches it, and it has no login form of its own."""

import pytest
from django.contrib.auth import get_user_model

from guichet.accounts.models import StaffProfile
from tests.backoffice.helpers import PASSWORD, account, staff, verified_login

pytestmark = pytest.mark.django_db

ADMIN = "/django-admin/"


def platform_admin(username: str = "root"):
    user = account(username)
    StaffProfile.objects.filter(user=user).update(is_platform_admin=True)
    return user


def test_admin_login_sends_to_the_back_office_login(client):
    response = client.get(f"{ADMIN}login/?next={ADMIN}")
    assert response.status_code == 302
    assert response["Location"].startswith("/fr/staff/login/?next=")
    # Its form never checks a password: a POST is sent on to the back office as well.
    posted = client.post(f"{ADMIN}login/", {"username": "root", "password": PASSWORD})
    assert posted.status_code == 302 and "/staff/login/" in posted["Location"]


def test_a_verified_platform_administrator_reaches_the_admin(client, prefecture):
    verified_login(client, platform_admin())
    assert client.get(ADMIN).status_code == 200
    assert client.get(f"{ADMIN}catalog/openingrule/").status_code == 200


def test_a_password_alone_does_not_reach_the_admin(client):
    client.force_login(platform_admin())  # logged in without the second factor
    response = client.get(ADMIN, follow=True)
    assert response.redirect_chain[-1][0].startswith("/fr/staff/login/")


def test_a_superuser_without_the_platform_role_does_not_reach_the_admin(client):
    root = get_user_model().objects.create_superuser("super", "s@example.org", PASSWORD)
    StaffProfile.objects.create(user=root)
    verified_login(client, root)
    assert client.get(ADMIN).status_code == 302
    assert client.get(f"{ADMIN}catalog/openingrule/").status_code == 302


@pytest.mark.parametrize("role", ["agent", "manager", "prefecture_admin"])
def test_prefecture_staff_do_not_reach_the_admin(client, prefecture, role):
    verified_login(client, staff(prefecture, role))
    assert client.get(ADMIN).status_code == 302
    assert client.get(f"{ADMIN}catalog/closure/add/").status_code == 302


def test_a_locked_account_cannot_reach_the_admin_through_the_back_office(client, settings):
    """The admin's only way in is the back office's login, so its throttle applies to the admin too."""
    platform_admin()
    for _attempt in range(settings.LOGIN_FAILURES_PER_ACCOUNT):
        client.post("/en/staff/login/", {"username": "root", "password": "wrong password!"})
    response = client.post("/en/staff/login/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get(ADMIN).status_code == 302
