"""The late-risk alert: managers are told, before the due date, which waiting requests no slot will serve in
time, with the need that no counter meets, so that they open a slot, book an interpreter or call the person.

A request is at risk when it is waiting, its due date is within ALERT_DAYS (or past), and the allocation run
on the queue and the free slots as they are gives it no slot on or before its due date. For each, the alert
names what the published slots lack: a counter speaking the person's language (the slot will then need an
interpreter booked, compatibility.py), a site with step-free access, or simply any slot of the procedure at
the places and days the person accepts.

One email per prefecture per local day at most (like the capacity alert); `manage.py alert_late_risk` sends
it and the clock runs it hourly, so the list is sent on the first run of each day that finds one.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from guichet.accounts.alerts import mail_managers_once_a_day
from guichet.catalog.models import Prefecture, Procedure
from guichet.waitlist.models import AppointmentRequest

from . import engine
from .service import queue_and_slots

# How long before its due date a request without a slot in time is reported: time enough to open a slot,
# book an interpreter and give the person the procedure's notice.
ALERT_DAYS = 14


@dataclass(frozen=True)
class AtRisk:
    """A waiting request that no slot serves by its due date."""

    request_id: int
    reference: str
    procedure: str
    due_date: datetime.date
    offered_on: datetime.date | None  # the slot the queue gives it, after its due date; None: no slot
    interpreter: str  # its language when no published slot of the procedure has a counter speaking it
    step_free_missing: bool  # it needs step-free access and no published slot at its places has it


def at_risk(prefecture: Prefecture, now: datetime.datetime | None = None) -> list[AtRisk]:
    """The prefecture's waiting requests due within ALERT_DAYS that no slot serves by their due date."""
    now = now or timezone.now()
    today = now.astimezone(prefecture.tzinfo).date()
    horizon = today + datetime.timedelta(days=ALERT_DAYS)
    requests, slots = queue_and_slots(prefecture, now)
    if not any(request.due_date <= horizon for request in requests):
        return []
    given = {a.request_id: a.slot_id for a in engine.allocate(requests, slots)}
    slot_dates = {slot.id: slot.local_date for slot in slots}
    languages: dict[int, set[str]] = defaultdict(set)
    step_free: set[tuple[int, int | None]] = set()  # (procedure, site); site None: at some site
    for slot in slots:
        for procedure_id in slot.procedure_ids:
            languages[procedure_id] |= slot.languages
            if slot.step_free:
                step_free.update(((procedure_id, slot.site_id), (procedure_id, None)))
    late = []
    for request in requests:
        if request.due_date > horizon:
            continue
        offered_on = slot_dates.get(given.get(request.id, 0))
        if offered_on is not None and offered_on <= request.due_date:
            continue
        language = request.language or ""
        late.append((request, offered_on, "" if language in languages[request.procedure_id] else language))
    references = dict(
        AppointmentRequest.objects.filter(pk__in=[request.id for request, _, _ in late]).values_list(
            "pk", "reference"
        )
    )
    names = dict(Procedure.objects.filter(prefecture=prefecture).values_list("pk", "name"))
    found = [
        AtRisk(
            request_id=request.id,
            reference=references.get(request.id, str(request.id)),
            procedure=names.get(request.procedure_id, ""),
            due_date=request.due_date,
            offered_on=offered_on,
            interpreter=interpreter,
            step_free_missing=request.needs_step_free
            and not any(
                (request.procedure_id, site_id) in step_free for site_id in (request.site_ids or (None,))
            ),
        )
        for request, offered_on, interpreter in late
    ]
    return sorted(found, key=lambda item: (item.due_date, item.reference))


def _line(item: AtRisk) -> str:
    if item.offered_on is None:
        text = _("%(reference)s (%(procedure)s), due %(due)s: no published slot suits it") % {
            "reference": item.reference,
            "procedure": item.procedure,
            "due": item.due_date.isoformat(),
        }
    else:
        text = _("%(reference)s (%(procedure)s), due %(due)s: first slot %(slot)s, after the due date") % {
            "reference": item.reference,
            "procedure": item.procedure,
            "due": item.due_date.isoformat(),
            "slot": item.offered_on.isoformat(),
        }
    needs = []
    if item.interpreter:
        needs.append(
            _("no counter speaks “%(language)s”: book an interpreter") % {"language": item.interpreter}
        )
    if item.step_free_missing:
        needs.append(_("needs step-free access, which none of its places with slots has"))
    return f"- {text}" + "".join(f"; {need}" for need in needs)


def alert_managers(prefecture: Prefecture, now: datetime.datetime | None = None) -> list[AtRisk]:
    """Email the prefecture's managers the requests at risk of being late (at most once per local day);
    returns them."""
    now = now or timezone.now()
    found = at_risk(prefecture, now)

    def compose() -> tuple[str, str]:
        subject = _("Guichet: %(count)s requests at risk of being late in %(prefecture)s") % {
            "count": len(found),
            "prefecture": prefecture.name,
        }
        body = _(
            "No slot serves these requests by their due date (within %(days)s days, or already past):\n\n"
            "%(lines)s\n\nOpen slots for their procedure (capacity planning page), book the interpreters "
            "named, or offer a court-ordered extra slot; each request's file in the back office shows its "
            "needs."
        ) % {"days": ALERT_DAYS, "lines": "\n".join(_line(item) for item in found)}
        return subject, body

    if found:
        day = now.astimezone(prefecture.tzinfo).date()
        mail_managers_once_a_day(prefecture, "late-risk-alert", day, compose)
    return found
