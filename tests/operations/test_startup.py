"""With DEBUG off, a process refuses to start when several processes would disagree: a cache local to each
process (rate limits), or secrets generated on this host (duplicates, sessions)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from guichet.operations import startup

ROOT = Path(__file__).resolve().parents[2]
REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:6379/2",
    }
}


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.TESTING = False
    settings.CACHES = REDIS
    settings.SECRETS_FROM_ENVIRONMENT = {
        "SECRET_KEY": True,
        "IDENTITY_HMAC_KEY": True,
        "FIELD_ENCRYPTION_KEY": True,
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.SMS_BACKEND = "guichet.notifications.sms.HttpGatewayBackend"
    return settings


def test_a_shared_cache_and_given_secrets_start(production):
    assert startup.production_problems() == []
    startup.refuse_unsafe_production()


def test_the_local_memory_cache_is_refused(production):
    production.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        startup.refuse_unsafe_production()


def test_an_identity_key_generated_on_this_host_is_refused(production):
    production.SECRETS_FROM_ENVIRONMENT = {**production.SECRETS_FROM_ENVIRONMENT, "IDENTITY_HMAC_KEY": False}
    with pytest.raises(ImproperlyConfigured, match="IDENTITY_HMAC_KEY was generated on this host"):
        startup.refuse_unsafe_production()


@pytest.mark.parametrize(
    "name, console",
    [
        ("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"),
        ("SMS_BACKEND", "guichet.notifications.sms.ConsoleBackend"),
    ],
)
def test_a_console_message_backend_is_refused_it_would_log_private_links(production, name, console):
    setattr(production, name, console)
    with pytest.raises(ImproperlyConfigured, match=f"{name} is the console backend"):
        startup.refuse_unsafe_production()


def test_debug_allows_the_development_set_up(production):
    production.DEBUG = True
    production.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    startup.refuse_unsafe_production()


def load_wsgi(**environment: str) -> subprocess.CompletedProcess:
    unset = {"TESTING", "REDIS_URL", "DEBUG", "IDENTITY_HMAC_KEY", "SECRET_KEY", "FIELD_ENCRYPTION_KEY"}
    unset |= {"EMAIL_BACKEND", "SMS_BACKEND"}
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env.update({"DJANGO_SETTINGS_MODULE": "guichet.settings", **environment})
    return subprocess.run(
        [sys.executable, "-c", "import guichet.wsgi"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_wsgi_application_does_not_load_with_debug_off_and_local_state():
    result = load_wsgi(DEBUG="0")
    assert result.returncode != 0
    assert "Refusing to start with DEBUG off" in result.stderr
    assert "REDIS_URL" in result.stderr and "IDENTITY_HMAC_KEY" in result.stderr
    assert "EMAIL_BACKEND is the console backend" in result.stderr


def test_the_wsgi_application_loads_with_a_shared_cache_and_given_secrets():
    result = load_wsgi(
        DEBUG="0",
        REDIS_URL="redis://127.0.0.1:6379/2",
        IDENTITY_HMAC_KEY=secrets.token_urlsafe(32),
        SECRET_KEY=secrets.token_urlsafe(32),
        FIELD_ENCRYPTION_KEY=secrets.token_urlsafe(32),
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        SMS_BACKEND="guichet.notifications.sms.HttpGatewayBackend",
    )
    assert result.returncode == 0, result.stderr
