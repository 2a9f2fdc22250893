"""ProConnect (OpenID Connect for agents) against a real provider: django-oidc-provider, run as its own
process on 127.0.0.1 (tests/accounts/oidc_provider). The browser's side is played by a `requests` session
at the provider (its login form, its authorisation) and the Django test client at Guichet; Guichet itself
talks to the provider over HTTP (token, JWK set, userinfo), as it would to ProConnect.

An agent is matched to an existing account by email, never created; their prefecture must have turned
ProConnect on; Guichet's second factor still follows unless the ID token reports multi-factor
authentication."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation

from guichet.accounts import permissions
from guichet.accounts import services as accounts
from guichet.accounts.models import StaffProfile
from guichet.backoffice.views.auth import PENDING_USER
from guichet.evidence.models import AuditEntry
from tests.backoffice.helpers import code_for, staff, verified_login

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID, CLIENT_SECRET = "guichet-tests", "a-client-secret-for-the-local-provider"
CALLBACK = "http://testserver/staff/proconnect/callback/"
# At the provider: username, password, email (Guichet's test accounts are <username>@example.org).
PEOPLE = [
    ("agent", "provider-password-1", "Agent-PC@Example.org"),  # another case than Guichet's: still matched
    ("mfa-agent", "provider-password-2", "mfa-pc@example.org"),  # the provider reports "mfa" in `amr`
    ("stranger", "provider-password-3", "nobody@example.org"),  # no account at Guichet
]


def _free_port() -> int:
    """A free port in this helper's range, in a block of its own per xdist worker (two workers never race
    for one)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    first = 8450 + 10 * (int(worker) % 5 if worker.isdigit() else 0)
    for port in range(first, first + 10):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port in {first}-{first + 9}")


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    setup = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": CALLBACK,
        "users": PEOPLE,
    }
    env = {
        **os.environ,
        "OIDC_PROVIDER_DB": str(tmp_path_factory.mktemp("oidc-provider") / "provider.sqlite3"),
        "OIDC_PROVIDER_URL": url,
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.accounts.oidc_provider.serve", str(port), json.dumps(setup)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/openid/.well-known/openid-configuration", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(
                    f"the OIDC provider did not start: {process.stderr.read().decode()[-2000:]}"
                )
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def proconnect(settings, provider):
    """Guichet configured for the local provider, as a deployment is for ProConnect."""
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider}/openid/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider}/openid/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider}/openid/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider}/openid/jwks"
    settings.OIDC_RP_CLIENT_ID, settings.OIDC_RP_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    settings.OIDC_RP_SCOPES = "openid email"
    settings.PROCONNECT_ENABLED = True
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "guichet.accounts.proconnect.ProConnectBackend",
    ]
    return provider


def url(name: str, *args) -> str:
    """A page's address in English, the language these tests start from (a request may leave another one
    active in the thread)."""
    with translation.override("en"):
        return reverse(name, args=args)


def through_provider(client, username: str, next_url: str = ""):
    """Start at Guichet's ProConnect button, log in at the provider, come back: Guichet's answer."""
    start = url("backoffice:proconnect_login") + (f"?next={next_url}" if next_url else "")
    sent = client.get(start)
    assert sent.status_code == 302
    authorize = sent["Location"]
    asked = parse_qs(urlsplit(authorize).query)
    assert asked["redirect_uri"] == [CALLBACK] and asked["code_challenge_method"] == ["S256"]
    assert asked["nonce"] and asked["state"]
    browser = requests.Session()
    login_page = browser.get(authorize, timeout=10)  # the provider asks who we are
    assert "/accounts/login/" in login_page.url
    password = next(password for name, password, _email in PEOPLE if name == username)
    back = browser.post(
        login_page.url,
        data={
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            "next": parse_qs(urlsplit(login_page.url).query)["next"][0],
        },
        headers={"Referer": login_page.url},
        allow_redirects=False,
        timeout=10,
    )
    while back.status_code == 302 and not back.headers["Location"].startswith(CALLBACK):
        back = browser.get(urljoin(back.url, back.headers["Location"]), allow_redirects=False, timeout=10)
    callback = back.headers["Location"]
    assert callback.startswith(CALLBACK) and "code=" in callback
    return client.get(callback.removeprefix("http://testserver"))


def test_an_agent_is_matched_by_email_and_still_gives_guichets_second_factor(client, proconnect, prefecture):
    accounts.set_proconnect(prefecture, True, by=staff(prefecture, "prefecture_admin"))
    agent = staff(prefecture, username="agent-pc")
    queue, verify = url("backoffice:queue", prefecture.code), url("backoffice:verify")
    back = through_provider(client, "agent", next_url=queue)
    assert back.status_code == 302 and back["Location"] == verify
    # No session yet: only the account waiting for its code.
    assert "_auth_user_id" not in client.session and client.session[PENDING_USER] == agent.pk
    verified = client.post(verify, {"code": code_for(agent)})
    assert verified["Location"] == queue
    assert client.session[permissions.SESSION_2FA_KEY] is True
    assert client.get(url("backoffice:home")).status_code == 200


def test_a_second_factor_checked_by_the_provider_opens_the_session(client, proconnect, prefecture):
    prefecture.proconnect_enabled = True
    prefecture.save()
    agent = staff(prefecture, username="mfa-pc")
    back = through_provider(client, "mfa-agent")
    assert back.status_code == 302 and back["Location"] == url("backoffice:home")
    assert client.session["_auth_user_id"] == str(agent.pk)
    assert client.session[permissions.SESSION_2FA_KEY] is True


def test_no_account_is_created_for_an_unknown_email(client, proconnect, prefecture):
    prefecture.proconnect_enabled = True
    prefecture.save()
    staff(prefecture, username="agent-pc")
    before = get_user_model().objects.count()
    back = through_provider(client, "stranger")
    assert back["Location"] == url("backoffice:login")
    assert get_user_model().objects.count() == before
    assert "No Guichet account has the email address" in client.get(back["Location"]).content.decode()


def test_only_prefectures_that_turned_it_on(client, proconnect, prefecture):
    agent = staff(prefecture, username="agent-pc")  # ProConnect not turned on
    back = through_provider(client, "agent")
    assert back["Location"] == url("backoffice:login") and "_auth_user_id" not in client.session
    assert "has not opened the login with ProConnect" in client.get(back["Location"]).content.decode()
    # A platform administrator never logs in through it, prefecture or not.
    prefecture.proconnect_enabled = True
    prefecture.save()
    StaffProfile.objects.filter(user=agent).update(is_platform_admin=True)
    back = through_provider(client, "agent")
    assert (
        "Platform administrators log in with their password" in client.get(back["Location"]).content.decode()
    )


def test_the_prefectures_administrator_turns_it_on_audited(client, proconnect, prefecture):
    admin = staff(prefecture, "prefecture_admin")
    verified_login(client, admin)
    members = url("backoffice:members", prefecture.code)
    assert "Open the login with ProConnect" in client.get(members).content.decode()
    client.post(members, {"action": "proconnect", "enabled": "1"})
    prefecture.refresh_from_db()
    assert prefecture.proconnect_enabled
    assert AuditEntry.objects.filter(action="prefecture.proconnect_set").count() == 1
    assert "Stop the login with ProConnect" in client.get(members).content.decode()
    login_page = client.get(url("backoffice:login"))
    assert login_page.status_code == 302  # already logged in
    client.logout()
    assert "Log in with ProConnect" in client.get(url("backoffice:login")).content.decode()


def test_without_the_deployments_configuration_there_is_no_proconnect(client, settings, prefecture):
    settings.PROCONNECT_ENABLED = False
    assert "ProConnect" not in client.get(url("backoffice:login")).content.decode()
    assert client.get(url("backoffice:proconnect_login")).status_code == 404
    assert client.get("/staff/proconnect/callback/?code=x&state=y").status_code == 404
    admin = staff(prefecture, "prefecture_admin")
    verified_login(client, admin)
    assert "ProConnect" not in client.get(url("backoffice:members", prefecture.code)).content.decode()
