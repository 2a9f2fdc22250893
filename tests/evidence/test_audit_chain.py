"""The audit log: verify_audit finds an edited, deleted, inserted or reordered entry and says where; signed
checkpoints catch a chain rewritten with recomputed hashes; on PostgreSQL triggers refuse UPDATE, DELETE."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from guichet.evidence import audit, services, signing
from guichet.evidence.models import AuditChainHead, AuditCheckpoint, AuditEntry, Proof, ProofEvent

from .helpers import make_request


@pytest.fixture
def tamperable(db):
    """Raw SQL may change the log. On PostgreSQL that takes what an attacker with the tables' owner rights
    would do: switch the append-only triggers off (inside the test's transaction, so it is rolled back)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("evidence_auditentry", "evidence_proof"):
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")


tampering = pytest.mark.usefixtures("tamperable")


@pytest.fixture
def chain(world):
    """Six entries in chain 93: three requests, each received then still waiting."""
    for name in ("Alpha", "Beta", "Gamma"):
        request, _ = make_request(world, family_names=name)
        with transaction.atomic():
            services.record_event(request, ProofEvent.STILL_WAITING, audit.SYSTEM)
    entries = list(AuditEntry.objects.filter(chain="93").order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5, 6]
    return entries


def run_verify(*args) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code), err.getvalue()
    return 0, out.getvalue()


def raw_sql(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_intact_log_verifies(chain):
    code, output = run_verify()
    assert code == 0, output
    assert "OK" in output


@tampering
def test_edited_entry_is_found(chain):
    target = chain[2]
    raw_sql(
        "UPDATE evidence_auditentry SET data = %s WHERE id = %s",
        [json.dumps({**target.data, "proof": 999}), target.id],
    )
    problems = audit.verify_chain("93")
    assert [(p.seq, p.entry_id) for p in problems] == [(3, target.id)]
    assert "edited" in problems[0].message
    code, output = run_verify("--skip-proofs")
    assert code == 1
    assert f"93#3 (row id {target.id}): its content does not match its hash (edited)" in output


@tampering
def test_edited_actor_or_time_is_found(chain):
    raw_sql("UPDATE evidence_auditentry SET actor = 'staff:someone' WHERE id = %s", [chain[0].id])
    raw_sql(
        "UPDATE evidence_auditentry SET at = %s WHERE id = %s",
        [datetime.datetime(2020, 1, 1).isoformat(sep=" "), chain[4].id],
    )
    assert [p.seq for p in audit.verify_chain("93")] == [1, 5]


@tampering
def test_deleted_entry_is_found(chain):
    raw_sql("DELETE FROM evidence_auditentry WHERE id = %s", [chain[3].id])
    problems = audit.verify_chain("93")
    assert len(problems) == 1
    assert problems[0].seq == 4 and "entry 4 is missing (deleted)" in problems[0].message


@tampering
def test_deleted_last_entries_are_found(chain):
    raw_sql("DELETE FROM evidence_auditentry WHERE id IN (%s, %s)", [chain[4].id, chain[5].id])
    (problem,) = audit.verify_chain("93")
    assert problem.seq == 5 and "missing (deleted)" in problem.message


@tampering
def test_deleted_entry_with_renumbering_is_found(chain):
    """A careful forger deletes entry 3 and renumbers the rest to close the gap: the hashes give it away."""
    raw_sql("DELETE FROM evidence_auditentry WHERE id = %s", [chain[2].id])
    raw_sql("UPDATE evidence_auditentry SET seq = seq - 1 WHERE chain = '93' AND seq > 3", [])
    raw_sql("UPDATE evidence_auditchainhead SET last_seq = 5 WHERE chain = '93'", [])
    problems = audit.verify_chain("93")
    assert problems and problems[0].seq == 3
    assert all("reordered" in p.message or "edited" in p.message for p in problems)


def forged_entry(after: AuditEntry, seq: int) -> dict:
    at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    data = {"note": "forged"}
    digest = audit.entry_hash(
        chain="93",
        seq=seq,
        at=at,
        actor="staff:forger",
        action="request.forged",
        object_type="appointment_request",
        object_id="x",
        request_id=None,
        data=data,
        prev_hash=after.hash,
    )
    return {"seq": seq, "at": at, "data": data, "prev": after.hash, "hash": digest}


def insert_raw(entry: dict) -> None:
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                chain="93",
                seq=entry["seq"],
                at=entry["at"],
                actor="staff:forger",
                action="request.forged",
                object_type="appointment_request",
                object_id="x",
                data=entry["data"],
                prev_hash=entry["prev"],
                hash=entry["hash"],
            )
        ]
    )


def test_entry_inserted_after_the_head_is_found(chain):
    """Works on PostgreSQL too: the trigger refuses changes, not inserts."""
    insert_raw(forged_entry(chain[-1], 7))
    (problem,) = audit.verify_chain("93")
    assert problem.seq == 7 and "inserted" in problem.message


@tampering
def test_entry_inserted_in_the_middle_is_found(chain):
    """Make room by renumbering, insert a well-formed entry after entry 2: entry 3 no longer follows it,
    and the inserted row is out of row-id order."""
    raw_sql("UPDATE evidence_auditentry SET seq = seq + 100 WHERE chain = '93' AND seq > 2", [])
    raw_sql("UPDATE evidence_auditentry SET seq = seq - 99 WHERE chain = '93' AND seq > 100", [])
    insert_raw(forged_entry(chain[1], 3))
    problems = audit.verify_chain("93")
    where = {p.seq for p in problems}
    assert 3 in where or 4 in where
    assert any("inserted" in p.message or "out of order" in p.message for p in problems)


@tampering
def test_reordered_entries_are_found(chain):
    a, b = chain[1], chain[2]
    raw_sql("UPDATE evidence_auditentry SET seq = -1 WHERE id = %s", [a.id])
    raw_sql("UPDATE evidence_auditentry SET seq = 2 WHERE id = %s", [b.id])
    raw_sql("UPDATE evidence_auditentry SET seq = 3 WHERE id = %s", [a.id])
    problems = audit.verify_chain("93")
    messages = {(p.seq, p.message) for p in problems}
    assert (2, "this is entry 3 moved to position 2 (reordered)") in messages
    assert (3, "this is entry 2 moved to position 3 (reordered)") in messages
    code, output = run_verify("--skip-proofs")
    assert code == 1 and "reordered" in output


@tampering
def test_rewritten_chain_is_caught_by_a_signed_checkpoint(chain):
    """Recompute every hash after an edit: the chain alone looks intact; the checkpoint does not."""
    services.checkpoint_audit()
    target = chain[1]
    raw_sql("UPDATE evidence_auditentry SET actor = 'staff:forger' WHERE id = %s", [target.id])
    previous = audit.GENESIS_HASH
    for entry in AuditEntry.objects.filter(chain="93").order_by("seq"):
        digest = audit.entry_hash(
            chain=entry.chain,
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            object_type=entry.object_type,
            object_id=entry.object_id,
            request_id=entry.request_id,
            data=entry.data,
            prev_hash=previous,
        )
        raw_sql(
            "UPDATE evidence_auditentry SET prev_hash = %s, hash = %s WHERE id = %s",
            [previous, digest, entry.id],
        )
        previous = digest
    raw_sql("UPDATE evidence_auditchainhead SET last_hash = %s WHERE chain = '93'", [previous])
    assert audit.verify_chain("93") == []
    problems = services.verify_checkpoints()
    assert len(problems) == 1 and "rewritten" in problems[0].message
    code, output = run_verify("--skip-proofs")
    assert code == 1 and "checkpoint" in output


@tampering
def test_deleted_proof_is_found(chain):
    proof = Proof.objects.order_by("pk").first()
    raw_sql("DELETE FROM evidence_proof WHERE id = %s", [proof.id])
    problems = services.verify_proofs()
    assert [p.message for p in problems] == [
        f"proof {proof.pk} is recorded in the audit log but missing (deleted)"
    ]


def test_checkpoints_are_signed_daily_idempotent_and_audited(chain):
    now = datetime.datetime(2026, 5, 4, 1, 0, tzinfo=datetime.UTC)
    made = services.checkpoint_audit(now)
    assert [c.chain for c in made] == ["93"]
    checkpoint = made[0]
    head = AuditChainHead.objects.get(chain="93")
    payload = services.verify_token(checkpoint.token).payload
    assert payload == {
        "typ": "guichet-audit-checkpoint/1",
        "iss": "https://guichet.example.org",
        "chain": "93",
        "seq": 6,
        "hash": head.last_hash,
        "at": "2026-05-04T01:00:00Z",
    }
    assert services.checkpoint_audit(now + datetime.timedelta(hours=5)) == []
    recorded = AuditEntry.objects.get(chain=audit.PLATFORM_CHAIN, action="audit.checkpoint")
    assert recorded.data == {"chain": "93", "seq": 6, "hash": head.last_hash}
    # The next day both chains are checkpointed (the platform chain now has the entry above).
    next_day = services.checkpoint_audit(now + datetime.timedelta(days=1))
    assert sorted(c.chain for c in next_day) == ["93", "platform"]
    assert services.verify_checkpoints() == []
    out = io.StringIO()
    call_command("checkpoint_audit", stdout=out)
    assert "checkpoint" in out.getvalue()


def test_a_checkpoint_with_a_broken_signature_is_reported(chain):
    checkpoint = services.checkpoint_audit()[0]
    header, payload, signature = checkpoint.token.split(".")
    AuditCheckpoint.objects.create(
        chain="93",
        seq=checkpoint.seq,
        hash=checkpoint.hash,
        at=checkpoint.at,
        kid=checkpoint.kid,
        token=f"{header}.{payload}.{signature[:-4]}AAAA",
    )
    problems = services.verify_checkpoints()
    assert len(problems) == 1 and "bad_signature" in problems[0].message


def test_audit_data_is_stored_as_it_is_hashed(chain):
    request = chain[0].request
    with transaction.atomic():
        services.record_event(
            request,
            ProofEvent.DETAILS_CHANGED,
            audit.SYSTEM,
            audit_data={"when": datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC), "ids": (1, 2), "n": 1.5},
        )
    assert audit.verify_chain("93") == []


@pytest.mark.postgres
def test_postgres_trigger_refuses_update_and_delete(chain):
    target = chain[0]
    for statement in (
        "UPDATE evidence_auditentry SET actor = 'x' WHERE id = %s",
        "DELETE FROM evidence_auditentry WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            raw_sql(statement, [target.id])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=target.pk).update(actor="x")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Proof.objects.filter(pk=Proof.objects.first().pk).update(kid="x")
    services.checkpoint_audit()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditCheckpoint.objects.all().delete()
    assert audit.verify_chain("93") == []
    assert signing.parse_and_verify(Proof.objects.first().token, services.published_keys())
