"""Audit entries carry a salted commitment to the person's free texts, kept apart and erasable; proofs carry
their fingerprint. verify_audit still finds every change, and now also a change to the personal data."""

import hashlib

import pytest
from django.db import DatabaseError, connection, transaction

from guichet.evidence import audit, services
from guichet.evidence.models import AuditEntry, AuditPersonalData, Proof, ProofEvent

from .helpers import make_request


def closed_with_reason(world, reason="moved to Lyon, see the letter of 3 May"):
    request, _ = make_request(world)
    with transaction.atomic():
        services.record_event(request, ProofEvent.CLOSED, audit.SYSTEM, details={"reason": reason})
    return request, AuditEntry.objects.get(request=request, action="request.closed")


def test_the_entry_keeps_a_commitment_and_the_text_goes_apart(world):
    request, entry = closed_with_reason(world)
    assert "reason" not in entry.data
    personal = AuditPersonalData.objects.get(entry=entry)
    assert personal.fields == {"reason": "moved to Lyon, see the letter of 3 May"}
    assert entry.data["personal"] == audit.personal_commitment(personal.salt, personal.fields)
    assert entry.readable_data["reason"] == "moved to Lyon, see the letter of 3 May"
    # The signed proof still says the reason to its person.
    proof = Proof.objects.get(request=request, event=ProofEvent.CLOSED)
    payload = services.verify_token(proof.token).payload
    assert payload["details"]["reason"] == "moved to Lyon, see the letter of 3 May"
    assert services.verify_audit() == []


def test_two_entries_with_the_same_text_commit_differently(world):
    _, first = closed_with_reason(world, "same words")
    _, second = closed_with_reason(world, "same words")
    assert first.data["personal"] != second.data["personal"]


def test_the_fingerprint_of_a_proof_is_recorded_by_its_entry(world):
    request, _ = make_request(world)
    proof = Proof.objects.get(request=request)
    assert proof.fingerprint == hashlib.sha256(proof.token.encode("ascii")).hexdigest()
    entry = AuditEntry.objects.get(request=request, action="request.received")
    assert entry.data["proof"] == proof.pk and entry.data["proof_sha256"] == proof.fingerprint


def test_an_entry_without_free_text_has_no_personal_data(world):
    request, _ = make_request(world)
    entry = AuditEntry.objects.get(request=request, action="request.received")
    assert "personal" not in entry.data and not AuditPersonalData.objects.filter(entry=entry).exists()


def test_editing_the_personal_data_is_found(world):
    _, entry = closed_with_reason(world)
    AuditPersonalData.objects.filter(entry=entry).update(fields={"reason": "something else"})
    problems = services.verify_audit()
    assert [str(p) for p in problems] == [
        f"93#{entry.seq} (row id {entry.id}): its personal data does not match its commitment (edited)"
    ]


def test_deleting_the_personal_data_outside_an_erasure_is_found(world):
    _, entry = closed_with_reason(world)
    AuditPersonalData.objects.filter(entry=entry).delete()
    problems = services.verify_audit()
    assert [p.message for p in problems] == ["its personal data was removed outside an erasure (deleted)"]


@pytest.fixture
def proof_trigger_off(db):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE evidence_proof DISABLE TRIGGER USER")


@pytest.mark.usefixtures("proof_trigger_off")
def test_a_proof_text_removed_outside_an_erasure_is_found(world):
    request, _ = make_request(world)
    Proof.objects.filter(request=request).update(token="")
    assert [p.message for p in services.verify_audit()] == [
        f"proof {Proof.objects.get(request=request).pk}: its text was removed outside an erasure (deleted)"
    ]


@pytest.mark.usefixtures("proof_trigger_off")
def test_a_proof_whose_fingerprint_changed_is_found(world):
    request, _ = make_request(world)
    proof = Proof.objects.get(request=request)
    Proof.objects.filter(pk=proof.pk).update(fingerprint="0" * 64)
    messages = [p.message for p in services.verify_audit()]
    assert f"proof {proof.pk}: its fingerprint differs from the audited one (edited)" in messages


@pytest.mark.postgres
def test_postgres_accepts_erasing_a_proof_text_and_nothing_else(world):
    request, _ = make_request(world)
    proof = Proof.objects.get(request=request)
    for change in (
        {"kid": "x"},
        {"fingerprint": "1" * 64},
        {"token": "eyJ.forged.proof"},
        {"token": "", "kid": "x"},
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            Proof.objects.filter(pk=proof.pk).update(**change)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Proof.objects.filter(pk=proof.pk).delete()
    Proof.objects.filter(pk=proof.pk).update(token="")
    assert Proof.objects.get(pk=proof.pk).erased


@pytest.mark.postgres
def test_postgres_still_refuses_any_change_to_an_audit_entry(world):
    _, entry = closed_with_reason(world)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(data={})
    # The personal data is the part that may go.
    AuditPersonalData.objects.filter(entry=entry).delete()
