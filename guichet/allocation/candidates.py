"""The compatibility rule (compatibility.py) for one request against the slots in the database.

The allocation service reads the whole queue at once (service.py); every other path that gives one person one
slot — open mode, staff moving an appointment, a court order's check and its extra slot — goes through here,
so that all of them apply the engine's own rule:

* ``waiting_request`` turns a request into the rule's ``WaitingRequest`` (notice, earliest date, filing
  window, sites, needs, unavailable days);
* ``free_slot`` turns a slot into the rule's ``FreeSlot`` (None when its site or counter is closed that day);
* ``candidate_slots`` does the part the database can do in SQL, then applies ``suits`` to what it reads;
* ``slot_problem`` says, in words a person reads, why one given slot does not suit.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Q
from django.utils.translation import gettext as _

from guichet.appointments import rules
from guichet.appointments.models import Appointment, AppointmentStatus, CancelledBy, Offer, OfferStatus
from guichet.capacity.models import Slot
from guichet.capacity.services import free_slots_query, procedure_ids_by_slot
from guichet.catalog.models import Closure, Counter, Prefecture, Site
from guichet.waitlist.due_dates import window_opens_on
from guichet.waitlist.models import AppointmentRequest, RequestStatus

from .compatibility import FreeSlot, Problem, WaitingRequest, interpreter_to_book, kind_speaks, problem, suits

_EMPTY: frozenset = frozenset()
# Slots read from the database per round while looking for candidates.
_CHUNK = 200


def first_day(earliest_date: datetime.date | None, opens_on: datetime.date | None) -> datetime.date | None:
    """The first local day a slot may be on: the person's earliest date, and a renewal's filing window."""
    days = [day for day in (earliest_date, opens_on) if day is not None]
    return max(days) if days else None


def waiting_request(
    request: AppointmentRequest, now: datetime.datetime, *, with_refused_days: bool = False
) -> WaitingRequest:
    """The request as the rule sees it. ``with_refused_days``: also the days of slots the person declined,
    let lapse or cancelled, which the queue does not offer again (the engine's view)."""
    procedure = request.procedure
    hours = rules.notice_hours(
        procedure.minimum_notice_hours, procedure.postal_notice_hours, request.reachable_only_by_post
    )
    earliest = first_day(request.earliest_date, window_opens_on(procedure, request.permit_expires_on))
    sites = frozenset(request.sites.values_list("pk", flat=True)) if request.pk else _EMPTY
    unavailable = date_set(request.unavailable_dates)
    if with_refused_days and request.pk:
        unavailable |= refused_days([request.pk], now).get(request.pk, _EMPTY)
    return WaitingRequest(
        id=request.pk or 0,
        procedure_id=request.procedure_id,
        due_date=request.due_date,
        received_at=request.received_at,
        site_ids=sites or None,
        not_before=rules.not_before(now, hours, earliest, request.prefecture.tzinfo),
        language=request.interpreter_language or None,
        needs_step_free=request.needs_step_free,
        unavailable_weekdays=weekday_set(request.unavailable_weekdays),
        unavailable_dates=unavailable,
    )


def weekday_set(value: object) -> frozenset[int]:
    """Weekday numbers (0 = Monday) from a stored JSON list; anything else is ignored."""
    if not value or not isinstance(value, list):
        return _EMPTY
    found = set()
    for item in value:
        try:
            day = int(item)
        except (TypeError, ValueError):
            continue
        if 0 <= day <= 6:
            found.add(day)
    return frozenset(found)


def date_set(value: object) -> frozenset[datetime.date]:
    """ISO dates from a stored JSON list; anything else is ignored."""
    if not value or not isinstance(value, list):
        return _EMPTY
    found = set()
    for item in value:
        try:
            found.add(datetime.date.fromisoformat(str(item)))
        except ValueError:
            continue
    return frozenset(found)


def refused_days(
    request_ids: Iterable[int] | None,
    now: datetime.datetime,
    *,
    prefecture=None,
    statuses: tuple[str, ...] = (RequestStatus.WAITING,),
):
    """For each request, the local days of future slots it declined, let lapse or cancelled itself.

    Either for the given requests, or (``request_ids`` None) for every request of ``prefecture`` in one of
    ``statuses`` (waiting: the queue).
    """
    refused: dict[int, set[datetime.date]] = defaultdict(set)
    offers = Offer.objects.filter(
        status__in=(OfferStatus.DECLINED, OfferStatus.LAPSED), slot__starts_at__gt=now
    )
    cancelled = Appointment.objects.filter(
        status=AppointmentStatus.CANCELLED, cancelled_by=CancelledBy.APPLICANT, starts_at__gt=now
    )
    if request_ids is None:
        scope = Q(request__prefecture=prefecture, request__status__in=statuses)
    else:
        scope = Q(request_id__in=list(request_ids))
    offer_rows = list(
        offers.filter(scope).values_list("request_id", "slot__starts_at", "slot__counter__site_id")
    )
    cancelled_rows = list(cancelled.filter(scope).values_list("request_id", "starts_at", "counter__site_id"))
    site_ids = {site_id for rows in (offer_rows, cancelled_rows) for _, _, site_id in rows}
    zones = {pk: site.tzinfo for pk, site in Site.objects.in_bulk(site_ids).items()}
    for rows in (offer_rows, cancelled_rows):
        for request_id, starts_at, site_id in rows:
            refused[request_id].add(starts_at.astimezone(zones[site_id]).date())
    return {pk: frozenset(days) for pk, days in refused.items()}


def closed_days(prefecture: Prefecture, now: datetime.datetime) -> dict[tuple[str, int], set[datetime.date]]:
    """Closed days from today on, by ("site", id) and ("counter", id).

    Slot generation skips closed days; this covers free slots of closures added later.
    """
    today = now.astimezone(prefecture.tzinfo).date()
    closed: dict[tuple[str, int], set[datetime.date]] = defaultdict(set)
    rows = Closure.objects.filter(
        Q(site__prefecture=prefecture) | Q(counter__site__prefecture=prefecture), end_date__gte=today
    ).values_list("site_id", "counter_id", "start_date", "end_date")
    for site_id, counter_id, start, end in rows:
        key = ("site", site_id) if site_id is not None else ("counter", counter_id)
        day = max(start, today)
        while day <= end:
            closed[key].add(day)
            day += datetime.timedelta(days=1)
    return closed


def is_closed(closed: dict[tuple[str, int], set[datetime.date]], site_id: int, counter_id: int, day) -> bool:
    return bool(closed) and (
        day in closed.get(("site", site_id), _EMPTY) or day in closed.get(("counter", counter_id), _EMPTY)
    )


def free_slot(
    slot: Slot, procedure_ids: frozenset[int], closed: dict[tuple[str, int], set[datetime.date]]
) -> FreeSlot | None:
    """The slot as the rule sees it (its counter and site selected), or None when closed that day."""
    site = slot.counter.site
    local_date = slot.starts_at.astimezone(site.tzinfo).date()
    if is_closed(closed, site.pk, slot.counter_id, local_date):
        return None
    return FreeSlot(
        id=slot.pk,
        site_id=site.pk,
        counter_id=slot.counter_id,
        starts_at=slot.starts_at,
        local_date=local_date,
        procedure_ids=procedure_ids,
        languages=frozenset(code for code in (slot.counter.languages or []) if isinstance(code, str)),
        step_free=site.step_free,
    )


def candidate_slots(
    request: AppointmentRequest,
    now: datetime.datetime,
    *,
    before: datetime.datetime | None = None,
    site=None,
    limit: int | None = None,
    with_refused_days: bool = False,
) -> list[Slot]:
    """The free slots that suit the request, earliest first (starting before ``before``, at ``site``)."""
    wanted = waiting_request(request, now, with_refused_days=with_refused_days)
    sites = wanted.site_ids
    if site is not None:
        sites = frozenset({site.pk}) & sites if sites is not None else frozenset({site.pk})
    query = free_slots_query(
        request.prefecture,
        procedure=request.procedure_id,
        sites=sites,
        after=wanted.not_before,
        before=before,
    )
    if request.needs_step_free:
        query = query.filter(counter__site__step_free=True)
    closed = closed_days(request.prefecture, now)
    found: list[Slot] = []
    start = 0
    while limit is None or len(found) < limit:
        chunk = list(query[start : start + _CHUNK])
        if not chunk:
            break
        served = procedure_ids_by_slot(slot.pk for slot in chunk)
        for slot in chunk:
            rule_slot = free_slot(slot, served[slot.pk], closed)
            if rule_slot is not None and suits(wanted, rule_slot):
                slot.interpreter_to_book = interpreter_to_book(wanted, rule_slot)
                found.append(slot)
                if limit is not None and len(found) >= limit:
                    break
        start += _CHUNK
    return found


_PROBLEM_MESSAGES = {
    Problem.PROCEDURE: lambda: _("This slot does not serve this procedure."),
    Problem.SITE: lambda: _("This slot is at a place you did not choose."),
    Problem.STEP_FREE: lambda: _("This slot is at a site without step-free access, which is needed."),
    Problem.TOO_SOON: lambda: _("This slot is too soon: choose a later one."),
    Problem.UNAVAILABLE_DAY: lambda: _("This slot is on a day the person said they cannot come."),
}


def slot_problem(request: AppointmentRequest, slot: Slot, now: datetime.datetime) -> str | None:
    """Why this slot cannot be given to this request, in words a person reads; None when it can."""
    if slot.counter.site.prefecture_id != request.prefecture_id:
        return _("This slot belongs to another prefecture.")
    if slot.starts_at <= now:
        return _("This slot has already started.")
    if not slot.counter.is_active or not slot.counter.site.is_active:
        return _("This counter is not open any more.")
    served = procedure_ids_by_slot([slot.pk])[slot.pk]
    rule_slot = free_slot(slot, served, closed_days(request.prefecture, now))
    if rule_slot is None:
        return _("This site or counter is closed that day.")
    code = problem(waiting_request(request, now), rule_slot)
    return _PROBLEM_MESSAGES[code]() if code else None


def interpreter_for(request: AppointmentRequest, slot: Slot) -> str:
    """The language of the interpreter to book when this slot's counter does not speak the person's."""
    language = request.interpreter_language or None
    return "" if kind_speaks(language, frozenset(slot.counter.languages or ())) else (language or "")


def counter_speaks_for(request: AppointmentRequest) -> bool:
    """Some open counter serving the request's procedure, at a site that suits it, speaks its language."""
    language = request.interpreter_language
    if not language:
        return True
    counters = Counter.objects.filter(
        site__prefecture_id=request.prefecture_id,
        site__is_active=True,
        is_active=True,
        opening_rules__procedures=request.procedure_id,
    )
    sites = list(request.sites.values_list("pk", flat=True)) if request.pk else []
    if sites:
        counters = counters.filter(site__in=sites)
    if request.needs_step_free:
        counters = counters.filter(site__step_free=True)
    # Languages are a JSON list, read in Python: JSON containment differs between SQLite and PostgreSQL.
    return any(language in (languages or ()) for languages in counters.values_list("languages", flat=True))
