"""Staff pages of reception and of the counter (/<lang>/staff/<département>/reception/…).

Thin: each view parses its form, calls one service, and shows the service's refusal on the page as it is.
Every page works without JavaScript; the scan field has the focus, so a scanner's Enter submits it.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guichet.accounts.models import Role
from guichet.backoffice.decorators import prefecture_role
from guichet.backoffice.views.staff import apply_domain_error
from guichet.catalog.models import Counter, Site
from guichet.dossiers import services as dossiers
from guichet.errors import DomainError, NotFound

from . import access, calls, figures, interim, outcomes, services
from .forms import (
    CounterChoiceForm,
    DayForm,
    IdentitySearchForm,
    MismatchForm,
    MissingDocumentsForm,
    RefuseForm,
    ScanForm,
    WalkInForm,
)
from .models import Visit, VisitStatus


def _or_404(find, *args):
    try:
        return find(*args)
    except NotFound:
        raise Http404 from None


@prefecture_role(Role.AGENT)
def home(request, prefecture):
    sites = (
        Site.objects.filter(prefecture=prefecture, is_active=True)
        .prefetch_related("counters")
        .order_by("name")
    )
    return render(request, "reception/staff/home.html", {"prefecture": prefecture, "sites": sites})


@prefecture_role(Role.AGENT)
@require_http_methods(["GET", "POST"])
def desk(request, prefecture, site_id: int):
    """Reception at a site: scan or type a reference, or find by name and birth date; today's list."""
    site = _or_404(access.site_of, prefecture, site_id)
    scan = ScanForm(request.POST if request.POST.get("form") == "scan" else None)
    search = IdentitySearchForm(request.GET if "names" in request.GET else None)
    walk_in = WalkInForm(request.POST if request.POST.get("form") == "walkin" else None, prefix="walkin")
    found = None
    if walk_in.is_bound and walk_in.is_valid():
        try:
            visit = services.walk_in(
                site, walk_in.cleaned_data["reference"], access.actor(request.user), user=request.user
            )
        except DomainError as exc:
            apply_domain_error(walk_in, exc)
        else:
            messages.success(request, _("Checked in: ticket %(ticket)s.") % {"ticket": visit.ticket_label})
            return redirect("reception:ticket", prefecture.code, visit.pk)
    if scan.is_bound and scan.is_valid():
        try:
            appointment = services.find_by_scan(site, scan.cleaned_data["scan"])
        except DomainError as exc:
            apply_domain_error(scan, exc)
        else:
            return redirect("reception:identity", prefecture.code, appointment.pk)
    if search.is_bound and search.is_valid():
        try:
            found = services.find_by_identity(
                site, search.cleaned_data["names"], search.cleaned_data["birth_date"]
            )
        except DomainError as exc:
            apply_domain_error(search, exc)
    context = {
        "prefecture": prefecture,
        "site": site,
        "scan_form": scan if scan.is_bound else ScanForm(),
        "search_form": search,
        "walk_in_form": walk_in,
        "found": found,
        "rows": services.todays_appointments(site),
        "today": services.local_day(site),
    }
    return render(request, "reception/staff/desk.html", context)


@prefecture_role(Role.AGENT)
@require_http_methods(["GET", "POST"])
def identity(request, prefecture, appointment_id: int):
    """The identity the appointment is bound to, against the document shown: check in, or refuse (R19)."""
    appointment = _or_404(access.appointment_of, prefecture, appointment_id)
    site = appointment.counter.site
    mismatch = MismatchForm(request.POST if request.POST.get("action") == "mismatch" else None)
    problem = ""
    if request.method == "POST" and request.POST.get("action") == "checked":
        try:
            visit = services.check_in(appointment, access.actor(request.user), user=request.user)
        except services.AlreadyCheckedIn as exc:
            messages.warning(request, exc.message)
            return redirect("reception:ticket", prefecture.code, exc.visit.pk)
        except DomainError as exc:
            problem = str(exc.message)
        else:
            messages.success(request, _("Checked in: ticket %(ticket)s.") % {"ticket": visit.ticket_label})
            return redirect("reception:ticket", prefecture.code, visit.pk)
    if mismatch.is_bound and mismatch.is_valid():
        try:
            services.refuse_identity(
                appointment, access.actor(request.user), reason=mismatch.cleaned_data["reason"]
            )
        except DomainError as exc:
            apply_domain_error(mismatch, exc)
        else:
            messages.warning(request, _("The appointment is refused: the identity does not match."))
            return redirect("reception:desk", prefecture.code, site.pk)
    context = {
        "prefecture": prefecture,
        "site": site,
        "appointment": appointment,
        "req": appointment.request,
        "identity": services.identity_of(appointment.request),
        "dossier": dossiers.readiness(appointment.request),
        "visit": Visit.objects.filter(appointment=appointment).first(),
        "mismatch_form": mismatch,
        "problem": problem,
        "late": appointment.status == "confirmed"
        and timezone.now() > appointment.starts_at + services.late_limit(),
    }
    return render(request, "reception/staff/identity.html", context)


@prefecture_role(Role.AGENT)
@require_POST
def no_show(request, prefecture, appointment_id: int):
    appointment = _or_404(access.appointment_of, prefecture, appointment_id)
    try:
        outcomes.record_no_show(appointment, access.actor(request.user))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The missed appointment is recorded; the request is paused, its place kept.")
        )
    return redirect("reception:desk", prefecture.code, appointment.counter.site_id)


@prefecture_role(Role.AGENT)
def ticket(request, prefecture, visit_id: int):
    """The check-in receipt with the ticket number, to print or show."""
    visit = _or_404(access.visit_of, prefecture, visit_id)
    return render(request, "reception/staff/ticket.html", {"prefecture": prefecture, "visit": visit})


# --- the counter ------------------------------------------------------------------------------------------


def _counter_context(prefecture, counter: Counter) -> dict:
    day = services.local_day(counter.site)
    current = (
        Visit.objects.filter(site=counter.site, day=day, status=VisitStatus.CALLED, counter=counter)
        .select_related("appointment__request__procedure", "appointment__request__checklist_version")
        .order_by("-called_at")
        .first()
    )
    waiting = list(
        calls.waiting_visits(counter.site_id, day, counter).select_related("appointment__request__procedure")
    )
    on_hold = list(
        Visit.objects.filter(site=counter.site, day=day, status=VisitStatus.ON_HOLD).select_related(
            "appointment__request__procedure"
        )
    )
    others = Counter.objects.filter(site=counter.site, is_active=True).exclude(pk=counter.pk).order_by("name")
    dossier = dossiers.readiness(current.appointment.request) if current else None
    return {
        "dossier": dossier,
        "planned_waiting": sum(visit.planned_minutes or 0 for visit in waiting),
        "prefecture": prefecture,
        "counter": counter,
        "site": counter.site,
        "current": current,
        "waiting": waiting,
        "on_hold": on_hold,
        "send_form": CounterChoiceForm(counters=others) if others else None,
        "missing_form": MissingDocumentsForm(
            documents=outcomes.missing_documents_choices(current.appointment),
            initial={"missing": outcomes.not_accepted_in_dossier(current.appointment, dossier)},
        )
        if current
        else None,
        "refuse_form": RefuseForm(),
    }


@prefecture_role(Role.AGENT)
def counter_desk(request, prefecture, counter_id: int):
    counter = _or_404(access.counter_of, prefecture, counter_id)
    return render(request, "reception/staff/counter.html", _counter_context(prefecture, counter))


@prefecture_role(Role.AGENT)
@require_POST
def counter_action(request, prefecture, counter_id: int):
    """One button of the counter: call next, call a ticket, recall, hold, resume, send on."""
    counter = _or_404(access.counter_of, prefecture, counter_id)
    action = request.POST.get("action", "")
    actor = access.actor(request.user)
    try:
        if action == "next":
            visit = calls.call_next(counter, actor)
            if visit is None:
                messages.info(request, _("Nobody is waiting."))
            else:
                messages.success(request, _("Ticket %(ticket)s called.") % {"ticket": visit.ticket_label})
        else:
            visit = access.visit_of(prefecture, request.POST.get("visit"))
            if action == "call":
                calls.call(visit, counter, actor)
                messages.success(request, _("Ticket %(ticket)s called.") % {"ticket": visit.ticket_label})
            elif action == "hold":
                calls.hold(visit, counter, actor)
                messages.success(request, _("Ticket %(ticket)s is on hold.") % {"ticket": visit.ticket_label})
            elif action == "resume":
                calls.resume(visit, actor)
                messages.success(
                    request, _("Ticket %(ticket)s is waiting again.") % {"ticket": visit.ticket_label}
                )
            elif action == "send":
                form = CounterChoiceForm(request.POST, counters=Counter.objects.filter(site=counter.site))
                if not form.is_valid():
                    raise NotFound("not_found", _("Unknown counter."))
                target = access.counter_of(prefecture, form.cleaned_data["counter"])
                calls.send_to(visit, counter, target, actor)
                messages.success(
                    request,
                    _("Ticket %(ticket)s sent to %(counter)s.")
                    % {"ticket": visit.ticket_label, "counter": target.name},
                )
            else:
                messages.error(request, _("Unknown action."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("reception:counter", prefecture.code, counter.pk)


@prefecture_role(Role.AGENT)
@require_POST
def record_file(request, prefecture, counter_id: int, visit_id: int):
    """The outcome of the person at the counter: complete, incomplete (what is missing), or refused."""
    counter = _or_404(access.counter_of, prefecture, counter_id)
    visit = _or_404(access.visit_of, prefecture, visit_id)
    appointment = visit.appointment
    actor = access.actor(request.user)
    outcome = request.POST.get("outcome", "")
    try:
        if outcome == "complete":
            outcomes.register_file(appointment, actor, user=request.user)
            messages.success(
                request, _("File registered complete; the récépissé is issued when the procedure gives one.")
            )
        elif outcome == "incomplete":
            form = MissingDocumentsForm(
                request.POST, documents=outcomes.missing_documents_choices(appointment)
            )
            if not form.is_valid():
                messages.error(request, _("Tick the missing documents."))
                return redirect("reception:counter", prefecture.code, counter.pk)
            outcomes.register_file(
                appointment, actor, missing=form.cleaned_data["missing"], user=request.user
            )
            messages.success(
                request,
                _(
                    "File incomplete: the person is told what to bring and waits for a new appointment,"
                    " with the same due date."
                ),
            )
        elif outcome == "refused":
            form = RefuseForm(request.POST)
            if not form.is_valid():
                messages.error(
                    request,
                    _("Give the reason (a few words at least); it is written in the request's history."),
                )
                return redirect("reception:counter", prefecture.code, counter.pk)
            outcomes.refuse_file(appointment, actor, reason=form.cleaned_data["reason"])
            messages.success(request, _("The file is refused; the request is closed with the reason."))
        else:
            messages.error(request, _("Unknown action."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("reception:counter", prefecture.code, counter.pk)


# --- figures and lists --------------------------------------------------------------------------------------


@prefecture_role(Role.MANAGER)
def day_figures(request, prefecture):
    form = DayForm(request.GET or None)
    sites = Site.objects.filter(prefecture=prefecture).order_by("name")
    day = form.cleaned_data["day"] if form.is_valid() else timezone.now().astimezone(prefecture.tzinfo).date()
    rows = [figures.day_figures(site, day) for site in sites]
    return render(
        request,
        "reception/staff/figures.html",
        {
            "prefecture": prefecture,
            "rows": rows,
            "day": day,
            "form": form if form.is_bound else DayForm(initial={"day": day}),
        },
    )


@prefecture_role(Role.AGENT)
def expiring(request, prefecture):
    documents = interim.expiring(prefecture)
    context = {"prefecture": prefecture, "documents": documents}
    return render(request, "reception/staff/expiring.html", context)
