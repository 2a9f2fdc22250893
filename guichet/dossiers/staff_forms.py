"""Forms of the back office's dossier pages (staff only: French is enough)."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .forms import UploadForm
from .models import DocumentSource, Question, QuestionKind


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
    limit_max_length = forms.IntegerField(
        label=_("Text or address: at most this many characters"), required=False, min_value=1
    )
    limit_min = forms.CharField(
        label=_("Number or date: minimum"),
        required=False,
        max_length=40,
        help_text=_("A number (0), or a date as 1900-01-01."),
    )
    limit_max = forms.CharField(label=_("Number or date: maximum"), required=False, max_length=40)
    limit_integer = forms.BooleanField(label=_("Number: whole numbers only"), required=False)
    limit_not_after_today = forms.BooleanField(label=_("Date: not after today"), required=False)

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
        texts = [f"{kind}_{code}" for code in LANGUAGE_CODES for kind in ("label", "help")]
        self.order_fields(["key", "kind", *texts])

    @staticmethod
    def initial_for(question: Question) -> dict:
        """The form filled with a question of the draft, to change it."""
        initial = {
            "key": question.key,
            "kind": question.kind,
            "required": question.required,
            "choices": "\n".join(
                " | ".join(
                    [f"{choice['value']} = {choice.get('labels', {}).get(settings.LANGUAGE_CODE, '')}"]
                    + [
                        f"{code}: {text}"
                        for code, text in choice.get("labels", {}).items()
                        if code != settings.LANGUAGE_CODE
                    ]
                )
                for choice in question.choices
            ),
            "condition_key": question.condition_key,
            "condition_values": ", ".join(question.condition_values or []),
            **{f"limit_{name}": value for name, value in (question.limits or {}).items()},
        }
        for code in LANGUAGE_CODES:
            initial[f"label_{code}"] = question.labels.get(code, "")
            initial[f"help_{code}"] = (question.help_texts or {}).get(code, "")
        return initial

    def limits(self) -> dict:
        data = self.cleaned_data
        return {
            name: data.get(f"limit_{name}")
            for name in ("max_length", "min", "max", "integer", "not_after_today")
        }

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
