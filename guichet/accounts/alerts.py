"""Emails to a prefecture's managers, at most once per local day for each kind of alert.

The capacity alert (guichet.capacity.alerts) and the late-risk alert (guichet.allocation.late_risk) run
hourly from the clock; a cache key per prefecture, kind and day makes the first run of the day that finds
something send it, and the others stay silent. An email that fails is tried again at the next run.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import translation

from guichet.catalog.models import Prefecture

from .permissions import staff_emails

logger = logging.getLogger(__name__)


def mail_managers_once_a_day(
    prefecture: Prefecture, kind: str, day: datetime.date, compose: Callable[[], tuple[str, str]]
) -> bool:
    """Send (subject, body) from ``compose`` (run in the prefecture's working language) to its managers,
    unless this kind of alert already went out that day; returns whether it was sent."""
    recipients = staff_emails(prefecture, "manager")
    day_key = f"guichet:{kind}:{prefecture.code}:{day.isoformat()}"
    if not recipients or not cache.add(day_key, True, timeout=2 * 86400):
        return False
    with translation.override(settings.LANGUAGE_CODE):
        subject, body = compose()
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except OSError:
        cache.delete(day_key)  # not sent: try again at the next run
        logger.warning("%s of %s could not be sent", kind, prefecture.code)
        return False
    return True
