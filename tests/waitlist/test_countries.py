"""The list of nationalities, in every language, in the order its readers expect (guichet/collation.py)."""

import pytest
from django.conf import settings
from django.utils import translation

from guichet.collation import sort_key
from guichet.waitlist.countries import COUNTRIES, country_choices
from guichet.waitlist.forms import IntakeForm


def names(language: str) -> list[str]:
    with translation.override(language):
        return [name for _code, name in country_choices()]


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_every_language_lists_every_country_once_in_its_order(language):
    listed = names(language)
    assert len(listed) == len(COUNTRIES)
    assert listed == sorted(listed, key=sort_key(language))


def test_french_accented_names_are_not_at_the_end():
    listed = names("fr")
    assert listed[-1] == "Zimbabwe"
    assert listed.index("Égypte") < listed.index("Espagne") < listed.index("Finlande")


def test_turkish_and_ukrainian_letters_with_marks_are_in_the_alphabet():
    turkish = names("tr")
    assert turkish[-1] == "Zimbabve"
    assert turkish.index("Cezayir") < turkish.index("Çad") < turkish.index("Danimarka")
    ukrainian = names("uk")
    assert ukrainian[-1] == "Японія"
    assert ukrainian.index("Ємен") < ukrainian.index("Ізраїль") < ukrainian.index("Йорданія")


@pytest.mark.django_db
def test_the_intake_form_offers_the_list_in_the_readers_order(prefecture):
    with translation.override("uk"):
        offered = [
            str(name)
            for code, name in IntakeForm(prefecture=prefecture).fields["nationality"].choices
            if code
        ]
    assert offered == names("uk")
