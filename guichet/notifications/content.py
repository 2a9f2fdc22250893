"""What a message says, looked up when it is sent: the request, offer or appointment as they are now.

`notify()` stores only ids in a message's context; this module turns them into the template context, with
dates in the person's language and in the time zone of the place concerned. It also decides when a message
has become pointless (an offer already answered, an appointment since cancelled): it is then skipped.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy

from guichet.appointments.models import Appointment, AppointmentStatus, Offer, OfferStatus
from guichet.bidi import isolate
from guichet.dates import clock_time, long_date, short_date
from guichet.evidence.models import CourtOrder
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from . import links
from .models import OutboxMessage

KINDS = (
    "received",
    "offer_made",
    "offer_reminder",
    "offer_withdrawn",
    "appointment_confirmed",
    "appointment_reminder",
    "appointment_changed",
    "appointment_cancelled",
    "paused",
    "still_waiting",
    "withdrawn",
    "closed",
    "impossibility",
    "court_order",
    "reactivated",
    "late_renewal",
    "turn_coming",
    "file_incomplete",
    "card_ready",
    "decision",
    "interim_expiring",
    "dossier_to_correct",
    "dossier_complete",
)
# Kinds that carry an appointment: their emails have the .ics attached, their letters are convocations.
# Why the prefecture moved or cancelled an appointment, when a catalogue change left it on a slot it no
# longer opens (capacity.services.SlotConflict.reason), in the person's language.
CAUSES = {
    "closure": gettext_lazy("The site is closed on that day."),
    "holiday": gettext_lazy("The site is closed on that day."),
    "counter_inactive": gettext_lazy("The counter no longer receives the public."),
    "no_rule": gettext_lazy("The opening hours have changed."),
    "times_changed": gettext_lazy("The opening hours have changed."),
    "procedure_not_served": gettext_lazy("The opening hours have changed."),
}
APPOINTMENT_KINDS = {"appointment_confirmed", "appointment_reminder", "appointment_changed"}
CONVOCATION_KINDS = {"appointment_confirmed", "appointment_changed"}


@dataclass
class Subjects:
    """The objects a message is about, loaded once per message."""

    request: AppointmentRequest
    offer: Offer | None = None
    appointment: Appointment | None = None
    previous_appointment: Appointment | None = None
    court_order: CourtOrder | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _by_id(queryset, value):
    if value in (None, ""):
        return None
    try:
        return queryset.filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


def load(message: OutboxMessage) -> Subjects:
    """Find what the message is about: by the ids in its context, else the request's latest of each."""
    request = AppointmentRequest.objects.select_related("procedure", "prefecture").get(pk=message.request_id)
    context = message.context or {}
    subjects = Subjects(request=request, extra=context)
    offers = Offer.objects.filter(request=request).select_related("slot__counter__site")
    appointments = Appointment.objects.filter(request=request).select_related("counter__site")
    kind = message.kind
    if kind in {"offer_made", "offer_reminder", "offer_withdrawn"}:
        subjects.offer = _by_id(offers, context.get("offer_id")) or offers.first()
    if kind in APPOINTMENT_KINDS or kind == "appointment_cancelled":
        subjects.appointment = _by_id(appointments, context.get("appointment_id"))
        if subjects.appointment is None:
            cancelled = kind == "appointment_cancelled"
            wanted = AppointmentStatus.CANCELLED if cancelled else AppointmentStatus.CONFIRMED
            subjects.appointment = appointments.filter(status=wanted).order_by("-id").first()
    if kind == "appointment_changed":
        subjects.previous_appointment = _by_id(appointments, context.get("previous_appointment_id"))
        if subjects.previous_appointment is None and subjects.appointment is not None:
            subjects.previous_appointment = (
                appointments.filter(id__lt=subjects.appointment.id).order_by("-id").first()
            )
    if kind == "paused":
        # Paused after a missed appointment (the context names it) rather than after two lapsed offers.
        subjects.previous_appointment = _by_id(appointments, context.get("appointment_id"))
    if kind == "court_order":
        orders = CourtOrder.objects.filter(request=request)
        subjects.court_order = _by_id(orders, context.get("court_order_id")) or orders.order_by("-id").first()
    return subjects


def outdated_reason(message: OutboxMessage, subjects: Subjects, now: datetime.datetime) -> str:
    """Why sending this message now would mislead (empty when it is still right to send it)."""
    kind = message.kind
    request = subjects.request
    if kind in {"offer_made", "offer_reminder"}:
        offer = subjects.offer
        if offer is None:
            return "no offer on this request"
        if offer.status != OfferStatus.PENDING or offer.expires_at <= now:
            return f"the offer is no longer open ({offer.status})"
    if kind in APPOINTMENT_KINDS:
        appointment = subjects.appointment
        if appointment is None:
            return "no appointment on this request"
        if appointment.status != AppointmentStatus.CONFIRMED:
            return f"the appointment is no longer confirmed ({appointment.status})"
        if appointment.starts_at <= now:
            return "the appointment has begun"
    if kind == "appointment_cancelled" and subjects.appointment is None:
        return "no cancelled appointment on this request"
    if kind == "court_order" and subjects.court_order is None:
        return "no court order on this request"
    if kind == "still_waiting" and request.status not in {RequestStatus.WAITING, RequestStatus.PAUSED}:
        return f"the request is no longer waiting ({request.status})"
    if kind == "paused" and request.status != RequestStatus.PAUSED:
        return f"the request is no longer paused ({request.status})"
    return ""


def _place(site) -> dict[str, Any]:
    return {
        "name": site.name,
        "address": site.address,
        "postal_code": site.postal_code,
        "city": site.city,
        "access_notes": site.access_notes,
        "step_free": site.step_free,
        "map_url": links.map_url(site),
    }


def _moment(value: datetime.datetime, tz) -> dict[str, str]:
    local = value.astimezone(tz)
    return {
        "date": long_date(local),
        "short_date": isolate(short_date(local)),
        "time": isolate(clock_time(local)),
    }


def template_context(message: OutboxMessage, subjects: Subjects) -> dict[str, Any]:
    """Everything the templates of `message.kind` show, formatted in the active language.

    Addresses come twice: `status_href` to link to, `status_url` to show (isolated in right-to-left text).
    """
    request = subjects.request
    extra = subjects.extra
    local_tz = request.prefecture.tzinfo
    language = translation.get_language()
    status_href = links.status_lookup_url(language)
    secret_href = links.secret_status_url(request, extra, language)
    context: dict[str, Any] = {
        "kind": message.kind,
        "channel": message.channel,
        "language": language,
        "reference": isolate(request.reference),
        "person": " ".join(part for part in (request.given_names, request.family_names) if part),
        "procedure": request.procedure.name,
        "prefecture": request.prefecture.name,
        "prefecture_email": isolate(request.prefecture.contact_email),
        "received": _moment(request.received_at, local_tz),
        "due_date": long_date(request.due_date),
        "due_short_date": isolate(short_date(request.due_date)),
        "status_href": status_href,
        "status_url": isolate(status_href),
        "secret_href": secret_href,
        "secret_url": isolate(secret_href),
        "position": extra.get("position"),
        "reason": extra.get("reason", ""),
        "cause": str(CAUSES.get(extra.get("cause"), "")),
        "documents": request.documents,
        "site_url": settings.SITE_URL,
        # Reception and after (guichet.reception): the ticket called, what was missing, the decision.
        "ticket": isolate(str(extra.get("ticket", ""))),
        "missing_documents": [str(item) for item in extra.get("missing_documents") or []],
        "outcome": extra.get("outcome", ""),
    }
    if extra.get("valid_until"):
        try:
            context["valid_until"] = long_date(datetime.date.fromisoformat(extra["valid_until"]))
        except (TypeError, ValueError):
            pass
    offer = subjects.offer
    if offer is not None:
        site = offer.slot.counter.site
        context["place"] = _place(site)
        context["when"] = _moment(offer.slot.starts_at, site.tzinfo)
        context["answer_by"] = _moment(offer.expires_at, local_tz)
    appointment = subjects.appointment
    if appointment is not None:
        site = appointment.counter.site
        context["place"] = _place(site)
        context["when"] = _moment(appointment.starts_at, site.tzinfo)
        context["cancelled_by_prefecture"] = appointment.cancelled_by == "prefecture"
        context["reason"] = context["reason"] or appointment.cancel_reason
    previous = subjects.previous_appointment
    if previous is not None:
        moment = _moment(previous.starts_at, previous.counter.site.tzinfo)
        context["missed" if message.kind == "paused" else "previous"] = moment
    elif extra.get("previous_starts_at"):
        try:
            starts = datetime.datetime.fromisoformat(extra["previous_starts_at"])
            context["previous"] = _moment(starts, local_tz)
        except (TypeError, ValueError):
            pass
    order = subjects.court_order
    if order is not None:
        context["court"] = {
            "tribunal": order.tribunal,
            "case_number": order.case_number,
            "ordered_on": long_date(order.ordered_on),
            "deadline": long_date(order.deadline),
            "deadline_short": isolate(short_date(order.deadline)),
        }
    if message.kind == "dossier_to_correct":
        context["corrections"] = [
            {"document": str(item.get("document", "")), "reason": str(item.get("reason", ""))}
            for item in extra.get("corrections", [])
            if isinstance(item, dict)
        ]
    if message.kind == "closed":
        context["reason"] = context["reason"] or request.closing_reason
    if message.kind in {"withdrawn", "closed", "paused", "reactivated"}:
        context["changed"] = _moment(request.status_changed_at, local_tz)
    return context


def language_name(code: str) -> str:
    """The language's own name for itself (العربية, Русский), for the letter's second half."""
    return dict(settings.LANGUAGES).get(code, code)
