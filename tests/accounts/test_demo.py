"""Demo accounts: one per role and a partner, already enrolled, idempotent; their codes are printable only
for demo accounts."""

import io

import pyotp
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from guichet.accounts import permissions
from guichet.accounts.demo import create_demo_staff, demo_totp_uri
from guichet.accounts.models import StaffProfile
from tests.backoffice.helpers import staff

pytestmark = pytest.mark.django_db


def test_demo_staff_is_idempotent_and_can_log_in(client, prefecture):
    first = create_demo_staff(prefecture)
    assert create_demo_staff(prefecture) == first
    assert {role for _username, _password, role in first} == {
        "agent",
        "manager",
        "prefecture_admin",
        "partner",
    }
    username, password, role = first[0]
    assert permissions.role_in(StaffProfile.objects.get(user__username=username).user, prefecture) == role
    out = io.StringIO()
    call_command("staff_totp", username, stdout=out)
    code, uri = out.getvalue().split()
    assert uri == demo_totp_uri(username) and uri.startswith("otpauth://totp/")
    response = client.post(reverse("backoffice:login"), {"username": username, "password": password})
    assert response["Location"] == reverse("backoffice:verify")
    secret = pyotp.parse_uri(uri).secret
    assert client.post(reverse("backoffice:verify"), {"code": pyotp.TOTP(secret).now()}).status_code == 302
    partner_name = next(u for u, _p, r in first if r == "partner")
    assert permissions.partner_member(StaffProfile.objects.get(user__username=partner_name).user) is not None


def test_codes_of_real_accounts_are_never_printed(prefecture):
    real = staff(prefecture)
    with pytest.raises(CommandError):
        call_command("staff_totp", real.username)
    assert demo_totp_uri(real.username) == ""


def test_create_staff_command(prefecture):
    call_command(
        "create_staff",
        "chef",
        "--prefecture",
        prefecture.code,
        "--role",
        "prefecture_admin",
        "--password",
        "a long enough passphrase",
        stdout=io.StringIO(),
    )
    user = StaffProfile.objects.get(user__username="chef").user
    assert permissions.has_role(user, prefecture, "prefecture_admin")
    with pytest.raises(CommandError):
        call_command(
            "create_staff", "weak", "--prefecture", prefecture.code, "--password", "123", stdout=io.StringIO()
        )
