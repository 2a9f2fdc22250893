"""Login in two steps: password, then a TOTP code (or a recovery code); enrolment at the first login."""

import re

import pyotp
import pytest
from django.urls import reverse

from guichet.accounts import permissions, twofactor
from guichet.accounts.models import RecoveryCode, StaffProfile
from tests.backoffice.helpers import PASSWORD, account, code_for, staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def password_step(client, username, password=PASSWORD):
    return client.post(reverse("backoffice:login"), {"username": username, "password": password})


def test_first_login_enrols_the_authenticator_then_shows_recovery_codes(client, prefecture):
    user = staff(prefecture, enrolled=False)
    response = password_step(client, user.username)
    assert response.status_code == 302 and response["Location"] == reverse("backoffice:enrol")

    page = client.get(reverse("backoffice:enrol"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html  # the QR code, inline
    secret = re.search(r'class="bo-secret">([A-Z2-7]+)<', html).group(1)
    assert not client.get(reverse("backoffice:home")).status_code == 200  # not logged in yet

    wrong = client.post(reverse("backoffice:enrol"), {"code": "000000"})
    assert wrong.status_code == 400
    assert not StaffProfile.objects.get(user=user).has_2fa

    done = client.post(reverse("backoffice:enrol"), {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(
        r"<code>([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})</code>", done.content.decode()
    )
    assert len(codes) == twofactor.RECOVERY_CODE_COUNT
    profile = StaffProfile.objects.get(user=user)
    assert profile.has_2fa and profile.totp_secret == secret
    # Only hashes are kept.
    stored = set(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert codes[0] not in stored and twofactor.hash_recovery_code(codes[0]) in stored
    assert client.get(reverse("backoffice:home")).status_code == 200


def test_password_alone_does_not_log_in(client, prefecture):
    user = staff(prefecture)
    response = password_step(client, user.username)
    assert response["Location"] == reverse("backoffice:verify")
    home = client.get(reverse("backoffice:home"))
    assert home.status_code == 302 and reverse("backoffice:login") in home["Location"]


def test_totp_code_completes_the_login_and_cannot_be_replayed(client, prefecture):
    user = staff(prefecture)
    password_step(client, user.username)
    code = code_for(user)
    response = client.post(reverse("backoffice:verify"), {"code": code})
    assert response.status_code == 302 and response["Location"] == reverse("backoffice:home")
    assert client.session[permissions.SESSION_2FA_KEY] is True
    assert client.get(reverse("backoffice:home")).status_code == 200

    other = client.__class__()
    password_step(other, user.username)
    replay = other.post(reverse("backoffice:verify"), {"code": code})
    assert replay.status_code == 400


def test_a_code_from_another_time_is_refused(client, prefecture):
    user = staff(prefecture)
    password_step(client, user.username)
    response = client.post(reverse("backoffice:verify"), {"code": code_for(user, offset_steps=-10)})
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_recovery_code_works_once(client, prefecture):
    user = staff(prefecture)
    codes = twofactor.new_recovery_codes(user)
    password_step(client, user.username)
    assert client.post(reverse("backoffice:verify"), {"code": codes[3].lower()})["Location"] == reverse(
        "backoffice:home"
    )
    client.logout()
    password_step(client, user.username)
    again = client.post(reverse("backoffice:verify"), {"code": codes[3]})
    assert again.status_code == 400


def test_the_next_parameter_is_kept_only_when_local(client, prefecture):
    user = staff(prefecture)
    target = reverse("backoffice:queue", args=[prefecture.code])
    client.post(
        reverse("backoffice:login") + f"?next={target}", {"username": user.username, "password": PASSWORD}
    )
    assert client.post(reverse("backoffice:verify"), {"code": code_for(user)})["Location"] == target
    client.logout()
    client.post(
        reverse("backoffice:login") + "?next=https://evil.example/",
        {"username": user.username, "password": PASSWORD},
    )
    assert client.post(reverse("backoffice:verify"), {"code": code_for(user, 1)})["Location"] == reverse(
        "backoffice:home"
    )


def test_a_session_without_the_second_factor_never_reaches_staff_pages(client, prefecture):
    """A session opened elsewhere (the Django admin login) lacks the 2FA mark."""
    user = staff(prefecture)
    client.force_login(user)
    response = client.get(reverse("backoffice:queue", args=[prefecture.code]))
    assert response.status_code == 302 and reverse("backoffice:login") in response["Location"]


def test_account_without_any_role_cannot_log_in(client, db):
    user = account()
    response = password_step(client, user.username)
    assert response.status_code == 400
    assert "Wrong username or password" in response.content.decode()


def test_login_page_is_in_the_readers_language(client, db):
    response = client.get("/en/staff/login/")
    assert response.status_code == 200
    assert 'lang="en"' in response.content.decode()
    # Staff pages exist in French and English: under /ar/ they lead to the French login.
    redirect = client.get("/ar/staff/")
    assert redirect["Location"].startswith("/fr/staff/login/")


def test_admin_resets_a_lost_authenticator(client, prefecture):
    from guichet.accounts.services import reset_2fa

    admin = staff(prefecture, "prefecture_admin")
    agent = staff(prefecture)
    twofactor.new_recovery_codes(agent)
    reset_2fa(agent, by=admin)
    profile = StaffProfile.objects.get(user=agent)
    assert not profile.has_2fa and not RecoveryCode.objects.filter(user=agent).exists()
    assert password_step(client, agent.username)["Location"] == reverse("backoffice:enrol")
    outsider = staff(prefecture)
    from guichet.errors import Forbidden

    with pytest.raises(Forbidden):
        reset_2fa(admin, by=outsider)
