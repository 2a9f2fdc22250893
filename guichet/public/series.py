"""Weekly public figures of a prefecture over the last SERIES_WEEKS weeks (R23), for charts, tables, CSV and
JSON, all from the same rows.

Each week runs from Monday 00:00 to Sunday 24:00 in the prefecture's time zone and says:
- received: requests received that week, in total and by channel;
- served: appointments held that week where the person was served;
- waiting: requests in the queue at the end of the week (received by then, not yet served, withdrawn or
  closed by then);
- median_wait_days, p90_wait_days: days from filing to the appointment, over that week's served
  appointments (None without any);
- served_late_share: the share of those served after their request's due date;
- no_show_rate: of that week's appointments that were due (served or missed), the share missed;
- court orders: received (notified that week), met (appointment held by the deadline, counted in the
  deadline's week) and missed (the deadline passed that week without one).

Counts are SQL aggregates grouped by week (TruncWeek in the prefecture's zone); the wait percentiles read
one number per served appointment of the period. `cached_series` keeps the result for CACHE_SECONDS and
`refresh` (the clock's `refresh_figures`) recomputes it ahead of readers.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import Count, F, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.catalog.models import Prefecture
from guichet.evidence.models import CourtOrder
from guichet.waitlist.models import AppointmentRequest, Channel, RequestStatus

SERIES_WEEKS = 52
CACHE_SECONDS = 60 * 60
LEFT_THE_QUEUE = (RequestStatus.SERVED, RequestStatus.WITHDRAWN, RequestStatus.CLOSED)
CHANNELS = [channel.value for channel in Channel]


@dataclass(frozen=True)
class WeekFigures:
    week: datetime.date  # the Monday
    received: int
    received_by_channel: dict[str, int]
    served: int
    waiting: int
    median_wait_days: float | None
    p90_wait_days: float | None
    served_late_share: float | None
    no_show_rate: float | None
    court_orders_received: int
    court_orders_met: int
    court_orders_missed: int


@dataclass(frozen=True)
class WeeklySeries:
    prefecture: str
    prefecture_name: str
    as_of: datetime.datetime
    weeks: list[WeekFigures] = field(default_factory=list)


def percentile(sorted_values: list[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted values (None for none)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(share * len(sorted_values)))
    return sorted_values[rank - 1]


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _by_week(queryset, field_name: str, tz, **counts) -> dict[datetime.date, dict]:
    rows = (
        queryset.annotate(week=TruncWeek(field_name, tzinfo=tz)).values("week").annotate(**counts).order_by()
    )
    return {
        row["week"].astimezone(tz).date() if isinstance(row["week"], datetime.datetime) else row["week"]: row
        for row in rows
    }


def weekly_series(prefecture: Prefecture, now: datetime.datetime | None = None) -> WeeklySeries:
    now = now or timezone.now()
    tz = prefecture.tzinfo
    this_week = _monday(now.astimezone(tz).date())
    weeks = [this_week - datetime.timedelta(weeks=back) for back in range(SERIES_WEEKS - 1, -1, -1)]
    start = datetime.datetime.combine(weeks[0], datetime.time(0), tzinfo=tz)
    requests = AppointmentRequest.objects.filter(prefecture=prefecture)

    channel_counts = {channel: Count("id", filter=Q(channel=channel)) for channel in CHANNELS}
    received = _by_week(
        requests.filter(received_at__gte=start), "received_at", tz, n=Count("id"), **channel_counts
    )
    left = _by_week(
        requests.filter(status__in=LEFT_THE_QUEUE, status_changed_at__gte=start),
        "status_changed_at",
        tz,
        n=Count("id"),
    )
    before_received = requests.filter(received_at__lt=start).count()
    before_left = requests.filter(status__in=LEFT_THE_QUEUE, status_changed_at__lt=start).count()

    appointments = Appointment.objects.filter(
        request__prefecture=prefecture, starts_at__gte=start, starts_at__lte=now
    )
    outcomes = _by_week(
        appointments,
        "starts_at",
        tz,
        served=Count("id", filter=Q(status=AppointmentStatus.SERVED)),
        no_show=Count("id", filter=Q(status=AppointmentStatus.NO_SHOW)),
        late=Count(
            "id", filter=Q(status=AppointmentStatus.SERVED, starts_at__date__gt=F("request__due_date"))
        ),
    )
    waits: dict[datetime.date, list[float]] = defaultdict(list)
    for starts_at, received_at in appointments.filter(status=AppointmentStatus.SERVED).values_list(
        "starts_at", "request__received_at"
    ):
        waits[_monday(starts_at.astimezone(tz).date())].append(
            (starts_at - received_at).total_seconds() / 86400
        )

    orders = _court_orders(prefecture, weeks[0], now.astimezone(tz).date())

    rows = []
    cumulative_received, cumulative_left = before_received, before_left
    for week in weeks:
        got = received.get(week, {})
        cumulative_received += got.get("n", 0)
        cumulative_left += left.get(week, {}).get("n", 0)
        outcome = outcomes.get(week, {})
        served, no_show = outcome.get("served", 0), outcome.get("no_show", 0)
        week_waits = sorted(waits.get(week, []))
        rows.append(
            WeekFigures(
                week=week,
                received=got.get("n", 0),
                received_by_channel={channel: got.get(channel, 0) for channel in CHANNELS},
                served=served,
                waiting=max(0, cumulative_received - cumulative_left),
                median_wait_days=_days(percentile(week_waits, 0.5)),
                p90_wait_days=_days(percentile(week_waits, 0.9)),
                served_late_share=round(outcome.get("late", 0) / served, 3) if served else None,
                no_show_rate=round(no_show / (served + no_show), 3) if served + no_show else None,
                court_orders_received=orders["received"].get(week, 0),
                court_orders_met=orders["met"].get(week, 0),
                court_orders_missed=orders["missed"].get(week, 0),
            )
        )
    return WeeklySeries(prefecture=prefecture.code, prefecture_name=prefecture.name, as_of=now, weeks=rows)


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _court_orders(prefecture: Prefecture, first: datetime.date, today: datetime.date) -> dict[str, dict]:
    counts: dict[str, dict[datetime.date, int]] = {
        "received": defaultdict(int),
        "met": defaultdict(int),
        "missed": defaultdict(int),
    }
    orders = CourtOrder.objects.filter(request__prefecture=prefecture).filter(
        Q(notified_on__gte=first) | Q(convoke_by__gte=first) | Q(appointment_by__gte=first)
    )
    held = defaultdict(list)
    for request_id, starts_at in (
        Appointment.objects.filter(request__court_orders__in=orders)
        .exclude(status=AppointmentStatus.CANCELLED)
        .values_list("request_id", "starts_at")
    ):
        held[request_id].append(starts_at.astimezone(prefecture.tzinfo).date())
    for order in orders:
        if order.notified_on >= first:
            counts["received"][_monday(order.notified_on)] += 1
        deadline = order.deadline
        if deadline < first:
            continue
        if any(day <= deadline for day in held.get(order.request_id, [])):
            counts["met"][_monday(deadline)] += 1
        elif deadline < today:
            counts["missed"][_monday(deadline)] += 1
    return counts


def _key(prefecture: Prefecture) -> str:
    return f"guichet:weekly-figures:{prefecture.pk}"


def refresh(prefecture: Prefecture) -> WeeklySeries:
    series = weekly_series(prefecture)
    cache.set(_key(prefecture), series, CACHE_SECONDS * 2)
    return series


def cached_series(prefecture: Prefecture) -> WeeklySeries:
    series = cache.get(_key(prefecture))
    if series is None or (timezone.now() - series.as_of).total_seconds() > CACHE_SECONDS:
        series = refresh(prefecture)
    return series
