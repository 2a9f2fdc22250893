"""What a département code tells about time and holidays.

Prefectures are keyed by their département code ("75", "2A", "976"). Time zones and holiday
subdivisions follow from it: Alsace-Moselle keeps Good Friday and 26 December, and the overseas
départements have their own holidays and clocks (none of them observes daylight saving time).
"""

import re

import holidays

DEPARTMENT_CODE = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-46])$")

OVERSEAS_TIMEZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}

# Subdivision codes of the `holidays` package for France.
HOLIDAY_SUBDIVISIONS = {
    "57": "57",
    "67": "6AE",
    "68": "6AE",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
}


def is_department_code(code: str) -> bool:
    return bool(DEPARTMENT_CODE.match(code))


def timezone_for(department: str) -> str:
    return OVERSEAS_TIMEZONES.get(department, "Europe/Paris")


def holiday_subdivision_for(department: str) -> str:
    return HOLIDAY_SUBDIVISIONS.get(department, "")


def holiday_subdivisions() -> tuple[str, ...]:
    """Every subdivision the holidays package knows for France (départements, overseas, school zones)."""
    return tuple(holidays.France.subdivisions)
