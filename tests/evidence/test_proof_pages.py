"""A proof as a page, a PDF with its QR code and raw text; a request's history; the API list. Only the
applicant (access token) and staff open them."""

import datetime

import pytest
from django.db import transaction

from guichet.evidence import audit, services
from guichet.evidence.models import Proof, ProofEvent
from guichet.evidence.pdf import proof_qr
from tests import pdf

from .helpers import make_request


@pytest.fixture
def applicant(world):
    request, token = make_request(
        world,
        family_names="الحسيني",
        given_names="Fatima",
        received_at=datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC),
    )
    with transaction.atomic():
        services.record_event(
            request,
            ProofEvent.STILL_WAITING,
            audit.SYSTEM,
            details={"days_waiting": 7, "week": 1},
            at=datetime.datetime(2026, 1, 12, 9, 0, tzinfo=datetime.UTC),
        )
    return request, token


def test_proof_page_with_the_access_token(applicant, client):
    request, token = applicant
    proof = Proof.objects.filter(request=request).first()
    response = client.get(f"/en/proofs/{proof.pk}/", {"token": token})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Request received" in text and request.reference in text and "الحسيني" in text
    assert 'src="data:image/svg+xml' in text  # the QR code
    assert f"/en/proofs/{proof.pk}.pdf?token=" in text
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("token", ["", "wrong-token", "x" * 500, "a.b.c"])
def test_proof_page_without_the_right_token_is_not_found(applicant, client, token):
    request, _ = applicant
    proof = Proof.objects.filter(request=request).first()
    for url in (f"/fr/proofs/{proof.pk}/", f"/fr/proofs/{proof.pk}.pdf", f"/fr/proofs/{proof.pk}.jws"):
        assert client.get(url, {"token": token}).status_code == 404
    assert client.get(f"/fr/requests/{request.reference}/proofs/", {"token": token}).status_code == 404


def test_another_requests_token_does_not_open_this_one(world, applicant, client):
    request, _ = applicant
    _, other_token = make_request(world, family_names="Other")
    proof = Proof.objects.filter(request=request).first()
    assert client.get(f"/fr/proofs/{proof.pk}/", {"token": other_token}).status_code == 404


def test_staff_open_proofs_without_a_token(applicant, staff_client, client):
    request, _ = applicant
    proof = Proof.objects.filter(request=request).first()
    assert staff_client.get(f"/fr/proofs/{proof.pk}/").status_code == 200
    assert staff_client.get(f"/fr/requests/{request.reference}/proofs/").status_code == 200


def test_raw_jws(applicant, client):
    request, token = applicant
    proof = Proof.objects.filter(request=request).first()
    response = client.get(f"/fr/proofs/{proof.pk}.jws", {"token": token})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().strip() == proof.token
    assert services.verify_token(response.content.decode()).payload["ref"] == request.reference


def test_proof_pdf_has_the_content_and_a_qr_code(applicant, client):
    request, token = applicant
    proof = Proof.objects.filter(request=request).first()
    response = client.get(f"/fr/proofs/{proof.pk}.pdf", {"token": token})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf.text(response.content)
    assert request.reference in text
    assert "الحسيني" in text or "ينيسحلا" in text  # Arabic shaped: extraction order may be visual
    assert proof.kid in text
    assert "/.well-known/jwks.json" in text
    # The token is printed whole (wrapped over lines).
    assert proof.token[:40] in text.replace("\n", "").replace(" ", "")
    # The QR code, read from the page as a phone would, carries the proof's check address (or its token).
    assert pdf.qr_codes(response.content) == [proof_qr(proof.token, "fr").data]
    assert all(figure["alt"] for figure in pdf.figures(response.content))


def test_history_lists_every_proof_in_order_and_offers_one_pdf(applicant, client):
    request, token = applicant
    response = client.get(f"/en/requests/{request.reference.lower()}/proofs/", {"token": token})
    assert response.status_code == 200
    text = response.content.decode()
    assert text.index("Request received") < text.index("Still waiting")
    assert f"/en/requests/{request.reference}/proofs.pdf?token=" in text
    body = client.get(f"/en/requests/{request.reference}/proofs.pdf", {"token": token})
    assert body.status_code == 200
    pages = pdf.text(body.content).split("\f")
    assert len([page for page in pages if page.strip()]) == 2  # one page per proof
    assert "Still waiting" in pages[1]


def test_api_lists_tokens_in_order_with_the_access_token(applicant, client):
    request, token = applicant
    url = f"/api/v1/requests/{request.reference}/proofs"
    response = client.get(url, headers={"X-Access-Token": token})
    assert response.status_code == 200
    body = response.json()
    assert body["reference"] == request.reference
    assert [p["event"] for p in body["proofs"]] == ["received", "still_waiting"]
    assert [p["token"] for p in body["proofs"]] == list(
        Proof.objects.filter(request=request).order_by("issued_at", "id").values_list("token", flat=True)
    )
    for bad in ({}, {"X-Access-Token": "nope"}):
        refused = client.get(url, headers=bad)
        assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    assert (
        client.get("/api/v1/requests/93-XXXX-XXXX/proofs", headers={"X-Access-Token": token}).status_code
        == 404
    )
