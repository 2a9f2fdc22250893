"""The capacity alert: managers are told by email, once a day at most, which procedures' projected wait
(projection.py) exceeds their target, so that capacity is added before the delay is there."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from guichet.accounts.alerts import mail_managers_once_a_day
from guichet.catalog.models import Prefecture

from .projection import Projection, projections


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

    def compose() -> tuple[str, str]:
        subject = _("Guichet: projected waits over target in %(prefecture)s") % {
            "prefecture": prefecture.name
        }
        lines = "\n".join(f"- {_wait_text(projection)}" for projection in over)
        body = _(
            "Over the next 12 weeks, the projected wait of these procedures exceeds their target:\n\n"
            "%(lines)s\n\nSee the capacity planning page of the back office, and try more slots there or in "
            "the catalogue."
        ) % {"lines": lines}
        return subject, body

    if over:
        mail_managers_once_a_day(prefecture, "capacity-alert", timezone.localdate(now), compose)
    return over
