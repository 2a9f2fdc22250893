"""Local opening times across daylight-saving changes, and in overseas zones that have none."""

import datetime
import zoneinfo

import pytest

from guichet.capacity.models import Slot
from guichet.capacity.services import generate_slots, local_to_utc
from tests import factories
from tests.capacity.helpers import utc

SPRING = datetime.date(2026, 3, 29)  # last Sunday of March: 2:00 → 3:00 in Paris
AUTUMN = datetime.date(2026, 10, 25)  # last Sunday of October: 3:00 → 2:00 in Paris
NOW = utc(2026, 1, 1)


def every_day_at_nine(code: str, site_name: str = "Site"):
    pref = factories.prefecture(code, f"Préfecture {code}")
    counter = factories.counter(factories.site(pref, site_name), "Guichet 1")
    procedure = factories.procedure(pref)
    for weekday in range(7):
        factories.rule(counter, [procedure], weekday=weekday, start="09:00", end="10:00", slot_minutes=60)
    return pref, counter


def starts_by_local_day(counter) -> dict[datetime.date, datetime.datetime]:
    tz = counter.site.tzinfo
    return {
        slot.starts_at.astimezone(tz).date(): slot.starts_at for slot in Slot.objects.filter(counter=counter)
    }


@pytest.mark.parametrize(
    ("change", "before", "after"),
    [
        (SPRING, datetime.time(8, 0), datetime.time(7, 0)),  # CET (UTC+1) → CEST (UTC+2)
        (AUTUMN, datetime.time(7, 0), datetime.time(8, 0)),  # CEST → CET
    ],
)
def test_nine_oclock_in_paris_stays_nine_oclock_across_the_change(db, change, before, after):
    pref, counter = every_day_at_nine("93")
    # The week around the change: Thursday to the next Wednesday (no public holiday).
    start = change - datetime.timedelta(days=3)
    report = generate_slots(pref, start=start, weeks=1, now=NOW)
    assert report.created == 7
    starts = starts_by_local_day(counter)
    for offset in range(7):
        day = start + datetime.timedelta(days=offset)
        expected = before if day < change else after
        assert starts[day] == datetime.datetime.combine(day, expected, tzinfo=datetime.UTC), day
        assert starts[day].astimezone(counter.site.tzinfo).time() == datetime.time(9, 0)
    # And a second run over the change finds every slot where it belongs.
    assert generate_slots(pref, start=start, weeks=1, now=NOW).created == 0


@pytest.mark.parametrize(
    ("code", "utc_hour"),
    [("974", 5), ("976", 6), ("972", 13), ("971", 13), ("973", 12)],
)
def test_overseas_zones_have_the_same_utc_time_all_year(db, code, utc_hour):
    pref, counter = every_day_at_nine(code)
    assert pref.timezone != "Europe/Paris" and counter.site.timezone == pref.timezone
    for change in (SPRING, AUTUMN):
        generate_slots(pref, start=change - datetime.timedelta(days=3), weeks=1, now=NOW)
    starts = starts_by_local_day(counter)
    assert len(starts) == 14
    assert {start.time() for start in starts.values()} == {datetime.time(utc_hour, 0)}


def test_the_missing_hour_of_spring_gives_no_slot(db):
    pref = factories.prefecture()
    counter = factories.counter(factories.site(pref), "Guichet 1")
    factories.rule(
        counter, [factories.procedure(pref)], weekday=6, start="01:00", end="04:00", slot_minutes=30
    )
    generate_slots(pref, start=SPRING, weeks=1, now=NOW)
    slots = list(Slot.objects.filter(counter=counter))
    tz = counter.site.tzinfo
    # 2:00 and 2:30 do not exist that night: the clock goes from 1:59 CET to 3:00 CEST.
    assert [f"{s.starts_at.astimezone(tz):%H:%M}" for s in slots] == ["01:00", "01:30", "03:00", "03:30"]
    assert [s.starts_at for s in slots] == [
        utc(2026, 3, 29, 0),
        utc(2026, 3, 29, 0, 30),
        utc(2026, 3, 29, 1),
        utc(2026, 3, 29, 1, 30),
    ]
    assert all(s.ends_at - s.starts_at == datetime.timedelta(minutes=30) for s in slots)


def test_the_repeated_hour_of_autumn_is_taken_once_at_its_first_occurrence(db):
    pref = factories.prefecture()
    counter = factories.counter(factories.site(pref), "Guichet 1")
    factories.rule(
        counter, [factories.procedure(pref)], weekday=6, start="01:00", end="04:00", slot_minutes=30
    )
    generate_slots(pref, start=AUTUMN, weeks=1, now=NOW)
    slots = list(Slot.objects.filter(counter=counter))
    assert [s.starts_at for s in slots] == [
        utc(2026, 10, 24, 23, 0),  # 1:00 CEST
        utc(2026, 10, 24, 23, 30),
        utc(2026, 10, 25, 0, 0),  # 2:00 CEST, the first 2:00 (fold=0)
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 25, 2, 0),  # 3:00 CET
        utc(2026, 10, 25, 2, 30),
    ]
    # No two slots overlap.
    assert all(a.ends_at <= b.starts_at for a, b in zip(slots, slots[1:], strict=False))


def test_local_to_utc():
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    assert local_to_utc(SPRING, datetime.time(2, 30), paris) is None
    assert local_to_utc(AUTUMN, datetime.time(2, 30), paris) == utc(2026, 10, 25, 0, 30)
    assert local_to_utc(datetime.date(2026, 1, 5), datetime.time(9), paris) == utc(2026, 1, 5, 8)
