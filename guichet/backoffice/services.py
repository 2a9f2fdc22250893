"""Back office services: search, the queue as the engine serves it, assisted intake, staff actions.

Pages and the staff API call these; each one checks the user's rights on the object it touches, so that no
route can forget it. Every change is audited as Actor("staff", username) with the reason given.
"""

import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guichet.accounts import permissions
from guichet.accounts.models import AccessKind, Role
from guichet.accounts.services import record_access
from guichet.allocation import candidates
from guichet.appointments import affected
from guichet.appointments import services as appointments
from guichet.appointments.models import Appointment
from guichet.capacity.models import Slot
from guichet.catalog.models import Prefecture, Procedure, Site
from guichet.errors import Forbidden, InvalidInput, NotFound
from guichet.evidence.services import record_event
from guichet.waitlist import references
from guichet.waitlist import services as waitlist
from guichet.waitlist.identity import foreign_number_key, name_tokens, normalise_foreign_number
from guichet.waitlist.models import ACTIVE_STATUSES, AppointmentRequest, Channel, RequestStatus
from guichet.waitlist.services import file_request
from guichet.waitlist.validation import clean_text

ASSISTED_CHANNELS = (Channel.COUNTER, Channel.PHONE, Channel.POST)
# A contact dated more than this in the past needs a written reason (a letter received days ago, a call
# typed in after the rush).
BACKDATE_REASON_AFTER = datetime.timedelta(hours=1)
# Clocks of agents' machines differ a little; a time this far in the future is taken as now.
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
SEARCH_LIMIT = 50


# Characters a staff member's reason has at least: a word or two, not "x".
MIN_STAFF_REASON = 5


def _require_staff(user, request: AppointmentRequest, role: str = Role.AGENT) -> None:
    if not permissions.has_role(user, request.prefecture_id, role):
        raise Forbidden("forbidden", _("You cannot act on the requests of this prefecture."))


def _reason(reason: str, field: str = "reason") -> str:
    """Every staff act on a request says why: a few words at least (they go in the request's history)."""
    return clean_text(reason, field=field, min_length=MIN_STAFF_REASON)


# --- search ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    reference: str = ""
    foreign_number: str = ""
    birth_date: datetime.date | None = None
    names: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.reference or self.foreign_number or self.birth_date or self.names)


_DATE_PATTERNS = (
    (re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
)


def _parse_date(token: str) -> datetime.date | None:
    for pattern, order in _DATE_PATTERNS:
        match = pattern.match(token)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
            try:
                return datetime.date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                return None
    return None


def parse_query(text: str) -> Query:
    """Read one search box: a reference, a foreign national number, a birth date, and names, in any order."""

    text = (text or "").strip()[:200]
    if not text:
        return Query()
    try:
        return Query(reference=references.parse_reference(text))
    except (references.InvalidReference, ValueError):
        pass
    digits = normalise_foreign_number(text)
    if len(digits) == 10 and not re.search(r"[^\d\s.\-]", text):
        return Query(foreign_number=digits)
    birth_date, names = None, []
    for token in text.split():
        day = _parse_date(token)
        if day is not None and birth_date is None:
            birth_date = day
        else:
            names.append(token)
    return Query(birth_date=birth_date, names=tuple(names))


def search_requests(user, text: str, *, channel: str, limit: int = SEARCH_LIMIT) -> list[AppointmentRequest]:
    """Requests the user may see that match the search box; names are compared once normalised (case,
    accents, order), so "celine dupont" finds "DUPONT Céline". The search is logged (R27)."""
    query = parse_query(text)
    if query.empty:
        return []
    record_access(user, AccessKind.SEARCHED, channel=channel, detail=text)
    return _search(user, query, limit)


def _search(user, query: Query, limit: int) -> list[AppointmentRequest]:
    base = permissions.visible_requests(user).select_related("procedure", "prefecture")
    if query.reference:
        return list(base.filter(reference=query.reference)[:limit])
    if query.foreign_number:
        return list(base.filter(foreign_number_key=foreign_number_key(query.foreign_number))[:limit])
    candidates = base
    if query.birth_date:
        candidates = candidates.filter(birth_date=query.birth_date)
    if not query.names:
        return list(candidates.order_by("due_date", "received_at", "id")[:limit])
    wanted = name_tokens(*query.names)
    if not query.birth_date:
        # Without a birth date the names are matched in Python (accents cannot be folded in SQL portably):
        # limit the scan to the active requests and those that changed in the last year.
        recent = timezone.now() - datetime.timedelta(days=365)
        candidates = candidates.filter(Q(status__in=ACTIVE_STATUSES) | Q(updated_at__gte=recent))
    found_ids = []
    rows = candidates.order_by("due_date", "received_at", "id").values_list(
        "id", "family_names", "given_names"
    )
    for pk, family, given in rows.iterator(chunk_size=2000):
        tokens = name_tokens(family, given)
        if all(any(token.startswith(part) for token in tokens) for part in wanted):
            found_ids.append(pk)
            if len(found_ids) >= limit:
                break
    by_id = {r.pk: r for r in base.filter(pk__in=found_ids)}
    return [by_id[pk] for pk in found_ids if pk in by_id]


def open_request(user, reference: str, *, channel: str) -> AppointmentRequest:
    """The request's file for reading, if the user may see it (else NotFound); the reading is logged (R27)."""
    found = get_visible_request(user, reference)
    record_access(user, AccessKind.OPENED, channel=channel, request=found)
    return found


def get_visible_request(user, reference: str) -> AppointmentRequest:
    """The request with this reference if the user may see it; else NotFound (never 403: no probing)."""

    try:
        reference = references.parse_reference(reference)
    except (references.InvalidReference, ValueError):
        raise NotFound("not_found", _("No request has this reference.")) from None
    found = (
        permissions.visible_requests(user)
        .select_related("procedure", "prefecture")
        .filter(reference=reference)
        .first()
    )
    if found is None:
        raise NotFound("not_found", _("No request has this reference."))
    return found


# --- the queue -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    position: int
    request: AppointmentRequest
    late: bool
    days_left: int
    substitution: bool

    @property
    def days_late(self) -> int:
        return max(0, -self.days_left)


def list_queue(
    user,
    prefecture: Prefecture,
    *,
    channel: str,
    procedure: Procedure | None = None,
    site: Site | None = None,
) -> list[QueueRow]:
    """The queue as staff read it (pages and API); the reading is logged (R27)."""
    what = " ".join(part for part in (procedure.code if procedure else "", site.name if site else "") if part)
    record_access(user, AccessKind.LISTED_QUEUE, channel=channel, prefecture=prefecture, detail=what)
    return queue(prefecture, procedure=procedure, site=site)


def queue(
    prefecture: Prefecture,
    *,
    procedure: Procedure | None = None,
    site: Site | None = None,
    statuses=(RequestStatus.WAITING,),
    limit: int = 500,
    today: datetime.date | None = None,
) -> list[QueueRow]:
    """Requests in the order the engine serves them (due date, received time, id), late ones flagged.

    A site filter keeps requests that accept that site (or any site).
    """
    today = today or timezone.localtime(timezone.now(), prefecture.tzinfo).date()
    found = AppointmentRequest.objects.filter(prefecture=prefecture, status__in=statuses).select_related(
        "procedure"
    )
    if procedure is not None:
        found = found.filter(procedure=procedure)
    if site is not None:
        found = found.filter(Q(sites=site) | Q(sites__isnull=True)).distinct()
    found = found.order_by("due_date", "received_at", "id")[:limit]
    requests = list(found)
    marked = set(
        AppointmentRequest.objects.filter(
            pk__in=[r.pk for r in requests], impossibilities__isnull=False
        ).values_list("pk", flat=True)
    )
    return [
        QueueRow(
            position=index,
            request=r,
            late=r.due_date < today,
            days_left=(r.due_date - today).days,
            substitution=r.pk in marked,
        )
        for index, r in enumerate(requests, start=1)
    ]


# --- assisted intake -------------------------------------------------------------------------------------


def check_received_at(
    received_at: datetime.datetime, *, reason: str = "", now: datetime.datetime | None = None
) -> list[ValidationError]:
    """Problems with the time of a contact given by an agent: not in the future, at most
    ASSISTED_INTAKE_MAX_BACKDATE_DAYS back, and a reason when it is more than an hour ago."""
    now = now or timezone.now()
    errors = []
    days = settings.ASSISTED_INTAKE_MAX_BACKDATE_DAYS
    if received_at > now + FUTURE_TOLERANCE:
        errors.append(ValidationError(_("The time of the contact cannot be in the future."), code="future"))
    elif received_at < now - datetime.timedelta(days=days):
        errors.append(
            ValidationError(
                _("The contact cannot be dated more than %(days)d days back.") % {"days": days},
                code="too_old",
            )
        )
    elif received_at < now - BACKDATE_REASON_AFTER and len((reason or "").strip()) < 5:
        errors.append(ValidationError(_("Say why the contact is dated in the past."), code="backdate_reason"))
    return errors


def register_for_person(
    prefecture: Prefecture,
    data,
    *,
    channel: str,
    user,
    received_at: datetime.datetime | None = None,
    backdate_reason: str = "",
):
    """Register a request for a person who came to the counter, phoned or wrote, dated at that contact.

    `data` is the IntakeData from guichet.waitlist.validation.validate_intake. Returns the IntakeResult of
    file_request. The time of the contact is audited next to the time it was typed in.
    """

    if not permissions.has_role(user, prefecture, Role.AGENT):
        raise Forbidden("forbidden", _("You cannot register requests for this prefecture."))
    if channel not in ASSISTED_CHANNELS:
        raise InvalidInput(
            "invalid_channel",
            _("Choose counter, phone or post."),
            fields={"channel": [_("Choose counter, phone or post.")]},
        )
    entered_at = timezone.now()
    if received_at is not None:
        problems = check_received_at(received_at, reason=backdate_reason, now=entered_at)
        if problems:
            fields = {}
            for problem in problems:
                field = "backdate_reason" if problem.code == "backdate_reason" else "received_at"
                fields.setdefault(field, []).extend(problem.messages)
            raise InvalidInput("invalid_received_at", problems[0].messages[0], fields=fields)
        received_at = min(received_at, entered_at)
    actor = permissions.actor_for(user)
    with transaction.atomic():
        result = file_request(
            data,
            prefecture=prefecture,
            channel=channel,
            actor=actor,
            received_at=received_at,
            created_by=user,
        )
        if result.created:
            record_event(
                result.request,
                "assisted_intake",
                actor,
                audit_data={
                    "channel": channel,
                    "received_at": (received_at or entered_at).isoformat(),
                    "entered_at": entered_at.isoformat(),
                    "backdated_seconds": int((entered_at - (received_at or entered_at)).total_seconds()),
                    "backdate_reason": (backdate_reason or "").strip(),
                },
                proof=False,
            )
    return result


# --- staff actions on a request --------------------------------------------------------------------------


def _audit_reason(request: AppointmentRequest, action: str, actor, reason: str) -> None:
    """Why a member of staff made a change: an audit entry next to the one the change itself wrote."""
    record_event(request, "staff_reason", actor, audit_data={"action": action, "reason": reason}, proof=False)


def update_contact(
    request: AppointmentRequest,
    *,
    user,
    email: str,
    phone: str,
    postal_address: str,
    language: str,
    reason: str,
) -> AppointmentRequest:
    """Change how the person is reached (validated as at intake); audited with the reason."""

    _require_staff(user, request)
    reason = _reason(reason)
    actor = permissions.actor_for(user)
    with transaction.atomic():
        updated = waitlist.update_contact(
            request, email=email, phone=phone, postal_address=postal_address, language=language, actor=actor
        )
        _audit_reason(updated, "details_changed", actor, reason)
    return updated


def set_vulnerability(
    request: AppointmentRequest, *, user, vulnerability: str | None, reason: str
) -> AppointmentRequest:
    """Record (or remove, with None) a vulnerability; it shortens (or restores) the due date. Audited with
    the reason."""

    _require_staff(user, request)
    reason = _reason(reason)
    actor = permissions.actor_for(user)
    with transaction.atomic():
        updated = waitlist.set_vulnerability(request, vulnerability or None, actor)
        _audit_reason(
            updated, "vulnerability_recorded" if vulnerability else "vulnerability_removed", actor, reason
        )
    return updated


def close(request: AppointmentRequest, *, user, reason: str):
    _require_staff(user, request)
    return waitlist.close_request(request, permissions.actor_for(user), _reason(reason))


def _appointment_for(user, appointment_id: int):
    appointment = (
        Appointment.objects.select_related("request", "request__prefecture").filter(pk=appointment_id).first()
    )
    if appointment is None or not permissions.has_role(user, appointment.request.prefecture_id, Role.AGENT):
        raise NotFound("not_found", _("No such appointment."))
    return appointment


def cancel_appointment(appointment_id: int, *, user, reason: str):
    """Cancel by the prefecture: the request goes back to the head of the queue with its due date."""

    appointment = _appointment_for(user, appointment_id)
    return appointments.cancel_appointment(
        appointment, permissions.actor_for(user), by="prefecture", reason=_reason(reason)
    )


def move_appointment(appointment_id: int, slot_id: int, *, user, reason: str):
    appointment = _appointment_for(user, appointment_id)
    reason = _reason(reason)
    slot = (
        Slot.objects.select_related("counter__site")
        .filter(pk=slot_id, counter__site__prefecture_id=appointment.request.prefecture_id)
        .first()
    )
    if slot is None:
        raise InvalidInput(
            "invalid_slot", _("Choose one of the free times shown."), fields={"slot": [_("Unknown time.")]}
        )
    return appointments.move_appointment(appointment, slot, permissions.actor_for(user), reason=reason)


def free_slots_for(appointment, *, limit: int = 40) -> list:
    """Free slots an appointment may be moved to, soonest first: those that suit the request under the
    allocation's own rule (sites, step-free access, notice, days the person cannot come). A slot whose
    counter does not speak the person's language carries ``interpreter_to_book``."""
    return candidates.candidate_slots(appointment.request, timezone.now(), limit=limit)


# --- appointments a catalogue change affects ---------------------------------------------------------------


def _require_manager(user, prefecture: Prefecture) -> None:
    if not permissions.has_role(user, prefecture.pk, Role.MANAGER):
        raise Forbidden(
            "forbidden", _("Only the prefecture's managers settle what a catalogue change affects.")
        )


def affected_appointments(user, prefecture: Prefecture) -> list[affected.Affected]:
    """The appointments and offers on slots the prefecture's catalogue no longer opens (managers)."""
    _require_manager(user, prefecture)
    return affected.affected(prefecture)


def settle_affected(
    user,
    prefecture: Prefecture,
    *,
    reason: str,
    appointment_id: int | None = None,
    offer_id: int | None = None,
) -> affected.Settlement:
    """Move one affected appointment (or put it back in the queue), or withdraw one affected offer."""
    _require_manager(user, prefecture)
    if appointment_id is None and offer_id is None:
        message = _("Choose an appointment or offer to move.")
        raise InvalidInput("invalid", message, {"appointment_id": [message]})
    reason = _reason(reason)
    found = [
        one
        for one in affected.affected(prefecture)
        if (appointment_id is not None and one.appointment_id == appointment_id)
        or (offer_id is not None and one.offer_id == offer_id)
    ]
    if not found:
        raise NotFound(
            "not_affected",
            _("This appointment or offer is not, or no longer, on a slot the catalogue no longer opens."),
        )
    settlement = affected.Settlement()
    affected.settle(found[0], permissions.actor_for(user), reason=reason, settlement=settlement)
    return settlement


def settle_all_affected(user, prefecture: Prefecture, *, reason: str) -> affected.Settlement:
    """« Move all affected »: the same service for each affected appointment and offer, in turn."""
    _require_manager(user, prefecture)
    return affected.settle_all(prefecture, permissions.actor_for(user), reason=_reason(reason))
