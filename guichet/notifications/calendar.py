"""The appointment as an iCalendar file (RFC 5545), attached to emails and offered as "add to calendar"."""

import datetime
from urllib.parse import urlparse

import icalendar
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guichet.appointments.models import Appointment, AppointmentStatus


def _uid(appointment: Appointment) -> str:
    # One UID per request: a changed appointment replaces the earlier one in the person's calendar
    # instead of adding a second event.
    host = urlparse(settings.SITE_URL).hostname or "guichet"
    return f"request-{appointment.request.reference}@{host}"


def _sequence(appointment: Appointment) -> int:
    earlier = Appointment.objects.filter(request_id=appointment.request_id, id__lt=appointment.id).count()
    return 2 * earlier + (1 if appointment.status == AppointmentStatus.CANCELLED else 0)


def appointment_ics(appointment: Appointment, language: str | None = None) -> bytes:
    """The appointment as an .ics file in the site's time zone (TZID plus its VTIMEZONE).

    A cancelled appointment gives a METHOD:CANCEL file with the same UID, which removes the event.
    """
    request = appointment.request
    site = appointment.counter.site
    tz = site.tzinfo
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    with translation.override(language or request.language):
        summary = _("Appointment at the prefecture: %(procedure)s") % {"procedure": request.procedure.name}
        description = "\n".join(
            [
                _("Reference: %(reference)s") % {"reference": request.reference},
                _("Bring your passport or identity document and this reference."),
                f"{settings.SITE_URL}/{translation.get_language()}/status/",
            ]
        )
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Guichet//Appointments//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    event = icalendar.Event()
    event.add("uid", _uid(appointment))
    event.add("sequence", _sequence(appointment))
    event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
    event.add("dtstart", appointment.starts_at.astimezone(tz))
    event.add("dtend", appointment.ends_at.astimezone(tz))
    event.add("summary", summary)
    event.add("location", f"{site.name}, {site.address}, {site.postal_code} {site.city}")
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if site.latitude is not None and site.longitude is not None:
        event.add("geo", (float(site.latitude), float(site.longitude)))
    if not cancelled:
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", datetime.timedelta(days=-1))
        event.add_component(alarm)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
