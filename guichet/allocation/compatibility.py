"""Which free slot suits which request: the one rule every path applies (DESIGN.md, "The allocation rule").

A free slot (créneau) suits a waiting request (demande de rendez-vous) when

* the counter serves the request's procedure at that time (a closed site or counter has no free slot:
  the loaders leave those slots out);
* it is at a site the person accepts (none chosen: any site of the prefecture);
* the site has step-free access when the person needs it;
* it starts at or after the request's ``not_before``: now + the procedure's minimum notice (longer for
  people reachable only by post), the person's earliest date, and for an early renewal the day its filing
  window opens (CESEDA R.431-5: the receipt tells the person the file is taken from that day);
* it is not on a weekday or a date the person said they cannot come.

Language is a preference, not a condition, so that a need no counter meets never starves a request: a
counter that speaks the person's language is preferred while it has a slot by the request's due date;
otherwise any slot that suits is given with an interpreter booked for it (phone interpretation), recorded on
the offer and the appointment so that staff book it (``interpreter_to_book``).

The engine (engine.py) applies the rule to a million requests through pools of slots built with
``kind_suits`` and the day test ``day_suits``; the single-request paths (open mode, staff moves, court
orders) apply ``suits`` to candidate slots read by ``guichet.allocation.candidates``. Pure: stdlib only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

__all__ = [
    "FreeSlot",
    "Problem",
    "WaitingRequest",
    "day_suits",
    "interpreter_to_book",
    "kind_speaks",
    "kind_suits",
    "problem",
    "speaks",
    "suits",
]


@dataclass(frozen=True, slots=True)
class WaitingRequest:
    """A request in the queue (demande de rendez-vous, state ``waiting``), as the rule needs it."""

    id: int
    procedure_id: int
    due_date: datetime.date
    received_at: datetime.datetime  # aware UTC
    site_ids: frozenset[int] | None  # None: any site of the prefecture
    # Aware UTC: the latest of now + the procedure's minimum notice, the applicant's earliest date and the
    # opening of a renewal's filing window, each at local midnight (guichet.appointments.rules.not_before).
    not_before: datetime.datetime
    language: str | None  # interpreter language needed (ISO 639-1); None: French is fine
    needs_step_free: bool
    unavailable_weekdays: frozenset[int]  # 0 = Monday .. 6 = Sunday, in the site's local time
    unavailable_dates: frozenset[datetime.date]  # local dates


@dataclass(frozen=True, slots=True)
class FreeSlot:
    """A free slot (créneau) of one counter, as the rule needs it."""

    id: int
    site_id: int
    counter_id: int
    starts_at: datetime.datetime  # aware UTC
    local_date: datetime.date  # date in the site's timezone
    procedure_ids: frozenset[int]  # procedures the counter serves at that time
    languages: frozenset[str]  # languages the counter serves beyond French
    step_free: bool  # the site has step-free access


def kind_suits(
    procedure_id: int,
    needs_step_free: bool,
    slot_procedure_ids: frozenset[int],
    slot_step_free: bool,
) -> bool:
    """The part of the rule that depends only on the kind of request and the kind of slot (engine pools)."""
    return procedure_id in slot_procedure_ids and _access_suits(needs_step_free, slot_step_free)


def _access_suits(needs_step_free: bool, slot_step_free: bool) -> bool:
    return slot_step_free or not needs_step_free


def day_suits(request: WaitingRequest, local_date: datetime.date) -> bool:
    """The person can come on that local date."""
    return (
        local_date.weekday() not in request.unavailable_weekdays
        and local_date not in request.unavailable_dates
    )


class Problem:
    """Why a slot does not suit a request: the codes ``problem`` returns."""

    PROCEDURE = "procedure"
    SITE = "site"
    STEP_FREE = "step_free"
    TOO_SOON = "too_soon"
    UNAVAILABLE_DAY = "unavailable_day"


def problem(request: WaitingRequest, slot: FreeSlot) -> str | None:
    """The first condition of the rule that the slot fails (a ``Problem`` code), or None when it suits."""
    if request.procedure_id not in slot.procedure_ids:
        return Problem.PROCEDURE
    if request.site_ids is not None and slot.site_id not in request.site_ids:
        return Problem.SITE
    if not _access_suits(request.needs_step_free, slot.step_free):
        return Problem.STEP_FREE
    if slot.starts_at < request.not_before:
        return Problem.TOO_SOON
    if not day_suits(request, slot.local_date):
        return Problem.UNAVAILABLE_DAY
    return None


def suits(request: WaitingRequest, slot: FreeSlot) -> bool:
    """The slot may be given to the request (an interpreter booked if the counter lacks the language)."""
    return problem(request, slot) is None


def kind_speaks(language: str | None, slot_languages: frozenset[str]) -> bool:
    """A counter with these languages speaks the person's (French is spoken everywhere)."""
    return language is None or language in slot_languages


def speaks(request: WaitingRequest, slot: FreeSlot) -> bool:
    return kind_speaks(request.language, slot.languages)


def interpreter_to_book(request: WaitingRequest, slot: FreeSlot) -> str:
    """The language of the interpreter to book for this slot, or "" when the counter speaks it."""
    return "" if speaks(request, slot) else (request.language or "")
