"""Extra slots opened by a manager (for example to execute a court order): checked, audited, kept."""

import datetime

import pytest
from django.utils import translation

from guichet.appointments.models import Offer, OfferStatus
from guichet.capacity.models import Slot
from guichet.capacity.services import free_slots_query, generate_slots, open_extra_slot, slot_procedure_ids
from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import Actor
from guichet.evidence.models import AuditEntry
from tests import factories
from tests.capacity.helpers import appointment_request, hold, utc

MANAGER = Actor("staff", "manager", 7)
NOW = utc(2026, 5, 1, 12)
MONDAY = datetime.date(2026, 6, 1)


@pytest.fixture
def setup(db):
    pref = factories.prefecture()
    counter = factories.counter(factories.site(pref), "Guichet 1")
    first = factories.procedure(pref, "first-permit", duration_minutes=20)
    renewal = factories.procedure(pref, "renewal", kind="renewal", duration_minutes=30)
    rule = factories.rule(counter, [first], weekday=0, start="09:00", end="12:00", slot_minutes=30)
    return pref, counter, first, renewal, rule


def test_an_extra_slot_serves_its_procedures_and_is_audited(setup):
    pref, counter, first, renewal, _ = setup
    # A naive time is the counter's wall-clock time: 14:00 in Paris in June is 12:00 UTC.
    slot = open_extra_slot(
        counter,
        datetime.datetime(2026, 6, 1, 14, 0),
        datetime.datetime(2026, 6, 1, 14, 30),
        [renewal],
        MANAGER,
        "  Ordonnance du TA de Montreuil n° 2601234  ",
        now=NOW,
    )
    assert (slot.starts_at, slot.ends_at, slot.rule_id) == (
        utc(2026, 6, 1, 12),
        utc(2026, 6, 1, 12, 30),
        None,
    )
    assert slot_procedure_ids(slot) == {renewal.pk}
    assert list(free_slots_query(pref, procedure=renewal, after=NOW)) == [slot]
    entry = AuditEntry.objects.get(action="capacity.extra_slot_opened")
    assert (entry.chain, entry.actor, entry.object_id) == ("93", "staff:manager", str(slot.pk))
    assert entry.data["reason"] == "Ordonnance du TA de Montreuil n° 2601234"
    assert entry.data["procedures"] == [renewal.pk]


def test_generation_keeps_extra_slots_and_makes_no_slot_over_them(setup):
    pref, counter, first, renewal, rule = setup
    extra = open_extra_slot(
        counter, utc(2026, 6, 8, 7, 10), utc(2026, 6, 8, 7, 40), [renewal], MANAGER, "TA", now=NOW
    )
    report = generate_slots(pref, start=MONDAY, weeks=2, now=NOW)
    # On the 8th the 9:00 and 9:30 slots would overlap the extra 9:10–9:40 one.
    assert report.created == 10 and report.skipped_overlaps == 2
    assert Slot.objects.filter(pk=extra.pk).exists()
    hold(extra, renewal)
    rule.delete()
    report = generate_slots(pref, start=MONDAY, weeks=2, now=NOW)
    assert report.conflicts == [] and list(Slot.objects.all()) == [extra]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"starts_at": utc(2026, 4, 1, 8)}, "starts_at", "The slot must start in the future."),
        ({"ends_at": utc(2026, 6, 1, 11, 0)}, "ends_at", "The slot must end after it starts."),
        ({"ends_at": utc(2026, 6, 1, 12, 20)}, "ends_at", "“Renewal” takes 30 minutes: the slot is shorter."),
        ({"procedures": []}, "procedures", "Choose at least one procedure for this slot."),
        ({"reason": "  "}, "reason", "Say why this slot is opened"),
    ],
)
def test_a_wrong_extra_slot_is_refused_with_the_field_and_the_reason(setup, changes, field, message):
    pref, counter, first, renewal, _ = setup
    arguments = {
        "counter": counter,
        "starts_at": utc(2026, 6, 1, 12),
        "ends_at": utc(2026, 6, 1, 12, 30),
        "procedures": [renewal],
        "actor": MANAGER,
        "reason": "TA",
        "now": NOW,
    }
    arguments.update(changes)
    with translation.override("en"), pytest.raises(InvalidInput) as error:
        open_extra_slot(**arguments)
    assert error.value.code == "invalid_extra_slot"
    assert any(message in str(text) for text in error.value.fields[field])
    assert not Slot.objects.exists() and not AuditEntry.objects.exists()


def test_an_extra_slot_needs_an_active_counter_and_procedures_of_its_prefecture(setup):
    pref, counter, first, renewal, _ = setup
    other = factories.procedure(factories.prefecture("57", "Moselle"), "renewal", name="Renouvellement")
    counter.is_active = False
    counter.save()
    with translation.override("en"), pytest.raises(InvalidInput) as error:
        open_extra_slot(
            counter, utc(2026, 6, 1, 12), utc(2026, 6, 1, 12, 30), [other], MANAGER, "TA", now=NOW
        )
    assert set(error.value.fields) == {"counter", "procedures"}
    assert "“Renouvellement” belong to another prefecture." in error.value.fields["procedures"]


def test_an_extra_slot_cannot_overlap_a_slot_of_the_counter(setup):
    pref, counter, first, renewal, _ = setup
    generate_slots(pref, start=MONDAY, weeks=1, now=NOW)
    with translation.override("en"), pytest.raises(Conflict) as error:
        open_extra_slot(
            counter, utc(2026, 6, 1, 7, 15), utc(2026, 6, 1, 7, 45), [renewal], MANAGER, "TA", now=NOW
        )
    assert error.value.code == "slot_overlap"
    assert "already has a slot at 2026-06-01 09:00" in error.value.message
    assert Slot.objects.count() == 6


def test_an_extra_slot_takes_the_place_of_a_retired_one(setup):
    pref, counter, first, renewal, rule = setup
    generate_slots(pref, start=MONDAY, weeks=1, now=NOW)
    used = Slot.objects.first()
    Offer.objects.create(
        request=appointment_request(first),
        slot=used,
        status=OfferStatus.LAPSED,
        created_at=NOW,
        expires_at=NOW + datetime.timedelta(days=1),
    )
    rule.delete()
    generate_slots(pref, start=MONDAY, weeks=1, now=NOW)
    assert list(Slot.objects.all()) == [used]  # retired: kept for its offer, serving nothing
    slot = open_extra_slot(
        counter,
        used.starts_at,
        used.starts_at + datetime.timedelta(minutes=45),
        [renewal],
        MANAGER,
        "TA",
        now=NOW,
    )
    assert slot.pk == used.pk and slot_procedure_ids(slot) == {renewal.pk}
    assert slot.ends_at == used.starts_at + datetime.timedelta(minutes=45)
