"""Public figures of a prefecture: how many people wait, how many ask, how many slots it opens.

The mission's "public numbers on supply, demand and waiting" (DOMAIN.md R23), procedure by procedure, for the
page /<lang>/statistics/<prefecture>/ and for GET /api/v1/statistics. Every figure is a count of rows, read
as it is now; each says over which period:

- waiting: requests in the queue now (waiting, with an offer to answer, or paused), and of them those whose
  due date has passed;
- demand: requests received per week over the last PERIOD_WEEKS weeks, all channels;
- supply: slots (free or taken) per week over the next PERIOD_WEEKS weeks (guichet.public.estimates);
- appointments per week over the last PERIOD_WEEKS weeks (every appointment that was due then and was not
  cancelled, whether the person came or not);
- median days from filing to appointment, over requests received in the last RECENT_DAYS days, when there
  are at least MIN_RECENT_APPOINTMENTS of them;
- court orders recorded in the last year (whole prefecture).
"""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.catalog.models import Prefecture, Procedure
from guichet.evidence.models import CourtOrder
from guichet.replica import reads_replica
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from . import estimates

PERIOD_WEEKS = estimates.CAPACITY_WEEKS
RECENT_DAYS = estimates.RECENT_DAYS
MIN_RECENT_APPOINTMENTS = estimates.MIN_RECENT_APPOINTMENTS
CACHE_SECONDS = 10 * 60
IN_QUEUE = (RequestStatus.WAITING, RequestStatus.OFFERED, RequestStatus.PAUSED)


@dataclass(frozen=True)
class ProcedureFigures:
    code: str
    name: str
    waiting: int
    late: int
    requests_per_week: float
    slots_per_week: float
    appointments_per_week: float
    median_wait_days: int | None


@dataclass(frozen=True)
class PrefectureFigures:
    prefecture: str
    prefecture_name: str
    as_of: datetime.datetime
    period_weeks: int
    recent_days: int
    procedures: list[ProcedureFigures]
    court_orders_last_year: int

    @property
    def total(self) -> ProcedureFigures:
        rows = self.procedures
        # No median for all procedures together: they wait for different lengths and numbers of slots.
        return ProcedureFigures(
            code="",
            name="",
            waiting=sum(row.waiting for row in rows),
            late=sum(row.late for row in rows),
            requests_per_week=round(sum(row.requests_per_week for row in rows), 1),
            slots_per_week=round(sum(row.slots_per_week for row in rows), 1),
            appointments_per_week=round(sum(row.appointments_per_week for row in rows), 1),
            median_wait_days=None,
        )


def _procedure_figures(
    procedure: Procedure, now: datetime.datetime, today: datetime.date
) -> ProcedureFigures:
    since = now - datetime.timedelta(weeks=PERIOD_WEEKS)
    in_queue = AppointmentRequest.objects.filter(procedure=procedure, status__in=IN_QUEUE)
    received = AppointmentRequest.objects.filter(
        procedure=procedure, received_at__gte=since, received_at__lt=now
    )
    held = Appointment.objects.filter(
        request__procedure=procedure, starts_at__gte=since, starts_at__lt=now
    ).exclude(status=AppointmentStatus.CANCELLED)
    waits = estimates.recent_waits(procedure, None, today)
    return ProcedureFigures(
        code=procedure.code,
        name=procedure.name,
        waiting=in_queue.count(),
        late=in_queue.filter(due_date__lt=today).count(),
        requests_per_week=round(received.count() / PERIOD_WEEKS, 1),
        slots_per_week=round(estimates.weekly_slots(procedure, None, now), 1),
        appointments_per_week=round(held.count() / PERIOD_WEEKS, 1),
        median_wait_days=round(statistics.median(waits)) if len(waits) >= MIN_RECENT_APPOINTMENTS else None,
    )


@reads_replica
def prefecture_figures(prefecture: Prefecture, now: datetime.datetime | None = None) -> PrefectureFigures:
    now = now or timezone.now()
    today = now.astimezone(prefecture.tzinfo).date()
    procedures = Procedure.objects.filter(prefecture=prefecture, is_active=True).order_by("name")
    court_orders = CourtOrder.objects.filter(
        request__prefecture=prefecture, ordered_on__gt=today - datetime.timedelta(days=365)
    ).count()
    return PrefectureFigures(
        prefecture=prefecture.code,
        prefecture_name=prefecture.name,
        as_of=now,
        period_weeks=PERIOD_WEEKS,
        recent_days=RECENT_DAYS,
        procedures=[_procedure_figures(procedure, now, today) for procedure in procedures],
        court_orders_last_year=court_orders,
    )


def cached_prefecture_figures(prefecture: Prefecture) -> PrefectureFigures:
    """The figures, computed at most every CACHE_SECONDS per prefecture (a few dozen counting queries)."""
    key = f"guichet:figures:{prefecture.pk}"
    figures = cache.get(key)
    if figures is None:
        figures = prefecture_figures(prefecture)
        cache.set(key, figures, CACHE_SECONDS)
    return figures
