"""Procedure forms: versioned questions published by a manager; a request keeps the version of its filing."""

import pytest

from guichet.dossiers import publishing, services
from guichet.dossiers.models import FormVersion
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.models import AuditEntry
from tests.backoffice.helpers import file

from . import helpers


def test_publishing_puts_questions_and_documents_in_force(catalogue):
    procedure = catalogue.procedures["first"]
    version = helpers.standard_form(procedure)
    procedure.refresh_from_db()
    assert version.number == 1 and version.published_at is not None
    assert [q.key for q in version.questions.all()] == ["entry-date", "married", "spouse-name", "children"]
    assert procedure.documents == helpers.DOCUMENTS
    assert version.checklist.documents == helpers.DOCUMENTS
    assert services.form_in_force(procedure) == version
    assert AuditEntry.objects.filter(action="dossiers.form.published").count() == 1


def test_a_request_keeps_the_version_in_force_when_it_was_filed(catalogue, form):
    procedure = catalogue.procedures["first"]
    before = file(catalogue, family="Avant")
    draft = publishing.draft_form(procedure, helpers.MANAGER)
    assert [q.key for q in draft.questions.all()] == [q.key for q in form.questions.all()]  # copied
    publishing.save_question(draft, helpers.question("employer", "text"), helpers.MANAGER)
    publishing.set_draft_documents(draft, [*helpers.DOCUMENTS, "Work contract"], helpers.MANAGER)
    publishing.publish_form(draft, helpers.MANAGER)
    after = file(catalogue, family="Apres")

    old, new = services.dossier_for(before), services.dossier_for(after)
    assert old.form_version == form and new.form_version.number == 2
    assert "employer" not in {q.key for q in services.asked_questions(old)}
    assert [i.label for i in services.items(old)] == helpers.DOCUMENTS
    assert [i.label for i in services.items(new)] == [*helpers.DOCUMENTS, "Work contract"]


def test_a_published_version_cannot_change(catalogue, form):
    with pytest.raises(Conflict):
        publishing.save_question(form, helpers.question("late", "text"), helpers.MANAGER)
    with pytest.raises(Conflict):
        publishing.publish_form(form, helpers.MANAGER)


def test_one_draft_per_procedure(catalogue, form):
    procedure = catalogue.procedures["first"]
    assert publishing.draft_form(procedure, helpers.MANAGER) == publishing.draft_form(
        procedure, helpers.MANAGER
    )
    assert FormVersion.objects.filter(procedure=procedure, published_at__isnull=True).count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (helpers.question("Bad Key"), "key"),
        (helpers.question("x", "colour"), "kind"),
        (helpers.question("x", labels={"fr": ""}), "label_fr"),
        (helpers.question("x", "choice", choices=[{"value": "a", "labels": {"fr": "A"}}]), "choices"),
        (helpers.question("x", condition_key="nowhere", condition_values=["yes"]), "condition_key"),
        (helpers.question("x", condition_key="married", condition_values=["maybe"]), "condition_values"),
        (helpers.question("x", condition_key="entry-date", condition_values=["yes"]), "condition_key"),
        (helpers.question("married"), "key"),
    ],
)
def test_a_bad_question_is_refused_on_its_field(catalogue, form, data, field):
    draft = publishing.draft_form(catalogue.procedures["first"], helpers.MANAGER)
    count = draft.questions.count()
    with pytest.raises(InvalidInput) as refused:
        publishing.save_question(draft, data, helpers.MANAGER)
    assert field in refused.value.fields
    assert draft.questions.count() == count


def test_a_question_others_depend_on_cannot_be_removed(catalogue, form):
    draft = publishing.draft_form(catalogue.procedures["first"], helpers.MANAGER)
    married = draft.questions.get(key="married")
    with pytest.raises(Conflict):
        publishing.remove_question(draft, married.pk, helpers.MANAGER)
    publishing.remove_question(draft, draft.questions.get(key="spouse-name").pk, helpers.MANAGER)
    publishing.remove_question(draft, married.pk, helpers.MANAGER)
    assert not draft.questions.filter(key__in=["married", "spouse-name"]).exists()
