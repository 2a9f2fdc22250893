"""Questions as plain rules: their text in a language, when they are asked, what a valid answer is.

Answers are stored as text in one normal form per kind: an ISO date, "yes"/"no", a choice's value, a
decimal number, an ISO 3166 alpha-2 country code, or the text itself.
"""

from __future__ import annotations

import datetime
import decimal
import unicodedata

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from guichet.waitlist.countries import is_country_code

from .models import Question, QuestionKind

MAX_TEXT = 1000
MAX_ADDRESS = 400
MAX_NUMBER_DIGITS = 9  # numbers below a billion
MAX_DECIMALS = 10
MAX_NUMBER_TEXT = 40
# Exact for every number the limits above allow (at most 19 significant digits), never trapping.
EXACT = decimal.Context(prec=60, Emin=-100, Emax=100, traps=[])


def localised(texts: dict, language: str | None = None) -> str:
    """The text in `language` (or the active one), else in French."""
    language = language or get_language() or settings.LANGUAGE_CODE
    return texts.get(language) or texts.get(settings.LANGUAGE_CODE) or ""


def label(question: Question, language: str | None = None) -> str:
    return localised(question.labels, language)


def help_text(question: Question, language: str | None = None) -> str:
    return localised(question.help_texts or {}, language)


def choice_options(question: Question, language: str | None = None) -> list[tuple[str, str]]:
    return [(choice["value"], localised(choice.get("labels", {}), language)) for choice in question.choices]


def is_asked(question: Question, answers: dict[str, str]) -> bool:
    """A conditional question is asked only when its condition question got one of the given answers."""
    if not question.condition_key:
        return True
    return answers.get(question.condition_key) in set(question.condition_values or [])


def normalise(question: Question, raw) -> str:
    """The stored form of an answer, or ValueError with the message for the person. Empty means no answer."""
    value = _normalise_kind(question, raw)
    return _within_limits(question, value) if value else value


def _normalise_kind(question: Question, raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bool):
        raw = "yes" if raw else "no"
    if isinstance(raw, datetime.date):
        raw = raw.isoformat()
    if isinstance(raw, int | float | decimal.Decimal):
        raw = str(raw)
    if not isinstance(raw, str):
        raise ValueError(_("This answer is not valid."))
    # NUL and lone surrogates (JSON can carry "\ud800") cannot be stored as text.
    if "\x00" in raw or any(unicodedata.category(char) == "Cs" for char in raw):
        raise ValueError(_("This answer contains characters that are not allowed."))
    text = raw.strip()
    if not text:
        return ""
    kind = question.kind
    if kind == QuestionKind.TEXT:
        return _bounded(text, MAX_TEXT)
    if kind == QuestionKind.ADDRESS:
        return _bounded(text, MAX_ADDRESS)
    if kind == QuestionKind.DATE:
        try:
            return datetime.date.fromisoformat(text[:10] if len(text) <= 10 else text).isoformat()
        except ValueError:
            raise ValueError(_("Give a real date, for example 1990-03-31.")) from None
    if kind == QuestionKind.YES_NO:
        if text not in {"yes", "no"}:
            raise ValueError(_("Answer yes or no."))
        return text
    if kind == QuestionKind.CHOICE:
        if text not in {choice["value"] for choice in question.choices}:
            raise ValueError(_("Choose one of the answers of the list."))
        return text
    if kind == QuestionKind.NUMBER:
        return _number(text)
    if kind == QuestionKind.COUNTRY:
        code = text.upper()
        if not text.isascii() or not is_country_code(code):  # "ß".upper() is "SS"
            raise ValueError(_("Choose a country of the list."))
        return code
    raise ValueError(_("This question takes a document, not a typed answer."))


# The limits a manager may set on each kind of question, within the kind's own bounds above.
LIMITS = {
    QuestionKind.TEXT: {"max_length"},
    QuestionKind.ADDRESS: {"max_length"},
    QuestionKind.NUMBER: {"min", "max", "integer"},
    QuestionKind.DATE: {"min", "max", "not_after_today"},
}


def clean_limits(kind: str, limits: dict) -> tuple[dict, dict[str, str]]:
    """A question's limits in their stored form, and what is wrong with them (by limit name) for the
    manager. Limits left empty (None, "", False) are dropped."""
    limits = {
        name: value for name, value in limits.items() if not (value is None or value == "" or value is False)
    }
    errors: dict[str, str] = {}
    cleaned: dict = {}
    allowed = LIMITS.get(kind, set())
    for name in sorted(set(limits) - allowed):
        errors[name] = _("This kind of question takes no such limit.")
    if "max_length" in limits and "max_length" in allowed:
        ceiling = MAX_ADDRESS if kind == QuestionKind.ADDRESS else MAX_TEXT
        value = limits["max_length"]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= ceiling:
            errors["max_length"] = _("Give a length between 1 and %(ceiling)s characters.") % {
                "ceiling": ceiling
            }
        else:
            cleaned["max_length"] = value
    bounds = {}
    for name in ("min", "max"):
        if name in limits and name in allowed:
            try:
                bounds[name] = (
                    _number(str(limits[name]))
                    if kind == QuestionKind.NUMBER
                    else datetime.date.fromisoformat(str(limits[name])).isoformat()
                )
            except ValueError:
                errors[name] = (
                    _("Give a number, for example 3 or 1250.50.")
                    if kind == QuestionKind.NUMBER
                    else _("Give a real date, for example 1990-03-31.")
                )
    if "min" in bounds and "max" in bounds:
        low, high = bounds["min"], bounds["max"]
        if kind == QuestionKind.NUMBER:
            low, high = decimal.Decimal(low), decimal.Decimal(high)
        if low > high:
            errors["max"] = _("The maximum is below the minimum.")
    for name in ("integer", "not_after_today"):
        if name in limits and name in allowed:
            if isinstance(limits[name], bool):
                cleaned[name] = limits[name]
            else:
                errors[name] = _("Yes or no.")
    return {**cleaned, **bounds}, errors


def _within_limits(question: Question, value: str) -> str:
    """The normalised answer, checked against the limits the manager set on the question."""
    limits = question.limits or {}
    if not limits:
        return value
    if question.kind in {QuestionKind.TEXT, QuestionKind.ADDRESS} and "max_length" in limits:
        return _bounded(value, int(limits["max_length"]))
    if question.kind == QuestionKind.NUMBER:
        number = decimal.Decimal(value)
        if limits.get("integer") and number != number.to_integral_value():
            raise ValueError(_("Give a whole number, without decimals."))
        if "min" in limits and number < decimal.Decimal(str(limits["min"])):
            raise ValueError(_("Give a number of at least %(min)s.") % {"min": limits["min"]})
        if "max" in limits and number > decimal.Decimal(str(limits["max"])):
            raise ValueError(_("Give a number of at most %(max)s.") % {"max": limits["max"]})
    if question.kind == QuestionKind.DATE:
        day = datetime.date.fromisoformat(value)
        if limits.get("not_after_today") and day > timezone.localdate():
            raise ValueError(_("This date cannot be after today."))
        if "min" in limits and day < datetime.date.fromisoformat(limits["min"]):
            raise ValueError(
                _("Give a date on or after %(date)s.")
                % {"date": date_format(datetime.date.fromisoformat(limits["min"]), "DATE_FORMAT")}
            )
        if "max" in limits and day > datetime.date.fromisoformat(limits["max"]):
            raise ValueError(
                _("Give a date on or before %(date)s.")
                % {"date": date_format(datetime.date.fromisoformat(limits["max"]), "DATE_FORMAT")}
            )
    return value


def _bounded(text: str, limit: int) -> str:
    if len(text) > limit:
        raise ValueError(
            _("This answer is too long: at most %(limit)s characters (it has %(count)s).")
            % {"limit": limit, "count": len(text)}
        )
    return text


def _number(text: str) -> str:
    """A decimal number below a billion with at most MAX_DECIMALS decimals, in plain notation. The bounds
    are checked before any arithmetic: "1e-999999" would otherwise print a megabyte of zeros, and
    "1E1000000" overflow the default context."""
    message = _("Give a number, for example 3 or 1250.50.")
    if len(text) > MAX_NUMBER_TEXT:
        raise ValueError(message)
    try:
        number = decimal.Decimal(text.replace(",", "."))
    except decimal.InvalidOperation:
        raise ValueError(message) from None
    if not number.is_finite():
        raise ValueError(message)
    if number.is_zero():
        return "0"
    if not -MAX_DECIMALS <= number.adjusted() < MAX_NUMBER_DIGITS:
        raise ValueError(message)
    number = number.normalize(EXACT)
    if number.as_tuple().exponent < -MAX_DECIMALS:
        raise ValueError(message)
    return format(number, "f")
