"""Names sorted the way each language's readers sort them: accents never send a name to the end, the
letters Turkish, Spanish and Ukrainian treat as letters of their own come after their base letter, and
Chinese follows pinyin."""

import pytest

from guichet.collation import sort_key


def ordered(language: str, *names: str) -> list[str]:
    return sorted(names, key=sort_key(language))


def test_french_accented_names_sort_with_their_letter():
    assert ordered("fr", "Zambie", "Égypte", "Espagne", "Émirats arabes unis", "Dominique") == [
        "Dominique",
        "Égypte",
        "Émirats arabes unis",
        "Espagne",
        "Zambie",
    ]


def test_turkish_letters_follow_their_base_letter_and_dotless_i_comes_first():
    assert ordered("tr", "Zimbabve", "Çin", "Curaçao", "Cezayir", "Çad", "Dominik") == [
        "Cezayir",
        "Curaçao",
        "Çad",
        "Çin",
        "Dominik",
        "Zimbabve",
    ]
    assert ordered("tr", "İtalya", "Irak", "Hindistan", "Japonya") == [
        "Hindistan",
        "Irak",
        "İtalya",
        "Japonya",
    ]
    assert ordered("tr", "Özbekistan", "Umman", "Ürdün", "Oman", "Peru") == [
        "Oman",
        "Özbekistan",
        "Peru",
        "Umman",
        "Ürdün",
    ]


def test_ukrainian_alphabet():
    assert ordered("uk", "Японія", "Єгипет", "Ємен", "Ізраїль", "Індія", "Естонія", "Йорданія", "Їжак") == [
        "Естонія",
        "Єгипет",
        "Ємен",
        "Ізраїль",
        "Індія",
        "Їжак",
        "Йорданія",
        "Японія",
    ]


def test_spanish_enye_after_n():
    assert ordered("es", "Ñandú", "Nueva Zelanda", "Omán") == ["Nueva Zelanda", "Ñandú", "Omán"]


def test_chinese_by_pinyin():
    # Ā'ěrjílìyà, Bāxī, Zhōngguó, Fǎguó: a, b, f, z.
    assert ordered("zh-hans", "中国", "法国", "巴西", "阿尔及利亚") == ["阿尔及利亚", "巴西", "法国", "中国"]


@pytest.mark.parametrize("language", ["fr", "en", "ar", "es", "ru", "uk", "zh-hans", "tr"])
def test_every_language_sorts_any_text(language):
    texts = ["", "a", "Ω", "٣", "\U0010ffff", "Zz", "é"]
    assert sorted(texts, key=sort_key(language)) == sorted(
        sorted(texts, key=sort_key(language)), key=sort_key(language)
    )
