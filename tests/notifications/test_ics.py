"""The appointment as .ics: parses with icalendar, in the site's own time zone (TZID and VTIMEZONE)."""

import datetime
import zoneinfo

import icalendar
import pytest
from django.core import mail

from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.notifications.calendar import appointment_ics
from guichet.notifications.services import notify, send_due_messages
from tests import factories

from .conftest import NOW, make_request, make_slot, make_story


def parse(data: bytes) -> tuple[icalendar.Calendar, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(data)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_paris_appointment_carries_its_time_zone(world):
    story = make_story(world)
    calendar, event = parse(appointment_ics(story.appointment))
    start = event.decoded("dtstart")
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert start.tzinfo.key == "Europe/Paris"
    assert (start.hour, start.minute) == (9, 30) and start == story.appointment.starts_at
    assert event.decoded("dtend") - start == datetime.timedelta(minutes=30)
    assert "Bobigny" in str(event["location"])
    assert str(event["summary"]).startswith("Rendez-vous à la préfecture")
    assert calendar["method"] == "PUBLISH" and event["status"] == "CONFIRMED"


@pytest.mark.parametrize(
    ("code", "zone", "local_hour"), [("974", "Indian/Reunion", 12), ("971", "America/Guadeloupe", 4)]
)
def test_overseas_appointment_is_in_the_overseas_time_zone(db, code, zone, local_hour):
    overseas = factories.world(code)
    request = make_request(overseas, reference=f"{code}-ABCD-EFGH")
    slot = make_slot(overseas, datetime.datetime(2026, 3, 10, 8, 0, tzinfo=datetime.UTC))
    appointment = Appointment.objects.create(
        request=request,
        slot=slot,
        counter=slot.counter,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        confirmed_at=NOW,
    )
    calendar, event = parse(appointment_ics(appointment))
    assert event["dtstart"].params["TZID"] == zone
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == [zone]
    start = event.decoded("dtstart")
    assert start.hour == local_hour and start == slot.starts_at
    assert start.utcoffset() == zoneinfo.ZoneInfo(zone).utcoffset(datetime.datetime(2026, 3, 10))


def test_a_cancelled_appointment_cancels_the_same_event(world):
    story = make_story(world)
    _calendar, confirmed = parse(appointment_ics(story.appointment))
    story.appointment.status = AppointmentStatus.CANCELLED
    calendar, cancelled = parse(appointment_ics(story.appointment))
    assert calendar["method"] == "CANCEL" and cancelled["status"] == "CANCELLED"
    assert cancelled["uid"] == confirmed["uid"]
    assert cancelled["sequence"] > confirmed["sequence"]


def test_the_confirmation_email_carries_the_ics(world, frozen_now, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "tests.notifications.backends.MemorySms"
    story = make_story(world, language="ar")
    notify(story.request, "appointment_confirmed", {"appointment_id": story.appointment.pk})
    send_due_messages(now=NOW)
    [(name, content, mimetype)] = mail.outbox[0].attachments
    assert name.endswith(".ics") and mimetype == "text/calendar"
    _calendar, event = parse(content.encode() if isinstance(content, str) else content)
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert "موعد" in str(event["summary"])  # in the person's language
