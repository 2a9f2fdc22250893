"""Honest waiting-time figures for the public pages, computed from the queue and the published slots.

Two measures, each shown with how it is computed:
- recent: the median number of days between filing and the appointment, over the appointments given for
  the procedure at the site whose request was received in the last RECENT_DAYS;
- queue: the slots already given (offers being made, appointments) come first: the queue ahead starts being
  served only after the latest of them; then the requests waiting now for the procedure at the site,
  divided by the slots the site opens for it per week over the next CAPACITY_WEEKS (slots may be shared
  with other procedures: a lower bound of the wait, not a promise). Before this, the procedure page said
  "about 4 days" while the offers being made were seven weeks out.

A waiting request's own window starts no earlier than its earliest date and, for a renewal, the opening of
its filing window, and counts only the sites that suit it (step-free access).
"""

import datetime
import math
import statistics
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.capacity.models import Slot
from guichet.capacity.services import serves
from guichet.catalog.models import OpeningRule, Procedure, Site
from guichet.waitlist.due_dates import window_opens_on
from guichet.waitlist.models import AppointmentRequest, RequestStatus

RECENT_DAYS = 90
CAPACITY_WEEKS = 4
MIN_RECENT_APPOINTMENTS = 5
# The figures move slowly (a few requests, slots and appointments a minute); pages reuse them this long, so
# that a busy procedure page costs a cache read instead of six counting queries.
CACHE_SECONDS = 60


@dataclass(frozen=True)
class WaitEstimate:
    site: Site | None
    recent_median_days: int | None
    recent_count: int
    waiting: int
    weekly_slots: float
    queue_weeks: float | None  # None when no slot is published
    given_days: int = 0  # days until the latest slot already given for the procedure there

    @property
    def queue_days(self) -> int | None:
        return None if self.queue_weeks is None else self.given_days + math.ceil(self.queue_weeks * 7)


@dataclass(frozen=True)
class TurnWindow:
    """When a waiting request's turn should come if the published capacity stays as it is."""

    earliest: datetime.date
    latest: datetime.date
    weekly_slots: float
    position: int


def sites_serving(procedure: Procedure) -> list[Site]:
    """Active sites with at least one opening rule for the procedure."""
    return list(
        Site.objects.filter(
            is_active=True,
            counters__is_active=True,
            counters__opening_rules__procedures=procedure,
        )
        .distinct()
        .order_by("name")
    )


def weekly_slots(
    procedure: Procedure, sites: list[Site] | None, now: datetime.datetime | None = None
) -> float:
    """Slots (free or held) serving the procedure at these sites (None: all) per week, in the coming weeks."""
    now = now or timezone.now()
    end = now + datetime.timedelta(weeks=CAPACITY_WEEKS)
    rules = OpeningRule.objects.filter(procedures=procedure)
    slots = Slot.objects.filter(starts_at__gte=now, starts_at__lt=end)
    if sites is not None:
        rules = rules.filter(counter__site__in=sites)
        slots = slots.filter(counter__site__in=sites)
    from_rules = slots.filter(rule__in=rules.values("id")).count()
    extra = slots.filter(Q(rule__isnull=True) | ~Q(rule__in=rules.values("id")), extra_procedures=procedure)
    return (from_rules + extra.count()) / CAPACITY_WEEKS


def given_until(procedure: Procedure, sites: list[Site] | None, now: datetime.datetime | None = None):
    """The local date of the latest future slot already given (offer or appointment) for the procedure at
    these sites (None: all), or None when none is: the queue ahead is served after it."""
    now = now or timezone.now()
    held = Slot.objects.filter(starts_at__gte=now, hold__isnull=False).filter(serves(procedure))
    if sites is not None:
        held = held.filter(counter__site__in=sites)
    latest = held.order_by("-starts_at").select_related("counter__site").first()
    return latest.starts_at.astimezone(latest.counter.site.tzinfo).date() if latest else None


def _waiting_for(procedure: Procedure, site: Site | None):
    waiting = AppointmentRequest.objects.filter(procedure=procedure, status=RequestStatus.WAITING)
    if site is not None:
        # A request that named no site accepts every site of the prefecture.
        waiting = waiting.filter(Q(sites=site) | Q(sites__isnull=True))
    return waiting


def recent_waits(procedure: Procedure, site: Site | None, today: datetime.date) -> list[int]:
    since = timezone.now() - datetime.timedelta(days=RECENT_DAYS)
    appointments = Appointment.objects.filter(
        request__procedure=procedure, request__received_at__gte=since
    ).exclude(status=AppointmentStatus.CANCELLED)
    if site is not None:
        appointments = appointments.filter(counter__site=site)
    return [
        max(0, (starts_at - received_at).days)
        for starts_at, received_at in appointments.values_list("starts_at", "request__received_at")
    ]


def expected_wait(
    procedure: Procedure, site: Site | None, today: datetime.date | None = None
) -> WaitEstimate:
    today = today or timezone.localdate()
    waits = recent_waits(procedure, site, today)
    median = round(statistics.median(waits)) if len(waits) >= MIN_RECENT_APPOINTMENTS else None
    waiting = _waiting_for(procedure, site).distinct().count()
    scope = [site] if site is not None else None
    per_week = weekly_slots(procedure, scope)
    weeks = waiting / per_week if per_week else None
    given = given_until(procedure, scope)
    given_days = max(0, (given - today).days) if given else 0
    return WaitEstimate(site, median, len(waits), waiting, per_week, weeks, given_days)


def cached_expected_wait(procedure: Procedure, site: Site | None) -> WaitEstimate:
    key = f"guichet:wait:{procedure.pk}:{site.pk if site else '*'}:{timezone.localdate().isoformat()}"
    numbers = cache.get(key)
    if numbers is None:
        estimate = expected_wait(procedure, site)
        numbers = (
            estimate.recent_median_days,
            estimate.recent_count,
            estimate.waiting,
            estimate.weekly_slots,
            estimate.queue_weeks,
            estimate.given_days,
        )
        cache.set(key, numbers, CACHE_SECONDS)
    return WaitEstimate(site, *numbers)


def cached_weekly_slots(procedure: Procedure, sites: list[Site] | None) -> float:
    site_ids = ",".join(str(site.pk) for site in sorted(sites, key=lambda site: site.pk)) if sites else "*"
    key = f"guichet:weekly:{procedure.pk}:{site_ids}"
    value = cache.get(key)
    if value is None:
        value = weekly_slots(procedure, sites)
        cache.set(key, value, CACHE_SECONDS)
    return value


def turn_window(
    request: AppointmentRequest,
    position: int | None,
    today: datetime.date | None = None,
    sites: list[Site] | None = None,
) -> TurnWindow | None:
    """The weeks in which `position` places in the queue should be served at the published capacity."""
    if not position or request.status != RequestStatus.WAITING:
        return None
    today = today or timezone.localdate()
    if sites is None:
        sites = list(request.sites.all())
    if request.needs_step_free:
        sites = [site for site in (sites or sites_serving(request.procedure)) if site.step_free]
        if not sites:
            return None
    per_week = cached_weekly_slots(request.procedure, sites or None)
    if not per_week:
        return None
    weeks = position / per_week
    # The queue ahead is served after the slots already given, and never before the person can come.
    opens_on = window_opens_on(request.procedure, request.permit_expires_on)
    start = max(
        day
        for day in (today, given_until(request.procedure, sites or None), request.earliest_date, opens_on)
        if day is not None
    )
    earliest = start + datetime.timedelta(days=math.floor(max(0.0, weeks - 1) * 7))
    latest = start + datetime.timedelta(days=math.ceil((weeks + 1) * 7))
    return TurnWindow(earliest, latest, per_week, position)
