"""The intake form for HTML pages. It only renders and collects: `validate_intake` decides, as for the API.

Fields are deliberately lenient (no per-field validation of their own) so that every message comes from the
one validation, once, in the page's language.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from guichet.catalog.models import OpeningRule, Prefecture, Procedure, Site
from guichet.errors import InvalidInput
from guichet.forms import apply_domain_error

from .countries import country_choices
from .models import Channel
from .validation import (
    EMAIL_MAX_LENGTH,
    NAME_MAX_LENGTH,
    PHONE_MAX_LENGTH,
    STAFF_CHANNELS,
    TEXT_MAX_LENGTH,
    ContactData,
    IntakeData,
    validate_contact,
    validate_intake,
)


def _site_label(site: Site):
    """The place as the form lists it: whether it has step-free access matters to whoever needs it."""
    if site.step_free:
        return format_lazy(_("{name} ({city}), step-free access"), name=site.name, city=site.city)
    return f"{site.name} ({site.city})"


# Languages people most often ask an interpreter for at French prefectures; any other code is accepted.
INTERPRETER_LANGUAGES = [
    ("ar", _("Arabic")),
    ("en", _("English")),
    ("es", _("Spanish")),
    ("pt", _("Portuguese")),
    ("ru", _("Russian")),
    ("uk", _("Ukrainian")),
    ("tr", _("Turkish")),
    ("zh", _("Chinese")),
    ("fa", _("Persian (Farsi, Dari)")),
    ("ps", _("Pashto")),
    ("ur", _("Urdu")),
    ("bn", _("Bengali")),
    ("ta", _("Tamil")),
    ("hi", _("Hindi")),
    ("pa", _("Punjabi")),
    ("ku", _("Kurdish")),
    ("ka", _("Georgian")),
    ("hy", _("Armenian")),
    ("sq", _("Albanian")),
    ("ro", _("Romanian")),
    ("so", _("Somali")),
    ("ti", _("Tigrinya")),
    ("am", _("Amharic")),
    ("wo", _("Wolof")),
    ("bm", _("Bambara")),
    ("ln", _("Lingala")),
    ("sw", _("Swahili")),
    ("vi", _("Vietnamese")),
    ("tl", _("Tagalog")),
    ("ht", _("Haitian Creole")),
]


class _LenientChoiceField(forms.ChoiceField):
    """Renders choices; leaves the decision to validate_intake."""

    def validate(self, value: Any) -> None:
        return None


class _LenientMultipleChoiceField(forms.MultipleChoiceField):
    def validate(self, value: Any) -> None:
        return None


def _text_input(max_length: int, **attrs: Any) -> forms.TextInput:
    return forms.TextInput(attrs={"maxlength": max_length, **attrs})


def _date_input(**attrs: Any) -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date", **attrs})


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "maxlength": TEXT_MAX_LENGTH})


class IntakeForm(forms.Form):
    """Demande de rendez-vous. After `is_valid()`, `form.intake` holds the IntakeData to file."""

    procedure = _LenientChoiceField(label=_("Procedure"), required=False)
    sites = _LenientMultipleChoiceField(
        label=_("Where can you go?"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave every box empty if any site suits you: you will be offered a slot sooner."),
    )
    family_names = forms.CharField(
        label=_("Family names"),
        required=False,
        widget=_text_input(NAME_MAX_LENGTH, autocomplete="family-name", required=True),
        help_text=_("As written on your passport or permit, in any alphabet."),
    )
    given_names = forms.CharField(
        label=_("Given names"),
        required=False,
        widget=_text_input(NAME_MAX_LENGTH, autocomplete="given-name"),
        help_text=_("Leave empty if you have none."),
    )
    birth_date = forms.CharField(
        label=_("Birth date"), required=False, widget=_date_input(autocomplete="bday", required=True)
    )
    nationality = _LenientChoiceField(label=_("Nationality"), required=False)
    foreign_national_number = forms.CharField(
        label=_("Foreign national number (optional)"),
        required=False,
        widget=_text_input(14, inputmode="numeric", autocomplete="off"),
        help_text=_("The 10 digits printed on your residence permit or receipt, if you have one."),
    )
    passport_number = forms.CharField(
        label=_("Passport number (optional)"),
        required=False,
        widget=_text_input(24, autocomplete="off"),
    )
    email = forms.CharField(
        label=_("Email address"),
        required=False,
        widget=forms.EmailInput(attrs={"maxlength": EMAIL_MAX_LENGTH, "autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        required=False,
        widget=forms.TextInput(
            attrs={"type": "tel", "maxlength": PHONE_MAX_LENGTH, "autocomplete": "tel", "inputmode": "tel"}
        ),
        help_text=_("A French number, or a foreign one starting with + and its country code."),
    )
    postal_address = forms.CharField(
        label=_("Postal address"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "maxlength": TEXT_MAX_LENGTH, "autocomplete": "street-address"}
        ),
        help_text=_(
            "Give at least one way to reach you. With a postal address only, offers are sent by letter."
        ),
    )
    language = _LenientChoiceField(
        label=_("Language of our messages"), required=False, choices=settings.LANGUAGES
    )
    permit_expires_on = forms.CharField(
        label=_("Expiry date of your current permit"),
        required=False,
        widget=_date_input(),
        help_text=_("For a renewal only."),
    )
    interpreter_language = _LenientChoiceField(
        label=_("Do you need an interpreter?"),
        required=False,
        choices=[("", _("No, French is fine")), *INTERPRETER_LANGUAGES],
    )
    needs_step_free = forms.BooleanField(label=_("I need step-free access"), required=False)
    needs_other = forms.CharField(label=_("Other needs"), required=False, widget=_textarea())
    unavailable_weekdays = _LenientMultipleChoiceField(
        label=_("Days of the week when you cannot come"),
        required=False,
        choices=OpeningRule.Weekday.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    unavailable_dates = forms.CharField(
        label=_("Dates when you cannot come"),
        required=False,
        widget=_text_input(TEXT_MAX_LENGTH),
        help_text=_("Separated by commas, for example 2025-03-31, 2025-04-02."),
    )
    earliest_date = forms.CharField(
        label=_("Available from"),
        required=False,
        widget=_date_input(),
        help_text=_("Leave empty if you can come as soon as possible."),
    )
    urgency_circumstances = forms.CharField(
        label=_("Urgent circumstances"),
        required=False,
        widget=_textarea(4),
        help_text=_("A job offer, an exam, a journey, a health or family situation: say so here."),
    )

    def __init__(self, *args: Any, prefecture: Prefecture, channel: str = Channel.WEB, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.prefecture = prefecture
        self.channel = channel
        self.intake: IntakeData | None = None
        procedures = Procedure.objects.filter(prefecture=prefecture, is_active=True).order_by("name")
        self.fields["procedure"].choices = [("", _("Choose…"))] + [(p.code, p.name) for p in procedures]
        self.fields["procedure"].widget.attrs["required"] = True
        sites = Site.objects.filter(prefecture=prefecture, is_active=True).order_by("name")
        self.fields["sites"].choices = [(str(site.pk), _site_label(site)) for site in sites]
        self.fields["nationality"].choices = [("", _("Choose…")), *country_choices()]
        self.fields["nationality"].widget.attrs["required"] = True
        if channel in STAFF_CHANNELS:
            self.fields["vulnerability_reason"] = forms.CharField(
                label=_("Recorded vulnerability"),
                required=False,
                widget=_textarea(),
                help_text=_("Shortens the wait. Record only what the person told you and agreed to."),
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            self.intake = validate_intake(cleaned, self.prefecture, channel=self.channel)
        except InvalidInput as error:
            apply_domain_error(self, error)
        return cleaned


class ContactForm(forms.Form):
    """Changing how to reach a person; `form.contact` holds the ContactData after `is_valid()`."""

    email = IntakeForm.base_fields["email"]
    phone = IntakeForm.base_fields["phone"]
    postal_address = IntakeForm.base_fields["postal_address"]
    language = IntakeForm.base_fields["language"]

    def __init__(self, *args: Any, prefecture: Prefecture | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.prefecture = prefecture
        self.contact: ContactData | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        try:
            self.contact = validate_contact(cleaned, prefecture=self.prefecture)
        except InvalidInput as error:
            apply_domain_error(self, error)
        return cleaned
