"""Public holidays per subdivision: Alsace-Moselle, the overseas départements, and the mainland."""

import datetime

import pytest
from django.utils import translation

from guichet.capacity.models import Slot
from guichet.capacity.services import generate_slots
from guichet.catalog import territory
from guichet.catalog.holidays_calendar import holidays_between, is_holiday
from tests import factories
from tests.capacity.helpers import utc

GOOD_FRIDAY_2026 = datetime.date(2026, 4, 3)
SAINT_STEPHEN_2025 = datetime.date(2025, 12, 26)  # a Friday
MARTINIQUE_ABOLITION_2026 = datetime.date(2026, 5, 22)  # a Friday
REUNION_ABOLITION_2027 = datetime.date(2027, 12, 20)  # a Monday
MAYOTTE_ABOLITION_2026 = datetime.date(2026, 4, 27)  # a Monday


@pytest.mark.parametrize(
    ("code", "subdivision", "timezone"),
    [
        ("93", "", "Europe/Paris"),
        ("2A", "", "Europe/Paris"),
        ("57", "57", "Europe/Paris"),
        ("67", "6AE", "Europe/Paris"),
        ("68", "6AE", "Europe/Paris"),
        ("971", "971", "America/Guadeloupe"),
        ("972", "972", "America/Martinique"),
        ("973", "973", "America/Cayenne"),
        ("974", "974", "Indian/Reunion"),
        ("976", "976", "Indian/Mayotte"),
    ],
)
def test_a_prefecture_gets_its_subdivision_and_time_zone_from_its_code(db, code, subdivision, timezone):
    pref = factories.prefecture(code, f"Préfecture {code}")
    assert (pref.holiday_subdivision, pref.timezone) == (subdivision, timezone)


@pytest.mark.parametrize(
    ("day", "holiday_in", "working_in"),
    [
        (GOOD_FRIDAY_2026, {"57", "6AE"}, {"", "972", "974"}),
        (SAINT_STEPHEN_2025, {"57", "6AE"}, {"", "971", "974"}),
        (MARTINIQUE_ABOLITION_2026, {"972"}, {"", "57", "971", "974"}),
        (REUNION_ABOLITION_2027, {"974"}, {"", "57", "972"}),
        (MAYOTTE_ABOLITION_2026, {"976"}, {"", "974"}),
        (datetime.date(2026, 7, 14), {"", "57", "6AE", "971", "972", "973", "974", "976"}, set()),
    ],
)
def test_holidays_per_subdivision(day, holiday_in, working_in):
    for subdivision in holiday_in:
        assert is_holiday(subdivision, day), (subdivision, day)
    for subdivision in working_in:
        assert not is_holiday(subdivision, day), (subdivision, day)


def test_holidays_between_spans_years_and_names_them():
    found = holidays_between("57", datetime.date(2025, 12, 24), datetime.date(2026, 1, 2))
    assert sorted(found) == [datetime.date(2025, 12, 25), SAINT_STEPHEN_2025, datetime.date(2026, 1, 1)]
    assert all(found.values())


def weekday_counter(code: str):
    pref = factories.prefecture(code, f"Préfecture {code}")
    counter = factories.counter(factories.site(pref, "Site"), "Guichet 1")
    procedure = factories.procedure(pref)
    for weekday in range(5):
        factories.rule(counter, [procedure], weekday=weekday, start="09:00", end="10:00", slot_minutes=60)
    return pref, counter


def slot_days(counter) -> set[datetime.date]:
    tz = counter.site.tzinfo
    return {slot.starts_at.astimezone(tz).date() for slot in Slot.objects.filter(counter=counter)}


@pytest.mark.parametrize(
    ("day", "closed_in", "open_in"),
    [
        (GOOD_FRIDAY_2026, ["57", "67"], ["93", "974"]),
        (SAINT_STEPHEN_2025, ["68", "57"], ["93", "972"]),
        (MARTINIQUE_ABOLITION_2026, ["972"], ["93", "57"]),
        (REUNION_ABOLITION_2027, ["974"], ["93", "972"]),
    ],
)
def test_generation_skips_the_holidays_of_the_prefecture_only(db, day, closed_in, open_in):
    counters = {code: weekday_counter(code) for code in closed_in + open_in}
    for pref, _counter in counters.values():
        generate_slots(pref, start=day - datetime.timedelta(days=7), weeks=2, now=utc(2025, 1, 1))
    for code, (_pref, counter) in counters.items():
        days = slot_days(counter)
        assert (day in days) == (code in open_in), code
        # Around it, the ordinary weekdays are open.
        assert len(days - {day}) >= 6, code


def test_holiday_subdivisions_come_from_the_holidays_package():
    assert {"57", "6AE", "971", "972", "973", "974", "976"} <= set(territory.holiday_subdivisions())


def test_holiday_names_follow_the_language_of_the_reader():
    with translation.override("fr"):
        assert holidays_between("57", GOOD_FRIDAY_2026, GOOD_FRIDAY_2026) == {
            GOOD_FRIDAY_2026: "Vendredi saint"
        }
    with translation.override("ar"):
        assert holidays_between("57", GOOD_FRIDAY_2026, GOOD_FRIDAY_2026) == {GOOD_FRIDAY_2026: "Good Friday"}
