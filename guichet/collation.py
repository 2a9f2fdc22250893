"""Sorting names the way readers of each language expect them sorted.

The base is the Unicode Collation Algorithm with its default table (DUCET, through pyuca): accents come
after the letter they sit on and never send a name to the end (« Égypte » sorts with the E, not after
« Zimbabwe »), and each script is in its own alphabetical order. On top of it, the few CLDR tailorings our
languages need, where a letter with a mark is a letter of its own that comes after all the words of its base
letter: Turkish ç ğ ı ö ş ü (and its dotted and dotless i), Spanish ñ, Ukrainian ї. Chinese is sorted by
pinyin (pypinyin), as Chinese dictionaries and lists of countries are.

Code points past every assigned character get the highest weights of the algorithm, so a tailored letter is
written as its base letter followed by one of them: « çad » sorts after every « c… » word and before « d ».
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from pypinyin import Style, lazy_pinyin
from pyuca import Collator

_AFTER_EVERY_LETTER = "\U0010fffd"

# Per language: the letters that follow all the words of their base letter.
_OWN_LETTERS = {
    "tr": {"ç": "c", "ğ": "g", "ı": "h", "ö": "o", "ş": "s", "ü": "u"},
    "es": {"ñ": "n"},
    "uk": {"ї": "і"},
}


@functools.cache
def _collator() -> Collator:
    # Reading the table takes about a second: once per process, when a list is first sorted.
    return Collator()


def _turkish_lower(text: str) -> str:
    return text.replace("I", "ı").replace("İ", "i").lower()


def _tailored(text: str, language: str) -> str:
    letters = _OWN_LETTERS[language]
    text = _turkish_lower(text) if language == "tr" else text.lower()
    return "".join(letters[char] + _AFTER_EVERY_LETTER if char in letters else char for char in text)


def sort_key(language: str) -> Callable[[str], tuple]:
    """A key function that sorts texts for readers of `language` (a Django language code)."""
    collator = _collator()
    if language.startswith("zh"):
        return lambda text: (
            collator.sort_key(" ".join(lazy_pinyin(text, style=Style.TONE3))),
            collator.sort_key(text),
        )
    if language in _OWN_LETTERS:
        return lambda text: (collator.sort_key(_tailored(text, language)), collator.sort_key(text))
    return collator.sort_key
