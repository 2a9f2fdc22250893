"""Public figures (R23, the mission's "public numbers"): supply, demand and waiting by procedure, on a page
and as open data, counted from the real rows."""

import datetime

import pytest
from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.public import statistics
from guichet.waitlist.models import RequestStatus
from tests.appointments import builders

pytestmark = pytest.mark.django_db


def test_counts_come_from_the_queue_the_slots_and_the_appointments(world):
    now = timezone.now()
    first = world.procedures["first"]
    waiting = [builders.request(world, procedure="first") for _ in range(3)]
    waiting[0].due_date = timezone.localdate() - datetime.timedelta(days=2)  # late
    waiting[0].save(update_fields=["due_date"])
    old = builders.request(world, procedure="first")
    old.received_at = now - datetime.timedelta(weeks=6)  # outside the 4-week window
    old.status = RequestStatus.CLOSED
    old.save(update_fields=["received_at", "status"])
    counter = world.counters[0]
    for hours in (30, 54):
        builders.slot(counter, now + datetime.timedelta(hours=hours))
    figures = statistics.prefecture_figures(world.prefecture, now=now)
    row = next(r for r in figures.procedures if r.code == first.code)
    assert (row.waiting, row.late) == (3, 1)
    assert row.requests_per_week == round(3 / statistics.PERIOD_WEEKS, 1)
    assert row.slots_per_week == round(statistics.estimates.weekly_slots(first, None, now), 1)
    assert row.median_wait_days is None  # fewer than 5 appointments: not enough to say
    assert figures.total.waiting == sum(r.waiting for r in figures.procedures)
    assert figures.court_orders_last_year == 0


def test_past_appointments_count_cancelled_ones_do_not(world):
    now = timezone.now()
    counter = world.counters[0]
    made = []
    for days in (3, 5):
        request = builders.request(world, procedure="first")
        slot = builders.slot(counter, now - datetime.timedelta(days=days))
        made.append(
            Appointment.objects.create(
                request=request,
                slot=slot,
                counter=counter,
                starts_at=slot.starts_at,
                ends_at=slot.ends_at,
                status=AppointmentStatus.SERVED,
                confirmed_at=slot.starts_at - datetime.timedelta(days=7),
            )
        )
    made[1].status = AppointmentStatus.CANCELLED
    made[1].save(update_fields=["status"])
    row = next(
        r
        for r in statistics.prefecture_figures(world.prefecture, now=now).procedures
        if r.code == world.procedures["first"].code
    )
    assert row.appointments_per_week == round(1 / statistics.PERIOD_WEEKS, 1)


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_page_and_the_open_data_say_the_same(client, world, language):
    builders.request(world, procedure="first")
    page = client.get(f"/{language}/figures/{world.prefecture.code}/")
    assert page.status_code == 200
    data = client.get("/api/v1/statistics", {"prefecture": world.prefecture.code}).json()
    assert data["prefecture"] == world.prefecture.code and data["period_weeks"] == statistics.PERIOD_WEEKS
    text = page.content.decode()
    for row in data["procedures"]:
        assert row["name"] in text
    assert f"/api/v1/statistics?prefecture={world.prefecture.code}" in text
    assert client.get(f"/{language}/figures/").status_code == 200


def test_unknown_prefectures_are_a_clear_404_and_a_structured_error(client, world):
    assert client.get("/fr/figures/99/").status_code == 404
    response = client.get("/api/v1/statistics", {"prefecture": "99"})
    assert response.status_code == 404 and response.json()["code"]
    assert client.get("/api/v1/statistics").status_code == 422


def test_with_no_prefecture_yet_the_page_says_so(client, db):
    page = client.get("/ar/figures/")
    assert page.status_code == 200
    assert "/api/v1/statistics" not in page.content.decode()
    assert 'lang="ar"' in page.content.decode()
