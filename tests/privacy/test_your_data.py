"""The person's own data: the page, the JSON and PDF downloads, and asking for a correction or an erasure,
answered by staff within the legal limits."""

import json

import pytest
from django.urls import reverse

from guichet.errors import Conflict, InvalidInput
from guichet.evidence import audit, services
from guichet.evidence.models import AuditEntry, Proof
from guichet.privacy import services as privacy
from guichet.privacy.models import RightsRequest
from guichet.waitlist import services as waitlist
from tests.evidence.conftest import make_staff
from tests.evidence.helpers import make_request


def url(request, token, name="your_data"):
    return reverse(f"public:{name}", kwargs={"reference": request.reference, "token": token})


@pytest.fixture
def filed(world):
    return make_request(world, family_names="Benali", passport_number="X1234567", needs_other="a chair")


def test_the_page_opens_with_the_request_link_only(client, filed):
    request, token = filed
    page = client.get(url(request, token))
    assert page.status_code == 200 and "Your data" in page.content.decode()
    assert client.get(url(request, "wrong-token-" + "x" * 20)).status_code == 404
    request_page = client.get(
        reverse("public:status_by_link", kwargs={"reference": request.reference, "token": token})
    )
    assert url(request, token) in request_page.content.decode()


def test_the_json_holds_everything_about_the_request(client, filed):
    request, token = filed
    response = client.get(url(request, token, "your_data_json"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert data["format"] == "guichet-personal-data/1"
    assert data["identity"]["family_names"] == "Benali" and data["identity"]["passport_number"] == "X1234567"
    assert data["contact"]["email"] == "amina@example.org" and data["needs"]["needs_other"] == "a chair"
    (proof,) = data["proofs"]
    assert proof["token"] == Proof.objects.get(request=request).token
    assert services.verify_token(proof["token"]).payload["ref"] == request.reference
    assert [item["action"] for item in data["history"]] == ["request.received"]
    assert data["retention"]["phase"] == "active" and data["retention"]["erasure_on"] is None
    assert "no-store" in response["Cache-Control"]


def test_the_pdf_is_a_pdf(client, filed):
    request, token = filed
    response = client.get(url(request, token, "your_data_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_asking_for_an_erasure_is_recorded_and_audited(client, filed):
    request, token = filed
    response = client.post(url(request, token), {"kind": "erasure", "message": "I moved to Belgium"})
    assert response.status_code == 302
    (asked,) = RightsRequest.objects.filter(request=request)
    assert (asked.kind, asked.status, asked.message) == ("erasure", "open", "I moved to Belgium")
    entry = AuditEntry.objects.get(request=request, action="request.rights_requested")
    assert "Belgium" not in json.dumps(entry.data) and entry.readable_data["note"] == "I moved to Belgium"
    again = client.post(url(request, token), {"kind": "erasure", "message": ""})
    assert again.status_code == 200 and RightsRequest.objects.filter(request=request).count() == 1


def test_a_correction_says_what_to_correct(client, filed):
    request, token = filed
    response = client.post(url(request, token), {"kind": "rectification", "message": "  "})
    assert response.status_code == 200 and not RightsRequest.objects.exists()
    assert "what is wrong" in response.content.decode()
    assert client.post(url(request, token), {"kind": "nonsense"}).status_code == 200


def test_staff_grant_an_erasure_of_an_ended_request(world, filed, django_user_model):
    request, _ = filed
    agent = make_staff(django_user_model, "agent", world.prefecture, role="agent")
    asked = privacy.ask(request, "erasure", "")
    waitlist.withdraw_request(request, audit.APPLICANT, "")
    done = privacy.answer(asked, decision="granted", text="", user=agent)
    assert done.status == "granted"
    request.refresh_from_db()
    assert request.erased_at is not None and request.family_names == ""
    assert AuditEntry.objects.get(request=request, action="request.erased").data["cause"] == "persons_request"
    assert services.verify_audit() == []


def test_an_erasure_stops_at_the_legal_limits(world, filed, django_user_model):
    request, _ = filed
    agent = make_staff(django_user_model, "agent", world.prefecture, role="agent")
    asked = privacy.ask(request, "erasure", "")
    with pytest.raises(Conflict, match="in progress"):
        privacy.answer(asked, decision="granted", text="", user=agent)
    with pytest.raises(InvalidInput):
        privacy.answer(asked, decision="refused", text="", user=agent)
    refused = privacy.answer(
        asked, decision="refused", text="Your request is in progress; withdraw it first.", user=agent
    )
    assert refused.status == "refused" and refused.answered_by == agent
    request.refresh_from_db()
    assert request.erased_at is None
    with pytest.raises(Conflict):
        privacy.answer(asked, decision="refused", text="again", user=agent)


def test_the_privacy_page_says_the_periods_in_force(client, settings, db):
    settings.RETENTION_AFTER_END_DAYS = 400
    settings.RETENTION_AFTER_COURT_CASE_DAYS = 90
    text = client.get(reverse("public:privacy")).content.decode()
    assert "erased 400 days later" in text and "until the case ends, and 90 days more" in text


def test_staff_answer_from_the_request_page(world, filed, django_user_model):
    from tests.evidence.conftest import verified_client

    request, _ = filed
    agent = make_staff(django_user_model, "agent", world.prefecture, role="agent")
    staff = verified_client(agent)
    asked = privacy.ask(request, "erasure", "please forget me")
    detail = staff.get(reverse("backoffice:request", args=[request.reference])).content.decode()
    answer_url = reverse("backoffice:rights_answer", args=[request.reference, asked.pk])
    assert "please forget me" in detail and answer_url in detail
    page = staff.get(answer_url)
    assert page.status_code == 200 and "17.3.e" in page.content.decode()
    refused = staff.post(answer_url, {"decision": "granted", "text": ""})
    assert refused.status_code == 200 and "in progress" in refused.content.decode()
    request.refresh_from_db()
    assert request.erased_at is None
    done = staff.post(
        answer_url, {"decision": "refused", "text": "Withdraw your request first, then ask again."}
    )
    assert done.status_code == 302
    asked.refresh_from_db()
    assert asked.status == "refused" and asked.answered_by == agent
