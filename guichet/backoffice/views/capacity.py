"""Capacity planning for managers: the projected wait of each procedure over the next 12 weeks, and a
what-if: more or fewer slots a week, a closure of every site, a new counter (capacity/projection.py)."""

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from guichet.accounts.models import Role
from guichet.capacity.projection import HISTORY_WEEKS, PROJECTION_WEEKS, NewCounter, closure_days, projections
from guichet.catalog.models import Procedure

from ..decorators import prefecture_role


class WhatIfForm(forms.Form):
    """Any of three what-ifs, alone or together: slots a week more or fewer for one procedure, a closure of
    every site between two dates, a new counter (hours a week, slot length, procedures)."""

    procedure = forms.ModelChoiceField(
        label=_("Procedure"), queryset=Procedure.objects.none(), required=False
    )
    slots_per_week = forms.IntegerField(
        label=_("Slots a week to add (negative: to remove)"), min_value=-2000, max_value=2000, required=False
    )
    closed_from = forms.DateField(
        label=_("Every site closed from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    closed_until = forms.DateField(
        label=_("until (included)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    counter_hours = forms.DecimalField(
        label=_("A new counter open, hours a week"),
        min_value=0.5,
        max_value=60,
        decimal_places=1,
        required=False,
    )
    counter_slot_minutes = forms.IntegerField(
        label=_("its slots, in minutes"), min_value=5, max_value=240, initial=20, required=False
    )
    counter_procedures = forms.ModelMultipleChoiceField(
        label=_("its procedures"),
        queryset=Procedure.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, prefecture, **kwargs):
        super().__init__(*args, **kwargs)
        procedures = Procedure.objects.filter(prefecture=prefecture, is_active=True)
        self.fields["procedure"].queryset = procedures
        self.fields["counter_procedures"].queryset = procedures

    def clean(self):
        data = super().clean()
        if (data.get("procedure") is None) != (data.get("slots_per_week") in (None, 0)):
            self.add_error("slots_per_week", _("Give both the procedure and the number of slots a week."))
        start, end = data.get("closed_from"), data.get("closed_until")
        if (start is None) != (end is None):
            self.add_error("closed_until", _("Give both dates of the closure."))
        elif start and end and end < start:
            self.add_error("closed_until", _("The closure ends before it starts."))
        elif start and end and (end - start).days > 7 * PROJECTION_WEEKS:
            self.add_error("closed_until", _("The projection covers 12 weeks: choose a shorter closure."))
        if data.get("counter_hours") and not data.get("counter_procedures"):
            self.add_error("counter_procedures", _("Choose the procedures the new counter would serve."))
        if data.get("counter_procedures") and not data.get("counter_hours"):
            self.add_error("counter_hours", _("Give the hours a week the new counter would be open."))
        return data

    def what_if(self) -> dict:
        """The keyword arguments of `projections` for this what-if (empty: nothing to try)."""
        data = self.cleaned_data
        tried: dict = {}
        if data.get("procedure") is not None and data.get("slots_per_week"):
            tried["extra_slots_per_week"] = {data["procedure"].pk: data["slots_per_week"]}
        if data.get("closed_from") and data.get("closed_until"):
            tried["also_closed"] = closure_days(data["closed_from"], data["closed_until"])
        if data.get("counter_hours") and data.get("counter_procedures"):
            tried["new_counter"] = NewCounter(
                hours_per_week=float(data["counter_hours"]),
                slot_minutes=data.get("counter_slot_minutes") or 20,
                procedure_ids=tuple(p.pk for p in data["counter_procedures"]),
            )
        return tried


def _shown(projection) -> list:
    return [(week.wait_days, week.queue) for week in projection.weeks]


@prefecture_role(Role.MANAGER)
def planning(request, prefecture):
    form = WhatIfForm(request.GET or None, prefecture=prefecture)
    what_if = form.what_if() if form.is_valid() else {}
    current = projections(prefecture)
    tried = projections(prefecture, **what_if) if what_if else None
    rows = [
        {
            "now": now,
            # Only the procedures whose waits or queue the what-if changes: the others would be noise.
            "tried": tried[index] if tried and _shown(tried[index]) != _shown(now) else None,
        }
        for index, now in enumerate(current)
    ]
    return render(
        request,
        "backoffice/capacity.html",
        {
            "prefecture": prefecture,
            "rows": rows,
            "weeks": current[0].weeks if current else (),
            "form": form,
            "tried": tried is not None,
            "what_if": what_if,
            "projection_weeks": PROJECTION_WEEKS,
            "history_weeks": HISTORY_WEEKS,
            "alerts": [projection for projection in current if projection.over_target],
        },
        status=400 if form.errors else 200,
    )
