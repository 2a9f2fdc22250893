"""The catalogue editor: a manager's sites, counters, procedures, opening rules (as a week grid) and
closures, scoped to their prefecture.

Every change is first previewed (the slots it makes and removes, the held slots left in conflict), then
saved, by the same service as the Django admin (guichet/catalog/editing.py).
"""

from django.contrib import messages
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from guichet.accounts.models import Role
from guichet.accounts.permissions import actor_for
from guichet.catalog import editing
from guichet.catalog.feedback import report_to_messages
from guichet.catalog.forms import scoped_form
from guichet.catalog.models import Closure, Counter, OpeningRule, Procedure, Site

from ..decorators import prefecture_role

# The objects of one prefecture, per kind of catalogue object.
_OBJECTS = {
    "site": lambda prefecture: Site.objects.filter(prefecture=prefecture),
    "counter": lambda prefecture: Counter.objects.filter(site__prefecture=prefecture).select_related("site"),
    "procedure": lambda prefecture: Procedure.objects.filter(prefecture=prefecture),
    "rule": lambda prefecture: OpeningRule.objects.filter(
        counter__site__prefecture=prefecture
    ).select_related("counter__site"),
    "closure": lambda prefecture: (
        Closure.objects.filter(site__prefecture=prefecture)
        | Closure.objects.filter(counter__site__prefecture=prefecture)
    ),
}

# Shown in the preview; the count of the rest is given.
SHOWN_SLOTS = 40


def _titles() -> dict[str, tuple[str, str]]:
    """(new, change) page titles per kind."""
    return {
        "site": (_("New site"), _("Site")),
        "counter": (_("New counter"), _("Counter")),
        "procedure": (_("New procedure"), _("Procedure")),
        "rule": (_("New opening rule"), _("Opening rule")),
        "closure": (_("New closure"), _("Closure")),
    }


def _object(kind: str, prefecture, object_id: int):
    if kind not in _OBJECTS:
        raise Http404
    found = _OBJECTS[kind](prefecture).filter(pk=object_id).first()
    if found is None:
        raise Http404
    return found


def week_grid(prefecture, today) -> list[dict]:
    """One row per counter, one cell per weekday, with the opening rules in force today or later."""
    rules = (
        _OBJECTS["rule"](prefecture)
        .exclude(valid_until__lt=today)
        .prefetch_related("procedures")
        .order_by("start_time", "valid_from")
    )
    by_counter: dict[int, list[list]] = {}
    for rule in rules:
        by_counter.setdefault(rule.counter_id, [[] for _day in range(7)])[rule.weekday].append(rule)
    counters = _OBJECTS["counter"](prefecture).order_by("site__name", "name")
    return [
        {"counter": counter, "days": by_counter.get(counter.pk, [[] for _day in range(7)])}
        for counter in counters
    ]


def _after_change(request, prefecture, reports):
    """After a save: the slots brought in line; when people hold slots the catalogue no longer opens, their
    list (with the actions to move them), otherwise the catalogue."""
    for report in reports:
        report_to_messages(request, report, listed=True)
    if any(report.conflicts for report in reports):
        return redirect("backoffice:affected", code=prefecture.code)
    return redirect("backoffice:catalogue", code=prefecture.code)


@prefecture_role(Role.MANAGER)
def catalogue(request, prefecture):
    today = timezone.localdate()
    return render(
        request,
        "backoffice/catalogue.html",
        {
            "prefecture": prefecture,
            "sites": _OBJECTS["site"](prefecture).order_by("name"),
            "counters": _OBJECTS["counter"](prefecture).order_by("site__name", "name"),
            "procedures": _OBJECTS["procedure"](prefecture).order_by("name"),
            "weekdays": OpeningRule.Weekday.labels,
            "grid": week_grid(prefecture, today),
            "closures": _OBJECTS["closure"](prefecture).exclude(end_date__lt=today).order_by("start_date"),
        },
    )


@prefecture_role(Role.MANAGER)
@require_http_methods(["GET", "POST"])
def edit(request, prefecture, kind, object_id=None):
    instance = _object(kind, prefecture, object_id) if object_id is not None else None
    if kind not in _OBJECTS:
        raise Http404
    # Named as it stands: validating the form writes the typed values into the instance.
    stored = str(instance) if instance is not None else ""
    form = scoped_form(kind, prefecture, data=request.POST or None, instance=instance)
    effect = None
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        actor = actor_for(request.user)
        if "save" in request.POST:
            reports = editing.save(obj, actor=actor, changed_fields=form.changed_data, save_m2m=form.save_m2m)
            messages.success(request, _("Saved: %(object)s.") % {"object": obj})
            return _after_change(request, prefecture, reports)
        effect = editing.preview_save(
            obj, actor=actor, changed_fields=form.changed_data, save_m2m=form.save_m2m
        )
    new_title, change_title = _titles()[kind]
    return render(
        request,
        "backoffice/catalogue_form.html",
        {
            "prefecture": prefecture,
            "kind": kind,
            "form": form,
            "instance": instance,
            "stored": stored,
            "title": new_title if instance is None else change_title,
            "effect": effect,
            "shown": SHOWN_SLOTS,
            "previewed": effect is not None,
        },
        status=400 if request.method == "POST" and form.errors else 200,
    )


@prefecture_role(Role.MANAGER)
@require_POST
def delete(request, prefecture, kind, object_id):
    instance = _object(kind, prefecture, object_id)
    actor = actor_for(request.user)
    label = str(instance)
    try:
        if "confirm" in request.POST:
            reports = editing.delete([instance], actor=actor)
            messages.success(request, _("Deleted: %(object)s.") % {"object": label})
            return _after_change(request, prefecture, reports)
        effect = editing.preview_save(instance, actor=actor, changed_fields=[], delete_it=True)
    except (ProtectedError, RestrictedError):
        # Requests, slots or appointments still refer to it: their history must stay whole.
        messages.error(
            request,
            _("%(object)s cannot be deleted: requests or slots refer to it. Deactivate it instead.")
            % {"object": label},
        )
        return redirect("backoffice:catalogue_edit", code=prefecture.code, kind=kind, object_id=instance.pk)
    return render(
        request,
        "backoffice/catalogue_delete.html",
        {
            "prefecture": prefecture,
            "kind": kind,
            "instance": instance,
            "effect": effect,
            "shown": SHOWN_SLOTS,
        },
    )
