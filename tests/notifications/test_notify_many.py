"""notify_many: the messages notify() would queue, partner copies included, in one bulk insert."""

import pytest
from django.db import connection, transaction
from django.utils import timezone

from guichet.notifications.models import OutboxMessage
from guichet.notifications.services import notify, notify_many
from guichet.partners import services as partners
from tests.backoffice.helpers import file, partner

pytestmark = pytest.mark.django_db

FIELDS = ("request_id", "channel", "kind", "language", "recipient", "context", "status")


def _rows(ids):
    return sorted(OutboxMessage.objects.filter(pk__in=ids).values_list(*FIELDS), key=repr)


def test_notify_many_queues_what_notify_queues(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.OUTBOX_ENQUEUE_ON_COMMIT = True
    organisation, member = partner(world.prefecture, name="Cimade")
    helped = file(world, family="Aidee")
    alone = file(world, family="Seule")
    partners.create_mandate(
        organisation, helped, by=member, consent_given_on=timezone.localdate(), consent_method="phone"
    )
    items = [
        (helped, "offer_made", {"offer_id": 1, "access_token": "x"}),
        (alone, "offer_made", {"offer_id": 2}),
    ]

    with transaction.atomic():
        made = notify_many(items)
    # One wake-up of the sender for the whole transaction (the test's own, never committed).
    wake_ups = [item for item in connection.run_on_commit if item[1].__name__ == "_enqueue_sender"]
    assert len(wake_ups) == 1
    with transaction.atomic():
        single = [m for request, kind, context in items for m in notify(request, kind, context)]

    assert len(made) == len(single)
    assert _rows(made) == _rows([m.pk for m in single])
    copy = OutboxMessage.objects.get(pk__in=made, recipient=organisation.email)
    assert copy.context == {"offer_id": 1, "partner_copy": True}
    assert notify_many([]) == []
