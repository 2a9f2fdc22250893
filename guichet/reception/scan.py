"""What a scanner typed into the reception field: the convocation's QR code, or a reference typed by hand.

The convocation's QR code carries the address of the page that says whether a convocation is genuine,
`{SITE_URL}/fr/convocation/{reference}/{appointment}/` (guichet.notifications.links.convocation_verify_url;
older convocations carry the reference alone; the request's latest appointment is the one checked in). A USB
scanner types it like a keyboard, followed by Enter; a phone's camera gives the same text. The reference
is read from that address only when the address is this service's own: a code that points elsewhere was
not printed by Guichet (a forged convocation, or another service's) and is refused, whatever reference
it shows. The reference's check character catches a code that was altered or misread.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from guichet.errors import InvalidInput
from guichet.waitlist.references import InvalidReference, parse_reference

MAX_SCAN = 500
# Convocations printed before they named their appointment carry the reference alone.
_CONVOCATION_PATH = re.compile(r"^/[A-Za-z-]{2,10}/convocation/(?P<reference>[^/]{1,40})(?:/\d{1,12})?/?$")


def _refuse(code: str, message: str) -> InvalidInput:
    return InvalidInput(code, message, {"scan": [message]})


def _own_origin() -> tuple[str, str]:
    parts = urlsplit(settings.SITE_URL)
    return parts.scheme.lower(), parts.netloc.lower()


def reference_from_scan(text: str) -> str:
    """The canonical reference in a scanned QR code or a typed reference; InvalidInput otherwise."""
    text = (text or "").strip()
    if not text:
        raise _refuse("scan_empty", _("Scan the convocation's code or type its reference."))
    if len(text) > MAX_SCAN or "\x00" in text:
        raise _refuse("scan_unreadable", _("This is not a convocation's code nor a reference."))
    if "://" in text:
        parts = urlsplit(text)
        if (parts.scheme.lower(), parts.netloc.lower()) != _own_origin():
            raise _refuse(
                "scan_foreign",
                _("This code was not issued by this service: the convocation may be forged."),
            )
        match = _CONVOCATION_PATH.match(unquote(parts.path))
        if match is None:
            raise _refuse("scan_not_convocation", _("This code is not a convocation's code."))
        text = match.group("reference")
    try:
        return parse_reference(text)
    except InvalidReference:
        raise _refuse(
            "scan_bad_reference",
            _("This reference is not valid (a character is wrong or missing): check it or scan again."),
        ) from None
