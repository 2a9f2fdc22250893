"""Catalogue forms: friendlier inputs than raw JSON, and the checks Model.clean cannot make (many-to-many)."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from . import services
from .models import Closure, Counter, OpeningRule, Prefecture, Procedure, Site

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")


class ListField(forms.CharField):
    """A list typed as text; the subclass says how to split it and how to show it."""

    separator = "\n"

    def prepare_value(self, value):
        if isinstance(value, list):
            return self.separator.join(value)
        return value

    def has_changed(self, initial, data) -> bool:
        try:
            return self.to_python(data) != (initial or [])
        except ValidationError:
            return True


class LanguageListField(ListField):
    """Language codes separated by commas or spaces ("ar, en, zh-hans"), stored as a list."""

    separator = ", "

    def to_python(self, value) -> list[str]:
        if isinstance(value, list):
            return value
        text = super().to_python(value) or ""
        codes = [code.strip().lower() for code in re.split(r"[,;\s]+", text) if code.strip()]
        wrong = [code for code in codes if not LANGUAGE_CODE.match(code)]
        if wrong:
            raise ValidationError(
                _("“%(codes)s” is not a language code: use codes like ar, en, es, ru, tr, uk or zh-hans."),
                params={"codes": ", ".join(wrong)},
                code="invalid_language",
            )
        if "fr" in codes:
            raise ValidationError(
                _("French is spoken at every counter: list only the other languages."), code="french"
            )
        # Keep the order given, once each.
        return list(dict.fromkeys(codes))


class LineListField(ListField):
    """One item per line, stored as a list of non-empty texts."""

    widget = forms.Textarea(attrs={"rows": 6})

    def to_python(self, value) -> list[str]:
        if isinstance(value, list):
            return value
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class DepartmentCodeField(forms.CharField):
    """ "2a" and " 93" are what people type for "2A" and "93": upper-cased before it is validated."""

    def to_python(self, value) -> str:
        return (super().to_python(value) or "").upper()


class PrefectureForm(forms.ModelForm):
    class Meta:
        model = Prefecture
        field_classes = {"code": DepartmentCodeField}
        fields = [
            "code",
            "name",
            "timezone",
            "holiday_subdivision",
            "late_renewal_attestation",
            "contact_email",
            "contact_phone",
            "proconnect_enabled",
        ]


class CounterForm(forms.ModelForm):
    languages = LanguageListField(
        label=capfirst(_("languages besides French")),
        required=False,
        help_text=_("Language codes separated by commas, for example: ar, en, zh-hans."),
    )

    class Meta:
        model = Counter
        fields = ["site", "name", "languages", "is_active"]


class ProcedureForm(forms.ModelForm):
    documents = LineListField(
        label=capfirst(_("documents to bring")), required=False, help_text=_("One document per line.")
    )

    class Meta:
        model = Procedure
        fields = [
            "prefecture",
            "code",
            "name",
            "kind",
            "description",
            "duration_minutes",
            "registration_minutes",
            "mode",
            "target_wait_days",
            "vulnerable_target_wait_days",
            "minimum_notice_hours",
            "postal_notice_hours",
            "offer_validity_hours",
            "is_renewal",
            "renewal_window_opens_days",
            "renewal_window_closes_days",
            "renewal_safety_margin_days",
            "documents",
            "is_active",
        ]


class OpeningRuleForm(forms.ModelForm):
    class Meta:
        model = OpeningRule
        # Hours as people type and read them (09:00, not 09:00:00).
        widgets = {"start_time": forms.TimeInput(format="%H:%M"), "end_time": forms.TimeInput(format="%H:%M")}
        fields = [
            "counter",
            "weekday",
            "start_time",
            "end_time",
            "slot_minutes",
            "procedures",
            "valid_from",
            "valid_until",
        ]

    def clean(self):
        cleaned = super().clean()
        procedures = cleaned.get("procedures")
        slot_minutes = cleaned.get("slot_minutes")
        if slot_minutes is not None:
            try:  # a slot length out of bounds is refused by the model with its own message
                OpeningRule._meta.get_field("slot_minutes").run_validators(slot_minutes)
            except ValidationError:
                return cleaned
        if procedures is not None:
            errors = services.rule_procedure_errors(
                cleaned.get("counter"), cleaned.get("slot_minutes"), procedures
            )
            for field, messages in errors.items():
                for message in messages:
                    self.add_error(field, message)
        return cleaned


class ClosureForm(forms.ModelForm):
    class Meta:
        model = Closure
        fields = ["site", "counter", "start_date", "end_date", "reason"]


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = [
            "prefecture",
            "name",
            "address",
            "postal_code",
            "city",
            "timezone",
            "step_free",
            "access_notes",
            "is_active",
        ]


# The form of each kind of catalogue object the back office edits, by the name its addresses use.
FORMS_BY_KIND: dict[str, type[forms.ModelForm]] = {
    "site": SiteForm,
    "counter": CounterForm,
    "procedure": ProcedureForm,
    "rule": OpeningRuleForm,
    "closure": ClosureForm,
}

# Choices limited to one prefecture's objects, per field name.
_SCOPED_CHOICES = {
    "site": lambda prefecture: Site.objects.filter(prefecture=prefecture),
    "counter": lambda prefecture: Counter.objects.filter(site__prefecture=prefecture).select_related("site"),
    "procedures": lambda prefecture: Procedure.objects.filter(prefecture=prefecture),
}


def scoped_form(kind: str, prefecture: Prefecture, *, data=None, instance=None) -> forms.ModelForm:
    """The catalogue form of `kind` for one prefecture's manager: its choices are that prefecture's
    sites, counters and procedures only, and its prefecture is fixed (kept as a disabled field, so that
    the uniqueness checks that involve it still run)."""
    form = FORMS_BY_KIND[kind](data=data, instance=instance)
    for name, choices in _SCOPED_CHOICES.items():
        if name in form.fields:
            form.fields[name].queryset = choices(prefecture)
    if "procedures" in form.fields:
        form.fields["procedures"].widget = forms.CheckboxSelectMultiple(
            choices=form.fields["procedures"].choices
        )
    if "prefecture" in form.fields:
        field = form.fields["prefecture"]
        field.queryset = Prefecture.objects.filter(pk=prefecture.pk)
        field.initial = prefecture.pk
        field.disabled = True
        field.widget = forms.HiddenInput()
    return form
