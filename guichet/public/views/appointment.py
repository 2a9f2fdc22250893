"""The appointment: where and when, what to bring, the convocation (PDF with a QR code), the calendar file,
and cancelling it."""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guichet import documents
from guichet.appointments.models import Appointment, AppointmentStatus, CancelledBy
from guichet.appointments.services import cancel_appointment
from guichet.errors import DomainError
from guichet.evidence.audit import APPLICANT
from guichet.notifications.calendar import appointment_ics
from guichet.notifications.links import convocation_verify_url
from guichet.public.views.common import applicant_page, page_context
from guichet.waitlist import access
from guichet.waitlist.models import AppointmentRequest


def current_appointment(found: AppointmentRequest) -> Appointment | None:
    """The active appointment, or else the latest one (so a cancelled appointment still shows as such)."""
    appointments = Appointment.objects.select_related("counter__site", "request__procedure").filter(
        request=found
    )
    active = appointments.filter(
        status__in=[AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN]
    ).first()
    return active or appointments.order_by("-confirmed_at", "-id").first()


def map_url(site) -> str:
    """OpenStreetMap at the site's coordinates, or a search for its address."""

    if site.latitude is not None and site.longitude is not None:
        query = urlencode({"mlat": site.latitude, "mlon": site.longitude})
        return f"https://www.openstreetmap.org/?{query}#map=17/{site.latitude}/{site.longitude}"
    address = f"{site.address}, {site.postal_code} {site.city}"
    return "https://www.openstreetmap.org/search?" + urlencode({"query": address})


def verify_url(appointment: Appointment) -> str:
    """What the QR code carries: the page saying whether this convocation is genuine."""
    return convocation_verify_url(appointment)


def appointment_context(found: AppointmentRequest, appointment: Appointment) -> dict:
    site = appointment.counter.site
    return {
        "appointment": appointment,
        "site": site,
        "site_tz": site.timezone,
        "map_url": map_url(site),
        "documents": found.documents,
        "checklist": found.checklist_version,
        "is_active": appointment.is_active,
    }


@applicant_page
def detail(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    appointment = current_appointment(found)
    if appointment is None:
        return redirect(access.request_url(found.reference, token))
    return render(
        request,
        "public/appointment.html",
        page_context(found, token, **appointment_context(found, appointment)),
    )


@applicant_page
def convocation_pdf(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    appointment = current_appointment(found)
    if appointment is None or not appointment.is_active:
        return redirect(access.request_url(found.reference, token))
    check_url = verify_url(appointment)
    context = {
        **page_context(found, token, **appointment_context(found, appointment)),
        "check_url": check_url,
        "qr": documents.qr_data_uri(check_url),
        "LANGUAGE_CODE": translation.get_language(),
        "LANGUAGE_BIDI": translation.get_language_bidi(),
    }
    html = render_to_string("public/convocation_pdf.html", context, request=request)
    pdf = documents.write_pdf(html)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="convocation-{found.reference}.pdf"'
    return response


@applicant_page
def calendar(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    appointment = current_appointment(found)
    if appointment is None:
        return redirect(access.request_url(found.reference, token))
    response = HttpResponse(
        appointment_ics(appointment, translation.get_language()), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="appointment-{found.reference}.ics"'
    return response


class CancelForm(forms.Form):
    rebook = forms.TypedChoiceField(
        label=gettext_lazy("What next?"),
        choices=[
            ("1", gettext_lazy("Put me back in the queue: I still need an appointment")),
            ("0", gettext_lazy("I no longer need an appointment: withdraw my request")),
        ],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Say whether you still need an appointment.")},
    )
    reason = forms.CharField(
        label=gettext_lazy("Why do you cancel? (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@applicant_page
def cancel(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    appointment = current_appointment(found)
    if appointment is None or not appointment.is_active:
        return redirect(access.request_url(found.reference, token))
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cancel_appointment(
                appointment,
                APPLICANT,
                by=CancelledBy.APPLICANT,
                reason=form.cleaned_data["reason"],
                rebook=form.cleaned_data["rebook"],
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            if form.cleaned_data["rebook"]:
                messages.success(
                    request, _("Your appointment is cancelled. You are back in the queue with your due date.")
                )
            else:
                messages.success(request, _("Your appointment is cancelled and your request withdrawn."))
            return redirect(access.request_url(found.reference, token))
    context = page_context(found, token, form=form, **appointment_context(found, appointment))
    return render(request, "public/cancel.html", context)
