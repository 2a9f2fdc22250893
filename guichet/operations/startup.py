"""What a production process (DEBUG off) refuses to start with, because several processes would disagree.

- The local-memory cache: each process would count rate limits and login failures on its own, so a client
  spreading its attempts over the workers (or the app servers) would get several times the limit.
- An IDENTITY_HMAC_KEY generated on this host (var/identity_hmac_key): another app server would generate
  another, and the same person would not be a duplicate there.
- A SECRET_KEY or FIELD_ENCRYPTION_KEY generated on this host: a session (or a staff second factor) made on
  one app server would not open on another.
- The console email or SMS backend (the development defaults): it writes every message, the receipt's
  private link included, to the process's output, which is its log (docs/deployment.md, "Logs": no private
  link in a log).

Checked when the WSGI or ASGI application is made (what gunicorn loads) and by `manage.py serve`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

LOCAL_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)
CONSOLE_BACKENDS = {
    "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    "SMS_BACKEND": "guichet.notifications.sms.ConsoleBackend",
}


def production_problems() -> list[str]:
    problems = []
    if settings.CACHES["default"]["BACKEND"] in LOCAL_CACHES:
        problems.append(
            "the cache is local to each process (set REDIS_URL): rate limits and login throttling would be "
            "counted per process"
        )
    for name, effect in (
        ("IDENTITY_HMAC_KEY", "another app server would not recognise the same person as a duplicate"),
        ("SECRET_KEY", "sessions opened on one app server would not open on another"),
        ("FIELD_ENCRYPTION_KEY", "staff second factors enrolled on one app server would not open on another"),
    ):
        if not settings.SECRETS_FROM_ENVIRONMENT.get(name):
            problems.append(f"{name} was generated on this host (set it in the environment): {effect}")
    for name, console in CONSOLE_BACKENDS.items():
        if getattr(settings, name) == console:
            problems.append(
                f"{name} is the console backend (set it to a real one): it would write every message, "
                "private links included, to the logs"
            )
    return problems


def refuse_unsafe_production() -> None:
    """Raise ImproperlyConfigured, with every reason, when DEBUG is off and the set-up is one of the above."""
    if settings.DEBUG or settings.TESTING:
        return
    problems = production_problems()
    if problems:
        raise ImproperlyConfigured(
            "Refusing to start with DEBUG off: " + "; ".join(problems) + ". For development, set DEBUG=1."
        )
