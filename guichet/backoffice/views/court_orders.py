"""Court orders in the back office: the list with each order's state, one order, recording one, opening an
extra slot for it, and dealing with an alert. Any staff member of the prefecture reads them; recording an
order and opening a slot are a manager's acts (backoffice.decorators, accounts.permissions)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guichet.accounts import permissions
from guichet.accounts.models import Role
from guichet.catalog.models import Counter
from guichet.errors import DomainError
from guichet.evidence import court_orders, presentation
from guichet.evidence import permissions as evidence_permissions
from guichet.evidence.models import CourtOrder, CourtOrderAlert
from guichet.forms import apply_domain_error
from guichet.privacy.services import record_court_case_end
from guichet.waitlist.models import AppointmentRequest
from guichet.waitlist.references import InvalidReference, parse_reference

from ..decorators import staff_required
from ..forms import CaseEndForm, CourtOrderForm, ExtraSlotForm, ResolveAlertForm

SEVERITY = {
    court_orders.OrderStatus.MISSED: 0,
    court_orders.OrderStatus.AT_RISK: 1,
    court_orders.OrderStatus.PENDING: 2,
    court_orders.OrderStatus.MET: 3,
}


def _staff_request(request, reference: str) -> AppointmentRequest:
    try:
        reference = parse_reference(reference)
    except InvalidReference:
        raise Http404 from None
    found = AppointmentRequest.objects.select_related("prefecture", "procedure").filter(reference=reference)
    found = found.first()
    if found is None:
        raise Http404
    if not permissions.can_access_prefecture(request.user, found.prefecture):
        raise PermissionDenied
    return found


def _staff_order(request, pk: int) -> CourtOrder:
    order = get_object_or_404(
        CourtOrder.objects.select_related("request__prefecture", "request__procedure"), pk=pk
    )
    if not permissions.can_access_prefecture(request.user, order.request.prefecture):
        raise PermissionDenied
    return order


def _require_manager(request, prefecture) -> None:
    if not permissions.has_role(request.user, prefecture, Role.MANAGER):
        raise PermissionDenied


@staff_required
def court_order_list(request):
    now = timezone.now()
    visible = list(permissions.memberships(request.user).values_list("prefecture_id", flat=True))
    orders = (
        CourtOrder.objects.select_related("request__prefecture", "request__procedure")
        .filter(request__prefecture_id__in=visible)
        .order_by("-notified_on", "id")
    )
    states = [court_orders.order_state(order, now) for order in orders[:500]]
    wanted = request.GET.get("status", "")
    if wanted in SEVERITY:
        states = [state for state in states if state.status == wanted]
    states.sort(key=lambda state: (SEVERITY[state.status], state.deadline, state.order.pk))
    totals = {status: 0 for status in SEVERITY}
    for state in states:
        totals[state.status] += 1
    return render(
        request,
        "backoffice/court_orders.html",
        {
            "states": states,
            "wanted": wanted,
            "statuses": [(key, court_orders.OrderStatus.LABELS[key], totals[key]) for key in SEVERITY],
            "penalty_total": sum((state.penalty_accrued for state in states), start=0),
        },
    )


@staff_required
@require_http_methods(["GET", "POST"])
def court_order_new(request, reference: str):
    req = _staff_request(request, reference)
    _require_manager(request, req.prefecture)
    form = CourtOrderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            order = court_orders.record_court_order(
                req, **form.cleaned_data, actor=permissions.actor_for(request.user)
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, _("The court order was recorded."))
            return redirect("backoffice:court_order", pk=order.pk)
    return render(request, "backoffice/court_order_form.html", {"req": req, "form": form})


def _counters_for(order: CourtOrder):
    return (
        Counter.objects.filter(
            site__prefecture_id=order.request.prefecture_id, is_active=True, site__is_active=True
        )
        .select_related("site")
        .order_by("site__name", "name")
    )


@staff_required
def court_order_detail(request, pk: int):
    order = _staff_order(request, pk)
    return _render_order(
        request,
        order,
        ExtraSlotForm(
            counters=_counters_for(order), default_minutes=order.request.procedure.duration_minutes
        ),
    )


def _render_order(request, order: CourtOrder, slot_form: ExtraSlotForm, status: int = 200):
    evidence_permissions.record_read(request, order.request, None, f"court order {order.pk}")
    return render(
        request,
        "backoffice/court_order.html",
        {
            "order": order,
            "req": order.request,
            "state": court_orders.order_state(order),
            "alerts": order.alerts.order_by("-created_at"),
            "slot_form": slot_form,
            "resolve_form": ResolveAlertForm(),
            "proofs_url": reverse("evidence:request_proofs", kwargs={"reference": order.request.reference}),
        },
        status=status,
    )


@staff_required
@require_POST
def court_order_extra_slot(request, pk: int):
    order = _staff_order(request, pk)
    _require_manager(request, order.request.prefecture)
    form = ExtraSlotForm(request.POST, counters=_counters_for(order))
    if form.is_valid():
        try:
            slot = court_orders.open_extra_slot(
                order,
                counter=form.cleaned_data["counter"],
                starts_at=form.starts_at(),
                ends_at=form.ends_at(),
                actor=permissions.actor_for(request.user),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            local = slot.starts_at.astimezone(slot.counter.site.tzinfo)
            messages.success(
                request,
                _("An extra slot was opened on %(when)s; the queue will offer it.")
                % {"when": presentation.local_text(local, slot.counter.site.tzinfo)},
            )
            return redirect("backoffice:court_order", pk=order.pk)
    return _render_order(request, order, form, status=422)


@staff_required
@require_POST
def court_alert_resolve(request, pk: int):
    alert = get_object_or_404(CourtOrderAlert.objects.select_related("order__request__prefecture"), pk=pk)
    if not permissions.can_access_prefecture(request.user, alert.order.request.prefecture):
        raise PermissionDenied
    form = ResolveAlertForm(request.POST)
    if form.is_valid():
        try:
            resolution = form.cleaned_data["resolution"]
            court_orders.resolve_alert(alert, permissions.actor_for(request.user), resolution)
        except DomainError as error:
            messages.error(request, str(error.message))
        else:
            messages.success(request, _("The alert was marked as dealt with."))
    else:
        messages.error(request, _("Say what was done before closing the alert."))
    return redirect("backoffice:court_order", pk=alert.order_id)


@staff_required
@require_POST
def court_case_end(request, pk: int):
    """The court case of an order has ended: from then on its request's retention period runs (R27)."""
    order = _staff_order(request, pk)
    form = CaseEndForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the date the case ended."))
        return redirect("backoffice:court_order", pk=order.pk)
    try:
        record_court_case_end(order, form.cleaned_data["ended_on"], permissions.actor_for(request.user))
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The end of the case is recorded."))
    return redirect("backoffice:court_order", pk=order.pk)
