"""A prefecture's audit chain in strands (docs/concurrency.md): concurrent appends do not wait for each other,
and every tamper in any strand is still found, by verify_chain and by `manage.py verify_audit`."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from guichet.evidence import audit, services
from guichet.evidence.models import AuditChainHead, AuditEntry, ProofEvent

from .helpers import make_request
from .test_audit_chain import raw_sql, run_verify, tamperable, tampering  # noqa: F401 (fixture)


def test_without_concurrency_every_entry_goes_to_the_first_strand(world):
    for name in ("Alpha", "Beta"):
        make_request(world, family_names=name)
    assert set(AuditEntry.objects.values_list("chain", flat=True)) == {"93"}
    assert audit.strands("93")[:2] == ["93", "93.1"]
    assert len(audit.strands("93")) == 16
    assert audit.chain_of("93.5") == "93" and audit.chain_of("93") == "93"


def forge_strand(world, strand: str) -> list[AuditEntry]:
    """Entries of a second strand as an append under contention writes them (its own genesis, its own
    numbers, its name in every hash), so that the checks below run on SQLite too."""
    request, _ = make_request(world, family_names="Delta")
    with transaction.atomic():
        AuditChainHead.objects.get_or_create(chain=strand)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(audit, "_locked_head", lambda chain: AuditChainHead.objects.get(chain=strand))
            for _ in range(3):
                services.record_event(request, ProofEvent.STILL_WAITING, audit.SYSTEM)
    return list(AuditEntry.objects.filter(chain=strand).order_by("seq"))


def test_a_second_strand_verifies_with_its_chain(world):
    entries = forge_strand(world, "93.3")
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == audit.GENESIS_HASH
    assert audit.verify_chain("93") == []
    assert audit.chains() == ["93"]
    code, output = run_verify()
    assert code == 0, output


@tampering
def test_an_edit_in_a_second_strand_is_found(world):
    entries = forge_strand(world, "93.3")
    raw_sql("UPDATE evidence_auditentry SET actor = 'staff:forger' WHERE id = %s", [entries[1].id])
    problems = audit.verify_chain("93")
    assert [(p.chain, p.seq) for p in problems] == [("93.3", 2)]
    assert "edited" in problems[0].message
    code, output = run_verify("--skip-proofs")
    assert code == 1 and "93.3#2" in output


@tampering
def test_a_deletion_in_a_second_strand_is_found(world):
    entries = forge_strand(world, "93.3")
    raw_sql("DELETE FROM evidence_auditentry WHERE id = %s", [entries[2].id])
    (problem,) = audit.verify_chain("93")
    assert problem.chain == "93.3" and "deleted" in problem.message


@tampering
def test_an_entry_moved_to_another_strand_is_found(world):
    """The strand's name is in the hash: an entry cannot change strands, even renumbered to fit."""
    entries = forge_strand(world, "93.3")
    last = AuditEntry.objects.filter(chain="93").order_by("-seq").first()
    raw_sql(
        "UPDATE evidence_auditentry SET chain = '93', seq = %s WHERE id = %s", [last.seq + 1, entries[2].id]
    )
    raw_sql("UPDATE evidence_auditchainhead SET last_seq = last_seq + 1 WHERE chain = '93'", [])
    raw_sql("UPDATE evidence_auditchainhead SET last_seq = 2 WHERE chain = '93.3'", [])
    problems = audit.verify_chain("93")
    assert any(p.chain == "93" and "edited" in p.message for p in problems)


@tampering
def test_a_whole_strand_deleted_is_found_by_its_proofs(world):
    """Deleting a strand's entries and its head leaves its proofs unrecorded."""
    forge_strand(world, "93.3")
    raw_sql("DELETE FROM evidence_auditentry WHERE chain = '93.3'", [])
    raw_sql("DELETE FROM evidence_auditchainhead WHERE chain = '93.3'", [])
    assert audit.verify_chain("93") == []
    problems = services.verify_proofs()
    assert len(problems) == 3 and all("no audit entry records it" in p.message for p in problems)


@tampering
def test_a_whole_strand_deleted_is_found_by_its_checkpoint(world):
    forge_strand(world, "93.3")
    services.checkpoint_audit()
    raw_sql("DELETE FROM evidence_auditentry WHERE chain = '93.3'", [])
    raw_sql("DELETE FROM evidence_auditchainhead WHERE chain = '93.3'", [])
    problems = services.verify_checkpoints()
    assert [p.chain for p in problems] == ["93.3"] and "deleted" in problems[0].message


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_of_one_prefecture_do_not_wait_for_each_other(world):
    """While one transaction holds a strand's head, another appends to the next strand at once; both
    strands verify, and the first strand's numbers have no gap."""
    first, _ = make_request(world, family_names="Alpha")
    second, _ = make_request(world, family_names="Beta")
    holding, done = threading.Event(), threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def hold_first_strand():
        try:
            with transaction.atomic():
                services.record_event(first, ProofEvent.STILL_WAITING, audit.SYSTEM)
                holding.set()
                release.wait(timeout=30)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    def append_meanwhile():
        try:
            holding.wait(timeout=30)
            with transaction.atomic():
                services.record_event(second, ProofEvent.STILL_WAITING, audit.SYSTEM)
            done.set()
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=hold_first_strand), threading.Thread(target=append_meanwhile)]
    for thread in threads:
        thread.start()
    # The second append finishes while the first transaction still holds its head.
    finished_while_held = done.wait(timeout=20)
    release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert finished_while_held
    waited = AuditEntry.objects.filter(action="request.still_waiting")
    strands = dict(waited.values_list("request_id", "chain"))
    assert strands[first.pk] == "93" and strands[second.pk] == "93.1"
    assert audit.verify_chain("93") == []
    assert services.verify_audit() == []
    connection.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_concurrent_appends_keep_every_strand_whole(world):
    requests = [make_request(world, family_names=f"Racer {n}")[0] for n in range(24)]
    barrier = threading.Barrier(len(requests))
    errors: list[BaseException] = []

    def append(request):
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                services.record_event(request, ProofEvent.STILL_WAITING, audit.SYSTEM)
                services.record_event(request, ProofEvent.STILL_WAITING, audit.SYSTEM)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert AuditEntry.objects.filter(action="request.still_waiting").count() == 48
    assert services.verify_audit() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("looks_again", [True, False], ids=["looks-again", "control-waits-for-its-strand"])
def test_with_every_strand_held_an_append_takes_the_first_one_freed(
    world, settings, monkeypatch, looks_again
):
    """A long transaction (an allocation run) holds the strand this process would wait for, a short one
    holds the other: the append takes the short one's strand as soon as it is freed. The control, which
    waits for its strand at once, stays behind the long transaction."""
    settings.AUDIT_CHAIN_STRANDS = 2
    # Looks spread over 1.5 s, so that a busy machine still frees the short one's strand within them.
    monkeypatch.setattr(audit, "STRAND_RETRY_PAUSES", (0.05,) * 30 if looks_again else ())
    request, _ = make_request(world, family_names="Gamma")
    waited_for = audit._strand_to_wait_for("93")
    (other,) = set(audit.strands("93")) - {waited_for}
    held = {name: threading.Event() for name in (waited_for, other)}
    release_long, appending, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold(name, until):
        try:
            with transaction.atomic():
                AuditChainHead.objects.select_for_update().get(chain=name)
                held[name].set()
                until()
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    def append():
        try:
            for event in held.values():
                event.wait(timeout=30)
            appending.set()
            with transaction.atomic():
                services.record_event(request, ProofEvent.STILL_WAITING, audit.SYSTEM)
            done.set()
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    with transaction.atomic():
        AuditChainHead.objects.bulk_create(
            [AuditChainHead(chain=name) for name in audit.strands("93")], ignore_conflicts=True
        )
    threads = [
        threading.Thread(target=hold, args=(waited_for, lambda: release_long.wait(timeout=30))),
        # Freed 0.3 s after the append starts: after its first look, within its later ones.
        threading.Thread(target=hold, args=(other, lambda: appending.wait(timeout=30) and time.sleep(0.3))),
        threading.Thread(target=append),
    ]
    for thread in threads:
        thread.start()
    finished_while_long_held = done.wait(timeout=3)
    release_long.set()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert finished_while_long_held is looks_again
    entry = AuditEntry.objects.get(action="request.still_waiting")
    assert entry.chain == (other if looks_again else waited_for)
    assert services.verify_audit() == []
    connection.close()
