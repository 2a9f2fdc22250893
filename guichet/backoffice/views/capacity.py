"""Capacity planning for managers: the projected wait of each procedure over the next 12 weeks, and a
what-if with more or fewer slots a week (capacity/projection.py). A closure or a new counter is tried in the
catalogue editor, whose preview shows the projection after the change."""

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from guichet.accounts.models import Role
from guichet.capacity.projection import HISTORY_WEEKS, PROJECTION_WEEKS, projections
from guichet.catalog.models import Procedure

from ..decorators import prefecture_role


class WhatIfForm(forms.Form):
    procedure = forms.ModelChoiceField(label=_("Procedure"), queryset=Procedure.objects.none())
    slots_per_week = forms.IntegerField(
        label=_("Slots a week to add (negative: to remove)"), min_value=-2000, max_value=2000
    )

    def __init__(self, *args, prefecture, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["procedure"].queryset = Procedure.objects.filter(prefecture=prefecture, is_active=True)


@prefecture_role(Role.MANAGER)
def planning(request, prefecture):
    form = WhatIfForm(request.GET or None, prefecture=prefecture)
    extra = {}
    if form.is_valid():
        extra = {form.cleaned_data["procedure"].pk: form.cleaned_data["slots_per_week"]}
    current = projections(prefecture)
    tried = projections(prefecture, extra_slots_per_week=extra) if extra else None
    rows = [{"now": now, "tried": tried[index] if tried else None} for index, now in enumerate(current)]
    return render(
        request,
        "backoffice/capacity.html",
        {
            "prefecture": prefecture,
            "rows": rows,
            "weeks": current[0].weeks if current else (),
            "form": form,
            "tried": tried is not None,
            "projection_weeks": PROJECTION_WEEKS,
            "history_weeks": HISTORY_WEEKS,
            "alerts": [projection for projection in current if projection.over_target],
        },
        status=400 if form.errors else 200,
    )
