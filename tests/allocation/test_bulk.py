"""Bulk inserts of a large allocation run (COPY on PostgreSQL, bulk_create elsewhere)."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from guichet import bulk
from guichet.appointments.models import Offer
from guichet.notifications.models import OutboxMessage
from tests.appointments import builders

pytestmark = pytest.mark.django_db


def test_insert_returns_the_new_ids_and_fills_defaults(world):
    now = timezone.now()
    requests = [builders.request(world) for _ in range(3)]
    c1 = world.counters[0]
    slots = [builders.slot(c1, now + datetime.timedelta(days=5, hours=i)) for i in range(3)]
    rows = [
        {
            "request_id": r.pk,
            "slot_id": s.pk,
            "created_at": now,
            "expires_at": now + datetime.timedelta(hours=1),
            "decline_reason": "a\ttab, a\nnewline and a \\ backslash",
        }
        for r, s in zip(requests, slots, strict=True)
    ]
    with transaction.atomic():
        ids = bulk.insert(Offer, rows, with_ids=True)
    assert len(set(ids)) == 3
    offers = {o.pk: o for o in Offer.objects.filter(pk__in=ids)}
    for pk, row in zip(ids, rows, strict=True):
        assert offers[pk].request_id == row["request_id"] and offers[pk].slot_id == row["slot_id"]
        assert offers[pk].status == "pending" and offers[pk].source == "queue"  # model defaults
        assert offers[pk].decline_reason == row["decline_reason"]
    # The sequence moved on: a later ordinary insert gets a new id.
    later = Offer.objects.create(
        request=requests[0],
        slot=slots[0],
        status="withdrawn",
        created_at=now,
        expires_at=now + datetime.timedelta(hours=1),
    )
    assert later.pk not in ids


def test_json_and_auto_now_fields(world):
    req = builders.request(world)
    context = {"offer_id": 7, "text": "العربية «quotes»", "nested": [1, {"a": None}]}
    with transaction.atomic():
        bulk.insert(
            OutboxMessage,
            [
                {
                    "request_id": req.pk,
                    "channel": "email",
                    "kind": "offer_made",
                    "language": "ar",
                    "recipient": req.email,
                    "context": context,
                    "next_attempt_at": timezone.now(),
                }
            ],
        )
    message = OutboxMessage.objects.get()
    assert message.context == context and message.created_at is not None and message.attempts == 0
    assert bulk.insert(OutboxMessage, []) == []
