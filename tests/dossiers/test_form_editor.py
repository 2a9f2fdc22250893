"""The manager's form editor in the back office: reached from the navigation, a draft opened from the version
in force, an existing question changed (texts and help in the languages, limits of its kind, condition),
published; published versions and the requests filed under them keep their questions."""

import json

import pytest
from django.urls import reverse

from guichet.accounts.services import create_api_token
from guichet.dossiers import publishing, services
from guichet.dossiers.models import FormVersion, Question
from guichet.errors import InvalidInput
from guichet.evidence.audit import APPLICANT
from guichet.evidence.models import AuditEntry
from tests.backoffice.helpers import file, staff, verified_login

from . import helpers


@pytest.fixture
def manager(client, catalogue):
    user = staff(catalogue.prefecture, "manager")
    verified_login(client, user)
    return user


def editor(catalogue) -> str:
    return reverse("dossiers:form_editor", args=[catalogue.prefecture.code, "first-permit"])


def question_post(question: Question | None = None, **changes) -> dict:
    """The editor's form as the manager sends it: the question's current values, with changes."""
    data = {
        "action": "question",
        "q-key": "entry-date",
        "q-kind": "date",
        "q-label_fr": "Date d'entrée en France",
        "q-required": "on",
    }
    if question is not None:
        data["question"] = str(question.pk)
    data.update({f"q-{name}" if name != "action" else name: value for name, value in changes.items()})
    return data


def test_the_navigation_leads_a_manager_to_the_form_editor(client, catalogue, form, manager):
    home = client.get(reverse("backoffice:queue", args=[catalogue.prefecture.code])).content.decode()
    forms_list = reverse("dossiers:forms_list", args=[catalogue.prefecture.code])
    assert f'href="{forms_list}"' in home
    listing = client.get(forms_list).content.decode()
    assert f'href="{editor(catalogue)}"' in listing


def test_an_agent_sees_no_link_and_cannot_open_the_editor(client, catalogue, form):
    verified_login(client, staff(catalogue.prefecture, "agent"))
    home = client.get(reverse("backoffice:queue", args=[catalogue.prefecture.code])).content.decode()
    assert reverse("dossiers:forms_list", args=[catalogue.prefecture.code]) not in home
    assert client.get(editor(catalogue)).status_code in (403, 404)


def test_a_manager_changes_a_question_of_the_draft_and_publishes_it(client, catalogue, form, manager):
    before = file(catalogue, family="Avant")
    page = client.get(editor(catalogue)).content.decode()
    assert "Open a draft" in page  # only a published version: nothing to change in place
    assert client.post(editor(catalogue), {"action": "open"}).status_code == 302
    draft = FormVersion.objects.get(procedure=form.procedure, published_at__isnull=True)
    entry = draft.questions.get(key="entry-date")

    page = client.get(editor(catalogue) + f"?edit={entry.pk}").content.decode()
    assert "Change the question entry-date" in page and "Date d&#x27;entrée en France" in page
    response = client.post(
        editor(catalogue),
        question_post(
            entry,
            label_fr="Date de votre arrivée en France",
            label_ar="تاريخ وصولك إلى فرنسا",
            help_fr="Celle du tampon sur votre passeport.",
            help_ar="التاريخ المختوم على جواز سفرك.",
            limit_min="1950-01-01",
            limit_not_after_today="on",
        ),
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.labels == {"fr": "Date de votre arrivée en France", "ar": "تاريخ وصولك إلى فرنسا"}
    assert entry.help_texts["ar"] == "التاريخ المختوم على جواز سفرك."
    assert entry.limits == {"min": "1950-01-01", "not_after_today": True}
    assert draft.questions.count() == 4 and entry.position == 1  # changed in place, not added
    changed = AuditEntry.objects.filter(action="dossiers.form.question_saved").last()
    assert changed.data["changed"] == ["help_texts", "labels", "limits"]

    # The version in force did not move.
    assert form.questions.get(key="entry-date").labels["fr"] == "Date d'entrée en France"
    assert client.post(editor(catalogue), {"action": "publish"}).status_code == 302
    after = file(catalogue, family="Apres")

    old, new = services.dossier_for(before), services.dossier_for(after)
    assert old.form_version == form and new.form_version == draft
    with pytest.raises(InvalidInput) as refused:
        services.save_answers(after, {"entry-date": "1901-01-01"}, APPLICANT)
    assert "entry-date" in refused.value.fields
    services.save_answers(before, {"entry-date": "1901-01-01"}, APPLICANT)  # the old version had no limit
    with pytest.raises(InvalidInput):
        services.save_answers(after, {"entry-date": "2999-01-01"}, APPLICANT)
    services.save_answers(after, {"entry-date": "2001-03-04"}, APPLICANT)


def test_a_changed_question_keeps_a_condition_and_its_dependents_consistent(client, catalogue, form, manager):
    client.post(editor(catalogue), {"action": "open"})
    draft = FormVersion.objects.get(procedure=form.procedure, published_at__isnull=True)
    married, spouse = draft.questions.get(key="married"), draft.questions.get(key="spouse-name")

    # The spouse's name depends on "married": its code and its kind cannot change under it.
    for changes, message in (
        ({"key": "is-married"}, "depend on this code"),
        ({"kind": "text"}, "depend on this one"),
    ):
        data = question_post(married, key="married", kind="yes_no", label_fr="Êtes-vous marié(e) ?")
        data.update({f"q-{name}": value for name, value in changes.items()})
        response = client.post(editor(catalogue), data)
        assert response.status_code == 422 and message in response.content.decode()
    married.refresh_from_db()
    assert married.key == "married" and married.kind == "yes_no"

    # The condition of a question is changed like its texts; a circle is refused.
    response = client.post(
        editor(catalogue),
        question_post(
            married,
            key="married",
            kind="yes_no",
            label_fr="Êtes-vous marié(e) ?",
            condition_key="spouse-name",
            condition_values="x",
        ),
    )
    assert response.status_code == 422
    assert "circle" in response.content.decode()
    response = client.post(
        editor(catalogue),
        question_post(
            spouse,
            key="spouse-name",
            kind="text",
            label_fr="Nom du conjoint",
            condition_key="married",
            condition_values="no",
            limit_max_length="80",
        ),
    )
    assert response.status_code == 302
    spouse.refresh_from_db()
    assert spouse.condition_values == ["no"] and spouse.limits == {"max_length": 80}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"limit_min": "5", "limit_max": "2", "kind": "number"}, "limit_max", "below the minimum"),
        ({"limit_min": "hier"}, "limit_min", "real date"),
        ({"limit_max_length": "20"}, "limit_max_length", "no such limit"),
        ({"limit_integer": "on"}, "limit_integer", "no such limit"),
    ],
)
def test_limits_that_do_not_fit_the_kind_are_refused_on_their_field(
    client, catalogue, form, manager, changes, field, message
):
    client.post(editor(catalogue), {"action": "open"})
    entry = Question.objects.get(version__published_at__isnull=True, key="entry-date")
    response = client.post(editor(catalogue), question_post(entry, **changes))
    assert response.status_code == 422
    assert message in response.content.decode()
    entry.refresh_from_db()
    assert entry.limits == {} and entry.kind == "date"


def test_a_published_question_is_never_changed_through_the_editor(client, catalogue, form, manager):
    published = form.questions.get(key="entry-date")
    response = client.post(editor(catalogue), question_post(published, label_fr="Changée"))
    assert response.status_code == 422
    assert "not in the draft" in response.content.decode()
    published.refresh_from_db()
    assert published.labels["fr"] == "Date d'entrée en France"
    with pytest.raises(Exception):  # noqa: B017 - the service refuses too (NotFound)
        draft = publishing.draft_form(form.procedure, helpers.MANAGER)
        publishing.save_question(
            draft, helpers.question("entry-date", "date", "Changée"), helpers.MANAGER, published.pk
        )


def test_the_api_changes_a_question_of_the_draft(client, catalogue, form, manager):
    _t, raw = create_api_token(manager, name="forms", prefecture=catalogue.prefecture)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}", "content_type": "application/json"}
    url = "/api/v1/staff/procedures/first-permit/form/draft/questions/"
    body = {
        "key": "children",
        "kind": "number",
        "labels": {"fr": "Nombre d'enfants", "ar": "عدد الأطفال"},
        "required": False,
        "limits": {"min": "0", "max": "30", "integer": True},
    }
    response = client.put(url + "children", json.dumps(body), **auth)
    assert response.status_code == 200, response.content
    children = next(q for q in response.json()["questions"] if q["key"] == "children")
    assert children["limits"] == {"min": "0", "max": "30", "integer": True}
    assert children["labels"]["ar"] == "عدد الأطفال"
    bad = client.put(url + "children", json.dumps({**body, "limits": {"max_length": 3}}), **auth)
    assert bad.status_code == 422 and "limit_max_length" in bad.json()["fields"]
    assert client.put(url + "nothing", json.dumps(body), **auth).status_code == 404


@pytest.mark.parametrize(
    ("answer", "message"),
    [("2.5", "whole number"), ("-1", "at least 0"), ("31", "at most 30"), ("3", None)],
)
def test_an_answer_outside_the_questions_limits_is_refused_with_its_message(catalogue, answer, message):
    procedure = catalogue.procedures["first"]
    helpers.publish(
        procedure,
        [helpers.question("children", "number", "Nombre d'enfants")],
    )
    draft = publishing.draft_form(procedure, helpers.MANAGER)
    children = draft.questions.get()
    data = helpers.question("children", "number", "Nombre d'enfants")
    data.limits = {"min": "0", "max": "30", "integer": True}
    publishing.save_question(draft, data, helpers.MANAGER, children.pk)
    publishing.publish_form(draft, helpers.MANAGER)
    request = file(catalogue)
    if message is None:
        services.save_answers(request, {"children": answer}, APPLICANT)
        assert services.current_answers(services.dossier_for(request)) == {"children": answer}
        return
    with pytest.raises(InvalidInput) as refused:
        services.save_answers(request, {"children": answer}, APPLICANT)
    assert message in refused.value.fields["children"][0]
