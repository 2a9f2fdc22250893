"""record_events (the bulk path of allocation runs) writes what record_event writes, event by event."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from guichet.evidence import audit, services
from guichet.evidence.models import AuditEntry, Proof
from tests.evidence.helpers import make_request

pytestmark = pytest.mark.django_db


def _details(at: datetime.datetime) -> dict:
    return {
        "offer": 7,
        "site": "Bobigny",
        "counter": "G 1",
        "starts_at": at,
        "expires_at": at,
        "tags": ("a",),
    }


def test_bulk_tokens_and_audit_data_are_those_of_one_by_one(world):
    at = timezone.now().replace(microsecond=0) + datetime.timedelta(days=1)
    requests = [make_request(world, family_names=f"Nom {i}")[0] for i in range(3)]
    with transaction.atomic():
        ids = services.record_events([(r, "offer_made", _details(at)) for r in requests], audit.SYSTEM, at=at)
    # One proof per event, ids ascending in the order of the events.
    assert ids == sorted(ids) and len(set(ids)) == 3
    stored = {p.pk: p for p in Proof.objects.filter(pk__in=ids)}
    bulk = [stored[pk] for pk in ids]
    assert [p.request_id for p in bulk] == [r.pk for r in requests]
    with transaction.atomic():
        single = [
            services.record_event(r, "offer_made", audit.SYSTEM, details=_details(at), at=at)
            for r in requests
        ]
    # Ed25519 is deterministic: the same payload under the same key gives the same token.
    assert [p.token for p in bulk] == [p.token for p in single]
    chain = services.chain_for(requests[0])
    entries = list(AuditEntry.objects.filter(chain=chain, action="request.offer_made").order_by("seq"))
    assert len(entries) == 6
    for first, second in zip(entries[:3], entries[3:], strict=True):
        assert {k: v for k, v in first.data.items() if k != "proof"} == {
            k: v for k, v in second.data.items() if k != "proof"
        }
    assert entries[0].data["tags"] == ["a"]
    assert audit.verify_chain(chain) == []
    assert services.verify_proofs() == []


def test_bulk_append_hashes_as_entry_hash_and_tampering_shows(world):
    request, _ = make_request(world)
    with transaction.atomic():
        services.record_events([(request, "offer_made", _details(timezone.now()))], audit.SYSTEM)
    entry = AuditEntry.objects.filter(request=request).latest("seq")
    assert audit._recompute(entry) == entry.hash
    entry.data = {**entry.data, "site": "Ailleurs"}
    assert audit._recompute(entry) != entry.hash


def test_requests_as_plain_facts_give_the_same_proofs_and_messages(world):
    """Allocation runs pass RequestFacts (plain values) instead of model instances: same tokens, same rows."""
    from guichet.catalog.models import Procedure
    from guichet.notifications.models import OutboxMessage
    from guichet.notifications.services import notify_many
    from guichet.waitlist.facts import load_facts

    at = timezone.now().replace(microsecond=0) + datetime.timedelta(days=1)
    requests = [make_request(world, family_names=name)[0] for name in ("Nom", "Иванова", "王")]
    procedures = {p.pk: p for p in Procedure.objects.filter(prefecture=world.prefecture)}
    facts = load_facts([r.pk for r in requests], world.prefecture, procedures)
    assert sorted(facts) == sorted(r.pk for r in requests)
    with transaction.atomic():
        from_models = services.record_events(
            [(r, "offer_made", _details(at)) for r in requests], audit.SYSTEM, at=at
        )
        from_facts = services.record_events(
            [(facts[r.pk], "offer_made", _details(at)) for r in requests], audit.SYSTEM, at=at
        )
        messages_from_models = notify_many([(r, "offer_made", {"offer_id": 7}) for r in requests])
        messages_from_facts = notify_many([(facts[r.pk], "offer_made", {"offer_id": 7}) for r in requests])
    tokens = dict(Proof.objects.filter(pk__in=from_models + from_facts).values_list("pk", "token"))
    assert [tokens[pk] for pk in from_models] == [tokens[pk] for pk in from_facts]
    fields = ("request_id", "channel", "kind", "language", "recipient", "context")

    by_models = list(
        OutboxMessage.objects.filter(pk__in=messages_from_models).order_by("pk").values_list(*fields)
    )
    by_facts = list(
        OutboxMessage.objects.filter(pk__in=messages_from_facts).order_by("pk").values_list(*fields)
    )
    assert by_models == by_facts and len(by_models) >= 3
    assert audit.verify_chain(services.chain_for(requests[0])) == []
