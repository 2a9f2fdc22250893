"""Arabic translations keep their example figures whole: a date, a time offset or a phone number written in a
msgstr is a left-to-right isolate (U+2066 … U+2069).

After Arabic letters the bidirectional algorithm turns digits into Arabic numbers, and a hyphen or a space
between two of them does not join them: "مثلًا 2025-03-31" showed as "31-03-2025" (a date read the other way
round), "01 23 45 67 89" as "89 67 45 23 01". A slash, a colon or a dot does join them (31/03/2024, 09:30,
4.1 stay as written), and so does a Latin letter before them (R.431-5).
"""

import re

import polib
import pytest
from django.conf import settings

from tests.i18n.test_translations_complete import FOLDERS, LOCALE

RIGHT_TO_LEFT = [code for code, _name in settings.LANGUAGES if code in settings.LANGUAGES_BIDI]
# Digit groups with a hyphen, space or plus between two of them, not inside a longer Latin token.
REORDERED = re.compile(r"(?<![\w./:+-])\+?\d+(?:[-/:. T+]\d+)*[- T+]\d+(?:[-/:. T+]\d+)*(?![\w])")


ISOLATE = re.compile("\u2066[^\u2069]*\u2069")


def unisolated(text: str) -> list[str]:
    return REORDERED.findall(ISOLATE.sub(" ", text))


def test_the_pattern_finds_what_the_algorithm_reorders_and_leaves_the_rest():
    assert unisolated("مثلًا 2025-03-31، 2025-04-02.") == ["2025-03-31", "2025-04-02"]
    assert unisolated("مثلاً 01 23 45 67 89.") == ["01 23 45 67 89"]
    assert unisolated("مثلًا \u20662025-03-31\u2069 أو 31/03/2024، 09:30، 4.1، المادة R.431-15-1") == []


@pytest.mark.parametrize("language", RIGHT_TO_LEFT)
def test_figures_in_right_to_left_translations_are_isolates(language):
    po = polib.pofile(str(LOCALE / FOLDERS[language] / "LC_MESSAGES" / "django.po"))
    found = [
        (entry.msgid[:60], token)
        for entry in po
        if not entry.obsolete
        for text in [entry.msgstr, *entry.msgstr_plural.values()]
        for token in unisolated(text)
    ]
    assert not found, found
