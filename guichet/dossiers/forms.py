"""Forms of the dossier pages. They only shape the input; the services check it and say what is wrong."""

from django import forms
from django.utils.translation import gettext_lazy as _

from guichet.waitlist.countries import country_choices

from . import questions as q
from .models import Question, QuestionKind

# A little more than any answer may hold, so that a too-long answer reaches the service and gets its
# message (with its length) instead of being cut by the browser.
INPUT_MAX = q.MAX_TEXT * 4


class AnswerField(forms.CharField):
    """Marked required when the question is (label, `required` attribute), yet an empty answer is saved:
    a person may save part of the dossier and come back. What lacks is said when they send it."""

    def validate(self, value):
        pass


def answer_field(question: Question, initial: str) -> forms.Field:
    label = q.label(question)
    help_text = q.help_text(question)
    common = {"label": label, "help_text": help_text, "required": question.required, "initial": initial}
    kind = question.kind
    if kind == QuestionKind.DATE:
        return AnswerField(widget=forms.DateInput(attrs={"type": "date"}), max_length=INPUT_MAX, **common)
    if kind in {QuestionKind.CHOICE, QuestionKind.YES_NO}:
        options = (
            [("yes", _("Yes")), ("no", _("No"))]
            if kind == QuestionKind.YES_NO
            else q.choice_options(question)
        )
        return AnswerField(widget=forms.RadioSelect(choices=options), **common)
    if kind == QuestionKind.COUNTRY:
        return AnswerField(widget=forms.Select(choices=[("", "—"), *country_choices()]), **common)
    if kind == QuestionKind.NUMBER:
        return AnswerField(
            widget=forms.TextInput(attrs={"inputmode": "decimal"}), max_length=INPUT_MAX, **common
        )
    if kind == QuestionKind.ADDRESS:
        return AnswerField(
            widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address", "dir": "auto"}),
            max_length=INPUT_MAX,
            **common,
        )
    # dir="auto": an address or a name typed in Latin letters on an Arabic page keeps its own order.
    return AnswerField(
        widget=forms.Textarea(attrs={"rows": 2, "dir": "auto"}), max_length=INPUT_MAX, **common
    )


class AnswersForm(forms.Form):
    """The questions asked (conditions applied to the saved answers), each with its saved answer."""

    def __init__(self, *args, questions: list[Question], answers: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = [question for question in questions if question.kind != QuestionKind.FILE]
        for question in self.questions:
            field = answer_field(question, answers.get(question.key, ""))
            field.error_messages["max_length"] = _("This answer is too long.")
            self.fields[question.key] = field

    def raw_answers(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(key, "") for key in self.fields}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("File (PDF, JPEG or PNG)"),
        help_text=_("A photo taken with your phone is fine: all the page, readable, without reflections."),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
        error_messages={"required": _("Choose a file."), "empty": _("The file is empty.")},
        allow_empty_file=True,
    )
