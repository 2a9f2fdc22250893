"""Who a request belongs to: the normalised identity and its keyed hash.

DESIGN.md, "Identity and duplicates".

Two submissions are the same person when their family names, given names and birth date agree once case,
accents, spaces, hyphens, apostrophes and the order of the names are folded. The order is folded across the
family/given split (all name tokens are sorted together) because the split is where people and agents most
often disagree ("NGUYEN Van An" and "An Van Nguyen").

Accents are stripped from Latin letters only. In other scripts a combining mark can be what tells two letters
apart (Cyrillic й and и), so those are kept; only Arabic vowel signs and the tatweel, which are optional in
writing, are dropped.

A word that mixes alphabets (a Cyrillic « е » or a Greek « ο » inside a Latin name) looks like the plain word
and would otherwise make a second identity: a way round the one-request-per-person rule (R19, R21). Intake
refuses such words (`mixed_script_words`, validation.py), and the key folds the Cyrillic and Greek lookalikes
of such a word into Latin letters, so that even a path that skipped the check gets the same key. Scripts
that are written together (Japanese kanji with kana, Korean hangul with hanja, Chinese with bopomofo, each
also with Latin) are not mixed in this sense (Unicode UTS #39, « highly restrictive »). A whole word in
another script (Дюпон) is another spelling, not a lookalike: it is kept, since transliteration is ambiguous
and a false match would refuse a real person's filing.

The key is an HMAC under `settings.IDENTITY_HMAC_KEY`, so that the database never holds a plain identity
that could be matched against another file, and that nobody without the secret can compute a key.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import re
import unicodedata

from django.conf import settings

# Letters that Unicode does not decompose into a base letter and a mark, but that people replace by plain
# letters when a keyboard or a form lacks them.
_LATIN_FOLD = str.maketrans(
    {
        "ı": "i",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "ħ": "h",
        "ŧ": "t",
        "ŋ": "n",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ß": "ss",
        "ĸ": "k",
        "ſ": "s",
    }
)

# Between name tokens: spaces of every kind, hyphens and dashes, dots, commas and middle dots
# (Chinese and Japanese transcriptions of foreign names separate the parts with one).
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−.,·・‧/_]+")
# Inside a token: apostrophes join what they separate (N'Diaye = Ndiaye).
_APOSTROPHES = re.compile(r"['’‘ʼʻ`´′＇]")

_ARABIC_OPTIONAL = re.compile(
    "[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]"
)


def _is_latin_base(char: str) -> bool:
    # By name, not by code point range: the micro sign (U+00B5) sits among Latin letters but case-folds to
    # Greek mu, and must keep its marks as mu does, or upper and lower case would fold apart.
    if not unicodedata.category(char).startswith("L"):
        return True
    return unicodedata.name(char, "").startswith("LATIN")


def _strip_latin_marks(text: str) -> str:
    """Drop combining marks that follow a Latin letter (or nothing); keep those of every other script."""
    out: list[str] = []
    base = ""
    for char in text:
        if unicodedata.category(char).startswith("M"):
            if not base or _is_latin_base(base):
                continue
        else:
            base = char
        out.append(char)
    return "".join(out)


def _fold(text: str) -> str:
    # Marks on Latin letters go first: case folding would turn some (U+0345) into letters.
    text = _strip_latin_marks(unicodedata.normalize("NFD", text))
    # Then compatibility caseless matching (Unicode §3.13): NFKD(casefold(NFKD(casefold(NFD(x))))).
    text = unicodedata.normalize("NFKD", text.casefold()).casefold()
    text = unicodedata.normalize("NFKD", text)
    text = _strip_latin_marks(text).translate(_LATIN_FOLD)
    text = _ARABIC_OPTIONAL.sub("", text)
    # Format characters (zero-width joiners, direction marks) change how a name looks, never who it is.
    text = "".join(char for char in text if unicodedata.category(char) not in {"Cc", "Cf"})
    return unicodedata.normalize("NFC", text)


# Scripts that a single word may combine (UTS #39, highly restrictive level); Latin goes with each.
_WRITTEN_TOGETHER = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
# Cyrillic and Greek letters that look like Latin ones once lower-cased (from the confusables of UTS #39;
# в, н, к, м, т look like the capitals B, H, K, M, T that a folded capital came from).
_LATIN_LOOKALIKES = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y",
        "ӏ": "l", "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
        "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ϳ": "j",
    }
)  # fmt: skip


def _script(char: str) -> str | None:
    """The script of a letter (by its Unicode name, after compatibility folding), None for anything else."""
    char = unicodedata.normalize("NFKC", char)[:1]
    if not char or unicodedata.category(char) not in {"Lu", "Ll", "Lt", "Lo"}:
        return None  # marks, modifier letters, punctuation: they take the script of their word
    first = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
    return "HAN" if first == "CJK" else first


def _scripts(word: str) -> frozenset[str]:
    return frozenset(script for script in map(_script, word) if script is not None)


def _is_mixed(word: str) -> bool:
    scripts = _scripts(word)
    return len(scripts) > 1 and not any(scripts <= allowed for allowed in _WRITTEN_TOGETHER)


def mixed_script_words(*names: str) -> list[str]:
    """The words of these names that mix alphabets which are never written together in one word."""
    return [
        word
        for name in names
        for word in _SEPARATORS.split(unicodedata.normalize("NFC", name or ""))
        if word and _is_mixed(word)
    ]


def _unmix(token: str) -> str:
    """A word mixing Latin with Cyrillic or Greek lookalikes, with those written as the Latin letters."""
    if "LATIN" not in _scripts(token) or not _is_mixed(token):
        return token
    return _fold(unicodedata.normalize("NFD", token).translate(_LATIN_LOOKALIKES))


def name_tokens(*names: str) -> list[str]:
    """The folded, sorted tokens of all the names given, family and given together."""
    tokens: list[str] = []
    for name in names:
        folded = _APOSTROPHES.sub("", _fold(name or ""))
        tokens.extend(_unmix(token) for token in _SEPARATORS.split(folded) if token)
    return sorted(tokens)


def normalise_names(*names: str) -> str:
    """One string for a set of names, whatever their case, accents, spacing or order. Idempotent."""
    return " ".join(name_tokens(*names))


def normalise_identity(family_names: str, given_names: str, birth_date: datetime.date) -> str:
    """The canonical text of an identity; what the key is computed over."""
    return f"{normalise_names(family_names, given_names)}|{birth_date.isoformat()}"


def _hmac(domain: str, text: str) -> str:
    key = settings.IDENTITY_HMAC_KEY.encode("utf-8")
    # The domain keeps the two kinds of key apart even if a name ever looked like a number.
    return hmac.new(key, f"{domain}:{text}".encode(), hashlib.sha256).hexdigest()


def identity_key(family_names: str, given_names: str, birth_date: datetime.date) -> str:
    """HMAC-SHA256 (hex) of the normalised identity: equal for the same person, written any way."""
    return _hmac("identity", normalise_identity(family_names, given_names, birth_date))


def normalise_foreign_number(number: str) -> str:
    """The digits of a foreign national number (numéro étranger), without spaces or punctuation."""
    # Any script's decimal digits count (Arabic-Indic ones are typed on Arabic keyboards).
    return "".join(
        str(unicodedata.decimal(char)) for char in number or "" if unicodedata.decimal(char, None) is not None
    )


def foreign_number_key(number: str) -> str:
    """HMAC-SHA256 (hex) of a foreign national number, or "" when none is given."""
    digits = normalise_foreign_number(number)
    return _hmac("foreign-number", digits) if digits else ""
