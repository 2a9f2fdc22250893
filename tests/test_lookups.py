"""`field__any=ids` (guichet/lookups.py): the same rows as `__in`, one array parameter on PostgreSQL."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guichet.appointments.models import Offer
from guichet.waitlist.models import AppointmentRequest
from tests.appointments import builders

pytestmark = pytest.mark.django_db


def test_any_finds_what_in_finds_on_keys_and_foreign_keys(world):
    requests = [builders.request(world) for _ in range(4)]
    now = timezone.now()
    slot = builders.slot(world.counters[0], now + datetime.timedelta(days=3))
    Offer.objects.create(
        request=requests[1], slot=slot, created_at=now, expires_at=now + datetime.timedelta(hours=2)
    )
    wanted = [requests[0].pk, requests[2].pk, 10**12]  # an id that names nothing
    assert sorted(AppointmentRequest.objects.filter(pk__any=wanted).values_list("pk", flat=True)) == sorted(
        AppointmentRequest.objects.filter(pk__in=wanted).values_list("pk", flat=True)
    )
    assert list(
        Offer.objects.filter(request_id__any=[requests[1].pk]).values_list("request_id", flat=True)
    ) == [requests[1].pk]
    assert list(Offer.objects.filter(request__any=[requests[1].pk, requests[3].pk])) == list(
        Offer.objects.all()
    )
    # Ids given as a generator or as strings of digits are ids all the same.
    assert AppointmentRequest.objects.filter(pk__any=(r.pk for r in requests)).count() == 4
    assert AppointmentRequest.objects.filter(pk__any=[str(requests[0].pk)]).count() == 1


def test_no_ids_match_nothing_and_excluding_none_keeps_all(world):
    builders.request(world)
    assert not AppointmentRequest.objects.filter(pk__any=[]).exists()
    assert AppointmentRequest.objects.exclude(pk__any=[]).count() == 1


def test_anything_but_a_list_of_ids_is_refused(world):
    with pytest.raises(TypeError):
        AppointmentRequest.objects.filter(pk__any="123").count()
    with pytest.raises(ValueError):
        AppointmentRequest.objects.filter(pk__any=["not an id"]).count()


def test_the_query_text_does_not_grow_with_the_ids_on_postgresql(world):
    requests = [builders.request(world) for _ in range(3)]
    with CaptureQueriesContext(connection) as few:
        list(AppointmentRequest.objects.filter(pk__any=[requests[0].pk]))
    with CaptureQueriesContext(connection) as many:
        list(
            AppointmentRequest.objects.filter(
                pk__any=[r.pk for r in requests] + list(range(10**9, 10**9 + 3000))
            )
        )
    if connection.vendor == "postgresql":
        assert "= ANY(" in many[0]["sql"]
        # Only the rendered array grows; the statement prepared around it is the same.
        assert many[0]["sql"].split("= ANY(")[0] == few[0]["sql"].split("= ANY(")[0]
    else:
        assert " IN (" in many[0]["sql"]
