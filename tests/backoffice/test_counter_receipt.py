"""The receipt staff print when they file a request for a person: in French and in the person's language,
and it says how to follow the request."""

import re

import pytest
from django.urls import reverse

from guichet.evidence.models import Proof
from guichet.evidence.receipt import receipt_pdf_bytes
from guichet.waitlist.models import AppointmentRequest, Channel
from tests import pdf
from tests.backoffice.helpers import intake_raw, staff, verified_login
from tests.browser import ARTIFACTS

pytestmark = pytest.mark.django_db

ARABIC = re.compile(r"[\u0600-\u06FF]")


def file_at_counter(client, world, **raw) -> AppointmentRequest:
    verified_login(client, staff(world.prefecture))
    data = {"meta-channel": Channel.COUNTER, "meta-received_at": "", "meta-backdate_reason": ""}
    data.update(intake_raw(world, **raw))
    response = client.post(reverse("backoffice:intake", args=[world.prefecture.code]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return AppointmentRequest.objects.get(family_names=raw["family"])


def receipt(client, request: AppointmentRequest) -> bytes:
    response = client.get(reverse("backoffice:receipt", args=[request.reference]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    return response.content


def test_the_receipt_of_an_arabic_speaker_is_in_french_then_arabic_and_says_how_to_follow(client, world):
    world.prefecture.contact_phone = "01 99 00 93 93"
    world.prefecture.contact_email = "etrangers@seine-saint-denis.example"
    world.prefecture.save()
    request = file_at_counter(client, world, family="Haddad", language="ar", phone="06 12 34 56 78")
    body = receipt(client, request)
    text = pdf.text(body)
    french, arabic, verification = text.split("\f")[:3]
    assert "Accusé de réception de votre demande de rendez-vous" in french
    assert not ARABIC.search(french)
    assert ARABIC.search(arabic) and "Accusé de réception" not in arabic
    for page, language in ((french, "fr"), (arabic, "ar")):
        assert request.reference in page
        assert f"/{language}/status/" in page  # the status page, in the language of that page
        assert "01 99 00 93 93" in page and "etrangers@seine-saint-denis.example" in page
        assert "1 esplanade Jean Moulin" in page  # a reception desk where one may ask
        assert "haddad@example.org" in page and "+33612345678" in page  # how the prefecture will write
    assert "Suivre votre demande" in french or "suivre votre demande" in french.lower()
    # Each language page has a QR code to its status page; the last one carries the signed proof.
    codes = pdf.qr_codes(body)
    assert any(code.endswith("/fr/status/") for code in codes)
    assert any(code.endswith("/ar/status/") for code in codes)
    assert any("/fr/verify/?t=" in code for code in codes)
    assert pdf.info(body)["Tagged"] == "yes"
    folder = ARTIFACTS / "screenshots" / "backoffice"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "counter-receipt-ar.pdf").write_bytes(body)


def test_a_french_speakers_receipt_is_one_language_and_the_same_document(client, world):
    request = file_at_counter(client, world, family="Martin", language="fr")
    body = receipt(client, request)
    text = pdf.text(body)
    assert "Accusé de réception de votre demande de rendez-vous" in text
    assert "/fr/status/" in text and request.reference in text
    assert not ARABIC.search(text)
    assert text.count("Accusé de réception de votre demande de rendez-vous") == 1
    assert "Vérification · Verification" in text and "Version de la liste" not in text
    proof = Proof.objects.get(request=request, event="received")
    assert receipt_pdf_bytes(proof)[:5] == b"%PDF-"
    (ARTIFACTS / "screenshots" / "backoffice").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "screenshots" / "backoffice" / "counter-receipt-fr.pdf").write_bytes(body)


def test_no_receipt_for_another_prefectures_request(client, world):
    from tests.factories import world as make_world

    request = file_at_counter(client, world, family="Mendes", language="en")
    other = make_world("75")
    verified_login(client, staff(other.prefecture, username="outsider"))
    assert client.get(reverse("backoffice:receipt", args=[request.reference])).status_code == 404
