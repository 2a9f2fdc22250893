"""A person's space: all their requests in the prefecture; a second procedure reuses identity and contact."""

import json

import pytest
from django.urls import reverse
from django.utils import translation

from guichet.evidence.audit import APPLICANT
from guichet.spaces import services
from guichet.waitlist import access
from guichet.waitlist.models import AppointmentRequest
from guichet.waitlist.services import file_request
from guichet.waitlist.validation import validate_intake
from tests import factories
from tests.backoffice.helpers import file, intake_raw


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def catalogue(db):
    world = factories.World(factories.prefecture("93"))
    world.procedures["first"] = factories.procedure(world.prefecture, "first-permit")
    world.procedures["travel"] = factories.procedure(
        world.prefecture, "travel", name="Travel document", kind="travel_document"
    )
    return world


def test_a_second_procedure_reuses_identity_and_contact_and_both_are_listed(catalogue):
    first = file(catalogue, phone="+33612345678", language="ar")
    result = services.file_another(first, "travel", APPLICANT)
    second = result.request
    assert result.created and second.procedure.code == "travel"
    for field in ("identity_key", "email", "phone", "language", "family_names", "birth_date"):
        assert getattr(second, field) == getattr(first, field)
    assert {r.pk for r in services.requests_in_space(first)} == {first.pk, second.pk}
    assert {r.pk for r in services.requests_in_space(second)} == {first.pk, second.pk}
    assert services.procedures_to_add(first) == []


def test_someone_elses_request_under_the_same_name_never_joins_the_space(catalogue):
    mine = file(catalogue)
    # Someone else (or anyone knowing the name and birth date) filed the travel document already.
    file(catalogue, procedure="travel")
    result = services.file_another(mine, "travel", APPLICANT)
    assert not result.created
    assert services.requests_in_space(mine) == [mine]


def test_the_space_page_files_another_procedure(client, catalogue):
    first = file(catalogue)
    url = reverse(
        "spaces:space", kwargs={"reference": first.reference, "token": access.signed_key(first.reference)}
    )
    html = client.get(url).content.decode()
    assert first.reference in html and "Travel document" in html
    assert client.post(url, {"procedure": "nothing"}).status_code == 422
    response = client.post(url, {"procedure": "travel"})
    assert response.status_code == 302 and "/received/" in response["Location"]
    second = AppointmentRequest.objects.get(procedure__code="travel")
    assert second.reference in client.get(url).content.decode()


def test_the_space_api(client, catalogue):
    data = validate_intake(intake_raw(catalogue), catalogue.prefecture, channel="web")
    result = file_request(data, prefecture=catalogue.prefecture, channel="web", actor=APPLICANT)
    token = {"HTTP_X_ACCESS_TOKEN": result.access_token}
    base = f"/api/v1/requests/{result.request.reference}/space"
    created = client.post(
        base + "/requests", json.dumps({"procedure": "travel"}), content_type="application/json", **token
    )
    assert created.status_code == 201 and created.json()["access_token"]
    assert len(client.get(base, **token).json()) == 2
    again = client.post(
        base + "/requests", json.dumps({"procedure": "travel"}), content_type="application/json", **token
    )
    assert again.status_code == 409
