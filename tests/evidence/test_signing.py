"""Signing keys, proof tokens, the JWK set, and proofs written in the transaction of their event."""

import base64
import datetime
import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from guichet.evidence import audit, services, signing
from guichet.evidence.models import AuditEntry, Proof, ProofEvent, SigningKey

from .helpers import make_request


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_part(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_key_is_generated_on_first_use_and_kept(signing_key_file):
    assert not signing_key_file.exists()
    first = signing.current_key()
    assert signing_key_file.exists()
    assert oct(signing_key_file.stat().st_mode)[-3:] == "600"
    signing.clear_key_cache()
    assert signing.current_key().kid == first.kid


def test_key_id_is_the_rfc7638_thumbprint():
    key = signing.current_key()
    x = signing.public_key_b64(key.public_key)
    thumbprint = hashlib.sha256(f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'.encode()).digest()
    assert key.kid == b64(thumbprint)[:22]


def test_key_from_pem_setting(settings):
    from cryptography.hazmat.primitives import serialization

    private = Ed25519PrivateKey.generate()
    settings.SIGNING_KEY_PEM = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    assert signing.current_key().kid == signing.key_id_for(private.public_key())


def test_token_is_compact_eddsa_with_kid():
    key = signing.current_key()
    token = signing.sign({"hello": "wörld"}, key)
    header, payload, signature = token.split(".")
    assert decode_part(header) == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}
    assert decode_part(payload) == {"hello": "wörld"}
    assert len(base64.urlsafe_b64decode(signature + "==")) == 64
    verified = signing.parse_and_verify(token, {key.kid: signing.raw_public_key(key.public_key)})
    assert verified.payload == {"hello": "wörld"}


def test_proof_payload_says_who_which_what_when_and_due_date(world):
    request, _ = make_request(
        world,
        received_at=datetime.datetime(2026, 3, 2, 8, 30, tzinfo=datetime.UTC),
        family_names="بن علي",
        given_names="Amina",
    )
    proof = Proof.objects.get(request=request)
    payload = services.verify_token(proof.token).payload
    assert payload["event"] == "received"
    assert payload["name"] == {"family": "بن علي", "given": "Amina"}
    assert payload["birth_date"] == "1990-04-12"
    assert payload["ref"] == request.reference
    assert payload["prefecture"] == "93"
    assert payload["procedure"] == "first-permit"
    assert payload["channel"] == "web"
    assert payload["at"] == "2026-03-02T08:30:00Z"
    assert payload["at_local"] == "2026-03-02T09:30:00+01:00"
    assert payload["tz"] == "Europe/Paris"
    assert payload["due_date"] == request.due_date.isoformat()
    assert payload["due_reason"] == "target_wait"
    assert proof.kid == signing.current_key().kid


def test_details_datetimes_are_written_in_utc_with_local_twin(world):
    request, _ = make_request(world, with_proof=False)
    starts = datetime.datetime(2026, 7, 1, 7, 0, tzinfo=datetime.UTC)
    with transaction.atomic():
        proof = services.record_event(
            request, ProofEvent.OFFER_MADE, audit.SYSTEM, details={"starts_at": starts, "day": starts.date()}
        )
    details = services.verify_token(proof.token).payload["details"]
    assert details == {
        "starts_at": "2026-07-01T07:00:00Z",
        "starts_at_local": "2026-07-01T09:00:00+02:00",
        "day": "2026-07-01",
    }
    entry = AuditEntry.objects.get(action="request.offer_made")
    assert entry.data["proof"] == proof.pk and entry.data["starts_at"] == "2026-07-01T07:00:00Z"
    assert audit.verify_chain("93") == []


@pytest.mark.parametrize("event", [choice.value for choice in ProofEvent])
def test_every_event_gets_a_verifiable_proof_and_audit_entry(world, event):
    request, _ = make_request(world, with_proof=False)
    with transaction.atomic():
        proof = services.record_event(request, event, audit.SYSTEM)
    assert services.verify_token(proof.token).payload["event"] == event
    assert AuditEntry.objects.filter(action=f"request.{event}", data__proof=proof.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_record_event_outside_a_transaction_is_refused(world):
    request, _ = make_request(world, with_proof=False)
    with pytest.raises(RuntimeError, match="transaction"):
        services.record_event(request, ProofEvent.RECEIVED, audit.SYSTEM)
    assert not Proof.objects.exists()
    assert not AuditEntry.objects.exists()


def test_an_event_that_fails_after_record_event_leaves_no_proof_and_no_entry(world):
    request, _ = make_request(world, with_proof=False)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        request.status = "paused"
        request.save()
        services.record_event(request, ProofEvent.PAUSED, audit.SYSTEM)
        raise Boom
    assert not Proof.objects.filter(request=request).exists()
    assert not AuditEntry.objects.filter(request=request).exists()
    request.refresh_from_db()
    assert request.status == "waiting"
    # The chain head did not move either: the next entry follows the last committed one.
    with transaction.atomic():
        services.record_event(request, ProofEvent.PAUSED, audit.SYSTEM)
    assert audit.verify_chain("93") == []


def test_record_events_in_bulk_is_atomic_too(world):
    first, _ = make_request(world, with_proof=False)
    second, _ = make_request(world, with_proof=False, family_names="Petrenko")
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        services.record_events([(first, "offer_made", {}), (second, "offer_made", {})], audit.SYSTEM)
        1 / 0  # noqa: B018
    assert not Proof.objects.exists()
    with transaction.atomic():
        ids = services.record_events(
            [(first, "offer_made", {"position": 1}), (second, "offer_made", {})], audit.SYSTEM
        )
    tokens = [Proof.objects.get(pk=pk).token for pk in ids]
    assert [services.verify_token(token).payload["ref"] for token in tokens] == [
        first.reference,
        second.reference,
    ]
    assert AuditEntry.objects.filter(action="request.offer_made").count() == 2
    assert audit.verify_chain("93") == []


def test_rotation_keeps_old_keys_published_and_old_proofs_valid(world, client):
    request, _ = make_request(world)
    old_proof = Proof.objects.get(request=request)
    old_kid = old_proof.kid
    call_command("rotate_signing_key", stdout=open("/dev/null", "w"))
    new_kid = signing.current_key().kid
    assert new_kid != old_kid
    with transaction.atomic():
        new_proof = services.record_event(request, ProofEvent.STILL_WAITING, audit.SYSTEM)
    assert new_proof.kid == new_kid
    assert services.verify_token(old_proof.token).kid == old_kid
    assert services.verify_token(new_proof.token).kid == new_kid
    assert SigningKey.objects.get(kid=old_kid).retired_at is not None
    assert SigningKey.objects.get(kid=new_kid).retired_at is None
    kids = [key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]]
    assert kids == [new_kid, old_kid]
    assert AuditEntry.objects.filter(action="signing_key.rotated", object_id=new_kid).exists()


def test_rotation_is_refused_when_the_key_comes_from_the_environment(settings):
    from cryptography.hazmat.primitives import serialization
    from django.core.management.base import CommandError

    settings.SIGNING_KEY_PEM = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    with pytest.raises(CommandError, match="SIGNING_KEY_PEM"):
        call_command("rotate_signing_key")


def test_a_new_environment_key_retires_the_previous_one(db, settings):
    from cryptography.hazmat.primitives import serialization

    first = services.signing_key()
    settings.SIGNING_KEY_PEM = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    second = services.signing_key()
    assert SigningKey.objects.get(kid=first.kid).retired_at is not None
    assert SigningKey.objects.get(kid=second.kid).retired_at is None


def test_jwks_endpoint(db, client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwk-set+json"
    assert "max-age=300" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"
    (key,) = response.json()["keys"]
    current = signing.current_key()
    assert key == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": signing.public_key_b64(current.public_key),
        "kid": current.kid,
        "use": "sig",
        "alg": "EdDSA",
    }
    assert len(base64.urlsafe_b64decode(key["x"] + "=")) == 32


def test_jwks_has_no_language_prefix_and_no_private_material(db, client):
    assert client.get("/fr/.well-known/jwks.json").status_code == 404
    body = client.get("/.well-known/jwks.json").content.decode()
    assert '"d"' not in body


def test_proof_issued_at_is_whole_seconds(world):
    request, _ = make_request(world, with_proof=False)
    with transaction.atomic():
        proof = services.record_event(request, ProofEvent.RECEIVED, audit.SYSTEM, at=timezone.now())
    assert proof.issued_at.microsecond == 0


def test_a_key_seen_published_is_trusted_by_the_process_without_a_cache_round_trip(
    transactional_db, monkeypatch
):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with transaction.atomic():
        key = services.signing_key()  # creates the row
    with transaction.atomic():
        services.signing_key()  # finds it: the shared mark is set on commit
    asked = []
    original = cache.get
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: asked.append(args) or original(*args, **kwargs))
    with transaction.atomic():
        services.signing_key()  # the shared mark says so; remembered by the process from now on
    assert len(asked) == 1
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        for _ in range(3):
            assert services.signing_key().kid == key.kid
    assert not [query for query in queries if "signingkey" in query["sql"]]
    assert len(asked) == 1
    # Forgotten (as each test's start does), the process asks the shared cache again.
    services.forget_published_keys()
    with transaction.atomic():
        services.signing_key()
    assert len(asked) == 2
