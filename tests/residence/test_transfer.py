"""A move to another département transfers the request with its due date, history and dossier, audited
in both prefectures' chains; the person and their partner organisations are told."""

import pytest
from django.urls import reverse

from guichet.dossiers.models import Dossier
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import Actor, verify_chain
from guichet.evidence.models import AuditEntry, Proof
from guichet.notifications.models import OutboxMessage
from guichet.residence import services
from guichet.waitlist.models import RequestStatus
from tests import factories
from tests.backoffice.helpers import file, staff, verified_login

AGENT = Actor("staff", label="agent")


@pytest.fixture
def two(db):
    world = factories.World(factories.prefecture("93"))
    world.procedures["first"] = factories.procedure(world.prefecture, "first-permit")
    police = factories.prefecture("75", "Préfecture de police")
    factories.procedure(police, "premier-titre", name="Premier titre")
    return world, police


def test_the_request_moves_with_its_due_date_history_and_dossier(two):
    world, police = two
    old = file(world, email="amina@example.org")
    Dossier.objects.create(request=old, state="submitted", state_changed_at=old.received_at)
    transfer = services.transfer_request(old, postal_code="75011", reason="Déménagement", actor=AGENT)
    old.refresh_from_db()
    new = transfer.to_request
    assert old.status == RequestStatus.CLOSED and "Préfecture de police" in old.closing_reason
    assert new.prefecture == police and new.status == RequestStatus.WAITING
    assert (new.due_date, new.received_at, new.identity_key) == (
        old.due_date,
        old.received_at,
        old.identity_key,
    )
    assert Dossier.objects.get(request=new)
    received = Proof.objects.get(request=new, event="received")
    assert received.token  # signed in the new prefecture's name
    moved_in = AuditEntry.objects.get(chain="75", action="residence.transferred_in")
    assert moved_in.data["other"] == old.reference
    assert AuditEntry.objects.filter(chain="93", action="residence.transferred_out").count() == 1
    entry = AuditEntry.objects.get(chain="75", action="request.received")
    assert [p["event"] for p in entry.data["previous_proofs"]] == ["received", "closed"]
    assert verify_chain("93") == [] and verify_chain("75") == []
    kinds = set(OutboxMessage.objects.values_list("request__reference", "kind"))
    assert (old.reference, "closed") in kinds and (new.reference, "received") in kinds


def test_nothing_to_transfer_within_the_same_prefecture_or_to_one_without_guichet(two):
    world, _police = two
    request = file(world)
    with pytest.raises(InvalidInput):
        services.transfer_request(request, postal_code="93200", reason="x", actor=AGENT)
    with pytest.raises(InvalidInput):
        services.transfer_request(request, postal_code="13001", reason="x", actor=AGENT)
    with pytest.raises(InvalidInput):
        services.transfer_request(request, postal_code="75011", reason="   ", actor=AGENT)
    request.refresh_from_db()
    assert request.status == RequestStatus.WAITING


def test_a_person_already_waiting_there_is_not_duplicated(two):
    world, police = two
    request = file(world)
    police_world = factories.World(police, procedures={"first": police.procedures.get()})
    file(police_world)  # the same person already filed with the préfecture de police
    with pytest.raises(Conflict):
        services.transfer_request(request, postal_code="75011", reason="Déménagement", actor=AGENT)
    request.refresh_from_db()
    assert request.status == RequestStatus.WAITING  # nothing changed


def test_an_agent_transfers_from_the_request_page(client, two):
    world, police = two
    request = file(world)
    verified_login(client, staff(world.prefecture))
    url = reverse("residence:transfer", args=[request.reference])
    assert client.get(url).status_code == 200
    response = client.post(url, {"postal_code": "75011", "reason": "Déménagement"})
    assert response.status_code == 302
    assert police.requests.count() == 1


def test_the_closing_reason_is_in_the_persons_language_not_the_agents(two):
    world, _police = two
    old = file(world, language="ar")
    # The agent works in English (this module's fixture); the person reads Arabic.
    services.transfer_request(old, postal_code="75011", reason="Déménagement", actor=AGENT)
    old.refresh_from_db()
    assert old.closing_reason.startswith("نُقل إلى Préfecture de police بعد انتقال السكن")
    assert old.closing_reason.endswith("Déménagement")
    closed = OutboxMessage.objects.get(request=old, kind="closed", channel="email")
    assert closed.context["reason"] == old.closing_reason
