"""The dossier API: the same services as the pages, structured errors, the person's token, staff tokens."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guichet.accounts.models import AccessRecord
from guichet.accounts.services import create_api_token
from guichet.dossiers.models import Answer, Document, DossierState
from guichet.evidence.audit import APPLICANT
from guichet.waitlist.services import file_request
from guichet.waitlist.validation import validate_intake
from tests import factories
from tests.backoffice.helpers import intake_raw, partner, staff

from . import helpers
from .conftest import stored_files


@pytest.fixture
def person(catalogue, form):
    """A filed request and its access token."""
    data = validate_intake(intake_raw(catalogue, language="ar"), catalogue.prefecture, channel="web")
    result = file_request(data, prefecture=catalogue.prefecture, channel="web", actor=APPLICANT)
    return result.request, {"HTTP_X_ACCESS_TOKEN": result.access_token}


def test_the_person_completes_the_dossier_through_the_api(client, person):
    found, token = person
    base = f"/api/v1/requests/{found.reference}/dossier"
    dossier = client.get(base, **token).json()
    assert dossier["state"] == "in_progress" and [i["code"] for i in dossier["items"]] == ["doc-1", "doc-2"]
    assert "spouse-name" not in [q["key"] for q in dossier["questions"]]
    response = client.put(
        base + "/answers",
        json.dumps({"answers": {"entry-date": "2024-02-01", "married": "yes"}}),
        content_type="application/json",
        **token,
    )
    assert response.status_code == 200
    assert "spouse-name" in [q["key"] for q in response.json()["questions"]]
    for item in ("doc-1", "doc-2"):
        sent = client.post(
            f"{base}/documents/{item}", {"file": SimpleUploadedFile("a.pdf", helpers.pdf_bytes())}, **token
        )
        assert sent.status_code == 201 and sent.json()["pages"] == 1
    refused = client.post(base + "/submit", **token)
    assert refused.status_code == 422 and "spouse-name" in refused.json()["fields"]
    client.put(
        base + "/answers",
        json.dumps({"answers": {"spouse-name": "Karim"}}),
        content_type="application/json",
        **token,
    )
    assert client.post(base + "/submit", **token).json()["state"] == "submitted"
    document = Document.objects.first()
    assert client.get(f"{base}/files/{document.pk}", **token).status_code == 200


def test_bad_input_gets_structured_errors_and_changes_nothing(client, person, dossier_storage):
    found, token = person
    base = f"/api/v1/requests/{found.reference}/dossier"
    huge = client.put(
        base + "/answers",
        json.dumps({"answers": {"entry-date": "2024-01-01", "spouse-name": "x" * 1_000_000}}),
        content_type="application/json",
        **token,
    )
    assert huge.status_code == 422 and "spouse-name" in huge.json()["fields"]
    assert not Answer.objects.exists()
    html = client.post(
        f"{base}/documents/doc-1", {"file": SimpleUploadedFile("a.pdf", b"<html></html>")}, **token
    )
    assert html.status_code == 422 and html.json()["fields"]["doc-1"]
    assert (
        client.post(
            f"{base}/documents/doc-7", {"file": SimpleUploadedFile("a.pdf", helpers.pdf_bytes())}, **token
        ).status_code
        == 422
    )
    assert not Document.objects.exists() and stored_files(dossier_storage) == []
    assert client.get(base, HTTP_X_ACCESS_TOKEN="wrong" * 6).status_code == 404
    assert client.get(base).status_code == 401
    stale = client.put(
        base + "/answers",
        json.dumps({"answers": {"married": "no"}, "revision": 99}),
        content_type="application/json",
        **token,
    )
    assert stale.status_code == 409 and stale.json()["code"] == "changed"


def test_an_agent_reviews_and_a_partner_cannot(client, catalogue, person):
    found, token = person
    client.post(
        f"/api/v1/requests/{found.reference}/dossier/documents/doc-1",
        {"file": SimpleUploadedFile("a.pdf", helpers.pdf_bytes())},
        **token,
    )
    document = Document.objects.get()
    agent = staff(catalogue.prefecture)
    _t, raw = create_api_token(agent, name="review", prefecture=catalogue.prefecture)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    base = f"/api/v1/staff/requests/{found.reference}/dossier"
    dossier = client.get(base, **auth).json()
    assert AccessRecord.objects.filter(user=agent, request=found, channel="api").exists()
    assert client.get(f"{base}/files/{document.pk}", **auth).status_code == 200
    assert AccessRecord.objects.filter(user=agent, channel="api", detail__startswith="document").count() == 1
    body = {
        "revision": dossier["revision"],
        "decisions": [{"document": document.pk, "accepted": False, "reason": "Illisible"}],
    }
    reviewed = client.post(base + "/review", json.dumps(body), content_type="application/json", **auth)
    assert reviewed.status_code == 200 and reviewed.json()["state"] == DossierState.TO_CORRECT
    again = client.post(base + "/review", json.dumps(body), content_type="application/json", **auth)
    assert again.status_code == 409
    scan = client.post(
        f"{base}/documents/doc-2",
        {"file": SimpleUploadedFile("s.png", helpers.png_bytes()), "source": "post"},
        **auth,
    )
    assert scan.status_code == 201 and scan.json()["source"] == "post"

    organisation, member = partner(catalogue.prefecture)
    _t, partner_raw = create_api_token(member, name="asso", organisation=organisation)
    assert client.get(base, HTTP_AUTHORIZATION=f"Bearer {partner_raw}").status_code == 404  # no mandate

    other = staff(factories.prefecture("75", "Préfecture de police"))
    _t, other_raw = create_api_token(other, name="x", prefecture=other.memberships.get().prefecture)
    assert client.get(base, HTTP_AUTHORIZATION=f"Bearer {other_raw}").status_code == 404


def test_a_manager_edits_and_publishes_a_form(client, catalogue, form):
    manager = staff(catalogue.prefecture, role="manager")
    _t, raw = create_api_token(manager, name="forms", prefecture=catalogue.prefecture)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}", "content_type": "application/json"}
    base = "/api/v1/staff/procedures/first-permit/form"
    assert client.get(base, **auth).json()["number"] == 1
    question = {"key": "employer", "kind": "text", "labels": {"fr": "Employeur"}}
    assert client.post(base + "/draft/questions", json.dumps(question), **auth).status_code == 200
    bad = client.post(base + "/draft/questions", json.dumps({**question, "key": "Bad Key"}), **auth)
    assert bad.status_code == 422 and "key" in bad.json()["fields"]
    documents = client.put(
        base + "/draft/documents", json.dumps({"documents": ["Passport", "Contract"]}), **auth
    )
    assert documents.json()["documents"] == ["Passport", "Contract"]
    published = client.post(base + "/draft/publish", **auth).json()
    assert published["number"] == 2 and not published["draft"]
    versions = client.get("/api/v1/procedures/93/first-permit/documents").json()
    assert [v["number"] for v in versions] == [2, 1] and versions[1]["in_force_until"]
    agent = staff(catalogue.prefecture)
    _t, agent_raw = create_api_token(agent, name="a", prefecture=catalogue.prefecture)
    assert client.get(base, HTTP_AUTHORIZATION=f"Bearer {agent_raw}").status_code == 403


def test_routing_api(client, db):
    factories.prefecture("75", "Préfecture de police")
    body = client.get("/api/v1/residence", {"postal_code": "75011"}).json()
    assert (
        body["competent_prefecture"] == "75" and body["on_guichet"] and body["source"].startswith("@etalab")
    )
    ambiguous = client.get("/api/v1/residence", {"postal_code": "05110"})
    assert ambiguous.status_code == 422 and ambiguous.json()["code"] == "ambiguous"
