"""The objects of one prefecture that a staff page or API route names by id: anything else is not found.

Pages and the staff API both go through these, after the role in the prefecture is checked, so that an id
of another prefecture answers 404 (never 403: ids cannot be probed).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from guichet.accounts import permissions
from guichet.appointments.models import Appointment
from guichet.catalog.models import Counter, Prefecture, Site
from guichet.errors import NotFound

from .models import Visit


def actor(user):
    return permissions.actor_for(user)


def _one(found: QuerySet, pk, message: str):
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = -1
    row = found.filter(pk=pk).first()
    if row is None:
        raise NotFound("not_found", message)
    return row


def site_of(prefecture: Prefecture, site_id) -> Site:
    return _one(Site.objects.filter(prefecture=prefecture, is_active=True), site_id, _("Unknown site."))


def counter_of(prefecture: Prefecture, counter_id) -> Counter:
    found = Counter.objects.select_related("site").filter(site__prefecture=prefecture, is_active=True)
    return _one(found, counter_id, _("Unknown counter."))


def appointment_of(prefecture: Prefecture, appointment_id) -> Appointment:
    found = Appointment.objects.select_related(
        "request__procedure", "request__prefecture", "counter__site", "slot"
    ).filter(request__prefecture=prefecture)
    return _one(found, appointment_id, _("No such appointment."))


def visit_of(prefecture: Prefecture, visit_id) -> Visit:
    found = Visit.objects.select_related(
        "appointment__request__procedure", "appointment__counter", "site", "counter"
    ).filter(site__prefecture=prefecture)
    return _one(found, visit_id, _("No such ticket."))
