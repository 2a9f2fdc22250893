"""Calling people from the waiting room: call next, recall, hold, send to another counter.

"Call next" takes, among the people checked in at the site and waiting, those whose appointment is at this
counter first, then the others, each in appointment order (then ticket). It locks the visit it takes with
SKIP LOCKED, so two agents pressing it at the same moment get two different people. Calling a given ticket
(recall, send to another counter) locks that visit and waits: of two agents calling the same person, the
first wins and the second is told who has them.

The display reads the called visits; every call bumps a version in the cache after commit so that the
display's event stream knows when to send again (guichet/reception/display.py).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from guichet import locking
from guichet.catalog.models import Counter
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import Actor
from guichet.evidence.services import record_event
from guichet.notifications.services import notify

from .models import Visit, VisitStatus
from .services import local_day


def display_version_key(site_id: int) -> str:
    return f"reception:display:{site_id}"


def _bump_display(site_id: int) -> None:
    transaction.on_commit(lambda: cache.set(display_version_key(site_id), timezone.now().timestamp(), None))


def _audit(visit: Visit, action: str, actor: Actor, now: datetime.datetime, **data) -> None:
    record_event(
        visit.appointment.request,
        action,
        actor,
        audit_data={"ticket": visit.ticket_label, "visit": visit.pk, **data},
        at=now,
        proof=False,
    )


def waiting_visits(site_id: int, day: datetime.date, counter: Counter | None = None):
    """Waiting visits of a site's day in the order "call next" takes them."""
    found = Visit.objects.filter(site_id=site_id, day=day, status=VisitStatus.WAITING)
    if counter is not None:
        found = found.annotate(
            elsewhere=Case(
                When(appointment__counter=counter, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        ).order_by("elsewhere", "appointment__starts_at", "ticket")
    else:
        found = found.order_by("appointment__starts_at", "ticket")
    return found


def _mark_called(visit: Visit, counter: Counter, now: datetime.datetime) -> None:
    visit.status = VisitStatus.CALLED
    visit.counter = counter
    visit.called_at = now
    visit.first_called_at = visit.first_called_at or now
    visit.call_count += 1
    visit.save(update_fields=["status", "counter", "called_at", "first_called_at", "call_count"])


def _check_counter(counter: Counter, visit: Visit) -> None:
    if counter.site_id != visit.site_id:
        message = _("This counter is at another site.")
        raise InvalidInput("counter_elsewhere", message, {"counter": [message]})


def call_next(counter: Counter, actor: Actor, *, now: datetime.datetime | None = None) -> Visit | None:
    """Call the next person waiting to this counter; None when nobody waits."""
    now = now or timezone.now()
    day = local_day(counter.site, now)
    with transaction.atomic():
        visit = locking.next_visit(waiting_visits(counter.site_id, day, counter))
        if visit is None:
            return None
        visit = Visit.objects.select_related("appointment__request__prefecture", "site").get(pk=visit.pk)
        _mark_called(visit, counter, now)
        _audit(visit, "called", actor, now, counter=counter.name)
        _bump_display(visit.site_id)
        _notify_turn_coming(counter.site_id, day, now)
    return visit


def call(visit: Visit, counter: Counter, actor: Actor, *, now: datetime.datetime | None = None) -> Visit:
    """Call this ticket to this counter: a first call, a recall, or a person sent to another counter.

    Refused when another counter has the person (they were called there and not sent on) or when the
    visit is over.
    """
    now = now or timezone.now()
    with transaction.atomic():
        visit = locking.visit(visit.pk)
        _check_counter(counter, visit)
        if visit.status == VisitStatus.DONE:
            raise Conflict(
                "visit_over", _("Ticket %(ticket)s has already been seen.") % {"ticket": visit.ticket_label}
            )
        if visit.status == VisitStatus.CALLED and visit.counter_id != counter.pk:
            raise Conflict(
                "called_elsewhere",
                _("Ticket %(ticket)s has just been called to %(counter)s.")
                % {"ticket": visit.ticket_label, "counter": visit.counter.name},
            )
        action = "recalled" if visit.status == VisitStatus.CALLED else "called"
        _mark_called(visit, counter, now)
        _audit(visit, action, actor, now, counter=counter.name)
        _bump_display(visit.site_id)
    return visit


def send_to(visit: Visit, from_counter: Counter, to_counter: Counter, actor: Actor, *, now=None) -> Visit:
    """The agent at `from_counter` sends the person on to `to_counter` (another language, a specialist)."""
    now = now or timezone.now()
    with transaction.atomic():
        visit = locking.visit(visit.pk)
        _check_counter(to_counter, visit)
        if visit.status != VisitStatus.CALLED or visit.counter_id != from_counter.pk:
            raise Conflict(
                "not_at_this_counter",
                _("Ticket %(ticket)s is not at your counter.") % {"ticket": visit.ticket_label},
            )
        if to_counter.pk == from_counter.pk:
            message = _("Choose another counter.")
            raise InvalidInput("same_counter", message, {"counter": [message]})
        _mark_called(visit, to_counter, now)
        _audit(
            visit, "sent_to_counter", actor, now, counter=to_counter.name, previous_counter=from_counter.name
        )
        _bump_display(visit.site_id)
    return visit


def hold(visit: Visit, counter: Counter, actor: Actor, *, now=None) -> Visit:
    """Put aside (the person went to make a copy): not called by "call next" until resumed."""
    now = now or timezone.now()
    with transaction.atomic():
        visit = locking.visit(visit.pk)
        if visit.status not in (VisitStatus.WAITING, VisitStatus.CALLED):
            raise Conflict(
                "visit_not_waiting",
                _("Ticket %(ticket)s cannot be put on hold now.") % {"ticket": visit.ticket_label},
            )
        if visit.status == VisitStatus.CALLED and visit.counter_id != counter.pk:
            raise Conflict(
                "not_at_this_counter",
                _("Ticket %(ticket)s is not at your counter.") % {"ticket": visit.ticket_label},
            )
        visit.status = VisitStatus.ON_HOLD
        visit.save(update_fields=["status"])
        _audit(visit, "put_on_hold", actor, now, counter=counter.name)
        _bump_display(visit.site_id)
    return visit


def resume(visit: Visit, actor: Actor, *, now=None) -> Visit:
    """Back among those waiting, in their appointment order (they keep their turn)."""
    now = now or timezone.now()
    with transaction.atomic():
        visit = locking.visit(visit.pk)
        if visit.status != VisitStatus.ON_HOLD:
            raise Conflict(
                "visit_not_on_hold", _("Ticket %(ticket)s is not on hold.") % {"ticket": visit.ticket_label}
            )
        visit.status = VisitStatus.WAITING
        visit.save(update_fields=["status"])
        _audit(visit, "resumed", actor, now)
    return visit


def _notify_turn_coming(site_id: int, day: datetime.date, now: datetime.datetime) -> None:
    """ "Your turn is coming" to the person TURN_NOTICE_AHEAD places from the front, once (when set)."""
    ahead = settings.TURN_NOTICE_AHEAD
    if ahead <= 0:
        return
    for visit in waiting_visits(site_id, day).select_related("appointment__request")[:ahead]:
        if visit.turn_notified_at is None:
            Visit.objects.filter(pk=visit.pk, turn_notified_at__isnull=True).update(turn_notified_at=now)
            notify(visit.appointment.request, "turn_coming", {"ticket": visit.ticket_label})
