"""What happened at the counter: the file registered complete or incomplete, a missed appointment, a refusal.

Each one is one transaction over the appointments service (which locks the request, then the appointment,
and writes the "served", "no_show" or "refused_at_counter" proof), then the visit, the file registration and
its own signed proof. A complete file gives the récépissé its procedure provides (R5, R.431-12); an
incomplete one lists what was missing against the request's own list of documents (the checklist version
in force when it was filed) and puts the request back in the queue with its due date.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guichet import locking
from guichet.allocation.tasks import enqueue_allocation
from guichet.appointments import services as appointments
from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.dossiers import services as dossiers
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import SYSTEM, Actor
from guichet.evidence.services import record_event
from guichet.notifications.services import notify
from guichet.waitlist.models import RequestStatus

from . import interim
from .models import FileRegistration, Visit, VisitStatus
from .services import late_limit


def _finish_visit(appointment: Appointment, now: datetime.datetime) -> None:
    visit = Visit.objects.filter(appointment=appointment).first()
    if visit is not None and visit.status != VisitStatus.DONE:
        visit = locking.visit(visit.pk)
        visit.status = VisitStatus.DONE
        visit.finished_at = now
        visit.save(update_fields=["status", "finished_at"])


def _require_checked_in(appointment: Appointment) -> None:
    if FileRegistration.objects.filter(appointment=appointment).exists():
        raise Conflict("already_registered", _("The file of this appointment is already recorded."))
    if appointment.status != AppointmentStatus.CHECKED_IN:
        raise Conflict(
            "not_checked_in",
            _(
                "Check the person in (identity checked) before recording their file:"
                " the appointment is %(status)s."
            )
            % {"status": appointment.get_status_display()},
        )


def missing_documents_choices(appointment: Appointment) -> list[str]:
    """The documents the person was asked to bring: their request's list, in the version they were given."""
    return appointment.request.documents


def not_accepted_in_dossier(appointment: Appointment, dossier: dossiers.Readiness) -> list[str]:
    """The documents of the person's list that their dossier does not hold accepted: what the counter
    ticks as missing unless the person brings it now."""
    accepted = set(dossier.accepted)
    return [label for label in missing_documents_choices(appointment) if label not in accepted]


def register_file(
    appointment: Appointment,
    actor: Actor,
    *,
    missing: list[str] | None = None,
    user=None,
    now: datetime.datetime | None = None,
) -> FileRegistration:
    """Record the file received at the counter: complete (nothing missing) or incomplete.

    Complete: the request is served; the récépissé is issued when the procedure gives one. Incomplete:
    the request waits again for a new appointment, with its due date; the person is told what to bring.
    """
    now = now or timezone.now()
    missing = list(dict.fromkeys(item.strip() for item in (missing or []) if item and item.strip()))
    asked = missing_documents_choices(appointment)
    unknown = [item for item in missing if item not in asked]
    if unknown:
        message = _("Only documents of the person's list can be missing: %(items)s.") % {
            "items": ", ".join(unknown)
        }
        raise InvalidInput("unknown_document", message, {"missing": [message]})
    complete = not missing
    with transaction.atomic():
        request = locking.request(appointment.request_id)
        appointment = locking.appointment(appointment.pk)
        _require_checked_in(appointment)
        appointments.record_outcome(
            appointment,
            AppointmentStatus.SERVED,
            actor,
            note="complete" if complete else "incomplete",
            now=now,
            then=RequestStatus.SERVED if complete else RequestStatus.WAITING,
        )
        request.refresh_from_db()
        try:
            with transaction.atomic():
                registration = FileRegistration.objects.create(
                    request=request,
                    appointment=appointment,
                    complete=complete,
                    checklist_version=request.checklist_version,
                    missing_documents=missing,
                    registered_at=now,
                    registered_by=user,
                )
        except IntegrityError:
            raise Conflict(
                "already_registered", _("A complete file is already recorded for this request.")
            ) from None
        _finish_visit(appointment, now)
        version = request.checklist_version.number if request.checklist_version_id else None
        details = {"appointment": appointment.pk, "documents_version": version}
        if complete:
            record_event(request, "file_registered", actor, details=details, at=now)
            interim.issue_on_registration(request, actor, user=user, now=now)
        else:
            record_event(
                request, "file_incomplete", actor, details={**details, "missing_documents": missing}, at=now
            )
            notify(request, "file_incomplete", {"missing_documents": missing})
            enqueue_allocation(request.prefecture_id)
    return registration


def record_no_show(
    appointment: Appointment, actor: Actor, *, now: datetime.datetime | None = None
) -> Appointment:
    """The person did not come (or came too late): the existing rule pauses the request, place kept."""
    now = now or timezone.now()
    with transaction.atomic():
        if Visit.objects.filter(appointment=appointment).exists():
            raise Conflict("checked_in", _("This person was checked in: record their file instead."))
        return appointments.record_outcome(appointment, AppointmentStatus.NO_SHOW, actor, now=now)


def record_due_no_shows(*, now: datetime.datetime | None = None, batch: int = 200) -> int:
    """Appointments still confirmed LATE_ARRIVAL_MINUTES after their start: nobody came (or came too late
    to be received). Each is recorded as missed by the system, one transaction each."""
    now = now or timezone.now()
    due = list(
        Appointment.objects.filter(status=AppointmentStatus.CONFIRMED, starts_at__lt=now - late_limit())
        .order_by("starts_at", "id")
        .values_list("pk", flat=True)[:batch]
    )
    recorded = 0
    for pk in due:
        try:
            record_no_show(Appointment.objects.get(pk=pk), SYSTEM, now=now)
        except Conflict:
            continue  # checked in or changed meanwhile: not a no-show
        recorded += 1
    return recorded


def refuse_file(
    appointment: Appointment, actor: Actor, *, reason: str, now: datetime.datetime | None = None
) -> Appointment:
    """The file cannot be received (not competent, wrong procedure…): the request is closed with why."""
    now = now or timezone.now()
    with transaction.atomic():
        refused = appointments.refuse_appointment(
            appointment, actor, reason=reason, then=RequestStatus.CLOSED, now=now
        )
        _finish_visit(appointment, now)
    return refused
