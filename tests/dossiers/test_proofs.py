"""Every step of a dossier that concerns the person gives them a signed proof, with its audit entry: answers,
documents sent, scanned at the counter or entered from post, sent for review, corrections asked, found
complete. Each proof verifies on /verify and says the step in the person's words."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from guichet.dossiers import services
from guichet.dossiers.models import Document, DocumentSource
from guichet.evidence import audit
from guichet.evidence import services as evidence
from guichet.evidence.audit import APPLICANT, Actor
from guichet.evidence.models import AuditEntry, Proof, ProofEvent
from tests.backoffice.helpers import file

from . import helpers

AGENT = Actor("staff", label="agent-dupont")
PARTNER = Actor("partner", label="lea@3")


def upload(request, item, actor=APPLICANT, source=DocumentSource.APPLICANT, content=None):
    return services.upload_document(
        request, item, SimpleUploadedFile("scan.pdf", content or helpers.pdf_bytes(2)), actor, source=source
    )


def dossier_proofs(request) -> list[Proof]:
    return list(evidence.proofs_of(request).exclude(event=ProofEvent.RECEIVED).order_by("issued_at", "id"))


def verify_page(token: str, language: str = "fr") -> str:
    with translation.override(language):
        url = reverse("evidence:verify")
    response = Client().post(url, {"t": token})
    assert response.status_code == 200
    return response.content.decode()


def test_each_step_of_a_dossier_gives_a_signed_proof_and_its_audit_entry(filed):
    services.save_answers(filed, {"entry-date": "2024-02-01", "married": "no"}, APPLICANT)
    passport = upload(filed, "doc-1")
    address = upload(filed, "doc-2", PARTNER, DocumentSource.PARTNER)
    services.submit_dossier(filed, APPLICANT)
    services.review_dossier(
        filed,
        [services.Decision(passport.pk, True), services.Decision(address.pk, False, "Facture trop ancienne")],
        AGENT,
    )
    corrected = upload(filed, "doc-2", AGENT, DocumentSource.COUNTER)
    services.review_dossier(filed, [services.Decision(corrected.pk, True)], AGENT)

    proofs = dossier_proofs(filed)
    assert [proof.event for proof in proofs] == [
        ProofEvent.DOSSIER_ANSWERS,
        ProofEvent.DOCUMENT_SENT,
        ProofEvent.DOCUMENT_SENT,
        ProofEvent.DOSSIER_SUBMITTED,
        ProofEvent.CORRECTION_ASKED,
        ProofEvent.DOCUMENT_SCANNED,
        ProofEvent.DOSSIER_COMPLETE,
    ]
    details = [evidence.verify_token(proof.token).payload.get("details", {}) for proof in proofs]
    assert details[0] == {"questions": ["Date d'entrée en France", "Êtes-vous marié(e) ?"], "by": "applicant"}
    assert details[1] == {
        "document_name": "Passport",
        "pages": 2,
        "file_sha256": passport.sha256,
        "by": "applicant",
    }
    assert details[2]["by"] == "partner"
    assert details[3] == {"documents": ["Passport", "Proof of address"]}
    assert details[4] == {
        "accepted_documents": ["Passport"],
        "corrections": ["Proof of address: Facture trop ancienne"],
    }
    assert details[5] == {"document_name": "Proof of address", "pages": 2, "file_sha256": corrected.sha256}
    assert details[6] == {"accepted_documents": ["Passport", "Proof of address"]}
    # No staff member's name in what the person holds.
    assert not any("agent-dupont" in str(d) for d in details)

    for proof in proofs:
        entry = AuditEntry.objects.get(action=f"request.{proof.event}", data__proof=proof.pk)
        assert entry.request_id == filed.pk and entry.data["proof_sha256"] == proof.fingerprint
    # The agent's reason is personal: kept apart (erasable), committed to by the entry.
    asked = AuditEntry.objects.get(action="request.correction_asked")
    assert "corrections" not in asked.data
    assert asked.personal_data.fields["corrections"] == ["Proof of address: Facture trop ancienne"]
    assert audit.verify_chain("93") == []


def test_a_dossier_proof_verifies_on_the_verify_page_in_the_persons_words(filed):
    document = upload(filed, "doc-2", AGENT, DocumentSource.POST)
    services.review_dossier(filed, [services.Decision(document.pk, False, "Illisible")], AGENT)
    by_post, correction = dossier_proofs(filed)
    assert by_post.event == ProofEvent.DOCUMENT_BY_POST

    html = verify_page(correction.token)
    assert "Valid: this proof is genuine and unchanged." not in html  # the page is in French
    assert "demandé la correction" in html or "corrig" in html
    assert "Proof of address: Illisible" in html
    html = verify_page(by_post.token, "ar")
    assert 'dir="rtl"' in html
    assert document.sha256 in html


def test_paper_at_the_counter_and_post_complete_a_dossier_with_proofs_at_each_step(catalogue, form):
    walk_in = file(
        catalogue,
        channel="counter",
        email="",
        family="Diallo",
        postal_address="Moussa Diallo\n12 rue de la République\n93000 Bobigny",
    )
    services.save_answers(walk_in, {"entry-date": "2023-05-01", "married": "no"}, AGENT)
    first = upload(walk_in, "doc-1", AGENT, DocumentSource.COUNTER)
    second = upload(walk_in, "doc-2", AGENT, DocumentSource.POST)
    services.review_dossier(
        walk_in, [services.Decision(first.pk, True), services.Decision(second.pk, True)], AGENT
    )
    events = [proof.event for proof in dossier_proofs(walk_in)]
    assert events == [
        ProofEvent.DOSSIER_ANSWERS,
        ProofEvent.DOCUMENT_SCANNED,
        ProofEvent.DOCUMENT_BY_POST,
        ProofEvent.DOSSIER_COMPLETE,
    ]
    answers = evidence.verify_token(dossier_proofs(walk_in)[0].token).payload["details"]
    assert answers["by"] == "prefecture"


def test_a_refused_upload_or_review_gives_no_proof(filed):
    with pytest.raises(Exception):  # noqa: B017 - the refusal itself is tested in test_dossier.py
        upload(filed, "doc-1", content=b"<html>not a scan</html>")
    document = upload(filed, "doc-1")
    with pytest.raises(Exception):  # noqa: B017
        services.review_dossier(filed, [services.Decision(document.pk, False, "")], AGENT)
    assert [proof.event for proof in dossier_proofs(filed)] == [ProofEvent.DOCUMENT_SENT]


def test_the_last_answer_completes_a_dossier_whose_documents_were_accepted(filed):
    passport, address = upload(filed, "doc-1"), upload(filed, "doc-2")
    services.save_answers(filed, {"married": "no"}, APPLICANT)
    services.review_dossier(
        filed, [services.Decision(passport.pk, True), services.Decision(address.pk, True)], AGENT
    )
    assert dossier_proofs(filed)[-1].event == ProofEvent.DOSSIER_REVIEWED  # the entry date still lacks
    services.save_answers(filed, {"entry-date": "2024-02-01"}, APPLICANT)
    assert [proof.event for proof in dossier_proofs(filed)][-2:] == [
        ProofEvent.DOSSIER_ANSWERS,
        ProofEvent.DOSSIER_COMPLETE,
    ]
    assert Document.objects.filter(status="accepted").count() == 2
