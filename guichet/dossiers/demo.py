"""The demo prefecture's forms: a few questions for the first permit and the renewal, published once
(running the demo again publishes nothing new)."""

from guichet.catalog.demo import FIRST, RENEWAL
from guichet.catalog.models import Prefecture, Procedure
from guichet.evidence.audit import SYSTEM

from . import publishing, services

ENTRY = publishing.QuestionData(
    key="date-entree",
    kind="date",
    labels={
        "fr": "Date d'entrée en France",
        "ar": "تاريخ الدخول إلى فرنسا",
        "en": "Date of entry into France",
    },
    help_texts={"fr": "Celle du tampon ou du visa.", "ar": "التاريخ المختوم على جواز السفر أو التأشيرة."},
    choices=[],
)
MARRIED = publishing.QuestionData(
    key="marie",
    kind="yes_no",
    labels={"fr": "Êtes-vous marié(e) ?", "ar": "هل أنت متزوج(ة)؟", "en": "Are you married?"},
    help_texts={},
    choices=[],
)
SPOUSE = publishing.QuestionData(
    key="nationalite-conjoint",
    kind="country",
    labels={"fr": "Nationalité du conjoint", "ar": "جنسية الزوج(ة)", "en": "Nationality of your spouse"},
    help_texts={},
    choices=[],
    condition_key="marie",
    condition_values=["yes"],
)
ADDRESS = publishing.QuestionData(
    key="adresse",
    kind="address",
    labels={"fr": "Adresse en France", "ar": "العنوان في فرنسا", "en": "Address in France"},
    help_texts={},
    choices=[],
)
FORMS = {FIRST: [ENTRY, MARRIED, SPOUSE, ADDRESS], RENEWAL: [MARRIED, SPOUSE, ADDRESS]}


def build_demo_forms(prefecture: Prefecture) -> int:
    """Publish the demo forms that are not published yet; returns how many were."""
    published = 0
    for code, questions in FORMS.items():
        procedure = Procedure.objects.filter(prefecture=prefecture, code=code).first()
        if procedure is None or services.form_in_force(procedure) is not None:
            continue
        draft = publishing.draft_form(procedure, SYSTEM)
        for question in questions:
            if not draft.questions.filter(key=question.key).exists():
                publishing.save_question(draft, question, SYSTEM)
        publishing.publish_form(draft, SYSTEM)
        published += 1
    return published
