"""Weekly public figures over 12 months: the series (received by channel, served, waiting, wait
percentiles, late share, no-shows, court orders), drawn as SVG charts with the same numbers in a table, and
published as CSV and JSON at stable addresses."""

import csv
import datetime
import io

import pytest
from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.evidence.models import CourtOrder
from guichet.public.series import SERIES_WEEKS, percentile, weekly_series
from tests import factories
from tests.appointments import builders
from tests.capacity.helpers import appointment_request

pytestmark = pytest.mark.django_db


def test_nearest_rank_percentiles():
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert percentile(values, 0.5) == 3.0 and percentile(values, 0.9) == 10.0 and percentile([], 0.5) is None


@pytest.fixture
def history():
    """Prefecture 93: three requests received last week (web, web, phone), two appointments held last
    week (one served 20 days after filing and after its due date, one missed), one court order."""
    world = factories.world()
    procedure = world.procedures["first"]
    now = timezone.now()
    last_week = now - datetime.timedelta(days=7)
    requests = []
    for channel in ("web", "web", "phone"):
        request = appointment_request(procedure, status="waiting")
        request.channel = channel
        request.received_at = last_week
        request.status_changed_at = last_week
        request.save()
        requests.append(request)
    counter = world.counters[0]
    held = [(requests[0], AppointmentStatus.SERVED, 20), (requests[1], AppointmentStatus.NO_SHOW, 5)]
    for minutes, (request, status, days) in enumerate(held):
        starts = last_week + datetime.timedelta(hours=1, minutes=30 * minutes)
        request.received_at = starts - datetime.timedelta(days=days)
        request.due_date = (starts - datetime.timedelta(days=1)).date()
        request.status = "served" if status == AppointmentStatus.SERVED else "waiting"
        request.status_changed_at = starts
        request.save()
        Appointment.objects.create(
            request=request,
            slot=builders.slot(counter, starts),
            counter=counter,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(minutes=30),
            status=status,
            confirmed_at=starts - datetime.timedelta(days=1),
        )
    CourtOrder.objects.create(
        request=requests[2],
        tribunal="TA Montreuil",
        case_number="2601234",
        ordered_on=last_week.date(),
        notified_on=last_week.date(),
        convoke_by=(now - datetime.timedelta(days=2)).date(),
        recorded_by="staff:test",
    )
    return world


def test_the_series_counts_each_week(history):
    series = weekly_series(history.prefecture)
    assert len(series.weeks) == SERIES_WEEKS
    weeks = {row.week: row for row in series.weeks}
    tz = history.prefecture.tzinfo
    last_monday = (timezone.now() - datetime.timedelta(days=7)).astimezone(tz).date()
    last_monday -= datetime.timedelta(days=last_monday.weekday())
    row = weeks[last_monday]
    assert row.served == 1 and row.no_show_rate == 0.5
    assert row.median_wait_days == 20.0 and row.p90_wait_days == 20.0
    assert row.served_late_share == 1.0
    assert sum(week.received for week in series.weeks) == 3
    assert sum(week.received_by_channel["web"] for week in series.weeks) == 2
    assert sum(week.court_orders_received for week in series.weeks) == 1
    assert sum(week.court_orders_missed for week in series.weeks) == 1
    assert series.weeks[-1].waiting == 2  # three received, one served


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_figures_page_draws_charts_with_the_table_and_links(client, history, language):
    page = client.get(f"/{language}/figures/93/")
    body = page.content.decode()
    assert page.status_code == 200
    assert body.count('<svg class="chart"') == 4
    assert 'role="img"' in body and "chart-received-title" in body
    assert 'id="weekly-caption"' in body
    assert f'href="/{language}/figures/93/weekly.csv"' in body
    assert 'href="/api/v1/statistics/weekly?prefecture=93"' in body


def test_csv_and_json_give_the_same_rows(client, history):
    response = client.get("/fr/figures/93/weekly.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == SERIES_WEEKS
    assert sum(int(row["received"]) for row in rows) == 3
    api = client.get("/api/v1/statistics/weekly", {"prefecture": "93"})
    assert api.status_code == 200
    data = api.json()
    assert [week["received"] for week in data["weeks"]] == [int(row["received"]) for row in rows]
    assert client.get("/fr/figures/99/weekly.csv").status_code == 404
