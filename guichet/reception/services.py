"""Reception on the day: today's appointments, finding a person's appointment, check-in with its ticket,
and the refusal when the identity does not match (R19).

Check-in locks the request, then the appointment (guichet.locking, docs/concurrency.md), checks the state
once it holds them, gives the next ticket number of the site's day and writes the visit, the appointment's
new state, the signed proof and the audit entry in one transaction. A second check-in of the same person
waits for the first and is told the ticket already given; two people checked in at the same moment get two
numbers: the site's ticket sequence is a locked row (guichet.locking.ticket_number), and the unique index
on site, day and ticket stands behind it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from guichet import locking
from guichet.appointments import services as appointments
from guichet.appointments.models import ACTIVE_APPOINTMENT_STATUSES, Appointment, AppointmentStatus
from guichet.capacity.services import free_slots_query
from guichet.catalog.models import Procedure, Site
from guichet.dossiers import services as dossiers
from guichet.dossiers.models import DossierState
from guichet.errors import Conflict, InvalidInput, NotFound
from guichet.evidence.audit import Actor
from guichet.waitlist.countries import COUNTRIES
from guichet.waitlist.identity import name_tokens
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from .models import Visit
from .scan import reference_from_scan


class AlreadyCheckedIn(Conflict):
    """A second check-in of the same appointment: the answer carries the visit the first one made."""

    def __init__(self, visit: Visit):
        super().__init__(
            "already_checked_in",
            _("This person is already checked in: ticket %(ticket)s, at %(time)s.")
            % {"ticket": visit.ticket_label, "time": _clock(visit.checked_in_at, visit.site)},
        )
        self.visit = visit


def _clock(moment: datetime.datetime, site: Site) -> str:
    return formats.time_format(moment.astimezone(site.tzinfo), "H:i")


def late_limit() -> datetime.timedelta:
    """How late a person may still be received (the LATE_ARRIVAL_MINUTES setting)."""
    return datetime.timedelta(minutes=settings.LATE_ARRIVAL_MINUTES)


def local_day(site: Site, now: datetime.datetime | None = None) -> datetime.date:
    return (now or timezone.now()).astimezone(site.tzinfo).date()


def _day_bounds(site: Site, day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = datetime.datetime.combine(day, datetime.time(), site.tzinfo)
    return start.astimezone(datetime.UTC), (start + datetime.timedelta(days=1)).astimezone(datetime.UTC)


# --- what reception sees --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TodayRow:
    appointment: Appointment
    visit: Visit | None
    late: bool
    dossier_state: str = ""

    @property
    def dossier_label(self) -> str:
        return str(DossierState(self.dossier_state).label) if self.dossier_state else ""


def todays_appointments(
    site: Site, *, counter=None, day: datetime.date | None = None, now: datetime.datetime | None = None
) -> list[TodayRow]:
    """The day's appointments at a site (or one counter), in time order, with their visit if checked in."""
    now = now or timezone.now()
    day = day or local_day(site, now)
    start, end = _day_bounds(site, day)
    found = (
        Appointment.objects.filter(counter__site=site, starts_at__gte=start, starts_at__lt=end)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("request__procedure", "counter", "visit")
        .order_by("starts_at", "id")
    )
    if counter is not None:
        found = found.filter(counter=counter)
    limit = late_limit()
    found = list(found)
    states = dossiers.states_of(appointment.request_id for appointment in found)
    rows = []
    for appointment in found:
        visit = getattr(appointment, "visit", None)
        late = appointment.status == AppointmentStatus.CONFIRMED and now > appointment.starts_at + limit
        rows.append(
            TodayRow(
                appointment=appointment, visit=visit, late=late, dossier_state=states[appointment.request_id]
            )
        )
    return rows


def _latest_appointment(request: AppointmentRequest) -> Appointment | None:
    return (
        Appointment.objects.select_related("counter__site", "request__prefecture", "request__procedure")
        .filter(request=request)
        .order_by("-confirmed_at", "-id")
        .first()
    )


def find_by_scan(site: Site, text: str, *, now: datetime.datetime | None = None) -> Appointment:
    """The appointment today at this site of the convocation scanned (or reference typed).

    Each refusal says what to do: a forged code, a convocation of another prefecture or another site, an
    appointment cancelled, on another day, already over.
    """
    reference = reference_from_scan(text)
    request = (
        AppointmentRequest.objects.select_related("prefecture", "procedure")
        .filter(reference=reference)
        .first()
    )
    if request is None:
        raise NotFound(
            "unknown_reference", _("No request has this reference: the convocation may be forged.")
        )
    if request.prefecture_id != site.prefecture_id:
        raise Conflict(
            "other_prefecture",
            _("This convocation was issued by another prefecture (%(code)s): the person must go there.")
            % {"code": request.prefecture.code},
        )
    appointment = _latest_appointment(request)
    return _check_today(appointment, site, now or timezone.now())


def _check_today(appointment: Appointment | None, site: Site, now: datetime.datetime) -> Appointment:
    if appointment is None:
        raise Conflict("no_appointment", _("This request has no appointment."))
    when = appointment.starts_at.astimezone(appointment.counter.site.tzinfo)
    said = {
        "date": formats.date_format(when, "DATE_FORMAT"),
        "time": formats.time_format(when, "H:i"),
        "site": appointment.counter.site.name,
    }
    if appointment.status == AppointmentStatus.CANCELLED:
        raise Conflict(
            "appointment_cancelled",
            _("This appointment (%(date)s at %(time)s) was cancelled: it cannot be checked in.") % said,
        )
    if appointment.counter.site_id != site.pk:
        raise Conflict("other_site", _("This appointment is at %(site)s, not here.") % said)
    if when.date() != local_day(site, now):
        raise Conflict(
            "appointment_not_today", _("This appointment is on %(date)s at %(time)s, not today.") % said
        )
    if appointment.status not in ACTIVE_APPOINTMENT_STATUSES:
        raise Conflict(
            "appointment_over",
            _("This appointment is already over: %(status)s.") % {"status": appointment.get_status_display()},
        )
    return appointment


def find_by_identity(
    site: Site, names: str, birth_date: datetime.date | None, *, now: datetime.datetime | None = None
) -> list[Appointment]:
    """Today's active appointments at the site of a person named so, born that day (case and accents
    folded, names in any order)."""
    wanted = name_tokens(names or "")
    if not wanted or birth_date is None:
        message = _("Give the person's name and birth date.")
        raise InvalidInput("identity_required", message, {"names": [message]})
    start, end = _day_bounds(site, local_day(site, now))
    candidates = Appointment.objects.filter(
        counter__site=site,
        starts_at__gte=start,
        starts_at__lt=end,
        status__in=ACTIVE_APPOINTMENT_STATUSES,
        request__birth_date=birth_date,
    ).select_related("request__procedure", "counter__site", "request__prefecture")
    found = []
    for appointment in candidates.order_by("starts_at", "id"):
        tokens = name_tokens(appointment.request.family_names, appointment.request.given_names)
        if all(any(token.startswith(part) for token in tokens) for part in wanted):
            found.append(appointment)
    return found


def identity_of(request: AppointmentRequest) -> list[tuple[str, str]]:
    """What the agent compares with the identity document shown (R19)."""
    return [
        (_("Family names"), request.family_names),
        (_("Given names"), request.given_names),
        (_("Birth date"), formats.date_format(request.birth_date, "DATE_FORMAT")),
        (_("Nationality"), str(COUNTRIES.get(request.nationality, request.nationality))),
        (_("Foreign national number"), request.foreign_national_number or "—"),
        (_("Passport number"), request.passport_number or "—"),
    ]


# --- check-in and refusal -----------------------------------------------------------------------------------


def check_in(
    appointment: Appointment, actor: Actor, *, user=None, now: datetime.datetime | None = None
) -> Visit:
    """The identity was checked against the document shown: the person is checked in and gets a ticket.

    Refused (Conflict) when the appointment is not active, not today, or the person is later than
    LATE_ARRIVAL_MINUTES; AlreadyCheckedIn carries the ticket given the first time.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locking.request(appointment.request_id)
        locked = locking.appointment(appointment.pk)
        site = locked.slot.counter.site
        existing = Visit.objects.filter(appointment=locked).select_related("site").first()
        if existing is not None:
            raise AlreadyCheckedIn(existing)
        _check_today(_with_site(locked), site, now)
        if now > locked.starts_at + late_limit():
            raise Conflict(
                "too_late",
                _(
                    "The appointment was at %(time)s: more than %(minutes)d minutes late, the person can no"
                    " longer be received today. Record the missed appointment; the person keeps their"
                    " place and can reactivate the request."
                )
                % {"time": _clock(locked.starts_at, site), "minutes": settings.LATE_ARRIVAL_MINUTES},
            )
        day = local_day(site, now)
        visit = _create_visit(locked, site, day, user, now)
        details = {"ticket": visit.ticket_label, "identity_checked": True}
        if visit.dossier_complete:
            details["dossier_complete"] = True
        appointments.check_in(locked, actor, now=now, details=details)
    return visit


def _with_site(appointment: Appointment) -> Appointment:
    appointment.counter = appointment.slot.counter
    return appointment


def planned_minutes(procedure: Procedure, dossier_complete: bool) -> int:
    """The time the visit is planned for at the counter: registration only when the dossier was found
    complete before the visit (and the procedure says how long that takes), else the whole duration."""
    if dossier_complete and procedure.registration_minutes:
        return min(procedure.registration_minutes, procedure.duration_minutes)
    return procedure.duration_minutes


def _create_visit(appointment: Appointment, site: Site, day: datetime.date, user, now) -> Visit:
    # The request is locked: the dossier cannot change between this reading and the check-in.
    complete = dossiers.readiness(appointment.request).complete
    return Visit.objects.create(
        appointment=appointment,
        site=site,
        day=day,
        ticket=locking.ticket_number(site.pk, day),
        checked_in_at=now,
        checked_in_by=user,
        dossier_complete=complete,
        planned_minutes=planned_minutes(appointment.request.procedure, complete),
    )


def walk_in(site: Site, text: str, actor: Actor, *, user=None, now: datetime.datetime | None = None) -> Visit:
    """A person without an appointment, for an open-mode procedure (card collection, for instance): the
    earliest free slot of today at this site is booked for their request and they are checked in, if the
    queue is empty for that procedure (the open-mode rule). The identity is checked as for anyone."""
    now = now or timezone.now()
    reference = reference_from_scan(text)
    request = (
        AppointmentRequest.objects.select_related("prefecture", "procedure")
        .filter(reference=reference)
        .first()
    )
    if request is None or request.prefecture_id != site.prefecture_id:
        raise NotFound("unknown_reference", _("No request of this prefecture has this reference."))
    if request.procedure.mode != Procedure.Mode.OPEN:
        raise Conflict(
            "not_open_mode",
            _("%(procedure)s is served by the queue: without an appointment, the person cannot be received.")
            % {"procedure": request.procedure.name},
        )
    start, end = _day_bounds(site, local_day(site, now))
    slot = free_slots_query(
        site.prefecture_id,
        procedure=request.procedure,
        sites=[site.pk],
        after=max(start, now - late_limit()),
        before=end,
    ).first()
    if slot is None:
        raise Conflict("no_slot_today", _("No free slot for this procedure is left here today."))
    with transaction.atomic():
        appointment = appointments.book_walk_in(request, slot, actor, now=now)
        return check_in(appointment, actor, user=user, now=now)


def refuse_identity(
    appointment: Appointment, actor: Actor, *, reason: str, now: datetime.datetime | None = None
) -> Appointment:
    """The person at the counter is not the person the appointment is bound to (R19).

    The appointment is refused with the reason, signed and audited; the request is paused, so that the
    person it belongs to can reactivate it and keep their place.
    """
    now = now or timezone.now()
    if Visit.objects.filter(appointment=appointment).exists():
        raise Conflict(
            "already_checked_in", _("This person was checked in after their identity was checked.")
        )
    return appointments.refuse_appointment(
        appointment,
        actor,
        reason=reason,
        then=RequestStatus.PAUSED,
        audit_data={"identity_mismatch": True},
        now=now,
    )
