"""Capacity: slots generated from the opening rules, extra slots opened by hand, and what is free.

Slot generation (`generate_slots`) makes the slots of the coming weeks match the catalogue: it creates
the slots the opening rules produce, updates or removes the free ones they no longer produce, and never
touches a held slot (an offer or appointment holds it): those are reported as conflicts for a person
to settle.

Time: opening rules are in the site's wall-clock time; slots are stored in UTC. A 9:00 opening is
9:00 local time whatever the season (08:00Z in winter, 07:00Z in summer in Paris; 05:00Z all year in
La Réunion). On the two nights a year when the clock jumps:
- a local start time that does not exist (the spring gap, 2:00–3:00 in Paris) gives no slot;
- a local start time that happens twice (the autumn repeat) is taken at its first occurrence
  (fold=0, still summer time);
- a slot lasts its real length (ends_at = starts_at + slot length), and a slot that would overlap
  the one before it that night is not made.

What a slot serves: the procedures of the rule that made it, plus its `extra_procedures` (an extra
slot, opened by a manager for example to execute a court order, has no rule and serves only those).
A slot whose rule is gone and that has no extra procedure serves nothing: generation deletes it when
it is free, or "retires" it (keeps it for the history of the offers and appointments that used it,
serving nothing) when it cannot be deleted.

Locks, through guichet.locking and in its order: the prefecture row (so that two runs for one
prefecture, or a run and an allocation, follow each other), the slots being deleted or changed, and
last the audit chain head (written by record_change).
"""

from __future__ import annotations

import bisect
import datetime
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guichet import locking
from guichet.allocation.tasks import enqueue_allocation
from guichet.appointments.models import Appointment, Offer
from guichet.catalog.holidays_calendar import holidays_between
from guichet.catalog.models import Closure, Counter, OpeningRule, Prefecture, Procedure
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import SYSTEM, Actor, Change
from guichet.evidence.services import record_change

from .models import Hold, Slot

UTC = datetime.UTC
ExtraProcedure = Slot.extra_procedures.through
RuleProcedure = OpeningRule.procedures.through


# --- reports -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotConflict:
    """A held slot that the catalogue no longer opens as it is: left alone, for a person to settle."""

    prefecture: str
    slot_id: int
    counter_id: int
    counter: str
    starts_at: datetime.datetime  # UTC
    local_start: datetime.datetime  # in the site's time zone
    hold_kind: str  # offer | appointment
    request_id: int
    reason: str  # holiday | closure | counter_inactive | no_rule | times_changed | procedure_not_served
    detail: str

    def as_dict(self) -> dict:
        return {
            "slot": self.slot_id,
            "counter": self.counter_id,
            "starts_at": self.starts_at.isoformat(),
            "local_start": self.local_start.isoformat(),
            "hold": self.hold_kind,
            "request": self.request_id,
            "reason": self.reason,
            "detail": self.detail,
        }

    def __str__(self) -> str:
        return (
            f"{self.counter} {self.local_start:%Y-%m-%d %H:%M} (slot {self.slot_id}, {self.hold_kind} of "
            f"request {self.request_id}): {self.detail}"
        )


@dataclass
class GenerationReport:
    """What one run of slot generation did. `deleted` counts the retired slots too."""

    prefectures: list[str] = field(default_factory=list)
    first_day: datetime.date | None = None
    last_day: datetime.date | None = None
    created: int = 0
    updated: int = 0
    deleted: int = 0
    retired: int = 0
    unchanged: int = 0
    skipped_overlaps: int = 0
    conflicts: list[SlotConflict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def merge(self, other: GenerationReport) -> None:
        self.prefectures += other.prefectures
        self.first_day = min(filter(None, [self.first_day, other.first_day]), default=None)
        self.last_day = max(filter(None, [self.last_day, other.last_day]), default=None)
        for name in ("created", "updated", "deleted", "retired", "unchanged", "skipped_overlaps"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.conflicts += other.conflicts

    def as_dict(self) -> dict:
        return {
            "prefectures": self.prefectures,
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "retired": self.retired,
            "unchanged": self.unchanged,
            "skipped_overlaps": self.skipped_overlaps,
            "conflicts": [conflict.as_dict() for conflict in self.conflicts],
        }

    def summary(self) -> str:
        period = f" from {self.first_day} to {self.last_day}" if self.first_day else ""
        return (
            f"{', '.join(self.prefectures) or 'no prefecture'}{period}: {self.created} created, "
            f"{self.updated} updated, {self.deleted} deleted ({self.retired} of them retired), "
            f"{self.unchanged} unchanged, {len(self.conflicts)} conflicts"
        )


# --- time ----------------------------------------------------------------------------------------------


def local_to_utc(day: datetime.date, at: datetime.time, tz: zoneinfo.ZoneInfo) -> datetime.datetime | None:
    """The UTC instant of a wall-clock time at a place; None when that time does not exist there.

    An ambiguous time (the repeated hour in autumn) is taken at its first occurrence (fold=0).
    """
    local = datetime.datetime.combine(day, at, tzinfo=tz)
    instant = local.astimezone(UTC)
    back = instant.astimezone(tz)
    if (back.date(), back.time()) != (day, at.replace(tzinfo=None)):
        return None  # in the spring gap
    return instant


def local_midnight(day: datetime.date, tz: zoneinfo.ZoneInfo) -> datetime.datetime:
    """The first instant of a local day (midnight never falls in a gap in the zones we serve)."""
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=tz).astimezone(UTC)


def local_today(tz: zoneinfo.ZoneInfo, now: datetime.datetime | None = None) -> datetime.date:
    return (now or timezone.now()).astimezone(tz).date()


def _days(first: datetime.date, last: datetime.date, weekday: int) -> Iterable[datetime.date]:
    day = first + datetime.timedelta(days=(weekday - first.weekday()) % 7)
    while day <= last:
        yield day
        day += datetime.timedelta(days=7)


# --- generation ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wanted:
    ends_at: datetime.datetime
    rule_id: int


@dataclass
class _Window:
    """The days one site's slots are kept in step with its rules, and the instants they cover."""

    tz: zoneinfo.ZoneInfo
    first_day: datetime.date
    last_day: datetime.date
    since: datetime.datetime  # UTC: max(now, the first local midnight)
    until: datetime.datetime  # UTC: the local midnight after the last day


def generate_slots(
    prefecture: Prefecture | None = None,
    *,
    start: datetime.date | None = None,
    weeks: int | None = None,
    now: datetime.datetime | None = None,
    actor: Actor = SYSTEM,
) -> GenerationReport:
    """Bring the slots of one prefecture (or of all) in line with their opening rules.

    Covers `weeks` weeks (settings.SLOT_HORIZON_WEEKS by default) from `start` (today, in each site's
    local time, by default), and further up to the last slot already generated, so that a shorter
    horizon never leaves stale slots behind. Nothing before `now` is created or touched.
    Each prefecture is done in its own transaction and leaves one summary entry in its audit chain.
    """
    weeks = settings.SLOT_HORIZON_WEEKS if weeks is None else weeks
    if weeks < 1:
        raise InvalidInput("invalid_weeks", _("Give at least one week."), {"weeks": [_("At least 1.")]})
    now = now or timezone.now()
    report = GenerationReport()
    targets = [prefecture] if prefecture is not None else list(Prefecture.objects.order_by("code"))
    for target in targets:
        report.merge(_generate_for(target, start=start, weeks=weeks, now=now, actor=actor))
    return report


@dataclass
class _Plan:
    """What the catalogue opens over the window of one prefecture: read once, used to reconcile the slots
    (generation) or only to check the held ones (held_conflicts)."""

    counters: dict[int, Counter]
    windows: dict[int, _Window]
    closed: dict
    holidays: dict[datetime.date, str]
    rule_procedures: dict[int, set[int]]
    wanted: dict[tuple[int, datetime.datetime], _Wanted]


def _plan(
    prefecture: Prefecture,
    report: GenerationReport,
    *,
    start: datetime.date | None,
    weeks: int,
    now: datetime.datetime,
) -> _Plan | None:
    counters = {
        counter.pk: counter
        for counter in Counter.objects.filter(site__prefecture=prefecture).select_related("site")
    }
    windows = _windows(prefecture, counters, start=start, weeks=weeks, now=now)
    if not windows:
        return None
    report.first_day = min(window.first_day for window in windows.values())
    report.last_day = max(window.last_day for window in windows.values())

    closed, holidays = _closed_days(prefecture, report.first_day, report.last_day)
    rules = list(
        OpeningRule.objects.filter(
            counter__in=[pk for pk, c in counters.items() if c.is_active and c.site.is_active],
            valid_from__lte=report.last_day,
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=report.first_day))
        .order_by("pk")
    )
    rule_procedures: dict[int, set[int]] = defaultdict(set)
    for rule_id, procedure_id in RuleProcedure.objects.filter(
        openingrule__counter__site__prefecture=prefecture
    ).values_list("openingrule_id", "procedure_id"):
        rule_procedures[rule_id].add(procedure_id)
    wanted = _wanted_slots(rules, counters, windows, closed, holidays, now)
    return _Plan(counters, windows, closed, holidays, rule_procedures, wanted)


def _generate_for(
    prefecture: Prefecture, *, start: datetime.date | None, weeks: int, now: datetime.datetime, actor: Actor
) -> GenerationReport:
    report = GenerationReport(prefectures=[prefecture.code])
    with transaction.atomic():
        # Two runs for one prefecture (clock, admin, task) wait for each other here.
        locking.prefecture(prefecture.pk)
        prefecture = Prefecture.objects.get(pk=prefecture.pk)
        plan = _plan(prefecture, report, start=start, weeks=weeks, now=now)
        if plan is None:
            _audit(prefecture, report, actor)
            return report
        existing = _existing_slots(plan.counters, plan.windows)
        _reconcile(prefecture, report, plan, existing)
        _audit(prefecture, report, actor)
        if report.created or report.updated:
            # New capacity goes to the queue at once (after commit), not at the next periodic run.
            enqueue_allocation(prefecture.pk)
    return report


def held_conflicts(prefecture: Prefecture, *, now: datetime.datetime | None = None) -> list[SlotConflict]:
    """The held slots (offers, appointments) that the catalogue no longer opens as they are, as slot
    generation would report them now: read only, no lock, nothing written.

    A closure or shorter hours saved earlier leaves these for a person to settle; the list shrinks as
    their appointments are moved or cancelled (guichet.appointments.affected).
    """
    now = now or timezone.now()
    report = GenerationReport(prefectures=[prefecture.code])
    plan = _plan(prefecture, report, start=None, weeks=settings.SLOT_HORIZON_WEEKS, now=now)
    if plan is None:
        return []
    held = [slot for slot in _existing_slots(plan.counters, plan.windows) if slot["held"]]
    _check_held(prefecture, report, plan, held)
    return sorted(report.conflicts, key=lambda conflict: (conflict.starts_at, conflict.counter_id))


def _windows(
    prefecture: Prefecture,
    counters: dict[int, Counter],
    *,
    start: datetime.date | None,
    weeks: int,
    now: datetime.datetime,
) -> dict[int, _Window]:
    sites = {counter.site_id: counter.site for counter in counters.values()}
    furthest = dict(
        Slot.objects.filter(counter__site__prefecture=prefecture, starts_at__gte=now, rule__isnull=False)
        .values("counter__site")
        .annotate(last=Max("starts_at"))
        .values_list("counter__site", "last")
    )
    windows = {}
    for site_id, site in sites.items():
        tz = zoneinfo.ZoneInfo(site.timezone or prefecture.timezone)
        first_day = start or local_today(tz, now)
        last_day = first_day + datetime.timedelta(days=7 * weeks - 1)
        if site_id in furthest:
            last_day = max(last_day, furthest[site_id].astimezone(tz).date())
        windows[site_id] = _Window(
            tz=tz,
            first_day=first_day,
            last_day=last_day,
            since=max(now, local_midnight(first_day, tz)),
            until=local_midnight(last_day + datetime.timedelta(days=1), tz),
        )
    return windows


def _closed_days(
    prefecture: Prefecture, first: datetime.date, last: datetime.date
) -> tuple[dict[tuple[str, int], dict[datetime.date, str]], dict[datetime.date, str]]:
    """Closures by ("site"|"counter", id) → {day: reason}, and the public holidays {day: name}."""
    closed: dict[tuple[str, int], dict[datetime.date, str]] = defaultdict(dict)
    closures = Closure.objects.filter(
        Q(site__prefecture=prefecture) | Q(counter__site__prefecture=prefecture),
        start_date__lte=last,
        end_date__gte=first,
    )
    for closure in closures:
        key = ("site", closure.site_id) if closure.site_id else ("counter", closure.counter_id)
        day = max(closure.start_date, first)
        while day <= min(closure.end_date, last):
            closed[key].setdefault(day, closure.reason)
            day += datetime.timedelta(days=1)
    return closed, holidays_between(prefecture.holiday_subdivision, first, last)


def _closed_reason(
    counter: Counter,
    day: datetime.date,
    closed: dict[tuple[str, int], dict[datetime.date, str]],
    holidays: dict[datetime.date, str],
) -> tuple[str, str] | None:
    if day in holidays:
        return "holiday", _("public holiday: %(name)s") % {"name": holidays[day]}
    for key in (("site", counter.site_id), ("counter", counter.pk)):
        if day in closed.get(key, {}):
            return "closure", _("closed: %(reason)s") % {"reason": closed[key][day]}
    return None


def _wanted_slots(
    rules: list[OpeningRule],
    counters: dict[int, Counter],
    windows: dict[int, _Window],
    closed: dict,
    holidays: dict[datetime.date, str],
    now: datetime.datetime,
) -> dict[tuple[int, datetime.datetime], _Wanted]:
    """Every slot the rules open in the window: (counter id, UTC start) → end and rule."""
    wanted: dict[tuple[int, datetime.datetime], _Wanted] = {}
    for rule in rules:
        counter = counters[rule.counter_id]
        window = windows[counter.site_id]
        length = datetime.timedelta(minutes=rule.slot_minutes)
        first = max(window.first_day, rule.valid_from)
        last = min(window.last_day, rule.valid_until or window.last_day)
        for day in _days(first, last, rule.weekday):
            if _closed_reason(counter, day, closed, holidays):
                continue
            wall = datetime.datetime.combine(day, rule.start_time)
            close = datetime.datetime.combine(day, rule.end_time)
            previous_end = None
            while wall + length <= close:
                starts_at = local_to_utc(day, wall.time(), window.tz)
                if (
                    starts_at is not None
                    and starts_at >= now
                    and (previous_end is None or starts_at >= previous_end)
                ):
                    wanted.setdefault((counter.pk, starts_at), _Wanted(starts_at + length, rule.pk))
                    previous_end = starts_at + length
                wall += length
    return wanted


def _existing_slots(counters: dict[int, Counter], windows: dict[int, _Window]) -> list[dict]:
    """The slots of the window, with whether they are held, hand-made, or used by past offers."""
    if not windows:
        return []
    in_window = Q()
    for site_id, window in windows.items():
        in_window |= Q(counter__site_id=site_id, starts_at__gte=window.since, starts_at__lt=window.until)
    return list(
        Slot.objects.filter(in_window)
        .annotate(
            held=Exists(Hold.objects.filter(slot_id=OuterRef("pk"))),
            has_extra=Exists(ExtraProcedure.objects.filter(slot_id=OuterRef("pk"))),
            has_history=Exists(Offer.objects.filter(slot_id=OuterRef("pk")))
            | Exists(Appointment.objects.filter(slot_id=OuterRef("pk"))),
        )
        .values("pk", "counter_id", "starts_at", "ends_at", "rule_id", "held", "has_extra", "has_history")
        .order_by("counter_id", "starts_at")
    )


class _Taken:
    """The intervals already used at each counter, to refuse a slot that would overlap one of them."""

    def __init__(self):
        self.by_counter: dict[int, list[tuple[datetime.datetime, datetime.datetime]]] = defaultdict(list)

    def add(self, counter_id: int, starts_at: datetime.datetime, ends_at: datetime.datetime) -> None:
        bisect.insort(self.by_counter[counter_id], (starts_at, ends_at))

    def overlaps(self, counter_id: int, starts_at: datetime.datetime, ends_at: datetime.datetime) -> bool:
        intervals = self.by_counter[counter_id]
        i = bisect.bisect_left(intervals, (starts_at, starts_at))
        if i < len(intervals) and intervals[i][0] < ends_at:
            return True
        return i > 0 and intervals[i - 1][1] > starts_at


def _reconcile(prefecture: Prefecture, report: GenerationReport, plan: _Plan, existing: list[dict]) -> None:
    wanted = plan.wanted
    taken = _Taken()
    to_delete: list[int] = []
    to_retire: list[int] = []
    to_update: list[tuple[dict, _Wanted]] = []
    held: list[dict] = []
    seen: set[tuple[int, datetime.datetime]] = set()

    for slot in existing:
        key = (slot["counter_id"], slot["starts_at"])
        want = wanted.get(key)
        if want is not None:
            seen.add(key)
        if slot["held"]:
            held.append(slot)
            taken.add(slot["counter_id"], slot["starts_at"], slot["ends_at"])
        elif slot["rule_id"] is None and slot["has_extra"]:
            # Opened by hand: generation leaves it alone.
            taken.add(slot["counter_id"], slot["starts_at"], slot["ends_at"])
        elif want is None:
            if slot["rule_id"] is None and slot["has_history"]:
                continue  # already retired
            (to_retire if slot["has_history"] else to_delete).append(slot["pk"])
        elif slot["ends_at"] == want.ends_at and slot["rule_id"] == want.rule_id:
            report.unchanged += 1
            taken.add(slot["counter_id"], slot["starts_at"], slot["ends_at"])
        else:
            to_update.append((slot, want))

    _check_held(prefecture, report, plan, held)

    # Changed free slots and new slots both take their interval only if nothing kept is there.
    updates = []
    for slot, want in to_update:
        if taken.overlaps(slot["counter_id"], slot["starts_at"], want.ends_at):
            report.skipped_overlaps += 1
            if not slot["has_history"]:
                to_delete.append(slot["pk"])
            elif slot["rule_id"] is not None or slot["has_extra"]:
                to_retire.append(slot["pk"])
            continue
        taken.add(slot["counter_id"], slot["starts_at"], want.ends_at)
        updates.append(Slot(pk=slot["pk"], ends_at=want.ends_at, rule_id=want.rule_id))
    new = []
    for (counter_id, starts_at), want in sorted(wanted.items(), key=lambda item: item[0]):
        if (counter_id, starts_at) in seen:
            continue
        if taken.overlaps(counter_id, starts_at, want.ends_at):
            report.skipped_overlaps += 1
            continue
        taken.add(counter_id, starts_at, want.ends_at)
        new.append(
            Slot(counter_id=counter_id, starts_at=starts_at, ends_at=want.ends_at, rule_id=want.rule_id)
        )

    # Lock every slot about to change at once, in id order (guichet.locking), then keep those still free.
    free = _lock_free(to_delete + to_retire + [slot.pk for slot in updates])
    report.deleted += _delete_free(
        [pk for pk in to_delete if pk in free], [pk for pk in to_retire if pk in free], report
    )
    updates = [slot for slot in updates if slot.pk in free]
    if updates:
        Slot.objects.bulk_update(updates, ["ends_at", "rule"], batch_size=1000)
        report.updated += len(updates)
    if new:
        # The prefecture lock already serialises runs; ignore_conflicts is the last guard of the
        # unique (counter, starts_at) constraint should a slot have been made some other way meanwhile.
        Slot.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
        report.created += len(new)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), locking.CHUNK):
        yield ids[start : start + locking.CHUNK]


def _lock_free(slot_ids: list[int]) -> set[int]:
    """Lock these slots, then give back those still free (a hold may have come since they were read)."""
    if not slot_ids:
        return set()
    locked = locking.slots(slot_ids)
    free: set[int] = set()
    for chunk in _chunks(locked):
        free.update(
            Slot.objects.filter(pk__in=chunk)
            .filter(~Exists(Hold.objects.filter(slot_id=OuterRef("pk"))))
            .values_list("pk", flat=True)
        )
    return free


def _delete_free(to_delete: list[int], to_retire: list[int], report: GenerationReport) -> int:
    """Delete these locked free slots, or retire those an offer or appointment still refers to."""
    used: set[int] = set()
    for chunk in _chunks(to_delete):
        # A past offer or appointment may have appeared since the read: keep those slots, retired.
        used.update(
            Slot.objects.filter(pk__in=chunk)
            .filter(
                Exists(Offer.objects.filter(slot_id=OuterRef("pk")))
                | Exists(Appointment.objects.filter(slot_id=OuterRef("pk")))
            )
            .values_list("pk", flat=True)
        )
    to_retire = to_retire + [pk for pk in to_delete if pk in used]
    deletable = [pk for pk in to_delete if pk not in used]
    for chunk in _chunks(deletable):
        ExtraProcedure.objects.filter(slot_id__in=chunk).delete()
        Slot.objects.filter(pk__in=chunk).delete()
    for chunk in _chunks(to_retire):
        ExtraProcedure.objects.filter(slot_id__in=chunk).delete()
        Slot.objects.filter(pk__in=chunk).update(rule=None)
    report.retired += len(to_retire)
    return len(deletable) + len(to_retire)


def _check_held(prefecture: Prefecture, report: GenerationReport, plan: _Plan, held: list[dict]) -> None:
    """Count the held slots that still fit the rules as unchanged; report the others as conflicts."""
    if not held:
        return
    counters, windows, wanted = plan.counters, plan.windows, plan.wanted
    rule_procedures, closed, holidays = plan.rule_procedures, plan.closed, plan.holidays
    holds = {
        row["slot_id"]: row
        for row in Hold.objects.filter(slot_id__in=[slot["pk"] for slot in held]).values(
            "slot_id", "kind", "request_id", "request__procedure_id"
        )
    }
    extras: dict[int, set[int]] = defaultdict(set)
    for slot_id, procedure_id in ExtraProcedure.objects.filter(
        slot_id__in=[slot["pk"] for slot in held if slot["has_extra"]]
    ).values_list("slot_id", "procedure_id"):
        extras[slot_id].add(procedure_id)

    for slot in held:
        hold = holds.get(slot["pk"])
        if hold is None:
            continue  # released since it was read: the next run will see it free
        counter = counters[slot["counter_id"]]
        tz = windows[counter.site_id].tz
        local = slot["starts_at"].astimezone(tz)
        if slot["rule_id"] is None and slot["has_extra"]:
            report.unchanged += 1  # opened by hand for this purpose
            continue
        want = wanted.get((slot["counter_id"], slot["starts_at"]))
        problem = None
        if want is None:
            closed_reason = _closed_reason(counter, local.date(), closed, holidays)
            if closed_reason is not None:
                problem = closed_reason
            elif not (counter.is_active and counter.site.is_active):
                problem = ("counter_inactive", _("the counter or its site is no longer active"))
            else:
                problem = ("no_rule", _("no opening rule opens this slot any more"))
        elif want.ends_at != slot["ends_at"]:
            problem = (
                "times_changed",
                _("the rule now makes slots of %(minutes)s minutes at this time")
                % {"minutes": int((want.ends_at - slot["starts_at"]).total_seconds() // 60)},
            )
        elif hold["request__procedure_id"] not in rule_procedures.get(want.rule_id, set()) | extras.get(
            slot["pk"], set()
        ):
            problem = ("procedure_not_served", _("the rule no longer serves the procedure of this request"))
        if problem is None:
            report.unchanged += 1
            continue
        report.conflicts.append(
            SlotConflict(
                prefecture=prefecture.code,
                slot_id=slot["pk"],
                counter_id=counter.pk,
                counter=str(counter),
                starts_at=slot["starts_at"],
                local_start=local,
                hold_kind=hold["kind"],
                request_id=hold["request_id"],
                reason=problem[0],
                detail=str(problem[1]),
            )
        )


def _audit(prefecture: Prefecture, report: GenerationReport, actor: Actor) -> None:
    data = report.as_dict()
    data.pop("prefectures")
    record_change(
        prefecture.code, Change("capacity.slots_generated", "prefecture", prefecture.code, actor, data=data)
    )


# --- what a slot serves, and what is free ------------------------------------------------------------


def slot_procedure_ids(slot: Slot) -> frozenset[int]:
    """The procedures a slot serves: those of its rule, plus its extra procedures."""
    return procedure_ids_by_slot([slot.pk]).get(slot.pk, frozenset())


def procedure_ids_by_slot(slot_ids: Iterable[int]) -> dict[int, frozenset[int]]:
    """slot_procedure_ids for many slots in two queries (every given slot is in the answer)."""
    slot_ids = list(slot_ids)
    served: dict[int, set[int]] = {pk: set() for pk in slot_ids}
    for i in range(0, len(slot_ids), 5000):
        batch = slot_ids[i : i + 5000]
        rows = Slot.objects.filter(pk__in=batch, rule__isnull=False).values_list("pk", "rule__procedures")
        for slot_id, procedure_id in rows:
            if procedure_id is not None:
                served[slot_id].add(procedure_id)
        for slot_id, procedure_id in ExtraProcedure.objects.filter(slot_id__in=batch).values_list(
            "slot_id", "procedure_id"
        ):
            served[slot_id].add(procedure_id)
    return {pk: frozenset(ids) for pk, ids in served.items()}


def serves(procedure: Procedure | int) -> Q:
    """A filter on slots: those that serve this procedure (by their rule or as an extra slot)."""
    procedure_id = procedure.pk if isinstance(procedure, Procedure) else procedure
    return Q(
        Exists(RuleProcedure.objects.filter(openingrule_id=OuterRef("rule_id"), procedure_id=procedure_id))
    ) | Q(Exists(ExtraProcedure.objects.filter(slot_id=OuterRef("pk"), procedure_id=procedure_id)))


def free_slots_query(
    prefecture: Prefecture | None = None,
    *,
    procedure: Procedure | int | None = None,
    sites: Iterable[int] | None = None,
    after: datetime.datetime | None = None,
    before: datetime.datetime | None = None,
) -> QuerySet[Slot]:
    """Free slots (no hold) of active counters at active sites that serve something, soonest first.

    `after` defaults to now; `procedure` keeps only the slots that serve it; `sites` are site ids.
    """
    slots = Slot.objects.filter(
        starts_at__gte=after or timezone.now(), counter__is_active=True, counter__site__is_active=True
    ).filter(~Exists(Hold.objects.filter(slot_id=OuterRef("pk"))))
    if prefecture is not None:
        slots = slots.filter(counter__site__prefecture=prefecture)
    if before is not None:
        slots = slots.filter(starts_at__lt=before)
    if sites is not None:
        slots = slots.filter(counter__site_id__in=list(sites))
    if procedure is not None:
        slots = slots.filter(serves(procedure))
    else:
        slots = slots.filter(
            Q(rule__isnull=False) | Q(Exists(ExtraProcedure.objects.filter(slot_id=OuterRef("pk"))))
        )
    return slots.select_related("counter__site").order_by("starts_at", "pk")


def is_free(slot: Slot) -> bool:
    return not Hold.objects.filter(slot_id=slot.pk).exists()


# --- extra slots ---------------------------------------------------------------------------------------


def open_extra_slot(
    counter: Counter,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    procedures: Iterable[Procedure],
    actor: Actor,
    reason: str,
    *,
    now: datetime.datetime | None = None,
) -> Slot:
    """Open one slot outside the opening rules (for example to execute a court order), audited.

    Naive times are read as wall-clock times at the counter's site. The slot serves exactly the given
    procedures; slot generation never changes or deletes it.
    """
    now = now or timezone.now()
    procedures = list(procedures)
    tz = counter.site.tzinfo
    if starts_at is not None and timezone.is_naive(starts_at):
        starts_at = starts_at.replace(tzinfo=tz)
    if ends_at is not None and timezone.is_naive(ends_at):
        ends_at = ends_at.replace(tzinfo=tz)
    errors: dict[str, list[str]] = {}
    if starts_at is None:
        errors["starts_at"] = [_("Give the start of the slot.")]
    elif starts_at <= now:
        errors["starts_at"] = [_("The slot must start in the future.")]
    if ends_at is None:
        errors["ends_at"] = [_("Give the end of the slot.")]
    elif starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = [_("The slot must end after it starts.")]
    if not (counter.is_active and counter.site.is_active):
        errors["counter"] = [_("This counter or its site is not active.")]
    if not procedures:
        errors["procedures"] = [_("Choose at least one procedure for this slot.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Say why this slot is opened (for example the court order it executes).")]
    foreign = [p.name for p in procedures if p.prefecture_id != counter.site.prefecture_id]
    if foreign:
        errors.setdefault("procedures", []).append(
            _("“%(names)s” belong to another prefecture.") % {"names": "”, “".join(foreign)}
        )
    if "starts_at" not in errors and "ends_at" not in errors:
        minutes = (ends_at - starts_at).total_seconds() / 60
        too_long = [p for p in procedures if p.duration_minutes > minutes]
        for procedure in too_long:
            errors.setdefault("ends_at", []).append(
                _("“%(name)s” takes %(duration)s minutes: the slot is shorter.")
                % {"name": procedure.name, "duration": procedure.duration_minutes}
            )
    if errors:
        raise InvalidInput("invalid_extra_slot", _("The extra slot cannot be opened as it is."), errors)

    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    with transaction.atomic():
        locking.prefecture(counter.site.prefecture_id)
        prefecture = Prefecture.objects.get(pk=counter.site.prefecture_id)
        nearby = Slot.objects.filter(counter=counter, starts_at__lt=ends_at, ends_at__gt=starts_at)
        locking.slots(nearby.values_list("pk", flat=True))
        overlapping = nearby.order_by("starts_at")
        reuse = None
        for other in overlapping:
            retired = (
                other.rule_id is None
                and not ExtraProcedure.objects.filter(slot_id=other.pk).exists()
                and not Hold.objects.filter(slot_id=other.pk).exists()
            )
            if retired and other.starts_at == starts_at:
                reuse = other  # a retired slot keeps the (counter, start) key: bring it back
            elif not retired:
                local = other.starts_at.astimezone(tz)
                raise Conflict(
                    "slot_overlap",
                    _("Counter “%(counter)s” already has a slot at %(time)s that overlaps this one.")
                    % {"counter": counter, "time": local.strftime("%Y-%m-%d %H:%M")},
                    {"starts_at": [_("Choose a time when the counter has no slot.")]},
                )
        if reuse is not None:
            reuse.ends_at = ends_at
            reuse.save(update_fields=["ends_at"])
            slot = reuse
        else:
            slot = Slot.objects.create(counter=counter, starts_at=starts_at, ends_at=ends_at, rule=None)
        slot.extra_procedures.set(procedures)
        record_change(
            prefecture.code,
            Change(
                "capacity.extra_slot_opened",
                "slot",
                str(slot.pk),
                actor,
                data={
                    "counter": counter.pk,
                    "starts_at": starts_at.isoformat(),
                    "ends_at": ends_at.isoformat(),
                    "procedures": sorted(p.pk for p in procedures),
                    "reason": reason.strip(),
                },
            ),
        )
    return slot
