"""Saving and deleting catalogue objects: one service for the back office's catalogue editor and the
Django admin.

A save runs in one transaction: the object (and its many-to-many values), a new published version of a
procedure's list of documents when it changed (R17), the prefecture's slots brought in line with the new
catalogue (when the change can affect them), and the audit entry. Either everything or nothing.

`preview_save` makes the same save and rolls it back, and says which slots it would make and remove and
which held slots (offers, appointments) it would leave in conflict, with who holds them
(guichet.appointments.affected): the manager sees the effect before it is saved, computed by the very code
that saves it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from guichet.appointments.affected import Affected, describe
from guichet.capacity.models import Slot
from guichet.capacity.projection import projections
from guichet.capacity.services import GenerationReport, SlotConflict, generate_slots
from guichet.evidence.audit import Actor
from guichet.evidence.services import record_change

from .models import Closure, Counter, OpeningRule, Prefecture, Procedure, Site
from .services import CatalogObject, audit_catalog_change, catalog_change, current_checklist, prefecture_of

# The fields whose change can change the slots; None: any change, creation or deletion can.
SLOT_FIELDS: dict[type, set[str] | None] = {
    Prefecture: {"timezone", "holiday_subdivision"},
    Site: {"is_active", "timezone"},
    Counter: {"is_active"},
    Procedure: set(),
    OpeningRule: None,
    Closure: None,
}


def affects_slots(model: type, created: bool, changed_fields: Iterable[str]) -> bool:
    fields = SLOT_FIELDS[model]
    if fields is None:
        return True
    return not created and bool(fields & set(changed_fields))


@dataclass(frozen=True)
class SlotLine:
    """One slot as a person reads it: counter, local start and end."""

    counter: str
    starts_at: datetime.datetime  # in the site's time zone
    ends_at: datetime.datetime


@dataclass(frozen=True)
class WaitChange:
    """A procedure's longest projected wait (capacity/projection.py) before and after a change."""

    procedure: str
    target_days: int
    before: int | None  # days; None: no supply while people wait
    after: int | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class SlotsEffect:
    """What a catalogue change does to the slots, and to the projected waits."""

    made: list[SlotLine] = field(default_factory=list)
    removed: list[SlotLine] = field(default_factory=list)
    conflicts: list[SlotConflict] = field(default_factory=list)
    # Who holds the conflicting slots: the people the change would leave on a slot it no longer opens.
    affected: list[Affected] = field(default_factory=list)
    waits: list[WaitChange] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.made or self.removed or self.conflicts)


def save(
    obj: CatalogObject,
    *,
    actor: Actor,
    changed_fields: Iterable[str],
    save_m2m: Callable[[], None] | None = None,
) -> list[GenerationReport]:
    """Save a validated catalogue object (a ModelForm's instance after save(commit=False), with the form's
    save_m2m), bring the slots in line and audit it; returns the slot generation reports."""
    changed_fields = list(changed_fields)
    created = obj.pk is None
    with transaction.atomic():
        prefectures = {}
        if not created:
            # A rule or closure moved to another counter or site leaves the old prefecture's slots to redo.
            previous = prefecture_of(type(obj).objects.get(pk=obj.pk))
            prefectures[previous.pk] = previous
        obj.save()
        if save_m2m is not None:
            save_m2m()
        if isinstance(obj, Procedure):
            current_checklist(obj)
        current = prefecture_of(obj)
        prefectures[current.pk] = current
        reports = []
        # Slots first: generation locks the prefecture row, and the audit chain head is always locked last.
        if affects_slots(type(obj), created, changed_fields):
            for pk in sorted(prefectures):
                reports.append(generate_slots(prefectures[pk], actor=actor))
        audit_catalog_change(obj, "created" if created else "changed", actor, changed_fields)
    return reports


def delete(objects: Iterable[CatalogObject], *, actor: Actor) -> list[GenerationReport]:
    """Delete catalogue objects (of one model), bring the slots in line and audit each deletion."""
    objects = list(objects)
    if not objects:
        return []
    model = type(objects[0])
    with transaction.atomic():
        entries = [catalog_change(obj, "deleted", actor) for obj in objects]
        prefectures = {prefecture_of(obj).pk: prefecture_of(obj) for obj in objects}
        model.objects.filter(pk__in=[obj.pk for obj in objects]).delete()
        reports = []
        if SLOT_FIELDS[model] is None:
            for pk in sorted(prefectures):
                reports.append(generate_slots(prefectures[pk], actor=actor))
        for chain, entry in entries:
            record_change(chain, entry)
    return reports


class _Rollback(Exception):
    """Leaves a preview's transaction, undoing it."""


def _slot_lines(prefecture: Prefecture, since: datetime.datetime) -> dict[tuple, SlotLine]:
    lines = {}
    slots = Slot.objects.filter(counter__site__prefecture=prefecture, starts_at__gte=since).select_related(
        "counter__site"
    )
    for slot in slots:
        tz = slot.counter.site.tzinfo
        lines[(slot.counter_id, slot.starts_at, slot.ends_at, slot.rule_id)] = SlotLine(
            counter=str(slot.counter),
            starts_at=slot.starts_at.astimezone(tz),
            ends_at=slot.ends_at.astimezone(tz),
        )
    return lines


def preview_save(
    obj: CatalogObject,
    *,
    actor: Actor,
    changed_fields: Iterable[str],
    save_m2m: Callable[[], None] | None = None,
    delete_it: bool = False,
) -> SlotsEffect:
    """What `save` (or, with delete_it, `delete`) would do to the slots, without keeping anything."""
    was_new = obj.pk is None
    now = timezone.now()
    effect = SlotsEffect()
    prefecture = prefecture_of(obj)
    try:
        with transaction.atomic():
            before = _slot_lines(prefecture, now)
            waits_before = {p.inputs.procedure_id: p for p in projections(prefecture, now=now)}
            if delete_it:
                reports = delete([obj], actor=actor)
            else:
                reports = save(obj, actor=actor, changed_fields=changed_fields, save_m2m=save_m2m)
            after = _slot_lines(prefecture, now)
            effect.made = sorted((after[key] for key in after.keys() - before.keys()), key=_order)
            effect.removed = sorted((before[key] for key in before.keys() - after.keys()), key=_order)
            effect.conflicts = [conflict for report in reports for conflict in report.conflicts]
            effect.affected = describe(effect.conflicts)
            for after_change in projections(prefecture, now=now):
                previous = waits_before.get(after_change.inputs.procedure_id)
                effect.waits.append(
                    WaitChange(
                        procedure=after_change.inputs.name,
                        target_days=after_change.inputs.target_wait_days,
                        before=previous.worst_wait_days if previous is not None else None,
                        after=after_change.worst_wait_days,
                    )
                )
            raise _Rollback
    except _Rollback:
        pass
    if was_new:
        # The rolled-back insert gave the object an id that no longer exists.
        obj.pk = None
        obj._state.adding = True
    return effect


def _order(line: SlotLine) -> tuple:
    return (line.starts_at, line.counter)
