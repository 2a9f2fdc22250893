"""How an applicant reaches their request without an account.

Two kinds of key sit in the address /<lang>/r/<reference>/<key>/:
- the secret access token given once at filing (stored only as a hash; the person bookmarks the link);
- a short-lived signed key, given after a look-up by reference and birth date, for someone who lost the
  link. It is signed with SECRET_KEY, names the reference and expires after ACCESS_KEY_MAX_AGE.
A raw token never contains a dot (URL-safe base64); a signed key always does, which tells them apart.
"""

import datetime

from django.core import signing
from django.urls import reverse

from guichet.errors import DomainError
from guichet.waitlist.models import AppointmentRequest
from guichet.waitlist.services import find_request_by_token

SALT = "guichet.public.access"  # the module's first home; changing it would void the keys given out
ACCESS_KEY_MAX_AGE = datetime.timedelta(hours=2)


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT, sep=".")


def signed_key(reference: str) -> str:
    """A key for this reference valid for ACCESS_KEY_MAX_AGE (the reference itself is not repeated in it)."""
    signed = _signer().sign(reference)
    return signed[len(reference) + 1 :]


def is_signed_key(key: str) -> bool:
    return "." in key


def _request_from_signed_key(reference: str, key: str) -> AppointmentRequest | None:
    try:
        _signer().unsign(f"{reference}.{key}", max_age=ACCESS_KEY_MAX_AGE)
    except signing.BadSignature:
        return None
    return (
        AppointmentRequest.objects.select_related("prefecture", "procedure")
        .filter(reference=reference)
        .first()
    )


def resolve(reference: str, key: str) -> AppointmentRequest | None:
    """The request this address opens, or None (unknown reference, wrong or expired key: the same answer)."""
    if len(reference) > 20 or len(key) > 200:
        return None
    if is_signed_key(key):
        return _request_from_signed_key(reference, key)

    try:
        return find_request_by_token(reference, key)
    except DomainError:  # unknown reference, wrong token, malformed reference: one answer
        return None


def request_url(reference: str, key: str, name: str = "status_by_link", **kwargs) -> str:
    """The address of a page of this request (name of a public: URL), opened with `key`."""
    return reverse(f"public:{name}", kwargs={"reference": reference, "token": key, **kwargs})
