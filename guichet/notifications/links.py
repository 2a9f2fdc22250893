"""Addresses written into messages: always absolute, always in the reader's language (/fr/…, /ar/…).

Public pages are another app's; each address is found by its URL name when that app defines it, and
otherwise falls back to the documented path, so a message never fails for want of a page.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from guichet.appointments.models import Appointment
from guichet.waitlist.models import AppointmentRequest


def absolute(path: str) -> str:
    return path if path.startswith(("http://", "https://")) else settings.SITE_URL + path


def _reverse(name: str, language: str, kwargs: dict | None = None) -> str | None:
    with translation.override(language):
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            return None


def status_lookup_url(language: str) -> str:
    """The status look-up page: reference and birth date open the request. Works for every message."""
    return absolute(_reverse("public:status_lookup", language) or f"/{language}/status/")


def secret_status_url(request: AppointmentRequest, context: dict, language: str) -> str:
    """The private link to the request's page, known only at intake (the token is stored hashed).

    Intake passes the link as `status_url`, or the plaintext token as `access_token`; later messages have
    neither and show the look-up page instead.
    """
    if context.get("status_url"):
        return absolute(str(context["status_url"]))
    token = context.get("access_token")
    if not token:
        return ""
    found = _reverse("public:status_by_link", language, {"reference": request.reference, "token": token})
    return absolute(found or f"/{language}/r/{request.reference}/{token}/")


def convocation_verify_url(appointment: Appointment) -> str:
    """What the convocation's QR code carries: the page that says whether a convocation is genuine.

    Always in French: the QR is scanned by staff at the door and by whoever checks a convocation. It names
    the appointment too, so that the convocation of an appointment since moved says it was replaced.
    """
    reference = appointment.request.reference
    found = _reverse(
        "public:verify_convocation_of", "fr", {"reference": reference, "appointment": appointment.pk}
    )
    return absolute(found or f"/fr/convocation/{reference}/{appointment.pk}/")


def map_url(site) -> str:
    if site.latitude is None or site.longitude is None:
        return ""
    query = urlencode({"mlat": site.latitude, "mlon": site.longitude})
    return f"https://www.openstreetmap.org/?{query}#map=17/{site.latitude}/{site.longitude}"
