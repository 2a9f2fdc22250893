"""Small timing rules shared by the allocation service and the offer services (pure functions)."""

from __future__ import annotations

import datetime
import zoneinfo

# A slot picked in open mode is held this long while the person confirms.
OPEN_HOLD = datetime.timedelta(minutes=10)
# A new request of an open-mode procedure has this long to pick a slot itself before the queue serves it;
# until then it does not count as "waiting" for the open-mode check (it is the person choosing).
OPEN_CHOICE_WINDOW = datetime.timedelta(minutes=10)
# An offer never lasts less than this, so that the database's "expires after it is made" check always holds.
SHORTEST_OFFER = datetime.timedelta(seconds=1)
# Lapsed offers in a row after which a request is paused until the person reactivates it.
LAPSES_BEFORE_PAUSE = 2


def offer_expires_at(
    now: datetime.datetime, starts_at: datetime.datetime, validity_hours: int
) -> datetime.datetime:
    """When an offer of a slot starting at `starts_at`, made `now`, lapses.

    The procedure's offer validity, but never more than half the time left before the slot: the other half
    stays to give the slot to someone else if the offer is declined or lapses (a slot 48 hours away is
    offered for at most 24 hours).
    """
    expires = min(now + datetime.timedelta(hours=validity_hours), now + (starts_at - now) / 2)
    return max(expires, now + SHORTEST_OFFER)


def notice_hours(minimum_notice_hours: int, postal_notice_hours: int, postal_only: bool) -> int:
    """People reachable only by post get the longer notice: their letter has to arrive first."""
    return max(minimum_notice_hours, postal_notice_hours) if postal_only else minimum_notice_hours


def local_midnight(day: datetime.date, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    """The start of `day` in `tz`, in UTC."""
    return datetime.datetime.combine(day, datetime.time(), tz).astimezone(datetime.UTC)


def not_before(
    now: datetime.datetime,
    hours: int,
    earliest_date: datetime.date | None,
    tz: zoneinfo.ZoneInfo,
) -> datetime.datetime:
    """The earliest start of a slot that may be given: after the notice and the person's earliest date."""
    bound = now + datetime.timedelta(hours=hours)
    if earliest_date is not None:
        bound = max(bound, local_midnight(earliest_date, tz))
    return bound.astimezone(datetime.UTC)
