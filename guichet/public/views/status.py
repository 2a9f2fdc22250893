"""Following a request: the look-up, the request's page, and the changes a person makes to it."""

import datetime
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from guichet.allocation.candidates import counter_speaks_for
from guichet.appointments.models import Appointment, AppointmentStatus, Offer, OfferSource, OfferStatus
from guichet.catalog.models import Procedure
from guichet.errors import DomainError, InvalidInput
from guichet.evidence.audit import APPLICANT
from guichet.evidence.court_file import court_file_available
from guichet.evidence.models import Proof, ProofEvent
from guichet.forms import apply_domain_error
from guichet.public import estimates, ratelimit
from guichet.public.views.common import (
    applicant_action,
    applicant_page,
    guarded,
    normalise_reference,
    page_context,
)
from guichet.reception.documents import TITLES
from guichet.reception.models import InterimDocument
from guichet.waitlist import access, position
from guichet.waitlist.forms import INTERPRETER_LANGUAGES, ContactForm
from guichet.waitlist.models import AppointmentRequest, RequestStatus
from guichet.waitlist.services import (
    find_request,
    reactivate_request,
    update_contact,
    withdraw_request,
)


class LookupForm(forms.Form):
    reference = forms.CharField(
        label=gettext_lazy("Reference of your request"),
        max_length=32,
        help_text=gettext_lazy("It is on your receipt, for example 93-K7M4-QX9T."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )
    birth_date = forms.DateField(
        label=gettext_lazy("Birth date"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", "autocomplete": "bday"}),
        error_messages={"invalid": gettext_lazy("Give a real date, for example 1990-03-31.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reference"].error_messages["required"] = _("Give the reference of your request.")
        self.fields["birth_date"].error_messages["required"] = _("Give your birth date.")


NOT_FOUND = gettext_lazy(
    "We found no request with this reference and this birth date. Check both, as written on your receipt."
)


def find_by_reference(request: HttpRequest, form: LookupForm) -> AppointmentRequest | None:
    """The request matching the look-up form, counting failures against the look-up limits.

    An unknown reference and a wrong birth date give the same answer (None); a reference whose check
    character is wrong is a typo, said on its field (that tells nothing about which requests exist).
    """

    reference = normalise_reference(form.cleaned_data["reference"])
    ratelimit.ensure_allowed(request, "lookup", reference)
    found = None
    try:
        found = find_request(reference, form.cleaned_data["birth_date"])
    except InvalidInput as error:
        apply_domain_error(form, error)
    except DomainError:
        form.add_error(None, NOT_FOUND)
    if found is None:
        ratelimit.check(request, "lookup", reference)
    return found


@guarded
@never_cache
def lookup(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        found = find_by_reference(request, form)
        if found is not None:
            return redirect(access.request_url(found.reference, access.signed_key(found.reference)))
    return render(request, "public/status_lookup.html", {"form": form})


# --- The request's page ------------------------------------------------------------------------------------

STATUS_EXPLANATIONS = {
    RequestStatus.WAITING: gettext_lazy(
        "Your request is in the queue. We will offer you an appointment in the order of due dates. "
        "You have nothing to do until then: do not file a second request."
    ),
    RequestStatus.OFFERED: gettext_lazy("We offer you an appointment. Answer before the deadline."),
    RequestStatus.SCHEDULED: gettext_lazy("Your appointment is confirmed."),
    RequestStatus.SERVED: gettext_lazy("You have been received. This request is finished."),
    RequestStatus.PAUSED: gettext_lazy(
        "Your request is paused because two offers were not answered. Reactivate it to keep your place."
    ),
    RequestStatus.WITHDRAWN: gettext_lazy("You withdrew this request. It is no longer in the queue."),
    RequestStatus.CLOSED: gettext_lazy("The prefecture closed this request."),
}


def pending_offer(found: AppointmentRequest) -> Offer | None:
    return (
        Offer.objects.select_related("slot__counter__site")
        .filter(request=found, status=OfferStatus.PENDING)
        .order_by("-created_at")
        .first()
    )


def active_appointment(found: AppointmentRequest) -> Appointment | None:
    return (
        Appointment.objects.select_related("counter__site")
        .filter(request=found, status__in=[AppointmentStatus.CONFIRMED, AppointmentStatus.CHECKED_IN])
        .first()
    )


def _reverse(name: str, **kwargs) -> str | None:
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def _with_token(url: str | None, token: str) -> str | None:
    """Evidence pages open with the request's token (or short-lived key) in the query."""
    return f"{url}?{urlencode({'token': token})}" if url else None


def proof_links(found: AppointmentRequest, token: str) -> dict:
    """Links to the evidence pages of this request (helper-evidence's app), keeping the access."""
    return {
        "list": _with_token(_reverse("evidence:request_proofs", reference=found.reference), token),
        "pdf": _with_token(_reverse("evidence:request_proofs_pdf", reference=found.reference), token),
        "verify": _reverse("evidence:verify"),
    }


def history(found: AppointmentRequest, token: str) -> list[dict]:
    labels = dict(ProofEvent.choices)
    proofs = (
        Proof.objects.filter(request=found).only("id", "event", "issued_at").order_by("-issued_at", "-id")
    )
    return [
        {
            "label": labels.get(proof.event, proof.event),
            "at": proof.issued_at,
            "url": _with_token(_reverse("evidence:proof", pk=proof.pk), token),
            "pdf_url": _with_token(_reverse("evidence:proof_pdf", pk=proof.pk), token),
        }
        for proof in proofs
    ]


def interim_documents(found: AppointmentRequest, token: str) -> list[dict]:
    """The person's récépissé and attestations, each with its signed PDF (guichet.reception)."""
    return [
        {
            "title": TITLES[document.kind],
            "valid_from": document.valid_from,
            "valid_until": document.valid_until,
            "pdf_url": _with_token(_reverse("reception_public:interim_pdf", pk=document.pk), token),
        }
        for document in InterimDocument.objects.filter(request=found).order_by("-valid_until", "-id")
    ]


def queue_facts(found: AppointmentRequest, sites: list) -> dict:
    if found.status != RequestStatus.WAITING:
        return {}

    place = position.queue_position(found, site_ids=[site.pk for site in sites])
    if place is None:
        return {}
    return {
        "position": place.number,
        "position_note": position.position_note(place, found.prefecture.tzinfo),
        "window": estimates.turn_window(found, place.number, sites=sites),
    }


def interpreter_facts(
    found: AppointmentRequest, offer: Offer | None, appointment: Appointment | None
) -> dict:
    """Whether the person's interpreter is booked for them (no counter speaks the language) or a counter
    speaking it receives them: the status page says which, so nobody brings one or waits for nothing."""
    language = found.interpreter_language
    if not language:
        return {}
    given = offer or appointment
    if given is not None:
        booked = bool(given.interpreter_language)
    else:
        booked = not counter_speaks_for(found)
    return {
        "interpreter": {
            "name": dict(INTERPRETER_LANGUAGES).get(language, language),
            "booked": booked,
            "given": given is not None,
        }
    }


def court_file_url(found: AppointmentRequest, token: str) -> str | None:
    """The court-ready file, once the request is late enough for one (evidence.court_file decides)."""
    available, _reason = court_file_available(found, None)
    if not available:
        return None
    return _with_token(_reverse("evidence:court_file", reference=found.reference), token)


def can_pick_slot(found: AppointmentRequest) -> bool:
    return found.procedure.mode == Procedure.Mode.OPEN and found.status == RequestStatus.WAITING


@applicant_page
def request_page(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    offer = pending_offer(found) if found.status == RequestStatus.OFFERED else None
    appointment = active_appointment(found) if found.status == RequestStatus.SCHEDULED else None
    sites = list(found.sites.all())
    context = page_context(
        found,
        token,
        explanation=STATUS_EXPLANATIONS.get(found.status, ""),
        offer=offer,
        offer_chosen=offer is not None and offer.source == OfferSource.CHOSEN,
        appointment=appointment,
        history=history(found, token),
        interim_documents=interim_documents(found, token),
        proofs=proof_links(found, token),
        court_file_url=court_file_url(found, token),
        can_pick_slot=can_pick_slot(found),
        sites=sites,
        language_differs=found.language != get_language(),
        language_name=dict(settings.LANGUAGES).get(found.language, found.language),
        signed_access=access.is_signed_key(token),
        **queue_facts(found, sites),
        **interpreter_facts(found, offer, appointment),
    )
    return render(request, "public/request.html", context)


# --- Changes ---------------------------------------------------------------------------------------------


@applicant_action
def language(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    """Receive the messages in the language of the page from now on."""

    update_contact(
        found,
        email=found.email,
        phone=found.phone,
        postal_address=found.postal_address,
        language=get_language(),
        actor=APPLICANT,
    )
    messages.success(request, _("From now on, our messages to you will be in this language."))
    return redirect(access.request_url(found.reference, token))


@applicant_page
def reactivate(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            _reactivate(found)
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("Your request is back in the queue, with its place and due date."))
        return redirect(access.request_url(found.reference, token))
    return render(request, "public/reactivate.html", page_context(found, token))


def _reactivate(found: AppointmentRequest) -> None:
    reactivate_request(found, APPLICANT)


@applicant_page
def contact(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    initial = {
        "email": found.email,
        "phone": found.phone,
        "postal_address": found.postal_address,
        "language": found.language,
    }
    form = ContactForm(request.POST or None, prefecture=found.prefecture, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.contact
        try:
            update_contact(
                found,
                email=data.email,
                phone=data.phone,
                postal_address=data.postal_address,
                language=data.language,
                actor=APPLICANT,
            )
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(request, _("Your contact details are saved."))
            return redirect(access.request_url(found.reference, token))
    return render(request, "public/contact.html", page_context(found, token, form=form))


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why do you withdraw? (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("For example: I already have my permit, I moved to another département."),
    )


@applicant_page
def withdraw(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            withdraw_request(found, APPLICANT, reason=form.cleaned_data["reason"])
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(request, _("Your request is withdrawn. You can file a new one at any time."))
            return redirect(access.request_url(found.reference, token))
    return render(request, "public/withdraw.html", page_context(found, token, form=form))


def local_date(value: datetime.datetime, found: AppointmentRequest) -> datetime.date:
    return timezone.localtime(value, found.prefecture.tzinfo).date()
