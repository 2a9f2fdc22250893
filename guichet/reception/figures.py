"""A site's day in figures, for managers: how many were checked in, served (complete or incomplete files),
missed, refused, and how long people waited in the room (from check-in to their first call)."""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass

from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.catalog.models import Site

from .models import FileRegistration, Visit
from .services import _day_bounds


@dataclass(frozen=True)
class DayFigures:
    """One site's day; the staff page and the API (its schema too) show this dataclass as it is."""

    site: str
    day: datetime.date
    appointments: int
    checked_in: int
    served: int
    complete: int
    incomplete: int
    no_shows: int
    refused: int
    still_waiting: int
    wait_median_minutes: float | None
    wait_p90_minutes: float | None
    wait_max_minutes: float | None


def _minutes(delta: datetime.timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)


def day_figures(site: Site, day: datetime.date) -> DayFigures:
    start, end = _day_bounds(site, day)
    appointments = Appointment.objects.filter(counter__site=site, starts_at__gte=start, starts_at__lt=end)
    by_status = {status: appointments.filter(status=status).count() for status in AppointmentStatus.values}
    visits = Visit.objects.filter(site=site, day=day)
    waits = sorted(
        _minutes(called - checked)
        for checked, called in visits.exclude(first_called_at=None).values_list(
            "checked_in_at", "first_called_at"
        )
    )
    registrations = FileRegistration.objects.filter(appointment__in=appointments)
    p90 = None
    if len(waits) >= 2:
        p90 = round(statistics.quantiles(waits, n=10, method="inclusive")[-1], 1)
    elif waits:
        p90 = waits[0]
    return DayFigures(
        site=site.name,
        day=day,
        appointments=appointments.exclude(status=AppointmentStatus.CANCELLED).count(),
        checked_in=visits.count(),
        served=by_status[AppointmentStatus.SERVED],
        complete=registrations.filter(complete=True).count(),
        incomplete=registrations.filter(complete=False).count(),
        no_shows=by_status[AppointmentStatus.NO_SHOW],
        refused=by_status[AppointmentStatus.REFUSED],
        still_waiting=visits.filter(first_called_at=None).count(),
        wait_median_minutes=round(statistics.median(waits), 1) if waits else None,
        wait_p90_minutes=p90,
        wait_max_minutes=waits[-1] if waits else None,
    )
