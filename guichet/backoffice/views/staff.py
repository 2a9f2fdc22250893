"""Staff pages: home, search, a request's page and the actions on it, assisted intake, the queue."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from guichet.accounts import permissions
from guichet.accounts import services as accounts
from guichet.accounts.models import AccessChannel, Role
from guichet.appointments.models import Appointment, Offer
from guichet.catalog.models import Procedure, Site
from guichet.errors import DomainError, NotFound
from guichet.evidence.models import AuditEntry, Proof
from guichet.evidence.receipt import receipt_pdf_bytes
from guichet.forms import apply_domain_error
from guichet.partners import services as partners
from guichet.partners.models import ImpossibilityRecord, Mandate
from guichet.privacy import services as privacy
from guichet.waitlist.forms import ContactForm, IntakeForm
from guichet.waitlist.models import AppointmentRequest, Channel

from .. import services
from ..decorators import prefecture_role, staff_required, verified_required
from ..forms import (
    AssistedChannelForm,
    CancelAppointmentForm,
    CloseForm,
    ImpossibilityForm,
    MoveAppointmentForm,
    RightsAnswerForm,
    SearchForm,
    VulnerabilityForm,
    reason_field,
)


def evidence_links(request: AppointmentRequest) -> dict:
    """Addresses of the evidence pages of a request."""
    return {
        "court_file": reverse("evidence:court_file", args=[request.reference]),
        "court_order_new": reverse("backoffice:court_order_new", args=[request.reference]),
        "proofs_pdf": reverse("evidence:request_proofs_pdf", args=[request.reference]),
    }


def proof_links(proof) -> dict:
    return {
        "page": reverse("evidence:proof", args=[proof.pk]),
        "pdf": reverse("evidence:proof_pdf", args=[proof.pk]),
        "raw": reverse("evidence:proof_jws", args=[proof.pk]),
    }


@staff_required
def home(request):
    prefectures = permissions.prefectures_for(request.user)
    rows = [
        {
            "prefecture": p,
            "role": Role(permissions.role_in(request.user, p)).label,
            "procedures": Procedure.objects.filter(prefecture=p, is_active=True),
        }
        for p in prefectures
    ]
    return render(
        request,
        "backoffice/home.html",
        {"rows": rows, "search_form": SearchForm()},
    )


@verified_required
def search(request):
    if not permissions.is_staff_member(request.user) and permissions.partner_member(request.user) is None:
        raise PermissionDenied
    form = SearchForm(request.GET or None)
    results = None
    if form.is_valid() and form.cleaned_data["q"]:
        results = services.search_requests(request.user, form.cleaned_data["q"], channel=AccessChannel.PAGE)
        if len(results) == 1 and services.parse_query(form.cleaned_data["q"]).reference:
            return redirect("backoffice:request", reference=results[0].reference)
    return render(request, "backoffice/search.html", {"search_form": form, "results": results})


def _opened_or_404(request, reference: str) -> AppointmentRequest:
    try:
        return services.open_request(request.user, reference, channel=AccessChannel.PAGE)
    except NotFound:
        raise Http404 from None


def _visible_or_404(request, reference: str) -> AppointmentRequest:
    try:
        return services.get_visible_request(request.user, reference)
    except NotFound:
        raise Http404 from None


@verified_required
def request_detail(request, reference: str):
    found = _opened_or_404(request, reference)
    is_staff = permissions.has_role(request.user, found.prefecture_id, Role.AGENT)

    proofs = [
        (proof, proof_links(proof))
        for proof in Proof.objects.filter(request=found).order_by("issued_at", "id")
    ]
    history = (
        AuditEntry.objects.filter(request=found).select_related("personal_data").order_by("at", "id")
        if is_staff
        else None
    )
    member = None if is_staff else permissions.partner_member(request.user)
    mandates = Mandate.objects.filter(request=found).select_related("organisation")
    if member is not None:
        mandates = mandates.filter(organisation=member.organisation)
    context = {
        "req": found,
        "is_staff": is_staff,
        "member": member,
        "proofs": proofs,
        "received_proof": next((p for p, _links in proofs if p.event == "received"), None),
        "history": history,
        "appointments": Appointment.objects.filter(request=found).select_related("counter__site"),
        "offers": Offer.objects.filter(request=found).select_related("slot__counter__site"),
        "mandates": mandates,
        "impossibilities": ImpossibilityRecord.objects.filter(request=found),
        "rights_requests": found.rights_requests.order_by("-received_at", "-id") if is_staff else None,
        "evidence": evidence_links(found),
        "substitution": found.impossibilities.exists(),
        # Who read the file: for those who answer for how agents use it (R27).
        "accesses": accounts.accesses_to(found)
        if permissions.has_role(request.user, found.prefecture_id, Role.MANAGER)
        else None,
        "access_retention_days": settings.ACCESS_LOG_RETENTION_DAYS,
    }
    return render(request, "backoffice/request_detail.html", context)


def _staff_request(request, reference: str) -> AppointmentRequest:
    found = _visible_or_404(request, reference)
    if not permissions.has_role(request.user, found.prefecture_id, Role.AGENT):
        raise Http404
    return found


def _action_page(request, found, form, title: str, template: str = "backoffice/action.html", **extra):
    return render(request, template, {"req": found, "form": form, "title": title, **extra})


@verified_required
@require_http_methods(["GET", "POST"])
def edit_contact(request, reference: str):
    found = _staff_request(request, reference)
    initial = {
        "email": found.email,
        "phone": found.phone,
        "postal_address": found.postal_address,
        "language": found.language,
    }

    class Form(ContactForm):
        reason = reason_field()

    form = Form(request.POST or None, initial=initial, prefecture=found.prefecture)
    if request.method == "POST" and form.is_valid() and form.contact is not None:
        try:
            services.update_contact(
                found,
                user=request.user,
                email=form.contact.email,
                phone=form.contact.phone,
                postal_address=form.contact.postal_address,
                language=form.contact.language,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The contact details are changed."))
            return redirect("backoffice:request", reference=found.reference)
    return _action_page(request, found, form, _("Change contact details"))


@verified_required
@require_http_methods(["GET", "POST"])
def vulnerability(request, reference: str):
    found = _staff_request(request, reference)
    form = VulnerabilityForm(
        request.POST or None,
        initial={
            "action": "remove" if found.vulnerability_reason else "record",
            "vulnerability": found.vulnerability_reason,
        },
    )
    if request.method == "POST" and form.is_valid():
        value = (
            form.cleaned_data["vulnerability"].strip() if form.cleaned_data["action"] == "record" else None
        )
        try:
            services.set_vulnerability(
                found, user=request.user, vulnerability=value, reason=form.cleaned_data["reason"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(
                request, _("The vulnerability is recorded.") if value else _("The vulnerability is removed.")
            )
            return redirect("backoffice:request", reference=found.reference)
    return _action_page(request, found, form, _("Vulnerability"))


@verified_required
@require_http_methods(["GET", "POST"])
def close_request(request, reference: str):
    found = _staff_request(request, reference)
    form = CloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.close(found, user=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The request is closed."))
            return redirect("backoffice:request", reference=found.reference)
    return _action_page(request, found, form, _("Close the request"), danger=True)


@verified_required
@require_http_methods(["GET", "POST"])
def answer_rights_request(request, reference: str, rights_id: int):
    """Answer a person's request to correct or erase their data (GDPR art. 16, 17)."""

    found = _staff_request(request, reference)
    asked = get_object_or_404(found.rights_requests, pk=rights_id)
    form = RightsAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            privacy.answer(
                asked,
                decision=form.cleaned_data["decision"],
                text=form.cleaned_data["text"],
                user=request.user,
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The answer is recorded."))
            return redirect("backoffice:request", reference=found.reference)
    return _action_page(
        request,
        found,
        form,
        _("Answer a request about personal data"),
        "backoffice/rights_answer.html",
        asked=asked,
    )


@verified_required
@require_http_methods(["GET", "POST"])
def cancel_appointment(request, reference: str, appointment_id: int):
    found = _staff_request(request, reference)
    appointment = get_object_or_404(found.appointments, pk=appointment_id)
    form = CancelAppointmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_appointment(appointment.pk, user=request.user, reason=form.cleaned_data["reason"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(
                request, _("The appointment is cancelled; the request is back at the head of the queue.")
            )
            return redirect("backoffice:request", reference=found.reference)
    return _action_page(
        request, found, form, _("Cancel the appointment"), appointment=appointment, danger=True
    )


@verified_required
@require_http_methods(["GET", "POST"])
def move_appointment(request, reference: str, appointment_id: int):
    found = _staff_request(request, reference)
    appointment = get_object_or_404(found.appointments.select_related("request"), pk=appointment_id)
    slots = services.free_slots_for(appointment)
    choices = [
        (
            slot.pk,
            f"{timezone.localtime(slot.starts_at, slot.counter.site.tzinfo):%d/%m/%Y %H:%M} — "
            f"{slot.counter.site.name}, {slot.counter.name}"
            + (
                " — " + _("interpreter to book: %(language)s") % {"language": slot.interpreter_to_book}
                if slot.interpreter_to_book
                else ""
            ),
        )
        for slot in slots
    ]
    form = MoveAppointmentForm(request.POST or None, slots=choices)
    if request.method == "POST" and form.is_valid():
        try:
            services.move_appointment(
                appointment.pk,
                form.cleaned_data["slot"],
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("The appointment is moved; the person is told."))
            return redirect("backoffice:request", reference=found.reference)
    return _action_page(
        request, found, form, _("Move the appointment"), appointment=appointment, no_slots=not choices
    )


@verified_required
@require_http_methods(["GET", "POST"])
def impossibility(request, reference: str):
    """An agent, or a partner with a mandate, records « impossibilité constatée » (CESEDA R.431-2)."""

    found = _visible_or_404(request, reference)
    form = ImpossibilityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partners.record_impossibility(
                found,
                by=request.user,
                circumstances=form.cleaned_data["circumstances"],
                accompaniment_tried=form.cleaned_data["accompaniment_tried"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(
                request,
                _(
                    "The impossibility is recorded; the person has a signed attestation and the request "
                    "is marked for the physical route."
                ),
            )
            return redirect("backoffice:request", reference=found.reference)
    return _action_page(
        request,
        found,
        form,
        _("Record that the online service was impossible to use"),
        template="backoffice/impossibility.html",
    )


@verified_required
def receipt(request, reference: str):
    """The paper receipt to hand over or post: the signed "received" proof, in French and in the person's
    language, with how to follow the request (guichet/evidence/receipt.py)."""

    found = _opened_or_404(request, reference)
    proof = Proof.objects.filter(request=found, event="received").order_by("issued_at", "id").first()
    if proof is None:
        raise Http404
    response = HttpResponse(receipt_pdf_bytes(proof), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{found.reference}-receipt.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@prefecture_role(Role.AGENT)
@require_http_methods(["GET", "POST"])
def intake(request, prefecture):
    """Register a request for a person at the counter, on the phone, or by a letter received."""

    channel = request.POST.get("meta-channel") or request.GET.get("channel") or Channel.COUNTER
    if channel not in services.ASSISTED_CHANNELS:
        channel = Channel.COUNTER
    meta = AssistedChannelForm(
        request.POST or None, prefecture=prefecture, prefix="meta", initial={"channel": channel}
    )
    form = IntakeForm(request.POST or None, prefecture=prefecture, channel=channel)
    if request.method == "POST":
        meta_ok = meta.is_valid()
        form_ok = form.is_valid() and form.intake is not None
        if meta_ok and form_ok:
            try:
                result = services.register_for_person(
                    prefecture,
                    form.intake,
                    channel=meta.cleaned_data["channel"],
                    user=request.user,
                    received_at=meta.cleaned_data.get("received_at"),
                    backdate_reason=meta.cleaned_data.get("backdate_reason", ""),
                )
            except DomainError as exc:
                if set(exc.fields) & set(meta.fields):
                    apply_domain_error(meta, exc)
                else:
                    apply_domain_error(form, exc)
            else:
                if result.created:
                    messages.success(
                        request,
                        _("Request %(ref)s registered. Print the receipt and hand it over or post it.")
                        % {"ref": result.request.reference},
                    )
                else:
                    messages.warning(
                        request,
                        _(
                            "This person already has an active request for this procedure: %(ref)s. "
                            "Nothing new was registered."
                        )
                        % {"ref": result.request.reference},
                    )
                return redirect("backoffice:request", reference=result.request.reference)
    return render(
        request,
        "backoffice/intake.html",
        {"prefecture": prefecture, "meta": meta, "form": form, "channel": channel},
    )


@prefecture_role(Role.AGENT)
def queue(request, prefecture):
    procedures = Procedure.objects.filter(prefecture=prefecture).order_by("name")
    sites = Site.objects.filter(prefecture=prefecture).order_by("name")
    procedure = site = None
    if request.GET.get("procedure"):
        procedure = procedures.filter(code=request.GET["procedure"]).first()
        if procedure is None:
            raise Http404
    if request.GET.get("site"):
        try:
            site = sites.filter(pk=int(request.GET["site"])).first()
        except ValueError:
            site = None
        if site is None:
            raise Http404
    rows = services.list_queue(
        request.user, prefecture, channel=AccessChannel.PAGE, procedure=procedure, site=site
    )
    return render(
        request,
        "backoffice/queue.html",
        {
            "prefecture": prefecture,
            "procedures": procedures,
            "sites": sites,
            "procedure": procedure,
            "site": site,
            "rows": rows,
            "late_count": sum(1 for row in rows if row.late),
        },
    )
