"""Public holidays of a prefecture, from the `holidays` package and its subdivision."""

import datetime
from functools import lru_cache

import holidays


@lru_cache(maxsize=256)
def _holidays_of(subdivision: str, year: int) -> dict[datetime.date, str]:
    calendar = holidays.France(subdiv=subdivision or None, years=year)
    return dict(calendar.items())


def holidays_between(subdivision: str, start: datetime.date, end: datetime.date) -> dict[datetime.date, str]:
    """Holidays from start to end inclusive, with their names."""
    found: dict[datetime.date, str] = {}
    for year in range(start.year, end.year + 1):
        for day, name in _holidays_of(subdivision, year).items():
            if start <= day <= end:
                found[day] = name
    return found


def is_holiday(subdivision: str, day: datetime.date) -> bool:
    return day in _holidays_of(subdivision, day.year)
