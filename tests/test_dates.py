"""One date formatter (guichet/dates.py) for pages, messages and letters: genitive months in Russian and
Ukrainian, "de" in Spanish, the same on a page as in a message."""

import datetime

import pytest
from django.template import Context, Template
from django.utils import translation

from guichet import dates

WEDNESDAY = datetime.date(2026, 3, 4)


@pytest.mark.parametrize(
    "language, expected",
    [
        ("fr", "mercredi 4 mars 2026"),
        ("en", "Wednesday 4 March 2026"),
        ("es", "miércoles 4 de marzo de 2026"),
        ("ru", "4 марта 2026 (среда)"),
        ("uk", "4 березня 2026 (середа)"),
        ("tr", "4 Mart 2026 Çarşamba"),
        ("zh-hans", "2026年3月4日 星期三"),
    ],
)
def test_long_dates_as_each_language_writes_them(language, expected):
    with translation.override(language):
        assert dates.long_date(WEDNESDAY) == expected


@pytest.mark.parametrize("language", ["fr", "ar", "es", "ru", "uk", "zh-hans", "tr", "en"])
def test_pages_print_the_same_long_date_as_messages(language):
    # Pages used a table of their own: Russian and Spanish pages printed "4 Март 2026"-like nominative
    # months and no "de", while the messages said it right.
    with translation.override(language):
        page = Template("{% load guichet_ui %}{{ day|long_date }}").render(Context({"day": WEDNESDAY}))
        assert page == dates.long_date(WEDNESDAY)


def test_short_dates_and_times():
    with translation.override("ru"):
        assert dates.short_date(WEDNESDAY) == "04.03.2026"
    with translation.override("fr"):
        assert dates.short_date(WEDNESDAY) == "04/03/2026"
        assert dates.clock_time(datetime.time(9, 5)) == "09:05"
