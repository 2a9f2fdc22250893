"""Forms of reception and of the counter: what the agent types, checked before any service is called."""

from django import forms
from django.utils.translation import gettext_lazy as _

from guichet.backoffice.forms import reason_field

from .models import DecisionOutcome


class ScanForm(forms.Form):
    scan = forms.CharField(
        label=_("Scan the convocation, or type its reference"),
        max_length=500,
        help_text=_("A scanner types the code's text here and presses Enter."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}),
    )


class WalkInForm(forms.Form):
    reference = forms.CharField(
        label=_("Reference of the request"),
        max_length=500,
        help_text=_("For an open-mode procedure (card collection…): the earliest free slot of today here."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    identity_checked = forms.BooleanField(
        label=_("I have checked the identity against the document shown"), required=True
    )


class IdentitySearchForm(forms.Form):
    names = forms.CharField(label=_("Names"), max_length=200)
    birth_date = forms.DateField(label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"}))


class MismatchForm(forms.Form):
    reason = reason_field(_("What does not match"))


class CounterChoiceForm(forms.Form):
    counter = forms.TypedChoiceField(label=_("Send to counter"), coerce=int)

    def __init__(self, *args, counters=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["counter"].choices = [(c.pk, c.name) for c in counters]


class MissingDocumentsForm(forms.Form):
    missing = forms.MultipleChoiceField(
        label=_("Missing documents"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("From the list the person was given."),
    )

    def __init__(self, *args, documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["missing"].choices = [(d, d) for d in documents]


class RefuseForm(forms.Form):
    reason = reason_field(_("Why the file cannot be received"))


class ProlongationForm(forms.Form):
    months = forms.TypedChoiceField(
        label=_("Length"),
        coerce=int,
        choices=[(1, _("1 month")), (2, _("2 months")), (3, _("3 months"))],
        initial=3,
    )


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Decision"), choices=DecisionOutcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Reason or what is asked"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for a refusal or a request for more information: the person reads it."),
    )


class IdentityChangeForm(forms.Form):
    family_names = forms.CharField(label=_("Family names"), max_length=150)
    given_names = forms.CharField(label=_("Given names"), max_length=150, required=False)
    birth_date = forms.DateField(label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = reason_field()


class DayForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
