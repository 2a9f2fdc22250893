"""Court orders (injonctions): record them, serve them first, watch their deadlines, alert managers.

A référé judge orders the prefect to convoke the applicant and/or to hold the appointment by a date,
often with a penalty per day of delay (astreinte). Recording the order makes its deadline the request's
due date (so the engine serves it first) and checks at once that a compatible free slot exists before the
deadline; when none does, managers are alerted (banner and email) and can open an extra slot.

Which date bounds the slot: the deadline to hold the appointment when the order sets one, else the deadline
to convoke (the convocation must then go out by that date, so the slot must be offerable by then).
"""

from __future__ import annotations

import datetime
import decimal
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guichet import locking
from guichet.accounts.permissions import actor_for
from guichet.allocation import candidates
from guichet.allocation.tasks import enqueue_allocation
from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.capacity.models import Slot
from guichet.capacity.services import open_extra_slot as capacity_open_extra_slot
from guichet.catalog.models import Counter
from guichet.errors import Conflict, InvalidInput
from guichet.notifications.services import notify
from guichet.waitlist.models import ACTIVE_STATUSES, AppointmentRequest
from guichet.waitlist.services import recompute_due_date

from . import audit, permissions, services
from .audit import Actor, Change
from .models import CourtOrder, CourtOrderAlert, ProofEvent

logger = logging.getLogger(__name__)

# An order whose deadline is this close, with no appointment yet, is at risk.
AT_RISK_DAYS = 3
MAX_PENALTY = decimal.Decimal("999999.99")


class OrderStatus:
    MET = "met"
    AT_RISK = "at_risk"
    MISSED = "missed"
    PENDING = "pending"

    LABELS = {
        MET: gettext_lazy("met"),
        AT_RISK: gettext_lazy("at risk"),
        MISSED: gettext_lazy("missed"),
        PENDING: gettext_lazy("in progress"),
    }


def _as_actor(actor) -> Actor:
    if isinstance(actor, Actor):
        return actor
    if actor is not None and hasattr(actor, "get_username"):
        return actor_for(actor)
    raise TypeError("actor must be an audit Actor or a user")


def local_today(request: AppointmentRequest, now: datetime.datetime | None = None) -> datetime.date:
    return (now or timezone.now()).astimezone(request.prefecture.tzinfo).date()


# --- validation ---------------------------------------------------------------------------------------


def _date_field(value, name: str, label, errors: dict, *, required: bool) -> datetime.date | None:
    if value in (None, ""):
        if required:
            errors.setdefault(name, []).append(_("Give %(field)s.") % {"field": label})
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except ValueError:
        errors.setdefault(name, []).append(
            _("%(field)s is not a date (expected YYYY-MM-DD).") % {"field": label}
        )
        return None


def validate_order(
    *,
    tribunal,
    case_number,
    ordered_on,
    notified_on,
    convoke_by,
    appointment_by,
    penalty_per_day,
    today: datetime.date,
) -> dict:
    """The cleaned values, or InvalidInput saying field by field what is wrong."""
    errors: dict[str, list[str]] = {}
    tribunal = " ".join(str(tribunal or "").split())
    case_number = " ".join(str(case_number or "").split())
    if not tribunal:
        errors["tribunal"] = [_("Give the tribunal that made the order.")]
    elif len(tribunal) > 120:
        errors["tribunal"] = [_("The tribunal's name is too long (at most 120 characters).")]
    if not case_number:
        errors["case_number"] = [_("Give the case number (numéro de requête).")]
    elif len(case_number) > 40:
        errors["case_number"] = [_("The case number is too long (at most 40 characters).")]
    ordered = _date_field(ordered_on, "ordered_on", _("the date of the order"), errors, required=True)
    notified = _date_field(notified_on, "notified_on", _("the date it was notified"), errors, required=True)
    convoke = _date_field(convoke_by, "convoke_by", _("the deadline to convoke"), errors, required=False)
    appointment = _date_field(
        appointment_by, "appointment_by", _("the deadline to hold the appointment"), errors, required=False
    )
    if ordered and ordered > today:
        errors.setdefault("ordered_on", []).append(_("The date of the order cannot be in the future."))
    if notified and notified > today:
        errors.setdefault("notified_on", []).append(_("The date notified cannot be in the future."))
    if ordered and notified and notified < ordered:
        errors.setdefault("notified_on", []).append(
            _("The order cannot have been notified (%(notified)s) before it was made (%(ordered)s).")
            % {"notified": notified.isoformat(), "ordered": ordered.isoformat()}
        )
    if not convoke and not appointment and "convoke_by" not in errors and "appointment_by" not in errors:
        errors["__all__"] = [_("Give at least one deadline: to convoke, or to hold the appointment.")]
    for name, deadline in (("convoke_by", convoke), ("appointment_by", appointment)):
        if deadline and ordered and deadline < ordered:
            errors.setdefault(name, []).append(
                _("A deadline cannot be before the date of the order (%(ordered)s).")
                % {"ordered": ordered.isoformat()}
            )
    if convoke and appointment and appointment < convoke:
        errors.setdefault("appointment_by", []).append(
            _("The appointment cannot be due before the deadline to convoke (%(convoke)s).")
            % {"convoke": convoke.isoformat()}
        )
    try:
        penalty = decimal.Decimal(str(penalty_per_day if penalty_per_day not in (None, "") else "0"))
        if not penalty.is_finite():
            raise decimal.InvalidOperation
    except (decimal.InvalidOperation, ValueError):
        errors.setdefault("penalty_per_day", []).append(_("The penalty is not an amount in euros."))
        penalty = None
    if penalty is not None:
        if penalty < 0:
            errors.setdefault("penalty_per_day", []).append(_("The penalty cannot be negative."))
        elif penalty > MAX_PENALTY:
            errors.setdefault("penalty_per_day", []).append(_("The penalty is too large."))
        elif penalty != penalty.quantize(decimal.Decimal("0.01")):
            errors.setdefault("penalty_per_day", []).append(_("Give the penalty in euros and cents."))
    if errors:
        raise InvalidInput("invalid_court_order", _("The court order cannot be recorded as given."), errors)
    return {
        "tribunal": tribunal,
        "case_number": case_number,
        "ordered_on": ordered,
        "notified_on": notified,
        "convoke_by": convoke,
        "appointment_by": appointment,
        "penalty_per_day": penalty.quantize(decimal.Decimal("0.01")),
    }


# --- recording ----------------------------------------------------------------------------------------


def slot_deadline(order: CourtOrder) -> datetime.date:
    """The last day a slot may start on and still satisfy the order (see the module docstring)."""
    return order.appointment_by or order.convoke_by


def record_court_order(
    request: AppointmentRequest,
    *,
    tribunal: str,
    case_number: str,
    ordered_on: datetime.date,
    notified_on: datetime.date,
    convoke_by: datetime.date | None,
    appointment_by: datetime.date | None,
    penalty_per_day: decimal.Decimal | int | str = 0,
    actor,
    now: datetime.datetime | None = None,
) -> CourtOrder:
    """Record an order on a request: validated, audited with a proof, the due date brought forward, the
    allocation asked to run, and managers alerted at once when no compatible slot exists in time."""

    actor = _as_actor(actor)
    now = now or timezone.now()
    today = local_today(request, now)
    cleaned = validate_order(
        tribunal=tribunal,
        case_number=case_number,
        ordered_on=ordered_on,
        notified_on=notified_on,
        convoke_by=convoke_by,
        appointment_by=appointment_by,
        penalty_per_day=penalty_per_day,
        today=today,
    )
    with transaction.atomic():
        request = locking.request(request.pk)
        if CourtOrder.objects.filter(request=request, case_number=cleaned["case_number"]).exists():
            raise Conflict(
                "court_order_exists",
                _("Case %(case)s is already recorded for this request.") % {"case": cleaned["case_number"]},
                {"case_number": [_("This case number is already recorded for this request.")]},
            )
        order = CourtOrder.objects.create(request=request, recorded_by=str(actor), **cleaned)
        services.record_event(
            request,
            ProofEvent.COURT_ORDER,
            actor,
            details={**cleaned, "court_order": order.pk},
        )
        note = _("Court order %(case)s (%(tribunal)s)") % {
            "case": order.case_number,
            "tribunal": order.tribunal,
        }
        if request.status in ACTIVE_STATUSES:
            recompute_due_date(request, actor, note=note)
        notify(request, "court_order", {"court_order_id": order.pk})
        if request.status in ACTIVE_STATUSES:
            check_order(order, now=now)
            enqueue_allocation(request.prefecture_id)
    return order


# --- state of an order --------------------------------------------------------------------------------


def _appointments(order: CourtOrder):
    return (
        Appointment.objects.filter(request_id=order.request_id)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("counter__site")
        .order_by("starts_at", "id")
    )


@dataclass
class OrderState:
    order: CourtOrder
    status: str
    deadline: datetime.date
    appointment: object | None
    days_late: int
    penalty_accrued: decimal.Decimal
    has_compatible_slot: bool | None

    @property
    def label(self) -> str:
        return str(OrderStatus.LABELS[self.status])


def order_state(
    order: CourtOrder, now: datetime.datetime | None = None, *, check_slots: bool = True
) -> OrderState:
    """Met (appointment given in time), missed (a deadline passed: penalty = days late × per day), at risk
    (no appointment yet and the deadline is within AT_RISK_DAYS, or no compatible slot before it), or in
    progress."""
    now = now or timezone.now()
    request = order.request
    tz = request.prefecture.tzinfo
    today = now.astimezone(tz).date()
    appointment = _appointments(order).first()
    convoked_on = appointment.confirmed_at.astimezone(tz).date() if appointment else None
    held_on = appointment.starts_at.astimezone(tz).date() if appointment else None
    met = appointment is not None and (
        (order.convoke_by is None or convoked_on <= order.convoke_by)
        and (order.appointment_by is None or held_on <= order.appointment_by)
    )
    days_late = 0
    for deadline, done_on in ((order.convoke_by, convoked_on), (order.appointment_by, held_on)):
        if deadline is None:
            continue
        until = min(done_on, today) if done_on else today
        days_late = max(days_late, (until - deadline).days)
    penalty = (order.penalty_per_day * days_late).quantize(decimal.Decimal("0.01"))
    has_slot = None
    if met:
        status = OrderStatus.MET
    elif days_late > 0:
        status = OrderStatus.MISSED
    elif appointment is not None:
        # Convoked in time but for a day after the deadline to hold it: it will be missed unless moved.
        status = OrderStatus.AT_RISK
    else:
        if check_slots and request.status in ACTIVE_STATUSES:
            has_slot = first_compatible_slot(request, slot_deadline(order), now) is not None
        near = (order.deadline - today).days <= AT_RISK_DAYS
        status = OrderStatus.AT_RISK if near or has_slot is False else OrderStatus.PENDING
    return OrderState(
        order=order,
        status=status,
        deadline=order.deadline,
        appointment=appointment,
        days_late=max(days_late, 0),
        penalty_accrued=penalty if days_late > 0 else decimal.Decimal("0.00"),
        has_compatible_slot=has_slot,
    )


# --- free compatible slots ------------------------------------------------------------------------------


def first_compatible_slot(
    request: AppointmentRequest, until: datetime.date, now: datetime.datetime
) -> Slot | None:
    """The earliest free slot the engine could give this request by `until` (a local date): the
    allocation's own rule, the days the person refused included (guichet.allocation.candidates)."""
    tz = request.prefecture.tzinfo
    end = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time(0), tz)
    found = candidates.candidate_slots(request, now, before=end, limit=1, with_refused_days=True)
    return found[0] if found else None


# --- alerts ---------------------------------------------------------------------------------------------


def raise_alert(order: CourtOrder, kind: str, now: datetime.datetime | None = None) -> CourtOrderAlert | None:
    """Open an alert (at most one open alert of a kind per order), audit it and email managers on commit."""
    now = now or timezone.now()
    with transaction.atomic():
        if CourtOrderAlert.objects.filter(order=order, kind=kind, resolved_at__isnull=True).exists():
            return None
        alert = CourtOrderAlert.objects.create(order=order, kind=kind, created_at=now)
        request = order.request
        services.record_change(
            services.chain_for(request),
            Change(
                "court_order.alert",
                "court_order",
                str(order.pk),
                audit.SYSTEM,
                request_id=request.pk,
                data={"kind": kind, "alert": alert.pk, "deadline": order.deadline.isoformat()},
            ),
        )
        transaction.on_commit(lambda: email_alert(alert.pk))
    return alert


def email_alert(alert_id: int) -> None:
    """Tell the prefecture's contact address and its staff, in French (the staff's working language)."""
    alert = CourtOrderAlert.objects.select_related("order__request__prefecture").filter(pk=alert_id).first()
    if alert is None:
        return
    order = alert.order
    request = order.request
    recipients = permissions.alert_recipients(request.prefecture)
    if not recipients:
        logger.warning(
            "court order alert %s: nobody to email for prefecture %s", alert.pk, request.prefecture.code
        )
        return
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Court order %(case)s: %(kind)s") % {
            "case": order.case_number,
            "kind": alert.get_kind_display(),
        }
        body = "\n".join(
            [
                _("Request %(reference)s, %(procedure)s.")
                % {"reference": request.reference, "procedure": request.procedure.name},
                _("Order of %(tribunal)s, case %(case)s, made on %(ordered)s.")
                % {
                    "tribunal": order.tribunal,
                    "case": order.case_number,
                    "ordered": order.ordered_on.isoformat(),
                },
                _("Deadline: %(deadline)s. Penalty per day of delay: %(penalty)s EUR.")
                % {"deadline": order.deadline.isoformat(), "penalty": order.penalty_per_day},
                "",
                str(alert.get_kind_display()) + ".",
                _("Open an extra slot or move an appointment so that the order is met:"),
                settings.SITE_URL + reverse("backoffice:court_order", kwargs={"pk": order.pk}),
            ]
        )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:
        # The banner stays on every staff page until the alert is resolved; the email is a second channel.
        logger.exception("could not email court order alert %s", alert.pk)


def resolve_alert(
    alert: CourtOrderAlert, actor, resolution: str, now: datetime.datetime | None = None
) -> None:
    actor = _as_actor(actor)
    resolution = " ".join((resolution or "").split())
    if not resolution:
        raise InvalidInput(
            "invalid", _("Say how the alert was dealt with."), {"resolution": [_("Give a resolution.")]}
        )
    now = now or timezone.now()
    with transaction.atomic():
        updated = CourtOrderAlert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(
            resolved_at=now, resolved_by=str(actor), resolution=resolution[:1000]
        )
        if not updated:
            raise Conflict("already_resolved", _("This alert was already resolved."))
        request = alert.order.request
        services.record_change(
            services.chain_for(request),
            Change(
                "court_order.alert_resolved",
                "court_order",
                str(alert.order_id),
                actor,
                request_id=request.pk,
                data={"alert": alert.pk, "resolution": resolution[:1000]},
            ),
        )


def check_order(order: CourtOrder, now: datetime.datetime | None = None) -> OrderState:
    """Raise the alerts an order's state calls for; close them when the order is met."""
    now = now or timezone.now()
    state = order_state(order, now)
    if state.status == OrderStatus.MET:
        for alert in order.alerts.filter(resolved_at__isnull=True):
            resolve_alert(alert, audit.SYSTEM, _("An appointment was given in time."), now=now)
        return state
    if order.request.status not in ACTIVE_STATUSES and state.appointment is None:
        return state
    if state.status == OrderStatus.MISSED:
        raise_alert(order, CourtOrderAlert.Kind.MISSED, now)
    elif state.has_compatible_slot is False:
        raise_alert(order, CourtOrderAlert.Kind.NO_SLOT, now)
    elif state.status == OrderStatus.AT_RISK:
        raise_alert(order, CourtOrderAlert.Kind.DEADLINE_NEAR, now)
    return state


def open_orders() -> QuerySet[CourtOrder]:
    """Orders still worth watching: those with an open alert, or whose deadline is not long past."""
    horizon = timezone.now().date() - datetime.timedelta(days=90)
    return (
        CourtOrder.objects.filter(
            Q(alerts__resolved_at__isnull=True, alerts__isnull=False)
            | Q(convoke_by__gte=horizon)
            | Q(appointment_by__gte=horizon)
        )
        .distinct()
        .select_related("request__prefecture", "request__procedure")
    )


def check_court_orders(now: datetime.datetime | None = None) -> int:
    """Hourly: raise or close the alerts of every open order. Returns the number of alerts raised."""
    now = now or timezone.now()
    before = CourtOrderAlert.objects.count()
    for order in open_orders().order_by("pk"):
        check_order(order, now)
    return CourtOrderAlert.objects.count() - before


def court_order_alerts(user) -> list[CourtOrderAlert]:
    """The open alerts this staff member should see on every staff page (the banner)."""
    if not permissions.is_staff_user(user):
        return []
    alerts = CourtOrderAlert.objects.filter(resolved_at__isnull=True).select_related(
        "order__request__prefecture", "order__request__procedure"
    )
    visible = permissions.visible_prefecture_ids(user)
    if visible is not None:
        alerts = alerts.filter(order__request__prefecture_id__in=visible)
    return [
        alert
        for alert in alerts.order_by("created_at", "id")[:50]
        if permissions.can_access_prefecture(user, alert.order.request.prefecture)
    ]


# --- extra slots ----------------------------------------------------------------------------------------


def open_extra_slot(
    order: CourtOrder,
    *,
    counter: Counter,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime | None = None,
    actor,
    reason: str = "",
    now: datetime.datetime | None = None,
) -> Slot:
    """Open one slot at a counter for the order's procedure (through guichet.capacity.services when it
    exists, which checks times, overlaps and durations), then let the allocation give it: the
    court-ordered request has the earliest due date."""
    actor = _as_actor(actor)
    now = now or timezone.now()
    request = order.request
    procedure = request.procedure
    if counter.site.prefecture_id != request.prefecture_id:
        raise InvalidInput(
            "invalid_extra_slot",
            _("The extra slot cannot be opened as given."),
            {"counter": [_("This counter belongs to another prefecture.")]},
        )
    if ends_at is None and starts_at is not None:
        ends_at = starts_at + datetime.timedelta(minutes=procedure.duration_minutes)
    reason = " ".join((reason or "").split()) or _("Court order %(case)s (%(tribunal)s)") % {
        "case": order.case_number,
        "tribunal": order.tribunal,
    }
    with transaction.atomic():
        slot = capacity_open_extra_slot(counter, starts_at, ends_at, [procedure], actor, reason, now=now)
        _require_suitable(request, slot, now)
        services.record_change(
            services.chain_for(request),
            Change(
                "court_order.extra_slot",
                "court_order",
                str(order.pk),
                actor,
                request_id=request.pk,
                data={"slot": slot.pk, "starts_at": slot.starts_at, "reason": reason},
            ),
        )
        enqueue_allocation(request.prefecture_id)
    return slot


def _require_suitable(request: AppointmentRequest, slot: Slot, now: datetime.datetime) -> None:
    """An extra slot that does not suit the ordered request would go to someone else: refuse it."""
    problem = candidates.slot_problem(request, slot, now)
    if problem:
        raise InvalidInput(
            "invalid_extra_slot", _("The extra slot cannot be opened as given."), {"starts_at": [problem]}
        )
