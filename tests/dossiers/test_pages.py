"""The dossier pages: the person's (no JavaScript, plain forms), the agent's review, the partner's, files."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from guichet.accounts.models import AccessRecord
from guichet.dossiers import publishing
from guichet.dossiers.models import Answer, Document, DossierState
from guichet.partners.services import create_mandate
from guichet.waitlist import access
from tests import factories
from tests.backoffice.helpers import file, partner, staff, verified_login

from . import helpers
from .conftest import stored_files


def page(name, found, **kwargs):
    return reverse(
        f"dossiers:{name}",
        kwargs={"reference": found.reference, "token": access.signed_key(found.reference), **kwargs},
    )


def test_the_person_answers_uploads_and_submits_without_javascript(client, filed):
    url = page("applicant_dossier", filed)
    html = client.get(url).content.decode()
    assert "Question entry-date" not in html and "Date d&#x27;entrée" in html  # French stands in for English
    assert "Nom du conjoint" not in html  # conditional, not asked yet
    response = client.post(url, {"entry-date": "2024-02-01", "married": "yes"})
    assert response.status_code == 302
    assert "Nom du conjoint" in client.get(url).content.decode()

    for item, content, name in (
        ("doc-1", helpers.pdf_bytes(), "passport.pdf"),
        ("doc-2", helpers.png_bytes(), "edf.png"),
    ):
        form = {f"{item}-file": SimpleUploadedFile(name, content)}
        assert client.post(page("applicant_upload", filed, item=item), form).status_code == 302
    response = client.post(page("applicant_submit", filed))
    assert response.status_code == 422 and "Answer this question" in response.content.decode()
    client.post(url, {"entry-date": "2024-02-01", "married": "yes", "spouse-name": "Karim Haddad"})
    assert client.post(page("applicant_submit", filed)).status_code == 302
    assert filed.dossier.__class__.objects.get(request=filed).state == DossierState.SUBMITTED


def test_a_one_megabyte_answer_is_refused_on_its_field(client, filed):
    response = client.post(
        page("applicant_dossier", filed), {"married": "yes", "entry-date": "x" * 1_000_000}
    )
    assert response.status_code == 422
    assert "This answer is too long" in response.content.decode()
    assert not Answer.objects.exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"<html><body>passport</body></html>", "passport.pdf", "this file is none of them"),
        (helpers.pdf_bytes(200), "scan.pdf", "200 pages"),
        (helpers.pdf_bytes(javascript=True), "form.pdf", "scripts or attached files"),
    ],
)
def test_a_bad_file_is_refused_with_the_fields_message_and_nothing_stored(
    client, filed, dossier_storage, content, name, message
):
    form = {"doc-1-file": SimpleUploadedFile(name, content)}
    response = client.post(page("applicant_upload", filed, item="doc-1"), form)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Document.objects.exists() and stored_files(dossier_storage) == []


@pytest.mark.parametrize("name", ["../../etc/facture.pdf", "facture\u202efdp.pdf", "c:\\x\\facture.pdf"])
def test_a_name_never_reaches_storage_with_a_path_or_a_direction_override(
    client, filed, dossier_storage, name
):
    # Django's upload parser already drops directories and unprintable characters from the name it hands
    # over; what is kept is checked again (test_uploads) and never used as a path: files get random names.
    form = {"doc-1-file": SimpleUploadedFile(name, helpers.pdf_bytes())}
    assert client.post(page("applicant_upload", filed, item="doc-1"), form).status_code == 302
    document = Document.objects.get()
    assert "/" not in document.original_name and "\\" not in document.original_name
    assert "\u202e" not in document.original_name
    assert [path.name for path in stored_files(dossier_storage)] == [document.storage_name.split("/")[-1]]


def test_files_are_served_to_the_person_and_not_to_another(client, catalogue, filed):
    client.post(
        page("applicant_upload", filed, item="doc-1"),
        {"doc-1-file": SimpleUploadedFile("p.pdf", helpers.pdf_bytes())},
    )
    document = Document.objects.get()
    response = client.get(page("applicant_document", filed, document_id=document.pk))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "sandbox" in response["Content-Security-Policy"] and "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    other = file(catalogue, family="Autre", given="Personne")
    assert client.get(page("applicant_document", other, document_id=document.pk)).status_code == 404
    wrong_key = reverse(
        "dossiers:applicant_document",
        kwargs={"reference": filed.reference, "token": "x" * 32, "document_id": document.pk},
    )
    assert client.get(wrong_key).status_code == 404


def test_staff_reads_are_logged_and_other_prefectures_see_nothing(client, catalogue, filed):
    client.post(
        page("applicant_upload", filed, item="doc-1"),
        {"doc-1-file": SimpleUploadedFile("p.pdf", helpers.pdf_bytes())},
    )
    document = Document.objects.get()
    agent = staff(catalogue.prefecture)
    verified_login(client, agent)
    url = reverse("dossiers:staff_document", args=[filed.reference, document.pk])
    assert client.get(url).status_code == 200
    assert AccessRecord.objects.filter(user=agent, request=filed, detail__startswith="document").count() == 1
    assert client.get(reverse("dossiers:staff_dossier", args=[filed.reference])).status_code == 200
    assert AccessRecord.objects.filter(user=agent, request=filed).count() == 2

    stranger = staff(factories.prefecture("75", "Préfecture de police"))
    verified_login(client, stranger)
    assert client.get(url).status_code == 404
    assert client.get(reverse("dossiers:staff_dossier", args=[filed.reference])).status_code == 404


def test_the_agent_asks_for_a_correction_and_then_finds_the_dossier_complete(client, catalogue, filed):
    verified_login(client, staff(catalogue.prefecture))
    dossier_url = reverse("dossiers:staff_dossier", args=[filed.reference])
    client.post(dossier_url, {"entry-date": "2024-02-01", "married": "no"})
    for item in ("doc-1", "doc-2"):
        form = {
            f"{item}-file": SimpleUploadedFile("scan.pdf", helpers.pdf_bytes()),
            f"{item}-source": "counter",
        }
        assert (
            client.post(reverse("dossiers:staff_upload", args=[filed.reference, item]), form).status_code
            == 302
        )
    passport, address = Document.objects.order_by("item")
    revision = filed.__class__.objects.get(pk=filed.pk).dossier.revision
    review_url = reverse("dossiers:staff_review", args=[filed.reference])
    response = client.post(
        review_url,
        {
            "revision": revision,
            f"decision_{passport.pk}": "accept",
            f"decision_{address.pk}": "correct",
            f"reason_{address.pk}": "",
        },
    )
    assert response.status_code == 422 and "Say what the person must correct" in response.content.decode()
    response = client.post(
        review_url,
        {
            "revision": revision,
            f"decision_{passport.pk}": "accept",
            f"decision_{address.pk}": "correct",
            f"reason_{address.pk}": "Illisible",
        },
    )
    assert response.status_code == 302
    stale = client.post(review_url, {"revision": revision, f"decision_{passport.pk}": "accept"})
    assert stale.status_code == 422 and "changed since you opened it" in stale.content.decode()

    html = client.get(page("applicant_dossier", filed)).content.decode()
    assert "Illisible" in html
    client.post(
        page("applicant_upload", filed, item="doc-2"),
        {"doc-2-file": SimpleUploadedFile("new.jpg", helpers.jpeg_bytes())},
    )
    corrected = Document.objects.get(item="doc-2", replaced_at__isnull=True)
    revision = filed.__class__.objects.get(pk=filed.pk).dossier.revision
    assert (
        client.post(review_url, {"revision": revision, f"decision_{corrected.pk}": "accept"}).status_code
        == 302
    )
    assert filed.__class__.objects.get(pk=filed.pk).dossier.state == DossierState.COMPLETE


def test_a_partner_under_mandate_completes_but_does_not_review(client, catalogue, filed):
    organisation, member = partner(catalogue.prefecture)
    create_mandate(
        organisation, filed, consent_given_on=timezone.localdate(), consent_method="in_person", by=member
    )
    verified_login(client, member)
    form = {"doc-1-file": SimpleUploadedFile("p.pdf", helpers.pdf_bytes())}
    assert (
        client.post(reverse("dossiers:staff_upload", args=[filed.reference, "doc-1"]), form).status_code
        == 302
    )
    assert Document.objects.get().source == "partner"
    assert (
        client.post(reverse("dossiers:staff_review", args=[filed.reference]), {"revision": 0}).status_code
        == 404
    )


def test_the_public_page_lists_every_version_of_the_documents(client, catalogue, form):
    procedure = catalogue.procedures["first"]
    draft = publishing.draft_form(procedure, helpers.MANAGER)
    publishing.set_draft_documents(draft, ["Passport", "Birth certificate"], helpers.MANAGER)
    publishing.publish_form(draft, helpers.MANAGER)
    html = client.get(
        reverse("dossiers:checklist_versions", kwargs={"prefecture": "93", "code": procedure.code})
    ).content.decode()
    assert (
        "Version 2" in html
        and "Version 1" in html
        and "Birth certificate" in html
        and "Proof of address" in html
    )
