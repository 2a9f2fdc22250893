"""Retention per phase (DOMAIN.md R27; docs/privacy.md, "Retention").

- active (waiting, offered, scheduled, paused): kept, whatever its age;
- ended (served, withdrawn, closed): kept RETENTION_AFTER_END_DAYS after the last change of status;
- court case pending (a court order on the request whose case has not ended): kept until the case ends, then
  RETENTION_AFTER_COURT_CASE_DAYS more (the attempts and proofs are the evidence of the case).

A request is due for erasure when every phase that applies to it is over.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guichet.evidence.models import CourtOrder
from guichet.waitlist.models import ACTIVE_STATUSES, AppointmentRequest, RequestStatus

ENDED_STATUSES = (RequestStatus.SERVED, RequestStatus.WITHDRAWN, RequestStatus.CLOSED)


class Phase:
    ACTIVE = "active"
    ENDED = "ended"
    COURT_CASE = "court_case"
    ERASED = "erased"

    LABELS = {
        ACTIVE: _("in progress: kept"),
        ENDED: _("ended: kept for a period, then erased"),
        COURT_CASE: _("court case: kept until it ends"),
        ERASED: _("erased"),
    }


def _holding_cases(today: datetime.date) -> QuerySet[CourtOrder]:
    """Court orders that still hold their request: case pending, or ended within the period."""
    since = today - datetime.timedelta(days=settings.RETENTION_AFTER_COURT_CASE_DAYS)
    return CourtOrder.objects.filter(Q(case_ended_on__isnull=True) | Q(case_ended_on__gt=since))


def due_for_erasure(now: datetime.datetime | None = None) -> QuerySet[AppointmentRequest]:
    """Requests whose every retention period is over, not yet erased."""
    now = now or timezone.now()
    ended_before = now - datetime.timedelta(days=settings.RETENTION_AFTER_END_DAYS)
    held = _holding_cases(now.date()).filter(request=OuterRef("pk"))
    return AppointmentRequest.objects.filter(
        erased_at__isnull=True, status__in=ENDED_STATUSES, status_changed_at__lt=ended_before
    ).exclude(Exists(held))


def phase_of(request: AppointmentRequest, now: datetime.datetime | None = None) -> str:
    now = now or timezone.now()
    if request.erased_at is not None:
        return Phase.ERASED
    if _holding_cases(now.date()).filter(request=request).exists():
        return Phase.COURT_CASE
    if request.status in ACTIVE_STATUSES:
        return Phase.ACTIVE
    return Phase.ENDED


def erasure_date(request: AppointmentRequest, now: datetime.datetime | None = None) -> datetime.date | None:
    """When the purge will erase this request, if that is known today (None: active or court case)."""
    if phase_of(request, now) != Phase.ENDED:
        return None
    return (request.status_changed_at + datetime.timedelta(days=settings.RETENTION_AFTER_END_DAYS)).date()
