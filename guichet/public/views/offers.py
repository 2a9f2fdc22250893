"""Answering an offer (accept, decline with a reason, ask for another) and picking a slot in open mode."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guichet.appointments import services
from guichet.appointments.models import Offer, OfferStatus
from guichet.appointments.services import (
    OfferAlreadyAccepted,
    accept_offer,
    decline_offer,
    request_another_offer,
)
from guichet.capacity.models import Slot
from guichet.catalog.models import Procedure
from guichet.errors import DomainError
from guichet.evidence.audit import APPLICANT
from guichet.public.views.common import applicant_action, applicant_page, page_context
from guichet.waitlist import access
from guichet.waitlist.models import AppointmentRequest, RequestStatus


def _offer(found: AppointmentRequest, offer_id: int) -> Offer:
    offer = Offer.objects.select_related("slot__counter__site").filter(pk=offer_id, request=found).first()
    if offer is None:
        raise Http404("no such offer")
    return offer


@applicant_action
def accept(request: HttpRequest, found: AppointmentRequest, token: str, offer_id: int) -> HttpResponse:
    try:
        accept_offer(_offer(found, offer_id), APPLICANT)
    except OfferAlreadyAccepted:
        pass  # a second click: the appointment exists, show it
    messages.success(request, _("Your appointment is confirmed. Download your convocation below."))
    return redirect(access.request_url(found.reference, token, "appointment"))


DECLINE_REASONS = [
    ("date", gettext_lazy("The date or time does not suit me")),
    ("place", gettext_lazy("The place is too far")),
    ("documents", gettext_lazy("My documents are not ready")),
    ("other", gettext_lazy("Another reason")),
]


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("Why do you decline this slot?"),
        choices=DECLINE_REASONS,
        widget=forms.RadioSelect,
        required=False,
    )
    details = forms.CharField(
        label=gettext_lazy("Details (optional)"),
        required=False,
        max_length=900,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def reason_text(self) -> str:
        labels = {"date": "date", "place": "place", "documents": "documents", "other": "other"}
        parts = [labels.get(self.cleaned_data.get("reason") or "", ""), self.cleaned_data.get("details", "")]
        return ": ".join(part for part in parts if part)


@applicant_page
def decline(request: HttpRequest, found: AppointmentRequest, token: str, offer_id: int) -> HttpResponse:
    offer = _offer(found, offer_id)
    if offer.status != OfferStatus.PENDING:
        return redirect(access.request_url(found.reference, token))
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            decline_offer(offer, APPLICANT, reason=form.reason_text())
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            messages.success(
                request, _("You declined this slot. You keep your place and your due date in the queue.")
            )
            return redirect(access.request_url(found.reference, token))
    return render(request, "public/decline.html", page_context(found, token, offer=offer, form=form))


@applicant_action
def another(request: HttpRequest, found: AppointmentRequest, token: str, offer_id: int) -> HttpResponse:
    request_another_offer(_offer(found, offer_id), APPLICANT)
    messages.success(request, _("We will offer you another slot. You keep your place and your due date."))
    return redirect(access.request_url(found.reference, token))


@applicant_page
def open_slots(request: HttpRequest, found: AppointmentRequest, token: str) -> HttpResponse:
    """Open mode: while nobody waits for the procedure, the person picks a free slot, held 10 minutes."""

    if found.procedure.mode != Procedure.Mode.OPEN or found.status not in (
        RequestStatus.WAITING,
        RequestStatus.OFFERED,
    ):
        return redirect(access.request_url(found.reference, token))
    if request.method == "POST":
        slot = Slot.objects.filter(pk=_int(request.POST.get("slot"))).first()
        if slot is None:
            messages.error(request, _("Choose one of the slots in the list."))
        else:
            try:
                services.hold_open_slot(found, slot, APPLICANT)
            except DomainError as error:
                messages.error(request, str(error.message))
            else:
                return redirect(access.request_url(found.reference, token))
        return redirect(access.request_url(found.reference, token, "open_slots"))
    try:
        slots = services.open_slots(found.procedure, request=found)
        queue_not_empty = False
    except DomainError:
        slots, queue_not_empty = [], True
    return render(
        request,
        "public/open_slots.html",
        page_context(found, token, days=_by_local_day(slots, found), queue_not_empty=queue_not_empty),
    )


def _by_local_day(slots: list[Slot], found: AppointmentRequest) -> list[tuple]:
    """Slots grouped by the day they fall on at their site (not in UTC)."""
    days: dict = {}
    for slot in slots:
        local = timezone.localtime(slot.starts_at, slot.counter.site.tzinfo)
        days.setdefault(local.date(), []).append(slot)
    return list(days.items())


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
