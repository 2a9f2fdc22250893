"""The capacity alert: managers are told by email, once a day at most, which procedures' projected wait
(projection.py) exceeds their target, so that capacity is added before the delay is there."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guichet.accounts.permissions import staff_emails
from guichet.catalog.models import Prefecture

from .projection import Projection, projections

logger = logging.getLogger(__name__)


def _wait_text(projection: Projection) -> str:
    worst = projection.worst_wait_days
    if worst is None:
        return _("%(name)s: no slot in some coming week while people wait (target %(target)s days)") % {
            "name": projection.inputs.name,
            "target": projection.inputs.target_wait_days,
        }
    return _("%(name)s: up to %(days)s days projected (target %(target)s days)") % {
        "name": projection.inputs.name,
        "days": worst,
        "target": projection.inputs.target_wait_days,
    }


def alert_managers(prefecture: Prefecture, now: datetime.datetime | None = None) -> list[Projection]:
    """Email the prefecture's managers about the procedures over target (at most once per local day);
    returns those procedures' projections."""
    now = now or timezone.now()
    over = [projection for projection in projections(prefecture, now=now) if projection.over_target]
    recipients = staff_emails(prefecture, "manager")
    day_key = f"guichet:capacity-alert:{prefecture.code}:{timezone.localdate(now).isoformat()}"
    if not over or not recipients or not cache.add(day_key, True, timeout=2 * 86400):
        return over
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Guichet: projected waits over target in %(prefecture)s") % {
            "prefecture": prefecture.name
        }
        lines = "\n".join(f"- {_wait_text(projection)}" for projection in over)
        body = _(
            "Over the next 12 weeks, the projected wait of these procedures exceeds their target:\n\n"
            "%(lines)s\n\nSee the capacity planning page of the back office, and try more slots there or in "
            "the catalogue."
        ) % {"lines": lines}
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except OSError:
        cache.delete(day_key)  # not sent: try again at the next run
        logger.warning("capacity alert of %s could not be sent", prefecture.code)
    return over
