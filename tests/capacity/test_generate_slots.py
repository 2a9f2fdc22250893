"""Slot generation: idempotence, changed rules, held slots left alone and reported, closures, now."""

import datetime
import re
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import translation

from guichet import locking
from guichet.appointments.models import Offer, OfferStatus
from guichet.capacity.models import Hold, Slot
from guichet.capacity.services import free_slots_query, generate_slots, slot_procedure_ids
from guichet.capacity.tasks import generate_slots_task
from guichet.catalog.models import Closure, Procedure
from guichet.evidence.audit import verify_chain
from guichet.evidence.models import AuditEntry
from guichet.operations.schedule import JOBS
from tests import factories
from tests.capacity.helpers import appointment_request, hold, utc

MONDAY = datetime.date(2026, 6, 1)  # no holiday on the Mondays of June 2026
NOW = utc(2026, 5, 1, 12)


@pytest.fixture
def setup(db):
    pref = factories.prefecture()
    site = factories.site(pref, "Bobigny")
    counter = factories.counter(site, "Guichet 1", ["ar"])
    first = factories.procedure(pref, "first-permit", duration_minutes=20)
    collection = factories.procedure(
        pref, "collection", kind=Procedure.Kind.COLLECTION, mode=Procedure.Mode.OPEN, duration_minutes=10
    )
    rule = factories.rule(counter, [first], weekday=0, start="09:00", end="12:00", slot_minutes=30)
    return pref, site, counter, rule, first, collection


def run(pref, **kwargs):
    return generate_slots(
        pref, start=kwargs.pop("start", MONDAY), weeks=kwargs.pop("weeks", 2), now=NOW, **kwargs
    )


def local_starts(counter) -> list[str]:
    tz = counter.site.tzinfo
    return [f"{s.starts_at.astimezone(tz):%m-%d %H:%M}" for s in Slot.objects.filter(counter=counter)]


def test_creates_the_slots_of_the_rules_in_utc(setup):
    pref, site, counter, rule, first, _ = setup
    report = run(pref)
    assert (report.created, report.deleted, report.unchanged, report.conflicts) == (12, 0, 0, [])
    assert report.first_day == MONDAY and report.last_day == MONDAY + datetime.timedelta(days=13)
    slots = list(Slot.objects.filter(counter=counter))
    assert len(slots) == 12
    assert slots[0].starts_at == utc(2026, 6, 1, 7, 0)  # 9:00 in Paris in summer
    assert slots[0].ends_at == utc(2026, 6, 1, 7, 30)
    assert slots[-1].starts_at == utc(2026, 6, 8, 9, 30)  # 11:30, the last that ends by 12:00
    assert all(slot.rule_id == rule.pk for slot in slots)
    assert slot_procedure_ids(slots[0]) == {first.pk}


def test_a_second_run_creates_nothing_and_audits_each_run(setup):
    pref, *_ = setup
    first_run = run(pref)
    ids = set(Slot.objects.values_list("pk", flat=True))
    second = run(pref)
    assert (second.created, second.updated, second.deleted, second.unchanged) == (0, 0, 0, first_run.created)
    assert set(Slot.objects.values_list("pk", flat=True)) == ids
    entries = AuditEntry.objects.filter(chain="93", action="capacity.slots_generated")
    assert [entry.data["created"] for entry in entries.order_by("seq")] == [12, 0]
    assert verify_chain("93") == []


def test_never_makes_or_touches_a_slot_before_now(setup):
    pref, site, counter, *_ = setup
    # Monday 1 June, 10:10 in Paris: the 9:00, 9:30 and 10:00 slots are gone already.
    now = utc(2026, 6, 1, 8, 10)
    generate_slots(pref, start=MONDAY, weeks=1, now=now)
    assert local_starts(counter) == ["06-01 10:30", "06-01 11:00", "06-01 11:30"]
    # A past slot that no rule makes is history: generation leaves it.
    past = Slot.objects.create(counter=counter, starts_at=utc(2026, 5, 25, 7), ends_at=utc(2026, 5, 25, 8))
    report = generate_slots(pref, start=MONDAY, weeks=1, now=now)
    assert report.deleted == 0 and Slot.objects.filter(pk=past.pk).exists()


def test_validity_dates_of_rules_are_respected(setup):
    pref, site, counter, rule, *_ = setup
    rule.valid_from = datetime.date(2026, 6, 8)
    rule.valid_until = datetime.date(2026, 6, 8)
    rule.save()
    run(pref, weeks=3)
    assert {s[:5] for s in local_starts(counter)} == {"06-08"}


def test_a_changed_rule_updates_free_slots_and_reports_held_ones(setup):
    pref, site, counter, rule, first, _ = setup
    run(pref)
    kept_9 = Slot.objects.get(counter=counter, starts_at=utc(2026, 6, 1, 7, 0))
    held_930 = Slot.objects.get(counter=counter, starts_at=utc(2026, 6, 1, 7, 30))
    held_1130 = Slot.objects.get(counter=counter, starts_at=utc(2026, 6, 8, 9, 30))
    hold(held_930, first)
    hold(held_1130, first, kind=Hold.Kind.OFFER)

    # Now 20-minute slots from 9:00 to 11:00.
    rule.slot_minutes = 20
    rule.end_time = datetime.time(11, 0)
    rule.save()
    with translation.override("en"):
        report = run(pref)

    # The held 9:30–10:00 slot stays as it is, and the new 9:20 and 9:40 slots that would overlap it
    # are not made; the held 11:30 slot is outside the new hours.
    held_930.refresh_from_db()
    held_1130.refresh_from_db()
    assert (held_930.starts_at, held_930.ends_at) == (utc(2026, 6, 1, 7, 30), utc(2026, 6, 1, 8, 0))
    assert held_1130.ends_at == utc(2026, 6, 8, 10, 0)
    assert {(c.slot_id, c.reason) for c in report.conflicts} == {
        (held_930.pk, "no_rule"),
        (held_1130.pk, "no_rule"),
    }
    conflict = next(c for c in report.conflicts if c.slot_id == held_1130.pk)
    assert conflict.hold_kind == "offer" and "no opening rule" in conflict.detail
    assert conflict.local_start.hour == 11 and conflict.local_start.minute == 30
    assert local_starts(counter) == [
        "06-01 09:00",
        "06-01 09:30",  # held
        "06-01 10:00",
        "06-01 10:20",
        "06-01 10:40",
        "06-08 09:00",
        "06-08 09:20",
        "06-08 09:40",
        "06-08 10:00",
        "06-08 10:20",
        "06-08 10:40",
        "06-08 11:30",  # held
    ]
    kept_9.refresh_from_db()
    assert kept_9.ends_at == utc(2026, 6, 1, 7, 20)  # the same free slot, shortened
    # 9:00 and 10:00 still start a slot on both days: the same free slots, shortened.
    assert (report.updated, report.created, report.deleted, report.skipped_overlaps) == (4, 6, 6, 2)
    entry = AuditEntry.objects.filter(action="capacity.slots_generated").order_by("-seq").first()
    assert {c["slot"] for c in entry.data["conflicts"]} == {held_930.pk, held_1130.pk}
    # Reported again on the next run, still untouched; nothing else changes.
    again = run(pref)
    assert len(again.conflicts) == 2 and not again.changed


def test_a_held_slot_that_still_fits_is_not_a_conflict(setup):
    pref, site, counter, rule, first, collection = setup
    run(pref)
    slot = Slot.objects.filter(counter=counter).first()
    hold(slot, first)
    report = run(pref)
    assert report.conflicts == [] and report.unchanged == 12
    # The rule stops serving the held request's procedure: that is reported.
    rule.procedures.set([collection])
    report = run(pref)
    assert [(c.slot_id, c.reason) for c in report.conflicts] == [(slot.pk, "procedure_not_served")]


def test_a_deleted_rule_removes_its_free_slots(setup):
    pref, site, counter, rule, first, _ = setup
    run(pref)
    held = Slot.objects.filter(counter=counter).last()
    hold(held, first)
    rule.delete()
    report = run(pref)
    assert report.deleted == 11
    assert list(Slot.objects.filter(counter=counter)) == [held]
    assert [c.reason for c in report.conflicts] == ["no_rule"]


def test_a_slot_used_by_a_past_offer_is_retired_not_deleted(setup):
    pref, site, counter, rule, first, _ = setup
    run(pref)
    used = Slot.objects.filter(counter=counter).first()
    Offer.objects.create(
        request=appointment_request(first),
        slot=used,
        status=OfferStatus.DECLINED,
        created_at=NOW,
        expires_at=NOW + datetime.timedelta(days=1),
    )
    rule.start_time = datetime.time(10, 0)
    rule.save()
    report = run(pref)
    assert report.retired == 1 and report.deleted == 4  # 9:00 retired, 9:30, and both on the 8th
    used.refresh_from_db()
    assert used.rule_id is None and slot_procedure_ids(used) == frozenset()
    assert used not in free_slots_query(pref, after=NOW)
    # Back to 9:00: the retired slot serves again, with its history.
    rule.start_time = datetime.time(9, 0)
    rule.save()
    report = run(pref)
    used.refresh_from_db()
    assert used.rule_id == rule.pk and report.updated == 1 and report.created == 3
    assert used in free_slots_query(pref, procedure=first, after=NOW)


def test_closures_of_a_site_or_a_counter_remove_free_slots_and_report_held_ones(setup):
    pref, site, counter, rule, first, _ = setup
    other = factories.counter(site, "Guichet 2")
    factories.rule(other, [first], weekday=0, start="09:00", end="10:00", slot_minutes=30)
    run(pref)
    assert Slot.objects.count() == 16
    held = Slot.objects.get(counter=counter, starts_at=utc(2026, 6, 8, 7, 0))
    hold(held, first)

    Closure.objects.create(counter=counter, start_date=MONDAY, end_date=MONDAY, reason="Formation")
    report = run(pref)
    assert report.deleted == 6
    assert not Slot.objects.filter(counter=counter, starts_at__date=MONDAY).exists()
    assert Slot.objects.filter(counter=other, starts_at__date=MONDAY).count() == 2

    Closure.objects.create(
        site=site,
        start_date=MONDAY + datetime.timedelta(days=7),
        end_date=MONDAY + datetime.timedelta(days=7),
        reason="Grève",
    )
    with translation.override("en"):
        report = run(pref)
    assert report.deleted == 5 + 2
    assert [(c.slot_id, c.reason, c.detail) for c in report.conflicts] == [
        (held.pk, "closure", "closed: Grève")
    ]
    assert list(Slot.objects.filter(starts_at__date=MONDAY + datetime.timedelta(days=7))) == [held]

    # Reopened: the slots come back, the held one is not duplicated.
    Closure.objects.all().delete()
    report = run(pref)
    assert (report.created, report.unchanged, report.conflicts) == (13, 3, [])
    assert Slot.objects.count() == 16


def test_an_inactive_counter_loses_its_free_slots(setup):
    pref, site, counter, *_ = setup
    run(pref)
    counter.is_active = False
    counter.save()
    assert run(pref).deleted == 12
    counter.is_active = True
    counter.save()
    assert run(pref).created == 12


def test_the_horizon_defaults_to_the_setting_and_a_shorter_run_keeps_further_slots_in_step(setup, settings):
    pref, site, counter, rule, *_ = setup
    settings.SLOT_HORIZON_WEEKS = 3
    assert generate_slots(pref, start=MONDAY, now=NOW).created == 18
    # One week asked, but the slots already made further ahead are still brought in line.
    rule.end_time = datetime.time(11, 0)
    rule.save()
    report = generate_slots(pref, start=MONDAY, weeks=1, now=NOW)
    assert report.deleted == 6 and report.last_day == MONDAY + datetime.timedelta(days=14)


def test_all_prefectures_when_none_is_given(setup):
    pref, *_ = setup
    other = factories.prefecture("974", "Préfecture de La Réunion")
    counter = factories.counter(factories.site(other, "Saint-Denis", postal_code="97400"), "Guichet 1")
    factories.rule(counter, [factories.procedure(other, "first-permit")], weekday=0)
    report = generate_slots(start=MONDAY, weeks=1, now=NOW)
    assert report.prefectures == ["93", "974"] and report.created == 12


def test_free_slots_query_and_what_each_slot_serves(setup):
    pref, site, counter, rule, first, collection = setup
    run(pref)
    slots = list(Slot.objects.filter(counter=counter))
    hold(slots[0], first)
    assert list(free_slots_query(pref, procedure=first, after=NOW)) == slots[1:]
    assert list(free_slots_query(pref, procedure=collection, after=NOW)) == []
    assert list(free_slots_query(pref, after=slots[5].starts_at, before=slots[7].starts_at)) == slots[5:7]
    assert list(free_slots_query(pref, sites=[site.pk + 1000], after=NOW)) == []


def test_the_management_command(setup, capsys):
    pref, *_ = setup
    call_command("generate_slots", "--prefecture", "93", "--weeks", "2", "--start", "2099-06-08")
    out = capsys.readouterr().out
    assert "93 from 2099-06-08 to 2099-06-21: 12 created" in out
    call_command("generate_slots", "--prefecture", "93", "--weeks", "2", "--start", "2099-06-08")
    assert "0 created" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--prefecture", "99"], "no prefecture has the code “99” (known: 93)"),
        (["--weeks", "0"], "give between 1 and 104 weeks, not 0"),
        (["--weeks", "two"], "“two” is not a whole number of weeks"),
        (["--start", "1/6/2026"], "“1/6/2026” is not a date like 2026-03-30"),
    ],
)
def test_the_command_refuses_bad_arguments(setup, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("generate_slots", *args)
    assert not Slot.objects.exists()


def test_the_task_and_the_clock(setup):
    assert "generate_slots" in {job.command for job in JOBS}
    result = generate_slots_task.call("93", weeks=3)
    assert result["prefectures"] == ["93"] and result["created"] > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_make_each_slot_once():
    pref = factories.prefecture()
    site = factories.site(pref)
    first = factories.procedure(pref)
    for number in range(4):
        counter = factories.counter(site, f"Guichet {number}")
        for weekday in range(5):
            factories.rule(counter, [first], weekday=weekday, start="08:00", end="18:00", slot_minutes=10)
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def racer():
        try:
            barrier.wait()
            reports.append(generate_slots(pref, start=MONDAY, weeks=4, now=NOW))
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=racer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = 4 * 5 * 4 * 60
    assert sorted(report.created for report in reports) == [0, expected]
    assert Slot.objects.count() == expected
    assert verify_chain("93") == []


def test_new_capacity_queues_an_allocation_once_committed(setup, django_capture_on_commit_callbacks):
    pref, *_ = setup
    with django_capture_on_commit_callbacks() as callbacks:
        run(pref)
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        run(pref)
    assert callbacks == []  # nothing new to give


def test_locks_are_taken_in_the_documented_order(setup):
    pref, site, counter, rule, *_ = setup
    run(pref)
    rule.end_time = datetime.time(11, 0)
    rule.save()
    with transaction.atomic(), locking.trace() as taken:
        run(pref)
    assert taken == [locking.Level.PREFECTURE, locking.Level.SLOT]
