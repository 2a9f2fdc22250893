"""The one cleaner of free texts (reasons, notes) that every service uses."""

import pytest
from django.utils import translation

from guichet.errors import InvalidInput
from guichet.waitlist.validation import TEXT_MAX_LENGTH, clean_text


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_spaces_collapse_lines_stay_and_text_is_nfc():
    assert clean_text("  moved \t away\r\n\r\n\r\n\r\nnew  address ") == "moved away\n\nnew address"
    assert clean_text("Cafe\u0301") == "Café"
    assert clean_text(None) == ""


@pytest.mark.parametrize("bad", ["a\x00b", "a\x07b", "a\u202eb", 12, ["x"]])
def test_control_invisible_characters_and_non_text_are_refused_on_the_field(bad):
    with pytest.raises(InvalidInput) as error:
        clean_text(bad, field="note")
    assert error.value.code == "invalid" and list(error.value.fields) == ["note"]


def test_lengths():
    assert clean_text("x" * TEXT_MAX_LENGTH) == "x" * TEXT_MAX_LENGTH
    with pytest.raises(InvalidInput):
        clean_text("x" * (TEXT_MAX_LENGTH + 1))
    with pytest.raises(InvalidInput):
        clean_text("abcdef", max_length=5)
    with pytest.raises(InvalidInput) as error:
        clean_text("   ", required=True)
    assert error.value.fields == {"reason": ["This field is required."]}


def test_a_staff_reason_needs_a_few_words():
    for short in ("", "  ok ", "x"):
        with pytest.raises(InvalidInput) as error:
            clean_text(short, min_length=5)
        assert "a few words at least" in error.value.fields["reason"][0]
    assert clean_text("agent ill", min_length=5) == "agent ill"
