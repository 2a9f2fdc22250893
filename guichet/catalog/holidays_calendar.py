"""Public holidays of a prefecture, from the `holidays` package and its subdivision."""

import datetime
from functools import lru_cache

import holidays
from django.utils import translation

# Languages the holidays package names French holidays in; any other reader gets English names.
HOLIDAY_LANGUAGES = {"fr": "fr", "uk": "uk"}


def _language() -> str:
    code = (translation.get_language() or "fr").split("-")[0]
    return HOLIDAY_LANGUAGES.get(code, "en_US")


@lru_cache(maxsize=256)
def _holidays_of(subdivision: str, year: int, language: str = "fr") -> dict[datetime.date, str]:
    # The language is always given: left out, the package would follow the process's LANG.
    calendar = holidays.France(subdiv=subdivision or None, years=year, language=language)
    return dict(calendar.items())


def holidays_between(subdivision: str, start: datetime.date, end: datetime.date) -> dict[datetime.date, str]:
    """Holidays from start to end inclusive, named in the active language (French, Ukrainian or English)."""
    found: dict[datetime.date, str] = {}
    language = _language()
    for year in range(start.year, end.year + 1):
        for day, name in _holidays_of(subdivision, year, language).items():
            if start <= day <= end:
                found[day] = name
    return found


def is_holiday(subdivision: str, day: datetime.date) -> bool:
    return day in _holidays_of(subdivision, day.year)
