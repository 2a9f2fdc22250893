"""Human references (`93-K7M4-QX9T`) and the secret access token of a request.

A reference is read aloud on the phone, copied from a letter and typed on a cheap phone, so its alphabet
leaves out what people confuse: 0/O, 1/I/L, U/V and 8/B. The alphabet has 29 symbols, a prime, so that the
last character, a weighted check sum modulo 29 over the whole reference (département included), catches
every single wrong character and every swap of two neighbours.

The access token is the secret part of the link that opens a request without the birth date. Only its
SHA-256 is stored; it is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable

from guichet.catalog.territory import is_department_code

ALPHABET = "23456789ACDEFGHJKMNPQRSTVWXYZ"
MODULUS = len(ALPHABET)  # 29, prime
BODY_LENGTH = 7  # random characters; the eighth is the check character
_VALUES = {char: index for index, char in enumerate(ALPHABET)}
# Département codes use digits and the A/B of Corsica; their values are distinct modulo 29.
_DEPARTMENT_VALUES = {char: int(char, 36) for char in "0123456789AB"}
# What people type between the groups, or instead of the hyphen.
_NOISE = re.compile(r"[\s\-‐‑‒–—―−_.]+")
# Characters left out of the alphabet, read as the one they are mistaken for.
_CONFUSED = str.maketrans({"B": "8", "U": "V"})


class InvalidReference(ValueError):
    """The text is not a reference, or its check character does not match (a typo)."""


def _weighted(department: str, body: str) -> int:
    values = [_DEPARTMENT_VALUES[char] for char in department] + [_VALUES[char] for char in body]
    # Weights 1..n (n <= 11 < 29): all distinct and non-zero modulo the prime, which is what makes every
    # single substitution and every adjacent transposition change the sum.
    return sum(weight * value for weight, value in enumerate(values, start=1))


def check_character(department: str, body: str) -> str:
    """The character that makes the weighted sum of the whole reference zero modulo 29."""
    total = _weighted(department, body)
    weight = len(department) + len(body) + 1
    # Solve total + weight * c = 0 (mod 29); weight is invertible because 29 is prime and weight < 29.
    value = (-total * pow(weight, -1, MODULUS)) % MODULUS
    return ALPHABET[value]


def format_reference(department: str, body: str) -> str:
    full = body + check_character(department, body)
    return f"{department}-{full[:4]}-{full[4:]}"


def new_reference(department: str, choice: Callable[[str], str] = secrets.choice) -> str:
    """A fresh random reference for a prefecture (not checked for uniqueness here)."""
    if not is_department_code(department):
        raise ValueError(f"not a département code: {department!r}")
    body = "".join(choice(ALPHABET) for _ in range(BODY_LENGTH))
    return format_reference(department, body)


def parse_reference(text: str) -> str:
    """The canonical form of a typed reference; raises InvalidReference on anything else or on a typo.

    Case, spaces and the hyphens (present, missing or doubled) do not matter.
    """
    if not isinstance(text, str) or len(text) > 64:
        raise InvalidReference("not a reference")
    compact = _NOISE.sub("", text).upper()
    if len(compact) < BODY_LENGTH + 1 + 2:
        raise InvalidReference("too short")
    department, code = compact[: -(BODY_LENGTH + 1)], compact[-(BODY_LENGTH + 1) :].translate(_CONFUSED)
    if not is_department_code(department):
        raise InvalidReference("unknown département")
    if any(char not in _VALUES for char in code):
        raise InvalidReference("character outside the alphabet")
    body, check = code[:BODY_LENGTH], code[BODY_LENGTH]
    if check_character(department, body) != check:
        raise InvalidReference("check character does not match")
    return format_reference(department, body)


def is_valid_reference(text: str) -> bool:
    try:
        parse_reference(text)
    except InvalidReference:
        return False
    return True


def new_access_token() -> str:
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# Compared against when there is no stored hash, so that an unknown reference costs the same work.
DUMMY_TOKEN_HASH = hash_token("no request has this token")


def token_matches(token: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented token with a stored hash."""
    if not isinstance(token, str):
        token = ""
    return hmac.compare_digest(hash_token(token), stored_hash or DUMMY_TOKEN_HASH)
