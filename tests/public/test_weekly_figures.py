"""Weekly public figures over 12 months: the series (received by channel, served, waiting, wait
percentiles, late share, no-shows, court orders), drawn as SVG charts with the same numbers in a table, and
published as CSV and JSON at stable addresses."""

import csv
import datetime
import io
import statistics

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from guichet.appointments.models import AppointmentStatus
from guichet.evidence.models import CourtOrder
from guichet.public.percentiles import interpolate
from guichet.public.series import SERIES_WEEKS, weekly_series
from tests import factories
from tests.appointments import builders
from tests.capacity.helpers import appointment_request

pytestmark = pytest.mark.django_db


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
        builders.held(request, counter, starts, status)
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


@given(st.lists(st.floats(min_value=0, max_value=400, allow_nan=False), min_size=1, max_size=40))
def test_the_continuous_percentile_is_the_inclusive_quantile(values):
    values.sort()
    if len(values) == 1:
        assert interpolate(values, 0.5) == interpolate(values, 0.9) == values[0]
        return
    median = statistics.quantiles(values, n=2, method="inclusive")[0]
    ninetieth = statistics.quantiles(values, n=10, method="inclusive")[8]
    assert interpolate(values, 0.5) == pytest.approx(median, abs=1e-9)
    assert interpolate(values, 0.9) == pytest.approx(ninetieth, abs=1e-9)


def _served(world, waits_by_week_back: dict[int, list[float]]) -> dict[datetime.date, list[float]]:
    """Served appointments `back` weeks ago (Tuesday 10:00 UTC onwards), each `wait` days after filing."""
    procedure, counter = world.procedures["first"], world.counters[0]
    tz = world.prefecture.tzinfo
    today = timezone.now().astimezone(tz).date()
    monday = today - datetime.timedelta(days=today.weekday())
    expected = {}
    for back, waits in waits_by_week_back.items():
        week = monday - datetime.timedelta(weeks=back)
        expected[week] = sorted(waits)
        for index, wait in enumerate(waits):
            starts = datetime.datetime.combine(
                week + datetime.timedelta(days=1), datetime.time(10), tzinfo=datetime.UTC
            ) + datetime.timedelta(minutes=30 * index)
            request = appointment_request(procedure, status="served")
            request.received_at = starts - datetime.timedelta(days=wait)
            request.status_changed_at = starts
            request.save()
            builders.held(request, counter, starts, AppointmentStatus.SERVED)
    return expected


WAITS = {1: [10.0, 20.0], 2: [3.25, 7.5, 8.0, 30.0, 41.5, 90.0, 12.0], 3: [5.0], 5: [1.0, 2.0, 4.0, 100.0]}


def test_both_percentile_paths_give_the_continuous_percentile_of_each_week(db):
    """The database computes each week's median and 90th percentile: by percentile_cont on PostgreSQL and
    by window ranks (the SQLite path, also run on PostgreSQL here), both equal to the definition."""
    world = factories.world()
    expected = _served(world, WAITS)
    methods = ["ranked", "ordered-set"] if connection.vendor == "postgresql" else ["ranked"]
    results = {method: weekly_series(world.prefecture, percentiles=method) for method in methods}
    for method, series in results.items():
        rows = {row.week: row for row in series.weeks}
        for week, waits in expected.items():
            assert rows[week].median_wait_days == round(interpolate(waits, 0.5), 1), (method, week)
            assert rows[week].p90_wait_days == round(interpolate(waits, 0.9), 1), (method, week)
        assert sum(row.median_wait_days is not None for row in series.weeks) == len(expected)
    last_week = max(expected)
    # Two values: the median lies between them (a nearest-rank median would say 10).
    assert {row.week: row for row in results["ranked"].weeks}[last_week].median_wait_days == 15.0
    assert results["ranked"].weeks == results[methods[-1]].weeks


def test_the_series_reads_aggregates_only(db):
    """The number of queries and the rows they return do not grow with the appointments: nothing is read
    per appointment."""
    world = factories.world()
    _served(world, {1: [float(day) for day in range(1, 40)]})
    with CaptureQueriesContext(connection) as captured:
        series = weekly_series(world.prefecture)
    assert len(captured) <= 12
    assert series.weeks[-2].served == 39 and series.weeks[-2].median_wait_days == 20.0


def test_court_orders_met_and_missed_by_their_deadline(db):
    world = factories.world()
    procedure, counter = world.procedures["first"], world.counters[0]
    now = timezone.now()
    outcomes = []
    for held_days_after_deadline in (-1, 3, None):
        request = appointment_request(procedure, status="served")
        deadline = (now - datetime.timedelta(days=10)).date()
        CourtOrder.objects.create(
            request=request,
            tribunal="TA Montreuil",
            case_number=f"26{len(outcomes)}",
            ordered_on=deadline - datetime.timedelta(days=14),
            notified_on=deadline - datetime.timedelta(days=13),
            appointment_by=deadline,
            convoke_by=deadline + datetime.timedelta(days=5) if held_days_after_deadline == -1 else None,
            recorded_by="staff:test",
        )
        if held_days_after_deadline is not None:
            starts = datetime.datetime.combine(
                deadline + datetime.timedelta(days=held_days_after_deadline),
                datetime.time(9),
                tzinfo=datetime.UTC,
            )
            builders.held(request, counter, starts, AppointmentStatus.SERVED)
        outcomes.append(held_days_after_deadline)
    series = weekly_series(world.prefecture)
    assert sum(week.court_orders_received for week in series.weeks) == 3
    assert sum(week.court_orders_met for week in series.weeks) == 1  # held the day before
    assert sum(week.court_orders_missed for week in series.weeks) == 2  # held late, never held


def test_one_procedure_has_its_own_series_page_csv_and_json(client, history):
    """The weekly figures of one procedure: its page, CSV and JSON give only its rows, the same ones."""
    renewal = history.procedures["renewal"]
    other = appointment_request(renewal, status="waiting")
    other.received_at = other.status_changed_at = timezone.now() - datetime.timedelta(days=7)
    other.save()
    first = history.procedures["first"]
    assert sum(week.received for week in weekly_series(history.prefecture).weeks) == 4
    only_first = weekly_series(history.prefecture, procedure=first)
    assert sum(week.received for week in only_first.weeks) == 3 and only_first.procedure == first.code
    assert sum(week.court_orders_received for week in only_first.weeks) == 1
    only_renewal = weekly_series(history.prefecture, procedure=renewal)
    assert sum(week.received for week in only_renewal.weeks) == 1
    assert sum(week.served for week in only_renewal.weeks) == 0

    page = client.get(f"/fr/figures/93/{first.code}/")
    body = page.content.decode()
    assert page.status_code == 200 and body.count('<svg class="chart"') == 4
    assert f'href="/fr/figures/93/{first.code}/weekly.csv"' in body
    assert f'?prefecture=93&amp;procedure={first.code}"' in body
    assert f'href="/fr/figures/93/{first.code}/#weekly" aria-current="page"' in body
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/fr/figures/93/{first.code}/weekly.csv").content.decode()))
    )
    assert sum(int(row["received"]) for row in rows) == 3
    api = client.get("/api/v1/statistics/weekly", {"prefecture": "93", "procedure": first.code}).json()
    assert api["procedure"] == first.code
    assert [week["received"] for week in api["weeks"]] == [int(row["received"]) for row in rows]

    assert client.get("/fr/figures/93/no-such-thing/").status_code == 404
    assert client.get("/fr/figures/93/no-such-thing/weekly.csv").status_code == 404
    missing = client.get("/api/v1/statistics/weekly", {"prefecture": "93", "procedure": "no-such-thing"})
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_procedure"
