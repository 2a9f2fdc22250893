"""Passwords that people manage themselves: an invitation by email (one-time link, then the second factor
is enrolled), a reset by email (the second factor still asked), a change, a new authenticator after a
lost phone, and the deactivation of an account."""

import re

import pyotp
import pytest
from django.core import mail
from django.urls import reverse

from guichet.accounts import twofactor
from guichet.accounts.models import ApiToken, StaffProfile
from guichet.accounts.services import create_api_token
from guichet.evidence.models import AuditEntry
from tests.backoffice.helpers import PASSWORD, code_for, staff, verified_login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a different horse battery"  # noqa: S105


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def invite(client, prefecture, username="nadia", email="nadia@example.org", role="agent"):
    verified_login(client, staff(prefecture, "prefecture_admin"))
    return client.post(
        reverse("backoffice:members", args=[prefecture.code]),
        {
            "action": "invite",
            "invite-username": username,
            "invite-email": email,
            "invite-role": role,
            "invite-first_name": "Nadia",
            "invite-last_name": "",
        },
    )


def test_an_invited_agent_chooses_a_password_enrols_the_second_factor_and_is_in(client, prefecture):
    assert invite(client, prefecture).status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["nadia@example.org"]
    link = link_in(mail.outbox[0])
    assert "nadia" in mail.outbox[0].body and PASSWORD not in mail.outbox[0].body
    client.logout()

    page = client.get(link)
    assert page.status_code == 200 and "Welcome. Your username is nadia." in page.content.decode()
    mismatch = client.post(link, {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD + "!"})
    assert mismatch.status_code == 400 and "The two passwords differ." in mismatch.content.decode()
    weak = client.post(link, {"password": "short", "confirmation": "short"})
    assert weak.status_code == 400
    chosen = client.post(link, {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    # A password alone opens nothing: the authenticator is enrolled first.
    assert chosen.status_code == 302 and chosen["Location"] == reverse("backoffice:enrol")
    assert client.get(reverse("backoffice:home")).status_code == 302
    secret = re.search(
        r'class="bo-secret">([A-Z2-7]+)<', client.get(reverse("backoffice:enrol")).content.decode()
    )
    done = client.post(reverse("backoffice:enrol"), {"code": pyotp.TOTP(secret.group(1)).now()})
    assert done.status_code == 200
    assert client.get(reverse("backoffice:home")).status_code == 200
    # The link worked once.
    assert client.get(link).status_code == 404
    assert AuditEntry.objects.filter(action="account.invited", object_id="nadia").exists()


def test_an_invitation_that_cannot_be_sent_creates_nothing(client, prefecture, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    response = invite(client, prefecture, username="lost")
    assert response.status_code == 200
    assert "could not be sent" in response.content.decode()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="lost").exists()


def test_a_reset_by_email_still_asks_for_the_second_factor(client, prefecture):
    agent = staff(prefecture, "agent", username="karim")
    forgot = reverse("backoffice:password_forgot")
    for identifier in ("nobody", "karim@example.org"):
        answer = client.post(forgot, {"identifier": identifier})
        assert answer.status_code == 200 and "If this account exists" in answer.content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["karim@example.org"]
    link = link_in(mail.outbox[0])
    reset = client.post(link, {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert reset.status_code == 302 and reset["Location"] == reverse("backoffice:verify")
    assert client.get(reverse("backoffice:home")).status_code == 302  # not logged in by the link
    assert client.post(reverse("backoffice:verify"), {"code": code_for(agent)}).status_code == 302
    assert client.get(reverse("backoffice:home")).status_code == 200
    agent.refresh_from_db()
    assert agent.check_password(NEW_PASSWORD)
    assert client.get(link).status_code == 404


def test_reset_requests_are_limited_per_address(client, prefecture):
    staff(prefecture, "agent", username="karim")
    forgot = reverse("backoffice:password_forgot")
    for _attempt in range(5):
        assert client.post(forgot, {"identifier": "karim"}).status_code == 200
    refused = client.post(forgot, {"identifier": "karim"})
    assert refused.status_code == 400 and "Too many requests" in refused.content.decode()
    assert len(mail.outbox) == 5


def test_the_owner_changes_their_password_knowing_the_current_one(client, prefecture):
    agent = staff(prefecture)
    verified_login(client, agent)
    url = reverse("backoffice:password_change")
    wrong = client.post(url, {"current": "nope", "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert wrong.status_code == 400 and "This is not your current password." in wrong.content.decode()
    right = client.post(url, {"current": PASSWORD, "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD})
    assert right.status_code == 302
    agent.refresh_from_db()
    assert agent.check_password(NEW_PASSWORD)
    assert client.get(reverse("backoffice:account")).status_code == 200  # this session goes on


def test_a_lost_authenticator_is_replaced_after_a_recovery_code_login(client, prefecture):
    agent = staff(prefecture)
    recovery = twofactor.new_recovery_codes(agent)
    old_secret = StaffProfile.objects.get(user=agent).totp_secret
    client.post(reverse("backoffice:login"), {"username": agent.username, "password": PASSWORD})
    assert client.post(reverse("backoffice:verify"), {"code": recovery[0]}).status_code == 302
    page = client.get(reverse("backoffice:reenrol"))
    secret = re.search(r'class="bo-secret">([A-Z2-7]+)<', page.content.decode()).group(1)
    assert secret != old_secret
    no_password = client.post(
        reverse("backoffice:reenrol"), {"code": pyotp.TOTP(secret).now(), "current": "x"}
    )
    assert no_password.status_code == 400
    done = client.post(reverse("backoffice:reenrol"), {"code": pyotp.TOTP(secret).now(), "current": PASSWORD})
    assert done.status_code == 200 and "recovery codes" in done.content.decode()
    profile = StaffProfile.objects.get(user=agent)
    assert profile.totp_secret == secret
    assert twofactor.check_code(old_secret, pyotp.TOTP(old_secret).now(), last_step=None) is not None
    assert not twofactor.use_recovery_code(agent, recovery[1])  # the old codes are gone


def test_an_administrator_deactivates_an_account_its_sessions_and_tokens_stop(client, prefecture):
    from django.test import Client

    admin = staff(prefecture, "prefecture_admin")
    agent = staff(prefecture)
    _token, raw = create_api_token(agent, name="t", prefecture=prefecture)
    agent_client = Client()
    verified_login(agent_client, agent)
    assert agent_client.get(reverse("backoffice:home")).status_code == 200
    verified_login(client, admin)
    action = reverse("backoffice:member_action", args=[prefecture.code, agent.pk])
    members = reverse("backoffice:members", args=[prefecture.code])
    assert client.post(action, {"action": "deactivate"}).status_code == 302
    agent.refresh_from_db()
    assert not agent.is_active
    assert agent_client.get(reverse("backoffice:home")).status_code == 302
    assert not ApiToken.objects.get(user=agent).is_usable
    assert agent_client.get("/api/v1/staff/requests", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    listing = client.get(members).content.decode()
    assert "deactivated" in listing and "Reactivate" in listing
    assert client.post(action, {"action": "activate"}).status_code == 302
    agent.refresh_from_db()
    assert agent.is_active
    # An agent cannot deactivate anyone; nobody deactivates themselves.
    verified_login(agent_client, agent)
    own = reverse("backoffice:member_action", args=[prefecture.code, admin.pk])
    assert agent_client.post(own, {"action": "deactivate"}).status_code == 403
    self_action = reverse("backoffice:member_action", args=[prefecture.code, admin.pk])
    client.post(self_action, {"action": "deactivate"})
    admin.refresh_from_db()
    assert admin.is_active


def test_the_staff_page_lists_who_has_which_role(client, prefecture):
    verified_login(client, staff(prefecture, "prefecture_admin", username="chef"))
    staff(prefecture, "manager", username="mona")
    staff(prefecture, "agent", username="alex")
    page = client.get(reverse("backoffice:members", args=[prefecture.code])).content.decode()
    for username, role in (("chef", "Prefecture administrator"), ("mona", "Manager"), ("alex", "Agent")):
        assert re.search(rf"<td>{username}</td>.*?<td>{role}</td>", page, re.S)
