"""Requests as plain values, for the runs that write proofs and messages for thousands of them at once.

An allocation run offers tens of thousands of slots in one transaction; building a model instance for
each request it names costs more than reading the rows (Django runs its init signals and field descriptors
for every one). `RequestFacts` carries the attributes that
`guichet.evidence.services.record_events` and `guichet.notifications.services.notify_many` read, under
the same names as on `AppointmentRequest`, so both accept either.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from guichet.catalog.models import Prefecture, Procedure

from .models import AppointmentRequest

CHUNK = 5000
# The columns read, in the order of RequestFacts' fields after prefecture and procedure.
_COLUMNS = (
    "id",
    "procedure_id",
    "reference",
    "family_names",
    "given_names",
    "birth_date",
    "channel",
    "received_at",
    "due_date",
    "due_reason",
    "status",
    "email",
    "phone",
    "postal_address",
    "language",
)


@dataclass(slots=True)
class RequestFacts:
    pk: int
    prefecture: Prefecture
    procedure: Procedure
    reference: str
    family_names: str
    given_names: str
    birth_date: datetime.date
    channel: str
    received_at: datetime.datetime
    due_date: datetime.date
    due_reason: str
    status: str
    email: str
    phone: str
    postal_address: str
    language: str


def load_facts(
    ids: Iterable[int], prefecture: Prefecture, procedures: dict[int, Procedure]
) -> dict[int, RequestFacts]:
    """The requests of one prefecture with these ids, by id (`procedures`: the prefecture's, by id)."""
    found: dict[int, RequestFacts] = {}
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        rows = AppointmentRequest.objects.filter(
            pk__any=ordered[start : start + CHUNK], prefecture=prefecture
        ).values_list(*_COLUMNS)
        for pk, procedure_id, *rest in rows:
            found[pk] = RequestFacts(pk, prefecture, procedures[procedure_id], *rest)
    return found
