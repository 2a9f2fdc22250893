"""“Is this convocation genuine?” Fake convocations are sold (DOMAIN.md §5): anyone can check one here.

By the QR code printed on it (the address carries the reference) or by reference and birth date. The answer
shows only what the paper already says, and only what is needed to compare: the procedure, the place, the
date and time, the state of the appointment and the initials of the person.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from guichet.appointments import convocations
from guichet.appointments.models import Appointment
from guichet.public import ratelimit
from guichet.public.views.common import guarded, normalise_reference
from guichet.public.views.status import LookupForm, find_by_reference
from guichet.waitlist.models import AppointmentRequest


def _initials(found: AppointmentRequest) -> str:
    parts = [*found.family_names.split(), *found.given_names.split()]
    return " ".join(f"{part[0]}." for part in parts[:4] if part)


def facts(found: AppointmentRequest, appointment_id: int | None = None) -> dict:
    """What the page says. With the appointment the QR code names, about that convocation: a moved one says
    it was replaced and shows the newer appointment; without (a reference typed, an older QR code), about
    the request's latest appointment."""
    appointments = Appointment.objects.select_related("counter__site").filter(request=found)
    named = appointments.filter(pk=appointment_id).first() if appointment_id is not None else None
    appointment = named or appointments.order_by("-confirmed_at", "-id").first()
    state = "none"
    shown = appointment
    replaced = None
    if appointment is not None:
        standing = convocations.standing(appointment)
        state = standing.state
        if standing.state == convocations.REPLACED:
            replaced, shown = appointment, standing.current
    return {
        "checked": found,
        "initials": _initials(found),
        "appointment": shown,
        "replaced": replaced,
        # The latest appointment was moved from another: a convocation for an earlier one is not valid.
        "was_moved": state == convocations.VALID and Appointment.objects.filter(replaced_by=shown).exists(),
        "state": state,
        "site_tz": shown.counter.site.timezone if shown else found.prefecture.timezone,
    }


@guarded
@never_cache
def form(request: HttpRequest) -> HttpResponse:
    lookup = LookupForm(request.POST or None)
    context = {"form": lookup}
    if request.method == "POST" and lookup.is_valid():
        found = find_by_reference(request, lookup)
        if found is not None:
            context.update(facts(found))
    return render(request, "public/verify_convocation.html", context)


@guarded
@never_cache
def from_code(request: HttpRequest, reference: str, appointment: int | None = None) -> HttpResponse:
    reference = normalise_reference(reference)
    ratelimit.ensure_allowed(request, "lookup", reference)
    found = (
        AppointmentRequest.objects.select_related("procedure", "prefecture")
        .filter(reference=reference)
        .first()
        if len(reference) <= 20
        else None
    )
    if found is None:
        ratelimit.check(request, "lookup", reference)
        return render(
            request, "public/verify_convocation.html", {"form": LookupForm(), "unknown": True}, status=404
        )
    return render(
        request, "public/verify_convocation.html", {"form": LookupForm(), **facts(found, appointment)}
    )
