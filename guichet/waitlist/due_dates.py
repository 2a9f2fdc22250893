"""The due date of a request, and the filing window of a renewal. Pure functions: no database, no clock.

Due date (DESIGN.md, "The due date and the allocation rule"): the earliest of
- the received date + the procedure's target wait (the shorter vulnerable wait when a vulnerability is
  recorded);
- for a renewal, the current permit's expiry minus the procedure's safety margin, never before the received
  date (renewals are presumed urgent, CE 9 June 2022 n° 453391);
- the deadline of any court order on the request.

Filing window (CESEDA R.431-5): a renewal is filed between `renewal_window_opens_days` and
`renewal_window_closes_days` before the permit expires (120 to 60 days for titles filed online, within the
two months before expiry otherwise). Before the window the request is still accepted and the person is told
when it opens; after it the person is warned that a late fee may apply. Guichet never refuses a request for
its timing.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .models import DueReason

# When a procedure sets no vulnerable wait, a recorded vulnerability still halves the target wait: the design
# says the wait is shortened, and a vulnerability that changed nothing would be a promise not kept.
DEFAULT_VULNERABLE_FACTOR = 0.5


class DueDateSettings(Protocol):
    """What the rule reads from a procedure (a `catalog.Procedure` fits)."""

    target_wait_days: int
    vulnerable_target_wait_days: int | None
    is_renewal: bool
    renewal_safety_margin_days: int


class FilingWindowSettings(Protocol):
    is_renewal: bool
    renewal_window_opens_days: int
    renewal_window_closes_days: int


# When two rules give the same date, the reason shown is the one that binds the prefecture most.
_PRIORITY = {
    DueReason.COURT_ORDER: 0,
    DueReason.PERMIT_EXPIRY: 1,
    DueReason.VULNERABILITY: 2,
    DueReason.TARGET_WAIT: 3,
}


def target_wait_days(procedure: DueDateSettings, vulnerable: bool) -> tuple[int, DueReason]:
    if not vulnerable:
        return procedure.target_wait_days, DueReason.TARGET_WAIT
    days = procedure.vulnerable_target_wait_days
    if days is None:
        days = max(1, math.ceil(procedure.target_wait_days * DEFAULT_VULNERABLE_FACTOR))
    if days >= procedure.target_wait_days:
        return procedure.target_wait_days, DueReason.TARGET_WAIT
    return days, DueReason.VULNERABILITY


def compute_due_date(
    received_on: datetime.date,
    procedure: DueDateSettings,
    permit_expires_on: datetime.date | None = None,
    vulnerable: bool = False,
    court_deadlines: Iterable[datetime.date] = (),
) -> tuple[datetime.date, DueReason]:
    """The due date of a request received on `received_on` (local date of the prefecture), and why."""
    days, reason = target_wait_days(procedure, vulnerable)
    candidates: list[tuple[datetime.date, DueReason]] = [
        (received_on + datetime.timedelta(days=days), reason)
    ]
    if procedure.is_renewal and permit_expires_on is not None:
        before_expiry = permit_expires_on - datetime.timedelta(days=procedure.renewal_safety_margin_days)
        candidates.append((max(before_expiry, received_on), DueReason.PERMIT_EXPIRY))
    for deadline in court_deadlines:
        if deadline is not None:
            candidates.append((deadline, DueReason.COURT_ORDER))
    return min(candidates, key=lambda candidate: (candidate[0], _PRIORITY[candidate[1]]))


class WindowState:
    EARLY = "early"
    OPEN = "open"
    LATE = "late"


@dataclass(frozen=True)
class FilingWindow:
    """When a renewal should be filed, and where `today` falls."""

    opens_on: datetime.date
    closes_on: datetime.date
    state: str  # WindowState: early | open | late
    expires_on: datetime.date

    @property
    def is_early(self) -> bool:
        return self.state == WindowState.EARLY

    @property
    def is_late(self) -> bool:
        return self.state == WindowState.LATE

    def as_dict(self) -> dict[str, str]:
        return {
            "opens_on": self.opens_on.isoformat(),
            "closes_on": self.closes_on.isoformat(),
            "expires_on": self.expires_on.isoformat(),
            "state": self.state,
        }


def window_opens_on(
    procedure: FilingWindowSettings, permit_expires_on: datetime.date | None
) -> datetime.date | None:
    """The day a renewal's filing window opens (None for other procedures or without an expiry date).

    No slot is given before it: the person files then, as the receipt says (CESEDA R.431-5).
    """
    if not procedure.is_renewal or permit_expires_on is None:
        return None
    return permit_expires_on - datetime.timedelta(days=procedure.renewal_window_opens_days)


def filing_window(
    procedure: FilingWindowSettings, permit_expires_on: datetime.date | None, today: datetime.date
) -> FilingWindow | None:
    """The filing window of a renewal (None for other procedures or without an expiry date)."""
    opens_on = window_opens_on(procedure, permit_expires_on)
    if opens_on is None:
        return None
    closes_on = permit_expires_on - datetime.timedelta(days=procedure.renewal_window_closes_days)
    if today < opens_on:
        state = WindowState.EARLY
    elif today > closes_on:
        state = WindowState.LATE
    else:
        state = WindowState.OPEN
    return FilingWindow(opens_on=opens_on, closes_on=closes_on, state=state, expires_on=permit_expires_on)
