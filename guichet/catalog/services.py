"""Catalogue services: the checks a catalogue change must pass, and its audit entry.

The Django admin (and any later manager page) validates through `rule_procedure_errors` and records
every saved or deleted catalogue object with `audit_catalog_change`, in the transaction of the change.
"""

import datetime
import decimal
from collections.abc import Iterable

from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guichet.evidence.audit import Actor, Change
from guichet.evidence.services import record_change

from . import cached
from .models import ChecklistVersion, Closure, Counter, OpeningRule, Prefecture, Procedure, Site

CatalogObject = Prefecture | Site | Counter | Procedure | OpeningRule | Closure


def prefecture_of(obj: CatalogObject) -> Prefecture:
    """The prefecture whose audit chain records a change of this object."""
    if isinstance(obj, Prefecture):
        return obj
    if isinstance(obj, Site | Procedure):
        return obj.prefecture
    if isinstance(obj, Counter):
        return obj.site.prefecture
    if isinstance(obj, OpeningRule):
        return obj.counter.site.prefecture
    if isinstance(obj, Closure):
        return obj.prefecture
    raise TypeError(f"not a catalogue object: {obj!r}")


def rule_procedure_errors(
    counter: Counter | None, slot_minutes: int | None, procedures: Iterable[Procedure]
) -> dict[str, list[str]]:
    """What is wrong with the procedures of an opening rule, by field (empty when nothing is).

    Many-to-many values are not on the instance when Model.clean runs, so forms call this with the
    chosen procedures before anything is saved.
    """
    errors: dict[str, list[str]] = {}
    procedures = list(procedures)
    if counter is not None:
        foreign = [p for p in procedures if p.prefecture_id != counter.site.prefecture_id]
        if foreign:
            errors.setdefault("procedures", []).append(
                _("“%(names)s” belong to another prefecture than the counter “%(counter)s”.")
                % {"names": "”, “".join(p.name for p in foreign), "counter": counter}
            )
    if slot_minutes:
        for procedure in sorted(procedures, key=lambda p: (-p.duration_minutes, p.name)):
            if procedure.duration_minutes > slot_minutes:
                errors.setdefault("slot_minutes", []).append(
                    _(
                        "Slots of %(slot)s minutes are too short for “%(name)s”, which takes %(duration)s "
                        "minutes: make the slots at least %(duration)s minutes long or remove that procedure."
                    )
                    % {"slot": slot_minutes, "name": procedure.name, "duration": procedure.duration_minutes}
                )
    return errors


def _json_value(value):
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.date | datetime.time | datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def snapshot(obj: CatalogObject, fields: Iterable[str] | None = None) -> dict:
    """The values of an object's fields (foreign keys and many-to-many as ids), ready for JSON."""
    values = {}
    for field in obj._meta.concrete_fields:
        if fields is not None and field.name not in fields:
            continue
        values[field.name] = _json_value(getattr(obj, field.attname))
    for field in obj._meta.many_to_many:
        if fields is not None and field.name not in fields:
            continue
        if obj.pk is not None:
            values[field.name] = sorted(getattr(obj, field.name).values_list("pk", flat=True))
    return values


def catalog_change(
    obj: CatalogObject, action: str, actor: Actor, changed_fields: Iterable[str] | None = None
) -> tuple[str, Change]:
    """The audit chain and entry for a catalogue object created, changed or deleted.

    `action` is "created", "changed" or "deleted"; a change records the new values of the changed
    fields, a creation and a deletion the whole object. Build it before a deletion (the object loses
    its id), write it with record_change after the last other lock of the transaction.
    """
    if action not in {"created", "changed", "deleted"}:
        raise ValueError(f"unknown catalogue action {action!r}")
    fields = None if action != "changed" else list(changed_fields or [])
    return prefecture_of(obj).code, Change(
        action=f"catalog.{obj._meta.model_name}.{action}",
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        actor=actor,
        data={"label": str(obj), "values": snapshot(obj, fields)},
    )


def audit_catalog_change(
    obj: CatalogObject, action: str, actor: Actor, changed_fields: Iterable[str] | None = None
) -> None:
    """Record a catalogue change in its prefecture's chain, inside the transaction of the change."""
    record_change(*catalog_change(obj, action, actor, changed_fields))


# --- lists of documents (R17) -------------------------------------------------------------------------------


def published_checklist(procedure: Procedure) -> ChecklistVersion | None:
    """The published version of the list `procedure.documents` holds, without publishing anything (None
    when the list was changed outside the admin and not published yet: intake publishes it)."""
    latest = cached.latest_checklist(procedure.pk)
    return latest if latest is not None and latest.documents == list(procedure.documents or []) else None


def current_checklist(procedure: Procedure, *, at: datetime.datetime | None = None) -> ChecklistVersion:
    """The version of the procedure's list of documents in force: the latest one, or a new version when
    `procedure.documents` no longer says what the latest says (the list was changed). Safe when two
    transactions publish at once: the database keeps one version per number, and the loser reads it."""
    documents = list(procedure.documents or [])
    for attempt in range(3):
        # First from the process's copy (the version of nearly every filing), then from the database.
        latest = (
            cached.latest_checklist(procedure.pk)
            if attempt == 0
            else procedure.checklist_versions.order_by("-number").first()
        )
        if latest is not None and latest.documents == documents:
            return latest
        try:
            with transaction.atomic():
                return ChecklistVersion.objects.create(
                    procedure=procedure,
                    number=(latest.number + 1) if latest else 1,
                    documents=documents,
                    published_at=at or timezone.now(),
                )
        except IntegrityError:
            continue  # published meanwhile by another transaction: read it again
    raise RuntimeError(f"could not publish the list of documents of {procedure}")
