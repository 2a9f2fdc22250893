"""The person's dossier through the services: answers, conditions, documents, review, complete."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guichet.dossiers import services
from guichet.dossiers.models import Answer, Document, DocumentSource, DossierState
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import APPLICANT, Actor
from guichet.notifications.models import OutboxMessage

from . import helpers
from .conftest import stored_files

AGENT = Actor("staff", label="agent")


def upload(request, item, content=None, name="scan.pdf", **kwargs):
    return services.upload_document(
        request, item, SimpleUploadedFile(name, content or helpers.pdf_bytes()), APPLICANT, **kwargs
    )


def test_answers_are_normalised_and_conditions_decide_what_is_asked(filed):
    dossier = services.dossier_for(filed)
    assert "spouse-name" not in {q.key for q in services.asked_questions(dossier)}
    services.save_answers(filed, {"entry-date": "2024-02-01", "married": "yes", "children": "2,0"}, APPLICANT)
    assert "spouse-name" in {q.key for q in services.asked_questions(dossier)}
    assert services.current_answers(dossier) == {
        "entry-date": "2024-02-01",
        "married": "yes",
        "children": "2",
    }
    services.save_answers(filed, {"children": ""}, APPLICANT)
    assert "children" not in services.current_answers(dossier)


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"entry-date": "31/02/2024"}, "entry-date"),
        ({"married": "perhaps"}, "married"),
        ({"children": "many"}, "children"),
        ({"spouse-name": "x" * 1_000_000}, "spouse-name"),
        ({"unknown": "x"}, "unknown"),
        ({"spouse-name": "a\x00b"}, "spouse-name"),
    ],
)
def test_a_bad_answer_refuses_the_whole_form_and_stores_nothing(filed, answers, field):
    before = services.dossier_for(filed).revision
    with pytest.raises(InvalidInput) as refused:
        services.save_answers(filed, {"married": "no", **answers}, APPLICANT)
    assert field in refused.value.fields
    assert not Answer.objects.exists()
    assert services.dossier_for(filed).revision == before


def test_a_refused_file_leaves_nothing_stored(filed, dossier_storage):
    with pytest.raises(InvalidInput) as refused:
        upload(filed, "doc-1", b"<html>not a pdf</html>")
    assert "doc-1" in refused.value.fields
    assert not Document.objects.exists() and stored_files(dossier_storage) == []


def test_a_new_file_replaces_the_current_one_and_keeps_it(filed, dossier_storage):
    first = upload(filed, "doc-1")
    second = upload(filed, "doc-1", helpers.png_bytes(), name="photo.png")
    first.refresh_from_db()
    assert first.replaced_at is not None and second.replaced_at is None
    assert len(stored_files(dossier_storage)) == 2
    with pytest.raises(InvalidInput):
        upload(filed, "doc-9")


def test_review_with_a_correction_then_complete(filed):
    services.save_answers(filed, {"entry-date": "2024-02-01", "married": "no"}, APPLICANT)
    passport, address = upload(filed, "doc-1"), upload(filed, "doc-2")
    services.submit_dossier(filed, APPLICANT)
    revision = services.dossier_for(filed).revision

    dossier = services.review_dossier(
        filed,
        [services.Decision(passport.pk, True), services.Decision(address.pk, False, "Plus de 3 mois")],
        AGENT,
        expected_revision=revision,
    )
    assert dossier.state == DossierState.TO_CORRECT
    told = OutboxMessage.objects.filter(kind="dossier_to_correct")
    assert {m.channel for m in told} == {"email", "sms"} and {m.language for m in told} == {"ar"}
    assert told.first().context["corrections"] == [
        {"document": "Proof of address", "reason": "Plus de 3 mois"}
    ]

    corrected = upload(filed, "doc-2", helpers.jpeg_bytes(), name="facture.jpg")
    assert services.dossier_for(filed).state == DossierState.SUBMITTED
    dossier = services.review_dossier(filed, [services.Decision(corrected.pk, True)], AGENT)
    assert dossier.state == DossierState.COMPLETE
    assert OutboxMessage.objects.filter(kind="dossier_complete", channel="sms").count() == 1


def test_a_correction_needs_a_reason_and_a_stale_review_is_refused(filed):
    document = upload(filed, "doc-1")
    with pytest.raises(InvalidInput) as refused:
        services.review_dossier(filed, [services.Decision(document.pk, False, "  ")], AGENT)
    assert f"reason_{document.pk}" in refused.value.fields
    stale = services.dossier_for(filed).revision
    upload(filed, "doc-1", helpers.png_bytes(), name="new.png")
    with pytest.raises(Conflict):
        services.review_dossier(filed, [services.Decision(document.pk, True)], AGENT, expected_revision=stale)


def test_submitting_says_what_lacks(filed):
    with pytest.raises(InvalidInput) as refused:
        services.submit_dossier(filed, APPLICANT)
    assert {"entry-date", "married", "doc-1", "doc-2"} <= set(refused.value.fields)
    assert "children" not in refused.value.fields  # optional


def test_paper_scanned_at_the_counter_enters_the_same_dossier(filed):
    services.save_answers(filed, {"entry-date": "2024-02-01", "married": "no"}, AGENT)
    scans = [upload(filed, item, source=DocumentSource.COUNTER) for item in ("doc-1", "doc-2")]
    assert services.dossier_for(filed).state == DossierState.SUBMITTED  # no online step needed
    dossier = services.review_dossier(filed, [services.Decision(d.pk, True) for d in scans], AGENT)
    assert dossier.state == DossierState.COMPLETE
