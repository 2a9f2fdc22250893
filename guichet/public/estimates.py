"""Honest waiting-time figures for the public pages, computed from the queue and the published slots.

Two measures, each shown with how it is computed:
- recent: the median number of days between filing and the appointment, over the appointments given for
  the procedure at the site whose request was received in the last RECENT_DAYS;
- offer: when a request filed now would be offered a slot. The allocation engine itself is run on the queue
  and the free slots as they are, with that request in it (guichet.allocation.forecast): the slot it takes
  is the answer. When the published slots are all taken by requests ahead, the wait goes on after the last
  published slot: the requests left without a slot ahead of it, plus itself, divided by the slots the site
  opens for the procedure per week (a lower bound of that part: slots may be shared). Before, the procedure
  page said "about 4 days" (waiting / weekly rate) while the offers being made were seven weeks out.

A waiting request's own estimate (status page) is the same computation for that request, as the engine
sees it: its due date, earliest date, a renewal's filing window, its sites, step-free access, the days it
cannot come, and its interpreter (a language no counter speaks is met by an interpreter booked for the slot,
so it delays nobody).
"""

import datetime
import math
import statistics
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from guichet.allocation import forecast
from guichet.allocation.candidates import waiting_request
from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.capacity.models import Slot
from guichet.catalog import cached
from guichet.catalog.models import OpeningRule, Procedure, Site
from guichet.waitlist.models import AppointmentRequest, RequestStatus

RECENT_DAYS = 90
CAPACITY_WEEKS = 4
MIN_RECENT_APPOINTMENTS = 5
# The figures move slowly (a few requests, slots and appointments a minute); pages reuse them this long, so
# that a busy procedure page costs a cache read instead of six counting queries.
CACHE_SECONDS = 60
# A forecast runs the engine on the whole queue: pages reuse it as long as an allocation run lasts at most
# (the clock allocates every 5 minutes).
FORECAST_SECONDS = 300


@dataclass(frozen=True)
class WaitEstimate:
    site: Site | None
    recent_median_days: int | None
    recent_count: int
    waiting: int
    weekly_slots: float
    offer_days: int | None  # days until a request filed now would be offered a slot; None: no estimate
    offer_in_published: bool = False  # that slot is published and free now (not an extrapolation)

    @property
    def queue_days(self) -> int | None:
        return self.offer_days


@dataclass(frozen=True)
class TurnWindow:
    """When a waiting request's offer should come, if the published capacity stays as it is."""

    earliest: datetime.date
    latest: datetime.date
    weekly_slots: float
    position: int
    slot_free_now: bool = False  # a published free slot suits it: the next allocation run offers it
    interpreter: str = ""  # language of the interpreter that slot needs booked


def sites_serving(procedure: Procedure) -> list[Site]:
    """Active sites with at least one opening rule for the procedure."""
    return cached.sites_serving(procedure.pk)


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


def _after_published(outlook: forecast.Outlook, today: datetime.date, per_week: float):
    """(start, weeks): a request left without a published slot is served after the last published slot,
    once the requests ahead of it in the same situation are."""
    if not per_week or outlook.published_until is None:
        return None
    start = max(today, outlook.published_until)
    return start, (outlook.ahead_without_slot + 1) / per_week


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


def expected_waits(
    procedure: Procedure, sites: list[Site], today: datetime.date | None = None
) -> list[WaitEstimate]:
    """The estimates of a request filed now for the procedure at each of these sites (one engine load)."""
    now = timezone.now()
    today = today or timezone.localdate()
    wanted = [
        forecast.filed_now(procedure, now, site_ids=frozenset({site.pk}) if site is not None else None)
        for site in sites
    ]
    outlooks = forecast.outlooks(procedure.prefecture, wanted, now) if wanted else []
    found = []
    for site, outlook in zip(sites, outlooks, strict=True):
        waits = recent_waits(procedure, site, today)
        median = round(statistics.median(waits)) if len(waits) >= MIN_RECENT_APPOINTMENTS else None
        waiting = _waiting_for(procedure, site).distinct().count()
        per_week = weekly_slots(procedure, [site] if site is not None else None)
        if outlook.local_date is not None:
            days, published = max(0, (outlook.local_date - today).days), True
        elif (after := _after_published(outlook, today, per_week)) is not None:
            start, weeks = after
            days, published = (start - today).days + math.ceil(weeks * 7), False
        else:
            days, published = None, False
        found.append(WaitEstimate(site, median, len(waits), waiting, per_week, days, published))
    return found


def expected_wait(
    procedure: Procedure, site: Site | None, today: datetime.date | None = None
) -> WaitEstimate:
    return expected_waits(procedure, [site], today)[0]


def cached_expected_waits(procedure: Procedure, sites: list[Site]) -> list[WaitEstimate]:
    site_ids = ",".join(str(site.pk) for site in sites)
    key = f"guichet:waits:{procedure.pk}:{site_ids}:{timezone.localdate().isoformat()}"
    rows = cache.get(key)
    if rows is None:
        rows = [
            (
                estimate.recent_median_days,
                estimate.recent_count,
                estimate.waiting,
                estimate.weekly_slots,
                estimate.offer_days,
                estimate.offer_in_published,
            )
            for estimate in expected_waits(procedure, sites)
        ]
        cache.set(key, rows, FORECAST_SECONDS)
    return [WaitEstimate(site, *row) for site, row in zip(sites, rows, strict=True)]


def cached_weekly_slots(procedure: Procedure, sites: list[Site] | None) -> float:
    site_ids = ",".join(str(site.pk) for site in sorted(sites, key=lambda site: site.pk)) if sites else "*"
    key = f"guichet:weekly:{procedure.pk}:{site_ids}"
    value = cache.get(key)
    if value is None:
        value = weekly_slots(procedure, sites)
        cache.set(key, value, CACHE_SECONDS)
    return value


def _cached_outlook(request: AppointmentRequest, wanted, now: datetime.datetime) -> forecast.Outlook:
    # One engine run for the whole prefecture answers every waiting request it covers (forecast.py).
    shared = forecast.shared_outlook(request, wanted, now, FORECAST_SECONDS)
    if shared is not None:
        return shared
    # Filed or changed since that run: the engine for this request alone, as it sees it (with the days of
    # slots the person refused), kept by what changes its place (a new due date or earliest date).
    wanted = waiting_request(request, now, with_refused_days=True)
    key = f"guichet:outlook:{request.pk}:{request.due_date}:{request.earliest_date}:{request.needs_step_free}"
    outlook = cache.get(key)
    if outlook is None:
        outlook = forecast.outlooks(request.prefecture, [wanted], now)[0]
        cache.set(key, outlook, FORECAST_SECONDS)
    return outlook


def turn_window(
    request: AppointmentRequest,
    position: int | None,
    today: datetime.date | None = None,
    sites: list[Site] | None = None,
) -> TurnWindow | None:
    """When the request's offer should come: the engine's answer for it now, or after the published slots."""
    if not position or request.status != RequestStatus.WAITING:
        return None
    now = timezone.now()
    today = today or timezone.localdate()
    if sites is None:
        sites = list(request.sites.all())
    if request.needs_step_free:
        sites = [site for site in (sites or sites_serving(request.procedure)) if site.step_free]
        if not sites:
            return None
    per_week = cached_weekly_slots(request.procedure, sites or None)
    wanted = waiting_request(request, now)
    outlook = _cached_outlook(request, wanted, now)
    if outlook.local_date is not None:
        day = outlook.local_date
        return TurnWindow(day, day, per_week, position, slot_free_now=True, interpreter=outlook.interpreter)
    after = _after_published(outlook, today, per_week)
    if after is None:
        return None
    start, weeks = after
    # Never before the person can come (earliest date, a renewal's filing window).
    start = max(start, wanted.not_before.astimezone(request.prefecture.tzinfo).date())
    earliest = start + datetime.timedelta(days=math.floor(max(0.0, weeks - 1) * 7))
    latest = start + datetime.timedelta(days=math.ceil((weeks + 1) * 7))
    return TurnWindow(earliest, latest, per_week, position)
