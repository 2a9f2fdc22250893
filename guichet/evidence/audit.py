"""The append-only audit log: every state change, chained by SHA-256 within its chain.

One chain per prefecture (and "platform" for what belongs to none), so that prefectures do not wait
for each other; and each chain is kept in AUDIT_CHAIN_STRANDS strands ("93", "93.1" … "93.7"), each
its own hash chain with its own head row, so that concurrent changes of one prefecture do not wait
for each other either. Appending locks the head of a strand that no other transaction holds (SKIP
LOCKED: it never waits while one is free), last of all the locks a transaction takes
(docs/concurrency.md), and holds it until commit. Without concurrency (and on SQLite, which
serialises writers) every entry goes to the first strand, named like the chain itself.
"""

import datetime
import decimal
import hashlib
import json
import os
import secrets
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from guichet import bulk

from .models import AuditChainHead, AuditEntry, AuditPersonalData
from .signing import canonical_json, utc_iso

PLATFORM_CHAIN = "platform"
GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who did something: the applicant, a staff member, a partner, or the system itself."""

    kind: str  # applicant | staff | partner | system
    label: str = ""
    user_id: int | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.label}" if self.label else self.kind


APPLICANT = Actor("applicant")
SYSTEM = Actor("system")


@dataclass
class Change:
    """One entry to append; the chain fields are filled in when it is written.

    `personal` holds what must be erasable (free texts about the person): it is stored apart
    (AuditPersonalData) and the entry's data carries only its commitment, under PERSONAL_KEY.
    """

    action: str
    object_type: str
    object_id: str
    actor: Actor
    request_id: int | None = None
    data: dict = field(default_factory=dict)
    personal: dict = field(default_factory=dict)


PERSONAL_KEY = "personal"


def personal_commitment(salt: str, fields: dict) -> str:
    """SHA-256 over a random salt and the fields' canonical JSON: binds the entry to the fields, and once
    salt and fields are erased, tells nothing about them (a guess cannot be checked without the salt)."""
    return hashlib.sha256(salt.encode("ascii") + canonical_json(fields)).hexdigest()


def entry_hash(
    *,
    chain: str,
    seq: int,
    at: datetime.datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    request_id: int | None,
    data: dict,
    prev_hash: str,
) -> str:
    body = {
        "chain": chain,
        "seq": seq,
        "at": utc_iso(at),
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "request": request_id,
        "data": data,
    }
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(body)).hexdigest()


def _json_default(value):
    if isinstance(value, datetime.datetime):
        return utc_iso(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot store {type(value).__name__} in the audit log")


def storable(data: dict | None) -> dict:
    """The data exactly as the JSON column will give it back, so that its hash verifies after a reload."""
    return json.loads(json.dumps(data or {}, default=_json_default, ensure_ascii=False))


STRAND_SEPARATOR = "."


def strands(chain: str) -> list[str]:
    """The names of a chain's strands: the chain's own name first, then "<chain>.1" and so on."""
    count = settings.AUDIT_CHAIN_STRANDS
    return [chain] + [f"{chain}{STRAND_SEPARATOR}{number}" for number in range(1, count)]


def chain_of(strand: str) -> str:
    """The chain a strand belongs to ("93.3" → "93")."""
    return strand.split(STRAND_SEPARATOR, 1)[0]


def _free_head(chain: str) -> AuditChainHead | None:
    # A head this transaction already holds is not skipped (the lock is its own), so a transaction
    # that appends twice never falls through to the waiting branch below while holding a head.
    return (
        AuditChainHead.objects.select_for_update(skip_locked=True)
        .filter(chain__in=strands(chain))
        .order_by("chain")
        .first()
    )


def _locked_head(chain: str) -> AuditChainHead:
    head = _free_head(chain)
    if head is not None:
        return head
    # No head was free: either the strands do not exist yet, or every one is held by another
    # transaction. Create what is missing, then take a free one, or wait for one (holding no head, so
    # that no two transactions can each wait for the other's).
    AuditChainHead.objects.bulk_create(
        [AuditChainHead(chain=name) for name in strands(chain)], ignore_conflicts=True
    )
    head = _free_head(chain)
    # Every strand is held: most holders are filings that commit within milliseconds, but one may be a
    # long transaction (an allocation run writing thousands of entries). Waiting for one strand chosen in
    # advance could mean waiting seconds behind that one, so look again for whichever is freed first,
    # a few times, before waiting.
    for pause in STRAND_RETRY_PAUSES:
        if head is not None:
            return head
        time.sleep(pause)
        head = _free_head(chain)
    if head is not None:
        return head
    return AuditChainHead.objects.select_for_update().get(chain=_strand_to_wait_for(chain))


# Pauses between looks for a free strand when every strand is held (about a quarter of a second in all).
STRAND_RETRY_PAUSES = (0.002, 0.005, 0.01, 0.02, 0.04, 0.08, 0.1)


def _strand_to_wait_for(chain: str) -> str:
    names = strands(chain)
    return names[os.getpid() % len(names)]


def lock_chain(chain: str) -> AuditChainHead:
    """Lock the head of a chain's first strand until the transaction ends, waiting for it if need be: two
    transactions that both lock it run one after the other (the daily checkpoint does)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("a chain is locked inside a transaction")
    AuditChainHead.objects.get_or_create(chain=chain)
    return AuditChainHead.objects.select_for_update().get(chain=chain)


def append(chain: str, changes: Iterable[Change], at: datetime.datetime | None = None) -> list[AuditEntry]:
    """Append changes to a chain in order. Must run inside the transaction that made the changes."""
    rows, ids = _append(chain, changes, at, data_is_stored=False)
    entries = []
    for row, pk in zip(rows, ids, strict=True):
        entries.append(AuditEntry(pk=pk, **{**row, "data": row["data"].value}))
    return entries


def write_entries(
    chain: str, changes: list[Change], at: datetime.datetime | None, *, data_is_stored: bool
) -> list[int]:
    """append() for the bulk paths: the same entries, without building model objects; returns their ids.

    With data_is_stored, each change's data is already what the JSON column gives back (plain JSON values,
    string keys: guichet.evidence.services.normalise_details' output), so it is not run through
    storable() again.
    """
    return _append(chain, changes, at, data_is_stored=data_is_stored)[1]


def _append(
    chain: str, changes: Iterable[Change], at: datetime.datetime | None, *, data_is_stored: bool
) -> tuple[list[dict], list[int]]:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit entries are written in the transaction of the change they record")
    at = (at or timezone.now()).replace(microsecond=0)
    changes = list(changes)
    if not changes:
        return [], []
    head = _locked_head(chain)
    strand = head.chain
    # The hash covers canonical_json(body) (see entry_hash); the body's keys sort as
    # action, actor, at, chain, data, object_id, object_type, request, seq, so the canonical text is
    # built around the data's canonical text, which is also what the JSON column is written from.
    at_text = utc_iso(at)
    rows = []
    openings: dict[tuple[str, str], bytes] = {}  # the text before the data, the same for one action and actor
    seq, prev = head.last_seq, head.last_hash
    personal_rows: list[tuple[int, str, dict]] = []  # (index of the entry, salt, fields)
    for index, change in enumerate(changes):
        seq += 1
        data = change.data if data_is_stored else storable(change.data)
        if change.personal:
            fields, salt = storable(change.personal), secrets.token_hex(16)
            data = {**data, PERSONAL_KEY: personal_commitment(salt, fields)}
            personal_rows.append((index, salt, fields))
        data_text = canonical_json(data)
        actor = str(change.actor)
        object_id = str(change.object_id)
        before = openings.get((change.action, actor))
        if before is None:
            before = openings[(change.action, actor)] = (
                canonical_json({"action": change.action, "actor": actor, "at": at_text, "chain": strand})[:-1]
                + b',"data":'
            )
        after = canonical_json(
            {
                "object_id": object_id,
                "object_type": change.object_type,
                "request": change.request_id,
                "seq": seq,
            }
        )
        digest = hashlib.sha256(prev.encode("ascii") + before + data_text + b"," + after[1:]).hexdigest()
        rows.append(
            {
                "chain": strand,
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": change.action,
                "object_type": change.object_type,
                "object_id": object_id,
                "request_id": change.request_id,
                "data": bulk.Encoded(data, data_text.decode("utf-8")),
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    ids = bulk.insert(AuditEntry, rows, with_ids=True)
    if personal_rows:
        bulk.insert(
            AuditPersonalData,
            [
                {"entry_id": ids[index], "salt": salt, "fields": fields}
                for index, salt, fields in personal_rows
            ],
        )
    AuditChainHead.objects.filter(chain=strand).update(last_seq=seq, last_hash=prev)
    return rows, ids


def record(chain: str, change: Change) -> AuditEntry:
    return append(chain, [change])[0]


@dataclass(frozen=True)
class ChainProblem:
    chain: str
    seq: int | None
    entry_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.chain}#{self.seq}" if self.seq is not None else self.chain
        if self.entry_id is not None:
            where += f" (row id {self.entry_id})"
        return f"{where}: {self.message}"


def _recompute(entry: AuditEntry, *, seq: int | None = None) -> str:
    return entry_hash(
        chain=entry.chain,
        seq=entry.seq if seq is None else seq,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        request_id=entry.request_id,
        data=entry.data,
        prev_hash=entry.prev_hash,
    )


def _original_seq(entry: AuditEntry, window: int = 64) -> int | None:
    """If the entry's content is intact but its number was changed (moved), the number it had."""
    for delta in range(1, window + 1):
        for candidate in (entry.seq - delta, entry.seq + delta):
            if candidate > 0 and _recompute(entry, seq=candidate) == entry.hash:
                return candidate
    return None


def verify_chain(chain: str) -> list[ChainProblem]:
    """Walk every strand of a chain (each strand its own hash chain, docs/concurrency.md); see
    verify_strand. A strand's name ("93.2") verifies that strand alone."""
    if STRAND_SEPARATOR in chain:
        return verify_strand(chain)
    problems: list[ChainProblem] = []
    for strand in _strands_stored(chain):
        problems.extend(verify_strand(strand))
    return problems


def _strands_stored(chain: str) -> list[str]:
    named = Q(chain=chain) | Q(chain__startswith=chain + STRAND_SEPARATOR)
    found = set(AuditChainHead.objects.filter(named).values_list("chain", flat=True))
    found.update(AuditEntry.objects.filter(named).values_list("chain", flat=True).distinct())
    return sorted(found)


def verify_strand(chain: str) -> list[ChainProblem]:
    """Walk one strand from its start and report every break: edited, deleted, inserted or reordered.

    Each entry's hash covers its content, its number and the previous entry's hash; entries are also
    written in increasing row id. So an edit breaks the entry's own hash, a deletion leaves a gap in the
    numbers and a broken link, an insertion breaks the link of the entry after it and appears out of
    row-id order, and a reordering shows as an entry whose content matches another number.
    """
    problems: list[ChainProblem] = []
    prev_hash, expected_seq = GENESIS_HASH, 1
    last_id, last_seq = 0, 0
    for entry in AuditEntry.objects.filter(chain=chain).order_by("seq", "id").iterator(chunk_size=2000):
        gap = entry.seq > expected_seq
        if gap:
            missing = (
                f"entry {expected_seq} is missing"
                if entry.seq == expected_seq + 1
                else f"entries {expected_seq} to {entry.seq - 1} are missing"
            )
            problems.append(ChainProblem(chain, expected_seq, None, f"{missing} (deleted)"))
        content_ok = _recompute(entry) == entry.hash
        if not content_ok:
            original = _original_seq(entry)
            if original is not None:
                problems.append(
                    ChainProblem(
                        chain,
                        entry.seq,
                        entry.id,
                        f"this is entry {original} moved to position {entry.seq} (reordered)",
                    )
                )
            else:
                problems.append(
                    ChainProblem(chain, entry.seq, entry.id, "its content does not match its hash (edited)")
                )
        elif entry.prev_hash != prev_hash and not gap:
            problems.append(
                ChainProblem(
                    chain,
                    entry.seq,
                    entry.id,
                    f"it does not follow entry {entry.seq - 1}: an entry was inserted, removed or moved here",
                )
            )
        if entry.id < last_id:
            problems.append(
                ChainProblem(
                    chain,
                    entry.seq,
                    entry.id,
                    f"it was written before entry {last_seq} (row ids out of order: inserted or reordered)",
                )
            )
        prev_hash, expected_seq, last_id, last_seq = entry.hash, entry.seq + 1, entry.id, entry.seq
    head = AuditChainHead.objects.filter(chain=chain).first()
    if head is not None:
        if head.last_seq < last_seq:
            problems.append(
                ChainProblem(
                    chain,
                    head.last_seq + 1,
                    None,
                    f"entries after {head.last_seq}, the chain head, were added outside the application "
                    "(inserted)",
                )
            )
        elif head.last_seq > last_seq:
            problems.append(
                ChainProblem(
                    chain,
                    last_seq + 1,
                    None,
                    f"the chain head says {head.last_seq} entries; the last ones are missing (deleted)",
                )
            )
        elif head.last_hash != prev_hash:
            problems.append(
                ChainProblem(
                    chain, head.last_seq, None, "the last entry does not match the chain head (edited)"
                )
            )
    return problems


def chains() -> list[str]:
    """Every chain (prefectures' codes and "platform"), whatever strands it has."""
    names = set(AuditChainHead.objects.values_list("chain", flat=True))
    names.update(AuditEntry.objects.values_list("chain", flat=True).distinct())
    return sorted({chain_of(name) for name in names})
