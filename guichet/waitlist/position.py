"""A waiting request's place in the queue, in a time that does not grow with the queue.

The exact place (``exact_queue_position``) counts every competing waiting request ahead: same prefecture and
procedure, overlapping sites (no site named means every site), in the engine's order (due date, received
time, id). That count is an index-only scan over everything ahead, so it costs what the queue's length
costs (36 ms with 50,000 ahead, docs/benchmarks.md), on every status page and API read.

``queue_position`` splits the count in two:

* the requests due before the person's due date, read from a snapshot of the queue (``QueueSnapshot``): the
  waiting requests counted by due date and by set of sites, two grouped reads per queue (prefecture and
  procedure), kept in the shared cache (Redis in production) for ``QUEUE_POSITION_SNAPSHOT_SECONDS``;
* the requests ahead on the person's own due date, counted live: at most one day's intake of the procedure.

Right after a snapshot the two give the exact place (tests/waitlist/test_queue_snapshot.py checks it on
random queues). Later, the first part may be stale: requests served since then still count, and requests
filed since then with an earlier due date (a court order, a vulnerability, an urgent renewal) do not count
yet. A snapshot is never used past twice its period (the cache forgets it then), so the number is at most
that old, and the page and the API say when it was counted.

Rebuilding (guichet/shared_snapshots.py): the reader that finds the snapshot missing or past its period
takes a short mark in the cache (``cache.add``) and rebuilds it; the others meanwhile use the one they
found, or, when there is none yet, wait a moment for the rebuild and count exactly if it does not come. A
cache that does not answer means an exact count, never an error.

The exact count stays the reference wherever a number must be exact (the tests; anything a court or a proof
would quote).
"""

from __future__ import annotations

import bisect
import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext

from guichet import shared_snapshots

from .models import AppointmentRequest, RequestStatus

# Part of the cache keys: a new shape of QueueSnapshot changes it, so that no reader unpickles an old one.
SNAPSHOT_VERSION = 1

SiteSet = frozenset[int] | None  # None: the request named no site, so it accepts every site


@dataclass(frozen=True)
class QueuePosition:
    """A place in the queue (1 = served next), and when the part before the person's due date was counted."""

    number: int
    as_of: datetime.datetime
    exact: bool  # counted live in full (no snapshot used): exact at as_of


@dataclass(frozen=True)
class SiteGroup:
    """The waiting requests naming one set of sites: their due dates, sorted, and how many are due before each
    one.

    ``before[i]`` is the number of requests due before ``due_dates[i]``; ``before[-1]`` is the group's total.
    """

    sites: SiteSet
    due_dates: tuple[datetime.date, ...]
    before: tuple[int, ...]

    def due_before(self, day: datetime.date) -> int:
        return self.before[bisect.bisect_left(self.due_dates, day)]


@dataclass(frozen=True)
class QueueSnapshot:
    """One queue's waiting requests counted by due date and set of sites, as of ``taken_at``."""

    prefecture_id: int
    procedure_id: int
    taken_at: datetime.datetime
    groups: tuple[SiteGroup, ...]

    def due_before(self, day: datetime.date, sites: SiteSet) -> int:
        """Waiting requests due before ``day`` that compete with a request naming ``sites``."""
        return sum(group.due_before(day) for group in self.groups if _overlap(group.sites, sites))

    @property
    def waiting(self) -> int:
        return sum(group.before[-1] for group in self.groups)


def _overlap(a: SiteSet, b: SiteSet) -> bool:
    return a is None or b is None or bool(a & b)


def build_snapshot(
    prefecture_id: int, procedure_id: int, now: datetime.datetime | None = None
) -> QueueSnapshot:
    """Count the queue's waiting requests by due date and set of sites.

    Two reads: the requests that name no site, counted by due date in SQL, and the (request, due date, site)
    rows of those that name some, grouped here (a third of a queue at most, in practice). One grouped query
    over a per-request list of sites took four times as long on PostgreSQL (docs/benchmarks.md).
    """
    taken_at = now or timezone.now()  # before the reads: a request filed during them is at most counted early
    through = AppointmentRequest.sites.through
    queue = AppointmentRequest.objects.filter(
        prefecture_id=prefecture_id, procedure_id=procedure_id, status=RequestStatus.WAITING
    )
    counts: dict[SiteSet, dict[datetime.date, int]] = defaultdict(lambda: defaultdict(int))
    anywhere = (
        queue.filter(~Exists(through.objects.filter(appointmentrequest_id=OuterRef("pk"))))
        .order_by()
        .values("due_date")
        .annotate(count=Count("id"))
        .values_list("due_date", "count")
    )
    for due_date, count in anywhere:
        counts[None][due_date] += count
    named: dict[int, tuple[datetime.date, set[int]]] = {}
    rows = through.objects.filter(
        appointmentrequest__prefecture_id=prefecture_id,
        appointmentrequest__procedure_id=procedure_id,
        appointmentrequest__status=RequestStatus.WAITING,
    ).values_list("appointmentrequest_id", "appointmentrequest__due_date", "site_id")
    for request_id, due_date, site_id in rows:
        named.setdefault(request_id, (due_date, set()))[1].add(site_id)
    for due_date, sites in named.values():
        counts[frozenset(sites)][due_date] += 1
    return snapshot_from_counts(prefecture_id, procedure_id, taken_at, counts)


def snapshot_from_counts(
    prefecture_id: int,
    procedure_id: int,
    taken_at: datetime.datetime,
    counts: dict[SiteSet, dict[datetime.date, int]],
) -> QueueSnapshot:
    """A snapshot from the number of requests per set of sites and due date."""
    groups = []
    for sites, by_day in counts.items():
        days = sorted(by_day)
        before = [0]
        for day in days:
            before.append(before[-1] + by_day[day])
        groups.append(SiteGroup(sites, tuple(days), tuple(before)))
    return QueueSnapshot(prefecture_id, procedure_id, taken_at, tuple(groups))


def snapshot_key(prefecture_id: int, procedure_id: int) -> str:
    return f"guichet:queue-snapshot:{SNAPSHOT_VERSION}:{prefecture_id}:{procedure_id}"


def queue_snapshot(
    prefecture_id: int, procedure_id: int, now: datetime.datetime | None = None
) -> QueueSnapshot | None:
    """The queue's snapshot, rebuilt by this reader if it is missing or past its period and no other reader
    is rebuilding it (guichet/shared_snapshots.py). None: none to be had (switched off, cache down, a cold
    rebuild that took long): the caller counts exactly.
    """
    period = settings.QUEUE_POSITION_SNAPSHOT_SECONDS
    if period <= 0:
        return None
    now = now or timezone.now()
    key = snapshot_key(prefecture_id, procedure_id)
    return shared_snapshots.shared(
        key, f"{key}:rebuilding", period, lambda: build_snapshot(prefecture_id, procedure_id, now), now
    )


def site_set(request: AppointmentRequest, site_ids: SiteSet | list[int] | None = None) -> SiteSet:
    """The request's sites as a set (None: it named none), read unless the caller has them."""
    if site_ids is None:
        site_ids = AppointmentRequest.sites.through.objects.filter(
            appointmentrequest_id=request.pk
        ).values_list("site_id", flat=True)
    return frozenset(site_ids) or None


def competing(request: AppointmentRequest, sites: SiteSet) -> QuerySet[AppointmentRequest]:
    """The waiting requests of the request's queue (prefecture and procedure) that compete with one naming
    ``sites``: those whose sites overlap them (no site named, on either side, overlaps every site)."""
    queryset = AppointmentRequest.objects.filter(
        prefecture_id=request.prefecture_id, procedure_id=request.procedure_id, status=RequestStatus.WAITING
    )
    if sites:
        through = AppointmentRequest.sites.through
        has_sites = Exists(through.objects.filter(appointmentrequest_id=OuterRef("pk")))
        overlaps = Exists(through.objects.filter(appointmentrequest_id=OuterRef("pk"), site_id__in=sites))
        queryset = queryset.filter(~has_sites | overlaps)
    return queryset


def same_day_ahead(request: AppointmentRequest, sites: SiteSet) -> QuerySet[AppointmentRequest]:
    """Competing waiting requests on the request's own due date that are served before it."""
    return competing(request, sites).filter(
        Q(received_at__lt=request.received_at) | Q(received_at=request.received_at, pk__lt=request.pk),
        due_date=request.due_date,
    )


def queue_position(
    request: AppointmentRequest, site_ids: list[int] | None = None, now: datetime.datetime | None = None
) -> QueuePosition | None:
    """The request's place (1 = served next) from the queue's snapshot plus a live count of its own due date;
    None when it is not waiting. ``site_ids``: the request's sites when the caller has them already."""
    if request.status != RequestStatus.WAITING:
        return None
    now = now or timezone.now()
    sites = site_set(request, site_ids)
    found = queue_snapshot(request.prefecture_id, request.procedure_id, now)
    if found is None:
        return QueuePosition(_exact_ahead(request, sites) + 1, now, exact=True)
    number = found.due_before(request.due_date, sites) + same_day_ahead(request, sites).count() + 1
    return QueuePosition(number, found.taken_at, exact=False)


def position_note(position: QueuePosition, tzinfo: datetime.tzinfo) -> str:
    """What the person reads next to the number: when it was counted, and why it may move."""
    at = formats.time_format(timezone.localtime(position.as_of, tzinfo), "H:i")
    if position.exact:
        return gettext("Counted at %(time)s.") % {"time": at}
    return gettext(
        "Counted at %(time)s. A request filed since then with an earlier due date than yours (a court order, "
        "an urgent case) may come before you: the number is brought up to date within minutes."
    ) % {"time": at}


def exact_queue_position(request: AppointmentRequest) -> int | None:
    """Place in the queue (1 = served next) among competing requests; None when not waiting.

    Competing: waiting, same procedure, and sites that overlap (no site given means every site). Order is
    the engine's: due date, received time, id. Counts everything ahead: O(queue), the reference.
    """
    if request.status != RequestStatus.WAITING:
        return None
    return _exact_ahead(request, site_set(request)) + 1


def _exact_ahead(request: AppointmentRequest, sites: SiteSet) -> int:
    """Competing requests served before it, all counted: the engine's order is due date, received time, id."""
    ahead = (
        Q(due_date__lt=request.due_date)
        | Q(due_date=request.due_date, received_at__lt=request.received_at)
        | Q(due_date=request.due_date, received_at=request.received_at, pk__lt=request.pk)
    )
    return competing(request, sites).filter(ahead).count()
