"""Forms of the back office's dossier pages (staff only: French is enough)."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .forms import UploadForm
from .models import DocumentSource, QuestionKind


class StaffUploadForm(UploadForm):
    source = forms.ChoiceField(
        label=_("Received"),
        choices=[
            (DocumentSource.COUNTER, DocumentSource.COUNTER.label),
            (DocumentSource.POST, DocumentSource.POST.label),
        ],
    )


LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]


class QuestionForm(forms.Form):
    """A question of the draft: its code, kind, texts in each language, answers of a choice, condition."""

    key = forms.SlugField(label=_("Code"), max_length=40, help_text=_("For example marital-status."))
    kind = forms.ChoiceField(label=_("Kind of answer"), choices=QuestionKind.choices)
    required = forms.BooleanField(label=_("Answer required"), required=False, initial=True)
    choices = forms.CharField(
        label=_("Answers of a choice"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: code = French text | ar: Arabic text | en: English text …"),
        max_length=4000,
    )
    condition_key = forms.CharField(
        label=_("Shown only when the question with code"), required=False, max_length=40
    )
    condition_values = forms.CharField(
        label=_("has one of these answers (codes, comma-separated)"), required=False, max_length=400
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code in LANGUAGE_CODES:
            name = dict(settings.LANGUAGES)[code]
            self.fields[f"label_{code}"] = forms.CharField(
                label=_("Question in %(language)s") % {"language": name},
                required=code == settings.LANGUAGE_CODE,
                max_length=500,
            )
            self.fields[f"help_{code}"] = forms.CharField(
                label=_("Help in %(language)s") % {"language": name}, required=False, max_length=500
            )

    def parsed_choices(self) -> list[dict]:
        parsed = []
        for line in (self.cleaned_data.get("choices") or "").splitlines():
            if not line.strip():
                continue
            first, *others = line.split("|")
            value, _sep, french = first.partition("=")
            labels = {settings.LANGUAGE_CODE: french.strip()}
            for other in others:
                code, _sep, text = other.partition(":")
                if code.strip() in LANGUAGE_CODES and text.strip():
                    labels[code.strip()] = text.strip()
            parsed.append({"value": value.strip(), "labels": labels})
        return parsed


class DocumentsForm(forms.Form):
    documents = forms.CharField(
        label=_("Documents to bring (one per line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=12000,
        help_text=_("Only documents of the list fixed by arrêté for this title (CESEDA R.431-11)."),
    )
