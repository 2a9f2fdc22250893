"""« Impossibilité constatée » (CESEDA R.431-2): recorded by an agent or a partner holding a mandate, the
person gets a signed attestation and the request is marked for the physical substitution route."""

import pytest
from django.urls import reverse
from django.utils import timezone

from guichet.errors import Forbidden, InvalidInput
from guichet.evidence import signing
from guichet.evidence.models import AuditEntry, Proof
from guichet.partners import services
from guichet.partners.models import ImpossibilityRecord
from tests.backoffice.helpers import file, partner, staff, verified_login

pytestmark = pytest.mark.django_db


def test_an_agent_records_it_and_the_person_gets_a_signed_attestation(client, world):
    agent = staff(world.prefecture)
    request = file(world, family="Impossible")
    verified_login(client, agent)
    url = reverse("backoffice:impossibility", args=[request.reference])
    assert "R.431-2" in client.get(url).content.decode()
    assert client.post(url, {"circumstances": ""}).status_code == 200
    response = client.post(
        url,
        {
            "circumstances": "No phone, no computer; the digital help point could not open an account.",
            "accompaniment_tried": "on",
        },
    )
    assert response.status_code == 302
    record = ImpossibilityRecord.objects.get(request=request)
    assert record.recorded_by == agent and record.accompaniment_tried
    proof = Proof.objects.get(request=request, event="impossibility")
    assert record.proof == proof
    payload = signing.parse_and_verify(proof.token, _public_keys()).payload
    assert payload["event"] == "impossibility"
    assert (
        payload["details"]["route"] == "physical_substitution"
        and payload["details"]["rule"] == "CESEDA R.431-2"
    )
    assert services.substitution_route(request)
    entry = AuditEntry.objects.get(request=request, action="request.impossibility")
    assert entry.actor == f"staff:{agent.username}"
    page = client.get(reverse("backoffice:request", args=[request.reference])).content.decode()
    assert "physical substitution route" in page
    queue = client.get(reverse("backoffice:queue", args=[world.prefecture.code])).content.decode()
    assert "physical route" in queue


def _public_keys():
    from guichet.evidence.services import published_keys

    return published_keys()


def test_a_partner_with_a_mandate_records_it(world):
    organisation, user = partner(world.prefecture)
    request = file(world, family="Partnered")
    with pytest.raises(Forbidden):
        services.record_impossibility(request, by=user, circumstances="tried", accompaniment_tried=True)
    services.create_mandate(
        organisation, request, by=user, consent_given_on=timezone.localdate(), consent_method="phone"
    )
    record = services.record_impossibility(
        request, by=user, circumstances="the site refused the passport", accompaniment_tried=True
    )
    assert record.organisation == organisation and record.recorded_by_kind == "partner"
    assert AuditEntry.objects.get(request=request, action="request.impossibility").actor.startswith(
        "partner:"
    )


def test_refused_inputs_change_nothing(world):
    from tests.factories import prefecture as make_prefecture

    request = file(world, family="Nothing")
    agent = staff(world.prefecture)
    outsider = staff(make_prefecture("75", "Paris"))
    with pytest.raises(InvalidInput):
        services.record_impossibility(request, by=agent, circumstances="  ", accompaniment_tried=False)
    with pytest.raises(InvalidInput):
        services.record_impossibility(request, by=agent, circumstances="x" * 2001, accompaniment_tried=False)
    with pytest.raises(Forbidden):
        services.record_impossibility(request, by=outsider, circumstances="tried", accompaniment_tried=False)
    assert not ImpossibilityRecord.objects.exists()
    assert not Proof.objects.filter(event="impossibility").exists()
