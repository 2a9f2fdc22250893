"""One validation for every way in: the page form, the API and the back office call `validate_intake`.

It takes what was typed or sent, as it came (strings from a form, any JSON value from the API), and either
returns a clean `IntakeData` or raises `InvalidInput` with every problem, field by field, in the active
language. Nothing here writes to the database.

Names are accepted in every script. What is refused is what cannot be a name or a text: control characters,
lone surrogates (which PostgreSQL cannot store) and the bidirectional overrides that make a text display as
something else than it is.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils import timezone
from django.utils.translation import get_language, get_supported_language_variant, gettext, ngettext

from guichet.catalog import cached
from guichet.catalog.models import Prefecture, Procedure, Site
from guichet.errors import InvalidInput

from .countries import COUNTRY_CODES
from .identity import mixed_script_words, normalise_foreign_number
from .models import Channel

NAME_MAX_LENGTH = 150
TEXT_MAX_LENGTH = 2000
EMAIL_MAX_LENGTH = 254
PHONE_MAX_LENGTH = 30
SHORT_MAX_LENGTH = 40  # codes, numbers, dates
MAX_SITES = 50
MAX_UNAVAILABLE_DATES = 100
MAX_BIRTH_AGE_YEARS = 130
EARLIEST_DATE_MAX_DAYS = 366
PERMIT_EXPIRY_PAST_YEARS = 5
PERMIT_EXPIRY_FUTURE_YEARS = 10

# Channels where a member of staff types the request: only they record a vulnerability.
STAFF_CHANNELS = frozenset({Channel.COUNTER, Channel.PHONE, Channel.POST})

# Phone numbers written without a country code belong to the prefecture's own numbering plan.
PHONE_REGIONS = {"971": "GP", "972": "MQ", "973": "GF", "974": "RE", "976": "YT"}

# Inside names: spaces, hyphens, apostrophes, dots and the middle dots of Chinese and Japanese transcriptions.
_NAME_PUNCTUATION = frozenset(" -‐‑'’‘ʼʻ`´.·・‧")
# Joiners and direction marks typed with Arabic, Persian and Indic names; harmless, kept.
_ALLOWED_FORMAT = frozenset("\u200c\u200d\u200e\u200f\u061c")
# Bidirectional embeddings, overrides and isolates: they make a text read differently than it is stored.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_WHITESPACE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_PROCEDURE_CODE = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")

_TRUE = {"1", "true", "on", "yes", "oui", "y"}
_FALSE = {"", "0", "false", "off", "no", "non", "n"}


@dataclass(frozen=True)
class ContactData:
    email: str
    phone: str
    postal_address: str
    language: str


@dataclass(frozen=True)
class IntakeData:
    """A valid request, ready for `services.file_request`."""

    procedure: Procedure
    sites: tuple[Site, ...]
    family_names: str
    given_names: str
    birth_date: datetime.date
    nationality: str
    foreign_national_number: str = ""
    passport_number: str = ""
    email: str = ""
    phone: str = ""
    postal_address: str = ""
    language: str = "fr"
    permit_expires_on: datetime.date | None = None
    interpreter_language: str = ""
    needs_step_free: bool = False
    needs_other: str = ""
    unavailable_weekdays: tuple[int, ...] = ()
    unavailable_dates: tuple[datetime.date, ...] = ()
    earliest_date: datetime.date | None = None
    urgency_circumstances: str = ""
    vulnerability_reason: str = ""

    @property
    def vulnerable(self) -> bool:
        return bool(self.vulnerability_reason)

    @property
    def contact(self) -> ContactData:
        return ContactData(self.email, self.phone, self.postal_address, self.language)


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(str(message))

    def has(self, *fields: str) -> bool:
        return any(field in self.fields for field in fields)

    def raise_if_any(self) -> None:
        if self.fields:
            raise InvalidInput("invalid", gettext("Some fields are missing or invalid."), fields=self.fields)


def _get(raw: Mapping[str, Any], name: str) -> Any:
    return raw.get(name)


def _get_list(raw: Mapping[str, Any], name: str) -> Any:
    getlist = getattr(raw, "getlist", None)
    if getlist is not None:  # a QueryDict: checkboxes and multiple selects send one value per item
        values = getlist(name)
        return values if values else None
    return raw.get(name)


def _too_long(errors: _Errors, field: str, length: int, limit: int) -> None:
    errors.add(
        field,
        ngettext(
            "This is too long: at most %(limit)d character, and %(length)d were given.",
            "This is too long: at most %(limit)d characters, and %(length)d were given.",
            limit,
        )
        % {"limit": limit, "length": length},
    )


def _bad_characters(text: str, *, multiline: bool) -> bool:
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs" or char in _BIDI_CONTROLS:
            return True
        if category == "Cc" and not (multiline and char in "\n\t"):
            return True
    return False


def _text(
    raw: Mapping[str, Any],
    field: str,
    errors: _Errors,
    *,
    max_length: int = TEXT_MAX_LENGTH,
    required: bool = False,
    multiline: bool = False,
) -> str:
    value = _get(raw, field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.add(field, gettext("Give this as text."))
        return ""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        value = value.replace("\n", " ").replace("\t", " ")
    if _bad_characters(value, multiline=multiline):
        errors.add(
            field, gettext("This contains control characters or invisible characters that are refused.")
        )
        return ""
    value = unicodedata.normalize("NFC", value)
    if multiline:
        lines = [_WHITESPACE.sub(" ", line).strip() for line in value.replace("\t", " ").split("\n")]
        value = "\n".join(lines).strip()
        value = re.sub(r"\n{3,}", "\n\n", value)
    else:
        value = _WHITESPACE.sub(" ", value).strip()
    if len(value) > max_length:
        _too_long(errors, field, len(value), max_length)
        return ""
    if required and not value:
        errors.add(field, gettext("This field is required."))
    return value


def clean_text(
    value: Any,
    *,
    field: str = "reason",
    required: bool = False,
    max_length: int = TEXT_MAX_LENGTH,
    min_length: int = 0,
) -> str:
    """The one cleaning of a free text a person writes (a reason, a note): several lines allowed, NFC,
    spaces collapsed, control and invisible characters refused, length bounded. Every service uses it for
    its free texts, so that a reason is cleaned and refused the same way on every page and in the API.
    A `min_length` makes the text required, with a message asking for a few words. Raises InvalidInput
    ("invalid", the message on `field`)."""
    errors = _Errors()
    plain = required and not min_length
    text = _text({field: value}, field, errors, multiline=True, required=plain, max_length=max_length)
    if min_length and not errors.has(field) and len(text) < min_length:
        message = gettext("Give the reason (a few words at least); it is written in the request's history.")
        errors.add(field, message)
    errors.raise_if_any()
    return text


def _name(raw: Mapping[str, Any], field: str, errors: _Errors, *, required: bool) -> str:
    value = _text(raw, field, errors, max_length=NAME_MAX_LENGTH, required=required)
    if not value:
        return value
    has_letter = False
    for char in value:
        category = unicodedata.category(char)
        if category.startswith("L"):
            has_letter = True
        elif category.startswith("M") or char in _NAME_PUNCTUATION or char in _ALLOWED_FORMAT:
            continue
        else:
            errors.add(
                field,
                gettext("A name may contain letters of any alphabet, spaces, hyphens and apostrophes only."),
            )
            return ""
    if not has_letter:
        errors.add(field, gettext("A name must contain at least one letter."))
        return ""
    mixed = mixed_script_words(value)
    if mixed:
        # A lookalike letter from another alphabet would make the same person a second identity.
        errors.add(
            field,
            gettext(
                "“%(word)s” mixes letters of different alphabets (for example a Cyrillic letter in a Latin "
                "name): type each word in one alphabet."
            )
            % {"word": mixed[0]},
        )
        return ""
    return value


def parse_date(value: Any) -> datetime.date:
    """A date from an ISO text (2024-03-31), a French one (31/03/2024) or a date.

    Raises ValueError with a message for people.
    """
    if isinstance(value, datetime.datetime):
        raise ValueError(gettext("Give a date, for example 2024-03-31 or 31/03/2024."))
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str) or len(value) > SHORT_MAX_LENGTH:
        raise ValueError(gettext("Give a date, for example 2024-03-31 or 31/03/2024."))
    text = value.strip()
    if match := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _FRENCH_DATE.match(text):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ValueError(gettext("Give a date, for example 2024-03-31 or 31/03/2024."))
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ValueError(gettext("This date does not exist.")) from None


def _date(raw: Mapping[str, Any], field: str, errors: _Errors, *, required: bool = False):
    value = _get(raw, field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.add(field, gettext("This field is required."))
        return None
    try:
        return parse_date(value)
    except ValueError as error:
        errors.add(field, str(error))
        return None


def _bool(raw: Mapping[str, Any], field: str, errors: _Errors) -> bool:
    value = _get(raw, field)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    errors.add(field, gettext("Answer yes or no."))
    return False


def _list(raw: Mapping[str, Any], field: str, errors: _Errors, *, max_items: int) -> list | None:
    value = _get_list(raw, field)
    if value is None:
        return []
    if isinstance(value, str):
        if len(value) > max_items * SHORT_MAX_LENGTH:
            _too_long(errors, field, len(value), max_items * SHORT_MAX_LENGTH)
            return None
        # Arabic writes "،" and "؛", Chinese "，" and "、": the hint shows the person's own comma.
        value = [part for part in re.split(r"[,;،؛，、\s]+", value) if part]
    if not isinstance(value, list | tuple):
        errors.add(field, gettext("Give a list."))
        return None
    if len(value) > max_items:
        errors.add(
            field,
            ngettext("Give at most %(count)d item.", "Give at most %(count)d items.", max_items)
            % {"count": max_items},
        )
        return None
    return list(value)


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value) < 19:
        return int(value.strip())
    return None


def local_today(prefecture: Prefecture) -> datetime.date:
    return timezone.now().astimezone(prefecture.tzinfo).date()


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _years_after(day: datetime.date, years: int) -> datetime.date:
    return _years_before(day, -years)


# --- one field at a time ------------------------------------------------------------------------------------


def _procedure(raw: Mapping[str, Any], prefecture: Prefecture, errors: _Errors) -> Procedure | None:
    value = _get(raw, "procedure")
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.add("procedure", gettext("Choose a procedure."))
        return None
    if not isinstance(value, str) or not _PROCEDURE_CODE.match(value.strip()):
        errors.add("procedure", gettext("This procedure does not exist."))
        return None
    procedure = cached.procedure(prefecture.pk, value.strip())
    if procedure is None:
        errors.add("procedure", gettext("This procedure does not exist in this prefecture."))
        return None
    if not procedure.is_active:
        errors.add("procedure", gettext("This procedure no longer takes requests."))
        return None
    return procedure


def _sites(raw: Mapping[str, Any], prefecture: Prefecture, errors: _Errors) -> tuple[Site, ...]:
    values = _list(raw, "sites", errors, max_items=MAX_SITES)
    if not values:
        return ()
    ids: list[int] = []
    for value in values:
        number = _integer(value)
        if number is None or number <= 0:
            errors.add("sites", gettext("Choose sites from the list."))
            return ()
        if number not in ids:
            ids.append(number)
    found = cached.sites(prefecture.pk)
    sites: list[Site] = []
    for number in ids:
        site = found.get(number)
        if site is None:
            errors.add("sites", gettext("Site %(id)s is not a site of this prefecture.") % {"id": number})
        elif not site.is_active:
            errors.add("sites", gettext("%(site)s no longer receives the public.") % {"site": site.name})
        else:
            sites.append(site)
    return tuple(sorted(sites, key=lambda site: site.pk)) if not errors.has("sites") else ()


def _nationality(raw: Mapping[str, Any], errors: _Errors) -> str:
    value = _get(raw, "nationality")
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.add("nationality", gettext("This field is required."))
        return ""
    if not isinstance(value, str) or value.strip().upper() not in COUNTRY_CODES:
        errors.add("nationality", gettext("Choose a nationality from the list (a two-letter country code)."))
        return ""
    return value.strip().upper()


def _foreign_number(raw: Mapping[str, Any], errors: _Errors) -> str:
    value = _get(raw, "foreign_national_number")
    if value is None or value == "":
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > SHORT_MAX_LENGTH:
        errors.add("foreign_national_number", gettext("A foreign national number has exactly 10 digits."))
        return ""
    compact = "".join(value.split())
    if not compact:
        return ""
    digits = normalise_foreign_number(compact)
    if len(digits) != len(compact) or len(digits) != 10:
        errors.add("foreign_national_number", gettext("A foreign national number has exactly 10 digits."))
        return ""
    return digits


def _passport(raw: Mapping[str, Any], errors: _Errors) -> str:
    value = _get(raw, "passport_number")
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > SHORT_MAX_LENGTH:
        errors.add("passport_number", gettext("A passport number has 5 to 20 letters and digits."))
        return ""
    compact = "".join(value.split()).upper()
    if compact and not _PASSPORT.match(compact):
        errors.add("passport_number", gettext("A passport number has 5 to 20 letters and digits."))
        return ""
    return compact


def _email(raw: Mapping[str, Any], errors: _Errors) -> str:
    value = _text(raw, "email", errors, max_length=EMAIL_MAX_LENGTH)
    if not value:
        return ""
    try:
        EmailValidator()(value)
    except ValidationError:
        errors.add("email", gettext("This is not an email address."))
        return ""
    local, _at, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


def phone_region(prefecture: Prefecture | None) -> str:
    return PHONE_REGIONS.get(prefecture.code, "FR") if prefecture is not None else "FR"


def normalise_phone(value: str, region: str = "FR") -> str:
    """E.164 form of a mobile number; ValueError with a message for anything else."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError(gettext("This is not a phone number.")) from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError(gettext("This phone number does not exist. Check it, with its country code."))
    kind = phonenumbers.number_type(number)
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise ValueError(gettext("Give a mobile phone number: offers are sent by text message."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phone(raw: Mapping[str, Any], errors: _Errors, prefecture: Prefecture | None) -> str:
    value = _text(raw, "phone", errors, max_length=PHONE_MAX_LENGTH)
    if not value:
        return ""
    try:
        return normalise_phone(value, phone_region(prefecture))
    except ValueError as error:
        errors.add("phone", str(error))
        return ""


def _language(raw: Mapping[str, Any], errors: _Errors) -> str:
    value = _get(raw, "language")
    supported = {code for code, _name in settings.LANGUAGES}
    if value is None or (isinstance(value, str) and not value.strip()):
        active = get_language() or settings.LANGUAGE_CODE
        return active if active in supported else settings.LANGUAGE_CODE
    if isinstance(value, str) and len(value) <= SHORT_MAX_LENGTH:
        try:
            code = get_supported_language_variant(value.strip().lower())
        except LookupError:
            code = None
        if code in supported:
            return code
    errors.add("language", gettext("Choose one of the languages offered."))
    return settings.LANGUAGE_CODE


def _interpreter_language(raw: Mapping[str, Any], errors: _Errors) -> str:
    value = _get(raw, "interpreter_language")
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _LANGUAGE_CODE.match(value.strip().lower()):
        errors.add(
            "interpreter_language", gettext("Give the language as its code, for example ar, ps or ta.")
        )
        return ""
    code = value.strip().lower()
    return "" if code == "fr" else code


def _weekdays(raw: Mapping[str, Any], errors: _Errors) -> tuple[int, ...]:
    values = _list(raw, "unavailable_weekdays", errors, max_items=7)
    if not values:
        return ()
    days: set[int] = set()
    for value in values:
        number = _integer(value)
        if number is None or not 0 <= number <= 6:
            errors.add("unavailable_weekdays", gettext("Days are numbered 0 (Monday) to 6 (Sunday)."))
            return ()
        days.add(number)
    if len(days) == 7:
        errors.add("unavailable_weekdays", gettext("Leave at least one day of the week when you can come."))
        return ()
    return tuple(sorted(days))


def _unavailable_dates(
    raw: Mapping[str, Any], errors: _Errors, today: datetime.date
) -> tuple[datetime.date, ...]:
    values = _list(raw, "unavailable_dates", errors, max_items=MAX_UNAVAILABLE_DATES)
    if not values:
        return ()
    days: set[datetime.date] = set()
    for value in values:
        try:
            day = parse_date(value)
        except ValueError as error:
            errors.add("unavailable_dates", str(error))
            return ()
        if day < today:
            errors.add("unavailable_dates", gettext("%(date)s is in the past.") % {"date": day.isoformat()})
            return ()
        if day > today + datetime.timedelta(days=EARLIEST_DATE_MAX_DAYS):
            errors.add(
                "unavailable_dates",
                gettext("%(date)s is more than a year ahead.") % {"date": day.isoformat()},
            )
            return ()
        days.add(day)
    return tuple(sorted(days))


def _contact(raw: Mapping[str, Any], errors: _Errors, prefecture: Prefecture | None) -> tuple[str, str, str]:
    email = _email(raw, errors)
    phone = _phone(raw, errors, prefecture)
    postal_address = _text(raw, "postal_address", errors, multiline=True)
    if not (email or phone or postal_address) and not errors.has("email", "phone", "postal_address"):
        errors.add(
            "contact",
            gettext(
                "Give at least one way to reach you: an email address, a mobile phone or a postal address."
            ),
        )
    return email, phone, postal_address


def validate_contact(raw: Mapping[str, Any], *, prefecture: Prefecture | None = None) -> ContactData:
    """The contact details alone (email, phone, postal address, language), checked as in an intake."""
    errors = _Errors()
    email, phone, postal_address = _contact(raw, errors, prefecture)
    language = _language(raw, errors)
    errors.raise_if_any()
    return ContactData(email=email, phone=phone, postal_address=postal_address, language=language)


@dataclass(frozen=True)
class IdentityData:
    family_names: str
    given_names: str
    birth_date: datetime.date


def _birth_date(raw: Mapping[str, Any], errors: _Errors, today: datetime.date) -> datetime.date | None:
    birth_date = _date(raw, "birth_date", errors, required=True)
    if birth_date is not None:
        if birth_date > today:
            errors.add("birth_date", gettext("A birth date cannot be in the future."))
        elif birth_date < _years_before(today, MAX_BIRTH_AGE_YEARS):
            errors.add(
                "birth_date",
                gettext("A birth date more than %(years)d years ago is not possible.")
                % {"years": MAX_BIRTH_AGE_YEARS},
            )
    return birth_date


def validate_identity(raw: Mapping[str, Any], prefecture: Prefecture) -> IdentityData:
    """Names and birth date checked as at intake (a change of identity); InvalidInput otherwise."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("invalid", gettext("The request must be an object of named fields."))
    errors = _Errors()
    family_names = _name(raw, "family_names", errors, required=True)
    given_names = _name(raw, "given_names", errors, required=False)
    birth_date = _birth_date(raw, errors, local_today(prefecture))
    errors.raise_if_any()
    return IdentityData(family_names=family_names, given_names=given_names, birth_date=birth_date)


def validate_intake(
    raw: Mapping[str, Any],
    prefecture: Prefecture,
    *,
    channel: str,
    today: datetime.date | None = None,
) -> IntakeData:
    """Check a request as typed or sent; return it clean or raise InvalidInput with every problem.

    `raw` maps field names to what came in: strings (a form), lists (checkboxes, JSON), or JSON values.
    Messages are in the active language. `today` is the prefecture's local date (for tests; default now).
    """
    if not isinstance(raw, Mapping):
        raise InvalidInput("invalid", gettext("The request must be an object of named fields."))
    errors = _Errors()
    if channel not in Channel.values:
        errors.add("channel", gettext("Unknown channel."))
    today = today or local_today(prefecture)

    procedure = _procedure(raw, prefecture, errors)
    sites = _sites(raw, prefecture, errors)
    family_names = _name(raw, "family_names", errors, required=True)
    given_names = _name(raw, "given_names", errors, required=False)

    birth_date = _birth_date(raw, errors, today)

    nationality = _nationality(raw, errors)
    foreign_national_number = _foreign_number(raw, errors)
    passport_number = _passport(raw, errors)
    email, phone, postal_address = _contact(raw, errors, prefecture)
    language = _language(raw, errors)

    permit_expires_on = _date(raw, "permit_expires_on", errors)
    if procedure is not None and not errors.has("permit_expires_on"):
        if procedure.kind == Procedure.Kind.FIRST_PERMIT and permit_expires_on is not None:
            errors.add(
                "permit_expires_on",
                gettext("A first application has no current permit: leave its expiry date empty."),
            )
        elif procedure.is_renewal and permit_expires_on is None:
            errors.add("permit_expires_on", gettext("Give the expiry date of your current permit."))
    if permit_expires_on is not None and not errors.has("permit_expires_on"):
        if permit_expires_on < _years_before(today, PERMIT_EXPIRY_PAST_YEARS):
            errors.add(
                "permit_expires_on",
                gettext(
                    "This permit expired more than %(years)d years ago: apply for a first permit instead."
                )
                % {"years": PERMIT_EXPIRY_PAST_YEARS},
            )
        elif permit_expires_on > _years_after(today, PERMIT_EXPIRY_FUTURE_YEARS):
            errors.add(
                "permit_expires_on",
                gettext("No permit is valid for more than %(years)d years.")
                % {"years": PERMIT_EXPIRY_FUTURE_YEARS},
            )

    interpreter_language = _interpreter_language(raw, errors)
    needs_step_free = _bool(raw, "needs_step_free", errors)
    if needs_step_free and sites and not any(site.step_free for site in sites):
        # No slot could ever suit: the request would wait past its due date while slots are free elsewhere.
        errors.add(
            "sites",
            gettext(
                "None of the places you chose has step-free access. Add a place that has it, or choose "
                "none: any place of the prefecture with step-free access will do."
            ),
        )
    needs_other = _text(raw, "needs_other", errors, multiline=True)
    unavailable_weekdays = _weekdays(raw, errors)
    unavailable_dates = _unavailable_dates(raw, errors, today)

    earliest_date = _date(raw, "earliest_date", errors)
    if earliest_date is not None:
        if earliest_date < today:
            errors.add("earliest_date", gettext("This date is in the past."))
        elif earliest_date > today + datetime.timedelta(days=EARLIEST_DATE_MAX_DAYS):
            errors.add("earliest_date", gettext("Give a date within the next year."))

    urgency_circumstances = _text(raw, "urgency_circumstances", errors, multiline=True)
    vulnerability_reason = _text(raw, "vulnerability_reason", errors, multiline=True)
    if vulnerability_reason and channel not in STAFF_CHANNELS:
        errors.add(
            "vulnerability_reason",
            gettext(
                "A vulnerability is recorded by the prefecture's staff. "
                "Describe your situation under urgent circumstances."
            ),
        )

    errors.raise_if_any()
    assert procedure is not None and birth_date is not None  # guaranteed by raise_if_any
    return IntakeData(
        procedure=procedure,
        sites=sites,
        family_names=family_names,
        given_names=given_names,
        birth_date=birth_date,
        nationality=nationality,
        foreign_national_number=foreign_national_number,
        passport_number=passport_number,
        email=email,
        phone=phone,
        postal_address=postal_address,
        language=language,
        permit_expires_on=permit_expires_on,
        interpreter_language=interpreter_language,
        needs_step_free=needs_step_free,
        needs_other=needs_other,
        unavailable_weekdays=unavailable_weekdays,
        unavailable_dates=unavailable_dates,
        earliest_date=earliest_date,
        urgency_circumstances=urgency_circumstances,
        vulnerability_reason=vulnerability_reason,
    )
