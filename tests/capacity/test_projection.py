"""Capacity planning: the projected wait over 12 weeks from the queue, the opening rules (not only the
published slots), closures and holidays, demand and the observed no-show and decline rates; the what-if,
the preview of a catalogue change, and the alert to managers."""

import datetime
from dataclasses import replace

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from guichet.appointments.models import Appointment, AppointmentStatus, Offer, OfferStatus
from guichet.capacity.alerts import alert_managers
from guichet.capacity.projection import (
    HISTORY_WEEKS,
    Inputs,
    NewCounter,
    Pool,
    closure_days,
    inputs_for,
    project,
    project_all,
    projections,
    weekly_supply,
)
from guichet.catalog.models import Closure
from tests import factories
from tests.appointments import builders
from tests.backoffice.helpers import staff, verified_login
from tests.capacity.helpers import appointment_request

MONDAY = datetime.date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _english():
    # The pages' assertions read the English texts.
    with translation.override("en"):
        yield


def inputs(**changes) -> Inputs:
    values = {
        "procedure_id": 1,
        "name": "First permit",
        "target_wait_days": 60,
        "queue": 100,
        "arrivals_per_week": 10,
        "slots_per_week": (20.0,) * 12,
        "no_show_rate": 0.0,
        "decline_rate": 0.0,
    }
    values.update(changes)
    return Inputs(**values)


def test_the_queue_drains_at_the_useful_supply_week_after_week():
    projection = project(inputs(), MONDAY)
    assert [week.queue for week in projection.weeks[:3]] == [100, 90, 80]
    assert [week.wait_days for week in projection.weeks[:3]] == [35, 32, 28]  # 7 × queue / 20
    assert projection.weeks[1].starts_on == MONDAY + datetime.timedelta(weeks=1)
    assert projection.worst_wait_days == 35 and not projection.over_target


def test_no_shows_and_unused_offered_slots_shrink_the_useful_supply():
    projection = project(inputs(no_show_rate=0.2, unused_rate=0.5), MONDAY)
    assert projection.weeks[0].useful_slots == 8.0  # 20 × 0.8 × 0.5
    # A newcomer waits for the 100 ahead (5 weeks of slots; those who miss theirs are booked again later);
    # but the queue drains at 8 a week, so it grows by 2 a week and the wait with it.
    assert projection.weeks[0].wait_days == 35
    assert [week.queue for week in projection.weeks[:3]] == [100, 102, 104]
    assert projection.weeks[11].wait_days == round(7 * 122 / 20)
    # A declined offer's slot goes to the next person: declines alone take nothing off the supply.
    assert project(inputs(decline_rate=0.5), MONDAY).weeks[0].useful_slots == 20.0


def test_a_week_without_slots_delays_the_weeks_before_and_no_supply_has_no_end():
    closed_week = (20.0,) + (0.0,) + (20.0,) * 10
    projection = project(inputs(slots_per_week=closed_week), MONDAY)
    # Week 2 (90 ahead) gets nothing during its first 7 days, then 20 a week: 7 + 7 × 90 / 20 days.
    assert projection.weeks[1].wait_days == round(7 + 7 * 90 / 20)
    # Week 1 (100 ahead): 20 in its week, none the next, 80 more at 20 a week.
    assert projection.weeks[0].wait_days == round(14 + 7 * 80 / 20)
    more = project(inputs(slots_per_week=closed_week), MONDAY, extra_slots_per_week=30)
    assert more.worst_wait_days < projection.worst_wait_days
    fewer = project(inputs(), MONDAY, extra_slots_per_week=-25)
    assert fewer.weeks[0].wait_days is None and fewer.over_target  # no slot left at all


def test_people_booked_ahead_are_received_before_a_newcomer():
    """Someone joining the queue waits for the booked people too: they hold the coming slots."""
    alone = project(inputs(queue=40, arrivals_per_week=20), MONDAY)
    booked = project(inputs(queue=40, booked=60, arrivals_per_week=20), MONDAY)
    assert (alone.weeks[0].queue, booked.weeks[0].queue) == (40, 100)
    assert (alone.weeks[0].wait_days, booked.weeks[0].wait_days) == (14, 35)


def test_shared_slots_go_where_they_are_needed():
    """A pool shared by two procedures is not split in halves: what one does not need goes to the other,
    as the allocation gives any free slot to the first compatible request."""
    busy = inputs(procedure_id=1, name="First permit", queue=100, arrivals_per_week=30, slots_per_week=())
    quiet = inputs(procedure_id=2, name="Renewal", queue=0, arrivals_per_week=5, slots_per_week=())
    shared = Pool(frozenset({1, 2}), (40.0,) * 12)
    dedicated = Pool(frozenset({2}), (10.0,) * 12)
    first, renewal = project_all([busy, quiet], [shared, dedicated], MONDAY)
    # Renewal needs 5 a week: its own 10 slots cover it, so all 40 shared slots go to the first permits.
    assert [week.useful_slots for week in first.weeks[:2]] == [40.0, 40.0]
    assert renewal.weeks[0].useful_slots == 5.0 and renewal.weeks[0].wait_days == 0
    assert [week.queue for week in first.weeks[:3]] == [100, 90, 80]
    assert first.weeks[0].wait_days == round(7 * 100 / 40)
    # Split in halves (1/k), the first permits would get 20 a week and their queue would grow.
    assert project(replace(busy, slots_per_week=(20.0,) * 12), MONDAY).weeks[2].queue == 120


def test_a_pool_closed_for_a_week_lengthens_every_wait_it_touches():
    """Closing the renewals' own counter for a week takes slots away: no wait gets shorter. (Balanced on
    the two-week average, the closed pool was given half the load, then emptied at its full rate: the
    renewals' wait fell from 84 to 60 days while the first permits' rose to 105.)"""
    first = inputs(procedure_id=1, queue=300, arrivals_per_week=30, slots_per_week=())
    renewal = inputs(procedure_id=2, name="Renewal", queue=300, arrivals_per_week=30, slots_per_week=())
    shared = Pool(frozenset({1, 2}), (30.0,) * 12)
    opened = project_all([first, renewal], [shared, Pool(frozenset({2}), (20.0,) * 12)], MONDAY)
    for closed_week in (0, 1, 3):
        own = tuple(0.0 if week == closed_week else 20.0 for week in range(12))
        closed = project_all([first, renewal], [shared, Pool(frozenset({2}), own)], MONDAY)
        for before, after in zip(opened, closed, strict=True):
            waits = [(b.wait_days, a.wait_days) for b, a in zip(before.weeks, after.weeks, strict=True)]
            assert all(a >= b for b, a in waits), (closed_week, before.inputs.name, waits)
        # Both use the shared counter: a newcomer of either waits the same, a few days more.
        assert 84 < closed[0].weeks[0].wait_days == closed[1].weeks[0].wait_days <= 84 + 7


def test_empty_queue_waits_nothing():
    assert project(inputs(queue=0, arrivals_per_week=0), MONDAY).worst_wait_days == 0


@pytest.mark.django_db
def test_supply_comes_from_the_rules_less_closures_and_holidays():
    world = factories.world()
    first = world.procedures["first"]
    monday = MONDAY  # 2026-03-02; no public holiday that week in metropolitan France
    supply = weekly_supply(world.prefecture, monday, weeks=2)
    # Guichet 1: 6 slots × 5 days shared by first and renewal (3 each a day); Guichet A: 6 × 5 shared by
    # three procedures (2 each a day).
    assert supply[first.pk] == [25.0, 25.0]
    Closure.objects.create(counter=world.counters[0], start_date=monday, end_date=monday, reason="Formation")
    assert weekly_supply(world.prefecture, monday, weeks=2)[first.pk] == [22.0, 25.0]
    easter_monday = datetime.date(2026, 4, 6)
    assert weekly_supply(world.prefecture, easter_monday, weeks=1)[first.pk] == [20.0]


@pytest.mark.django_db
def test_inputs_read_the_queue_demand_and_observed_rates():
    world = factories.world()
    procedure = world.procedures["first"]
    now = timezone.now()
    for _number in range(4):
        appointment_request(procedure, status="waiting")
    counter = world.counters[0]
    for index, status in enumerate([AppointmentStatus.SERVED] * 3 + [AppointmentStatus.NO_SHOW]):
        request = appointment_request(procedure, status="served")
        starts = now - datetime.timedelta(days=7 + index)
        slot = builders.slot(counter, starts)
        Appointment.objects.create(
            request=request,
            slot=slot,
            counter=counter,
            starts_at=starts,
            ends_at=starts + datetime.timedelta(minutes=30),
            status=status,
            confirmed_at=starts - datetime.timedelta(days=3),
        )
    _first_week, found, _pools = inputs_for(world.prefecture, now)
    row = next(item for item in found if item.procedure_id == procedure.pk)
    assert row.queue == 4
    # 8 requests, all received now: a history of less than a week counts as one week.
    assert row.arrivals_per_week == 8.0
    assert row.no_show_rate == 0.25
    assert len(row.slots_per_week) == 12
    old = appointment_request(procedure, status="served")
    old.received_at = now - datetime.timedelta(weeks=HISTORY_WEEKS + 2)
    old.save()
    _first_week, found, _pools = inputs_for(world.prefecture, now)
    row = next(item for item in found if item.procedure_id == procedure.pk)
    assert row.arrivals_per_week == 1.0  # 8 requests received over the last 8 weeks (the old one before)
    appointment_request(procedure)  # booked ahead
    _first_week, found, _pools = inputs_for(world.prefecture, now)
    row = next(item for item in found if item.procedure_id == procedure.pk)
    assert (row.queue, row.booked) == (4, 1)


@pytest.fixture
def queued_world(db):
    world = factories.world()
    for _number in range(120):
        appointment_request(world.procedures["first"], status="waiting")
    return world


def test_the_planning_page_shows_the_projection_and_a_what_if(client, queued_world):
    world = queued_world
    url = reverse("backoffice:capacity", args=[world.prefecture.code])
    verified_login(client, staff(world.prefecture, "agent"))
    assert client.get(url).status_code == 403
    verified_login(client, staff(world.prefecture, "manager"))
    page = client.get(url)
    assert page.status_code == 200 and "First permit" in page.content.decode()
    first = world.procedures["first"]
    now_wait = next(p for p in projections(world.prefecture) if p.inputs.procedure_id == first.pk)
    tried = client.get(url, {"procedure": first.pk, "slots_per_week": 50}).content.decode()
    assert "with the what-if: 50 slots a week more" in tried
    better = next(
        p
        for p in projections(world.prefecture, extra_slots_per_week={first.pk: 50})
        if p.inputs.procedure_id == first.pk
    )
    assert better.worst_wait_days < now_wait.worst_wait_days
    assert client.get(url, {"procedure": first.pk, "slots_per_week": "many"}).status_code == 400


def test_what_if_a_closure_of_every_site_and_a_new_counter(client, queued_world):
    world = queued_world
    first = world.procedures["first"]
    url = reverse("backoffice:capacity", args=[world.prefecture.code])
    verified_login(client, staff(world.prefecture, "manager"))

    def of_first(found):
        return next(p for p in found if p.inputs.procedure_id == first.pk)

    now = of_first(projections(world.prefecture))
    monday = now.weeks[2].starts_on
    closed = closure_days(monday, monday + datetime.timedelta(days=13))  # weeks 3 and 4, whole
    shut = of_first(projections(world.prefecture, also_closed=closed))
    assert [w.useful_slots for w in shut.weeks[2:4]] == [0.0, 0.0]
    assert shut.weeks[0].useful_slots == now.weeks[0].useful_slots
    assert shut.weeks[5].queue > now.weeks[5].queue  # the queue grew while closed

    counter = NewCounter(hours_per_week=30, slot_minutes=20, procedure_ids=(first.pk,))
    helped = of_first(projections(world.prefecture, new_counter=counter))
    assert [
        round(h.useful_slots - n.useful_slots, 1)
        for h, n in zip(helped.weeks[:2], now.weeks[:2], strict=True)
    ] == [round(90 * (1 - now.inputs.no_show_rate) * (1 - now.inputs.decline_rate), 1)] * 2
    assert helped.worst_wait_days < now.worst_wait_days
    # The new counter is closed too on the days every site is.
    both = of_first(projections(world.prefecture, new_counter=counter, also_closed=closed))
    assert both.weeks[2].useful_slots == 0.0

    page = client.get(
        url,
        {
            "closed_from": monday.isoformat(),
            "closed_until": (monday + datetime.timedelta(days=13)).isoformat(),
            "counter_hours": "30",
            "counter_slot_minutes": "20",
            "counter_procedures": [first.pk],
        },
    )
    body = page.content.decode()
    assert page.status_code == 200 and "with the what-if:" in body and "a new counter 30" in body
    assert f"closed {monday:%d/%m}" in body
    for wrong, message in (
        ({"closed_from": monday.isoformat()}, "Give both dates of the closure."),
        (
            {
                "closed_from": monday.isoformat(),
                "closed_until": (monday - datetime.timedelta(days=1)).isoformat(),
            },
            "The closure ends before it starts.",
        ),
        ({"counter_hours": "30"}, "Choose the procedures the new counter would serve."),
        ({"counter_hours": "-4", "counter_procedures": [first.pk]}, "greater than or equal to 0.5"),
        ({"procedure": first.pk}, "Give both the procedure and the number of slots a week."),
    ):
        refused = client.get(url, wrong)
        assert refused.status_code == 400 and message in refused.content.decode(), wrong


def test_a_closure_preview_shows_the_projected_wait_change(client, queued_world):
    world = queued_world
    verified_login(client, staff(world.prefecture, "manager"))
    today = timezone.localdate()
    body = client.post(
        reverse("backoffice:catalogue_new", args=[world.prefecture.code, "closure"]),
        {
            "site": world.sites[0].pk,
            "counter": "",
            "start_date": today.isoformat(),
            "end_date": (today + datetime.timedelta(days=20)).isoformat(),
            "reason": "Travaux",
            "preview": "1",
        },
    ).content.decode()
    assert "Projected wait over the next 12 weeks" in body
    assert 'class="bo-changed"><th scope="row">First permit' in body


def test_managers_are_alerted_once_a_day_when_the_projection_exceeds_the_target(queued_world):
    world = queued_world
    staff(world.prefecture, "manager", username="mona")
    staff(world.prefecture, "agent", username="alex")
    first = world.procedures["first"]
    first.target_wait_days = 7
    first.save()
    over = alert_managers(world.prefecture)
    assert [projection.inputs.procedure_id for projection in over] == [first.pk]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["mona@example.org"]
    assert "First permit" in mail.outbox[0].body
    alert_managers(world.prefecture)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_unused_rate_counts_offered_slots_that_stayed_empty_not_declines():
    """Two past slots offered and declined: one was given to someone else (not lost), one stayed empty."""
    world = factories.world()
    first = world.procedures["first"]
    counter = world.counters[0]
    now = timezone.now()
    reused = builders.held(
        appointment_request(first, status="served"), counter, now - datetime.timedelta(days=9)
    ).slot
    lost = builders.slot(counter, now - datetime.timedelta(days=8))
    for the_slot in (reused, lost):
        made = Offer.objects.create(
            request=appointment_request(first, status="waiting"),
            slot=the_slot,
            status=OfferStatus.DECLINED,
            created_at=the_slot.starts_at - datetime.timedelta(days=3),
            expires_at=the_slot.starts_at - datetime.timedelta(days=1),
            decided_at=the_slot.starts_at - datetime.timedelta(days=2),
        )
        assert made.pk
    _first_week, found, _pools = inputs_for(world.prefecture, now)
    row = next(item for item in found if item.procedure_id == first.pk)
    assert (row.decline_rate, row.unused_rate) == (1.0, 0.5)
