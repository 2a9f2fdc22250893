"""Identity normalisation and keys: the same person however written, different people apart."""

import datetime
import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from guichet.waitlist.identity import (
    foreign_number_key,
    identity_key,
    mixed_script_words,
    name_tokens,
    normalise_foreign_number,
    normalise_identity,
    normalise_names,
)

BIRTH = datetime.date(1990, 5, 17)

# Letters from the scripts applicants write their names in (Latin with accents, Turkish, Vietnamese,
# Cyrillic, Greek, Arabic, Chinese), plus what people put between names.
LETTERS = st.sampled_from(
    list("abcdefghijklmnopqrstuvwxyzéèêëàâäîïôöùûüçñáíóúãõøåæœßışğİŞĞđễứ")
    + list("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ")
    + list("αβγδεζηθικλμνξοπρστυφχψωάέήίόύώς")
    + list("ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإىة")
    + list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
)
TOKEN = st.text(LETTERS, min_size=1, max_size=12)
NAMES = st.lists(TOKEN, min_size=1, max_size=5)
SEPARATOR = st.sampled_from([" ", "  ", "-", " - ", "\u00a0", "\u2009"])


def join(tokens, separator=" "):
    return separator.join(tokens)


@settings(max_examples=300)
@given(NAMES, NAMES)
def test_normalising_is_idempotent(family, given_):
    once = normalise_names(join(family), join(given_))
    assert normalise_names(once) == once
    assert normalise_names(once, "") == once


@settings(max_examples=300)
@given(NAMES, NAMES)
def test_case_does_not_matter(family, given_):
    plain = normalise_names(join(family), join(given_))
    assert normalise_names(join(family).upper(), join(given_).upper()) == plain
    assert normalise_names(join(family).title(), join(given_).lower()) == plain


@settings(max_examples=300)
@given(NAMES, NAMES, st.randoms(use_true_random=False))
def test_order_and_split_between_family_and_given_names_do_not_matter(family, given_, rnd):
    everything = family + given_
    shuffled = list(everything)
    rnd.shuffle(shuffled)
    cut = rnd.randint(0, len(shuffled))
    key = identity_key(join(family), join(given_), BIRTH)
    assert identity_key(join(shuffled[:cut]), join(shuffled[cut:]), BIRTH) == key


@settings(max_examples=300)
@given(NAMES, SEPARATOR, st.integers(0, 3), st.integers(0, 3))
def test_extra_spaces_and_hyphens_do_not_matter(family, separator, before, after):
    plain = normalise_names(join(family))
    assert normalise_names(" " * before + join(family, separator) + " " * after) == plain


@settings(max_examples=200)
@given(
    NAMES,
    st.dates(datetime.date(1890, 1, 1), datetime.date(2030, 1, 1)),
    st.dates(datetime.date(1890, 1, 1), datetime.date(2030, 1, 1)),
)
def test_distinct_birth_dates_give_distinct_keys(names, first, second):
    same = identity_key(join(names), "", first) == identity_key(join(names), "", second)
    assert same == (first == second)


def test_accents_and_special_latin_letters_are_folded():
    assert normalise_names("NGUYỄN", "Văn An") == normalise_names("Nguyen", "Van An")
    assert normalise_names("Müller-Lüdenscheidt") == normalise_names("muller ludenscheidt")
    assert normalise_names("Øster", "Łukasz") == normalise_names("oster", "lukasz")
    assert normalise_names("Yıldız", "İsmail") == normalise_names("YILDIZ", "ISMAIL")
    assert normalise_names("Straße") == normalise_names("STRASSE")
    assert normalise_names("Œuvray") == normalise_names("oeuvray")


def test_apostrophes_join_what_they_separate():
    assert normalise_names("N'Diaye", "Awa") == normalise_names("N’DIAYE", "awa")
    assert normalise_names("N'Diaye") == normalise_names("Ndiaye")


def test_the_example_of_the_design():
    assert identity_key("NGUYEN", "Van An", BIRTH) == identity_key("An Van", "Nguyen", BIRTH)
    assert identity_key("NGUYEN", "Van An", BIRTH) == identity_key("An Van Nguyen", "", BIRTH)


def test_other_scripts_keep_their_letters_and_stay_distinct():
    names = ["Иванов", "Іванов", "Йосиф", "Иосиф", "محمد", "أحمد", "王伟", "王芳", "Ahmed", "Ahmad"]
    keys = {identity_key(name, "", BIRTH) for name in names}
    assert len(keys) == len(names)
    assert normalise_names("Иванов") == "иванов"
    assert normalise_names("王伟") == "王伟"


def test_optional_arabic_vowel_signs_and_invisible_marks_are_ignored():
    assert normalise_names("مُحَمَّد") == normalise_names("محمد")
    assert normalise_names("\u200fمحمد\u200f") == normalise_names("محمد")
    assert normalise_names("Ali\u200b") == normalise_names("Ali")


def test_tokens_are_sorted_across_fields():
    assert name_tokens("Van An", "Nguyen") == ["an", "nguyen", "van"]
    assert normalise_identity("Nguyen", "An", BIRTH) == "an nguyen|1990-05-17"


def test_keys_are_hmac_hex_and_depend_on_the_secret(settings):
    key = identity_key("Doe", "Jane", BIRTH)
    assert len(key) == 64 and int(key, 16) >= 0
    settings.IDENTITY_HMAC_KEY = "another secret"
    assert identity_key("Doe", "Jane", BIRTH) != key


def test_foreign_number_keys():
    assert normalise_foreign_number("75 01 23 45 67") == "7501234567"
    assert normalise_foreign_number("٧٥٠١٢٣٤٥٦٧") == "7501234567"
    assert foreign_number_key("7501234567") == foreign_number_key(" 75 0123 4567 ")
    assert foreign_number_key("7501234567") != foreign_number_key("7501234568")
    assert foreign_number_key("") == ""
    # A number and a name never share a key, even if one looked like the other.
    assert foreign_number_key("7501234567") != identity_key("7501234567", "", BIRTH)


ANY_NAME_TEXT = st.text(st.characters(categories=["L", "M", "Zs", "Pd", "Po", "Cf"]), max_size=30)


@settings(max_examples=500)
@given(ANY_NAME_TEXT)
@example("µิ")  # the micro sign folds to Greek mu: its marks must be kept as mu's are
def test_idempotent_and_case_blind_on_any_unicode_letters(text):
    once = normalise_names(text)
    assert normalise_names(once) == once
    assert normalise_names(text.upper()) == once


LATIN_TOKEN = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=1, max_size=10)
ACCENTS = st.lists(st.sampled_from([chr(code) for code in range(0x0300, 0x0370)]), max_size=2)


@settings(max_examples=300)
@given(st.lists(st.tuples(LATIN_TOKEN, st.lists(ACCENTS, min_size=10, max_size=10)), min_size=1, max_size=4))
def test_accents_on_latin_letters_do_not_matter(tokens):
    plain = " ".join(token for token, _marks in tokens)
    accented = " ".join(
        "".join(letter + "".join(marks) for letter, marks in zip(token, accents, strict=False))
        for token, accents in tokens
    )
    # Precomposed or decomposed, whatever the marks, the name is the same.
    assert normalise_names(accented) == normalise_names(plain)
    assert normalise_names(unicodedata.normalize("NFC", accented)) == normalise_names(plain)


# Latin letters with a Cyrillic or Greek lookalike, and those lookalikes (lower and upper case).
LOOKALIKES = {
    "a": "аα",
    "b": "в",
    "c": "с",
    "e": "еε",
    "i": "іι",
    "j": "ј",
    "k": "кκ",
    "o": "оο",
    "p": "рρ",
    "s": "ѕ",
    "x": "хχ",
    "y": "у",
}
SPOOFABLE = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz"), min_size=2, max_size=10).filter(
    lambda word: any(letter in LOOKALIKES for letter in word)
)


@settings(max_examples=300)
@given(st.lists(SPOOFABLE, min_size=1, max_size=3), st.data())
@example(["dupont"], None)
def test_a_lookalike_letter_from_another_alphabet_makes_no_second_identity(words, data):
    spoofed = []
    for word in words:
        positions = [index for index, letter in enumerate(word) if letter in LOOKALIKES]
        if data is None:
            chosen = positions[:1]
        else:
            chosen = data.draw(st.lists(st.sampled_from(positions), min_size=1, unique=True))
        letters = list(word)
        for index in chosen:
            lookalike = (
                LOOKALIKES[word[index]][0]
                if data is None
                else data.draw(st.sampled_from(LOOKALIKES[word[index]]))
            )
            letters[index] = lookalike.upper() if data is not None and data.draw(st.booleans()) else lookalike
        spoofed.append("".join(letters))
    # Unless every letter was replaced (a whole word in another alphabet), the word is mixed: refused at
    # intake, and folded into the same key anyway.
    for original, fake in zip(words, spoofed, strict=True):
        if any(letter in "abcdefghijklmnopqrstuvwxyz" for letter in fake.lower()):
            assert mixed_script_words(fake) == [fake]
            assert identity_key(fake, "Céline", BIRTH) == identity_key(original, "Céline", BIRTH)


SINGLE_SCRIPT_WORDS = st.one_of(
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzéèçñößøåıİğş"), min_size=1, max_size=12),
    st.text(st.sampled_from("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ"), min_size=1, max_size=12),
    st.text(st.sampled_from("αβγδεζηθικλμνξοπρστυφχψωάέήίόύώς"), min_size=1, max_size=12),
    st.text(st.sampled_from("ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإىة"), min_size=1, max_size=12),
    st.text(st.sampled_from("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"), min_size=1, max_size=4),
)


@settings(max_examples=300)
@given(st.lists(SINGLE_SCRIPT_WORDS, min_size=1, max_size=4))
def test_words_in_one_alphabet_are_never_refused(words):
    assert mixed_script_words(" ".join(words)) == []


def test_scripts_written_together_are_not_mixed():
    # Japanese kanji with kana, Korean with hanja, names with apostrophes and marks.
    assert mixed_script_words("山田たろう", "カタカナ漢字", "金民수", "N’Diaye", "Nguyễn", "Ο'Brien") == [
        "Ο'Brien"
    ]
    assert mixed_script_words("Dupоnt") == ["Dupоnt"]  # a Cyrillic о
    assert mixed_script_words("Иванов Ivanov") == []  # two words, each in one alphabet


def test_intake_refuses_a_mixed_word_with_a_clear_message(world):
    import pytest
    from django.utils import translation

    from guichet.errors import InvalidInput
    from guichet.waitlist.validation import validate_intake
    from tests.backoffice.helpers import intake_raw

    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        validate_intake(intake_raw(world, family="Dupоnt"), world.prefecture, channel="web")
    assert "“Dupоnt” mixes letters of different alphabets" in str(refused.value.fields["family_names"])
