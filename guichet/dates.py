"""Dates and times as each language writes them: one table, for pages, messages, letters and PDFs alike.

Day and month names come from Django's own catalogues. In Russian and Ukrainian "E" is the genitive month
("4 марта"), and the weekday goes in brackets, so that "до 4 марта 2026 (среда)" reads right after any
preposition; Spanish joins with "de" ("miércoles 4 de marzo de 2026"). Django's formats have no long date
with the weekday, hence this table.
"""

import datetime

from django.utils import dateformat, translation

LONG_DATE = {
    "es": r"l j \d\e F \d\e Y",
    "ru": "j E Y (l)",
    "uk": "j E Y (l)",
    "zh-hans": "Y年n月j日 l",
    "tr": "j F Y l",
}
DEFAULT_LONG_DATE = "l j F Y"
SHORT_DATE = {"ru": "d.m.Y", "uk": "d.m.Y", "tr": "d.m.Y", "zh-hans": "Y-m-d"}
DEFAULT_SHORT_DATE = "d/m/Y"
# Django's catalogues capitalise these languages' weekday names; inside a sentence they are lower case.
LOWER_CASE_WEEKDAYS = {"ru", "uk"}


def long_date(value: datetime.date) -> str:
    """The weekday, day, month and year in the active language ("mercredi 4 mars 2026")."""
    language = translation.get_language()
    text = dateformat.format(value, LONG_DATE.get(language, DEFAULT_LONG_DATE))
    if language in LOWER_CASE_WEEKDAYS:
        weekday = dateformat.format(value, "l")
        text = text.replace(weekday, weekday.lower(), 1)
    return text


def short_date(value: datetime.date) -> str:
    return dateformat.format(value, SHORT_DATE.get(translation.get_language(), DEFAULT_SHORT_DATE))


def clock_time(value: datetime.datetime | datetime.time) -> str:
    return dateformat.time_format(value, "H:i")
