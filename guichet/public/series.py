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

Every figure is a SQL aggregate grouped by week (TruncWeek in the prefecture's zone): counts, court orders
(deadline and "met" by an EXISTS), and the wait percentiles (percentiles.py: `percentile_cont` on
PostgreSQL, window ranks elsewhere), so no row per request or appointment is read into Python;
bench/figures.py measures it on 1M requests. The same series exists per procedure (the court file quotes
it). `cached_series` keeps the result for CACHE_SECONDS and `refresh` (the clock's `refresh_figures`,
every 30 minutes) recomputes it ahead of readers.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, DateTimeField, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.db.models.functions import Coalesce, Least, TruncDate, TruncWeek
from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.catalog.models import Prefecture, Procedure
from guichet.evidence.models import CourtOrder
from guichet.public.percentiles import PercentileCont, ranked_percentiles
from guichet.replica import reads_replica
from guichet.waitlist.models import AppointmentRequest, Channel, RequestStatus

SERIES_WEEKS = 52
CACHE_SECONDS = 60 * 60
LEFT_THE_QUEUE = (RequestStatus.SERVED, RequestStatus.WITHDRAWN, RequestStatus.CLOSED)
CHANNELS = [channel.value for channel in Channel]
MEDIAN, NINETIETH = 0.5, 0.9


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
    procedure: str | None  # None: every procedure of the prefecture
    procedure_name: str | None
    as_of: datetime.datetime
    weeks: list[WeekFigures] = field(default_factory=list)


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _by_week(queryset, field_name: str, tz, **counts) -> dict[datetime.date, dict]:
    """{Monday: aggregates} of `queryset` grouped by the week of `field_name` (a moment, taken in `tz`, or
    a date)."""
    moment = isinstance(queryset.query.resolve_ref(field_name).output_field, DateTimeField)
    week = TruncWeek(field_name, tzinfo=tz) if moment else TruncWeek(field_name)
    rows = queryset.annotate(week=week).values("week").annotate(**counts).order_by()
    return {_local_date(row["week"], tz): row for row in rows}


@reads_replica
def weekly_series(
    prefecture: Prefecture,
    now: datetime.datetime | None = None,
    procedure: Procedure | None = None,
    *,
    percentiles: str | None = None,
) -> WeeklySeries:
    """The weekly figures of a prefecture, or of one of its procedures. `percentiles` chooses how the wait
    percentiles are computed ("ordered-set" on PostgreSQL, "ranked" anywhere; by default the backend's
    best): both give the same numbers (tests compare them)."""
    now = now or timezone.now()
    tz = prefecture.tzinfo
    this_week = _monday(now.astimezone(tz).date())
    weeks = [this_week - datetime.timedelta(weeks=back) for back in range(SERIES_WEEKS - 1, -1, -1)]
    start = datetime.datetime.combine(weeks[0], datetime.time(0), tzinfo=tz)
    requests = AppointmentRequest.objects.filter(prefecture=prefecture)
    appointments = Appointment.objects.filter(
        request__prefecture=prefecture, starts_at__gte=start, starts_at__lte=now
    )
    if procedure is not None:
        requests = requests.filter(procedure=procedure)
        appointments = appointments.filter(request__procedure=procedure)

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
    before = requests.aggregate(
        received=Count("id", filter=Q(received_at__lt=start)),
        left=Count("id", filter=Q(status__in=LEFT_THE_QUEUE, status_changed_at__lt=start)),
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
    waits = _wait_percentiles(appointments.filter(status=AppointmentStatus.SERVED), tz, percentiles)
    orders = _court_orders(prefecture, procedure, weeks[0], now.astimezone(tz).date())

    rows = []
    cumulative_received, cumulative_left = before["received"], before["left"]
    for week in weeks:
        got = received.get(week, {})
        cumulative_received += got.get("n", 0)
        cumulative_left += left.get(week, {}).get("n", 0)
        outcome = outcomes.get(week, {})
        served, no_show = outcome.get("served", 0), outcome.get("no_show", 0)
        week_waits = waits.get(week, {})
        rows.append(
            WeekFigures(
                week=week,
                received=got.get("n", 0),
                received_by_channel={channel: got.get(channel, 0) for channel in CHANNELS},
                served=served,
                waiting=max(0, cumulative_received - cumulative_left),
                median_wait_days=_days(week_waits.get(MEDIAN)),
                p90_wait_days=_days(week_waits.get(NINETIETH)),
                served_late_share=round(outcome.get("late", 0) / served, 3) if served else None,
                no_show_rate=round(no_show / (served + no_show), 3) if served + no_show else None,
                court_orders_received=orders["received"].get(week, 0),
                court_orders_met=orders["met"].get(week, 0),
                court_orders_missed=orders["missed"].get(week, 0),
            )
        )
    return WeeklySeries(
        prefecture=prefecture.code,
        prefecture_name=prefecture.name,
        procedure=procedure.code if procedure else None,
        procedure_name=procedure.name if procedure else None,
        as_of=now,
        weeks=rows,
    )


def _wait_percentiles(served, tz, method: str | None) -> dict[datetime.date, dict[float, datetime.timedelta]]:
    """{Monday: {share: wait}} over served appointments, computed by the database (percentiles.py)."""
    method = method or ("ordered-set" if connection.vendor == "postgresql" else "ranked")
    waits = wait_rows(served, tz)
    if method == "ordered-set":
        rows = (
            waits.values("week")
            .annotate(median=PercentileCont("wait", MEDIAN), ninetieth=PercentileCont("wait", NINETIETH))
            .order_by()
        )
        found = {row["week"]: {MEDIAN: row["median"], NINETIETH: row["ninetieth"]} for row in rows}
    elif method == "ranked":
        found = ranked_percentiles(waits, "week", "wait", (MEDIAN, NINETIETH))
    else:
        raise ValueError(f"unknown percentile method {method!r}")
    return {_local_date(week, tz): shares for week, shares in found.items()}


def wait_rows(served, tz):
    """Served appointments annotated with their `week` (the Monday, in `tz`) and their `wait` (from filing
    to the appointment, a duration)."""
    return served.annotate(
        week=TruncWeek("starts_at", tzinfo=tz),
        wait=ExpressionWrapper(F("starts_at") - F("request__received_at"), output_field=DurationField()),
    )


def _local_date(week, tz) -> datetime.date:
    return week.astimezone(tz).date() if isinstance(week, datetime.datetime) else week


def _days(value: datetime.timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 86400, 1)


def _court_orders(
    prefecture: Prefecture, procedure: Procedure | None, first: datetime.date, today: datetime.date
) -> dict[str, dict]:
    """Court orders received (by notification week), met and missed (by deadline week), by SQL: the
    deadline is the earlier of the two dates a court may set, an order is met by a non-cancelled
    appointment on or before it (local date)."""
    tz = prefecture.tzinfo
    orders = CourtOrder.objects.filter(request__prefecture=prefecture)
    if procedure is not None:
        orders = orders.filter(request__procedure=procedure)
    received = _by_week(orders.filter(notified_on__gte=first), "notified_on", tz, n=Count("id"))
    held_by_deadline = Appointment.objects.filter(request=OuterRef("request")).exclude(
        status=AppointmentStatus.CANCELLED
    )
    deadlines = (
        orders.annotate(
            deadline=Least(Coalesce("convoke_by", "appointment_by"), Coalesce("appointment_by", "convoke_by"))
        )
        .filter(deadline__gte=first)
        .annotate(
            met=Exists(
                held_by_deadline.annotate(day=TruncDate("starts_at", tzinfo=tz)).filter(
                    day__lte=OuterRef("deadline")
                )
            )
        )
    )
    # Two queries rather than two filtered counts: SQLite refuses a correlated EXISTS inside COUNT().
    met = _by_week(deadlines.filter(met=True), "deadline", tz, n=Count("id"))
    missed = _by_week(deadlines.filter(met=False, deadline__lt=today), "deadline", tz, n=Count("id"))
    return {
        name: {week: row["n"] for week, row in rows.items()}
        for name, rows in (("received", received), ("met", met), ("missed", missed))
    }


def _key(prefecture: Prefecture, procedure: Procedure | None) -> str:
    # v2: the rows carry their procedure (a series cached by an older release has none).
    return f"guichet:weekly-figures:v2:{prefecture.pk}:{procedure.pk if procedure else 'all'}"


def refresh(prefecture: Prefecture, procedure: Procedure | None = None) -> WeeklySeries:
    series = weekly_series(prefecture, procedure=procedure)
    cache.set(_key(prefecture, procedure), series, CACHE_SECONDS * 2)
    return series


def cached_series(prefecture: Prefecture, procedure: Procedure | None = None) -> WeeklySeries:
    """The published series: what the figures page, its CSV, the API and the court file all show."""
    series = cache.get(_key(prefecture, procedure))
    if series is None or (timezone.now() - series.as_of).total_seconds() > CACHE_SECONDS:
        series = refresh(prefecture, procedure)
    return series
