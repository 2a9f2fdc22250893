"""Forms of the evidence pages. They parse input only; the services validate and decide."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guichet.catalog.models import Counter

from .signing import MAX_TOKEN_LENGTH


class VerifyForm(forms.Form):
    t = forms.CharField(
        label=_("Proof to check"),
        help_text=_("Paste the proof (the long text that starts with “ey”) or the address of the QR code."),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"}),
        # The service says "too long" in plain words; the form only stops absurd sizes.
        max_length=MAX_TOKEN_LENGTH * 4,
        strip=False,
    )


class CourtOrderForm(forms.Form):
    tribunal = forms.CharField(label=_("Tribunal"), max_length=200)
    case_number = forms.CharField(label=_("Case number"), max_length=100)
    ordered_on = forms.DateField(label=_("Date of the order"), widget=forms.DateInput(attrs={"type": "date"}))
    notified_on = forms.DateField(label=_("Date notified"), widget=forms.DateInput(attrs={"type": "date"}))
    convoke_by = forms.DateField(
        label=_("Convoke by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    appointment_by = forms.DateField(
        label=_("Appointment by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    penalty_per_day = forms.DecimalField(
        label=_("Penalty per day of delay (EUR)"), required=False, max_digits=12, decimal_places=4
    )


class ExtraSlotForm(forms.Form):
    counter = forms.ModelChoiceField(label=_("Counter"), queryset=Counter.objects.none())
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}))
    minutes = forms.IntegerField(label=_("Length in minutes"), min_value=5, max_value=240)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

    def __init__(self, *args, counters=None, default_minutes: int = 20, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counter"].queryset = counters if counters is not None else Counter.objects.none()
        self.fields["minutes"].initial = default_minutes

    def starts_at(self) -> datetime.datetime:
        counter = self.cleaned_data["counter"]
        naive = datetime.datetime.combine(self.cleaned_data["day"], self.cleaned_data["start"])
        return timezone.make_aware(naive, counter.site.tzinfo)

    def ends_at(self) -> datetime.datetime:
        return self.starts_at() + datetime.timedelta(minutes=self.cleaned_data["minutes"])


class ResolveAlertForm(forms.Form):
    resolution = forms.CharField(label=_("What was done"), max_length=1000)


class CaseEndForm(forms.Form):
    ended_on = forms.DateField(
        label=_("The case ended on"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )
