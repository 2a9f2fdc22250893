"""“Add to my calendar”: the .ics parses with icalendar and carries the site's time zone."""

import datetime
import zoneinfo

import icalendar
import pytest

from tests import factories
from tests.public import scenario as scenarios

pytestmark = pytest.mark.django_db


def calendar_of(client, filed, language="en"):
    response = client.get(filed.url("appointment_ics", language))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    return icalendar.Calendar.from_ical(response.content)


def test_ics_parses_and_carries_the_site_time_zone(client, scenario):
    calendar = calendar_of(client, scenario.scheduled)
    event = next(iter(calendar.walk("VEVENT")))
    start = event.decoded("dtstart")
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert str(start.tzinfo) == "Europe/Paris"
    assert start == scenario.appointment.starts_at
    assert event.decoded("dtend") == scenario.appointment.ends_at
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    assert scenario.scheduled.reference in event["description"]


def test_an_overseas_site_keeps_its_own_time_zone(client):
    world = factories.world("974")
    assert world.sites[0].timezone == "Indian/Reunion"
    scenarios.generate_slots(world, weeks=2)
    filed = scenarios.file(world, "first")
    appointment = scenarios.schedule(filed, scenarios.free_slot(world, "first"))
    event = next(iter(calendar_of(client, filed).walk("VEVENT")))
    assert event["dtstart"].params["TZID"] == "Indian/Reunion"
    local = event.decoded("dtstart")
    assert local == appointment.starts_at
    # Slots are generated in local wall-clock time: 9:00 in Saint-Denis, not 9:00 in Paris.
    assert local.astimezone(zoneinfo.ZoneInfo("Indian/Reunion")).time() >= datetime.time(9, 0)
