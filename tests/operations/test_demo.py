"""`manage.py demo`: a valid, realistic catalogue with its slots, the same after a second run."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from guichet.capacity.models import Slot
from guichet.capacity.services import generate_slots
from guichet.catalog.demo import build_demo_prefecture
from guichet.catalog.models import Closure, Counter, OpeningRule, Prefecture, Procedure, Site
from guichet.evidence.audit import verify_chain
from guichet.evidence.models import AuditEntry


def counts() -> dict[str, int]:
    return {
        "prefectures": Prefecture.objects.count(),
        "sites": Site.objects.count(),
        "counters": Counter.objects.count(),
        "procedures": Procedure.objects.count(),
        "rules": OpeningRule.objects.count(),
        "rule procedures": OpeningRule.procedures.through.objects.count(),
        "closures": Closure.objects.count(),
        "slots": Slot.objects.count(),
    }


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", "--requests", "0", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_the_demo_builds_the_seine_saint_denis_prefecture_and_is_re_runnable():
    output = run_demo()
    first = counts()
    assert first["prefectures"] == 1 and first["sites"] == 2 and first["counters"] == 8
    assert first["procedures"] == 6 and first["closures"] == 2
    assert first["slots"] > 3000  # about 550 a week over eight weeks, holidays and closures aside
    assert "summary" in output and "future slots" in output

    again = run_demo()
    assert counts() == first
    assert "0 created, 0 updated, 0 deleted" in again
    # The catalogue was audited once, and each slot run once.
    actions = list(AuditEntry.objects.filter(chain="93").values_list("action", flat=True))
    assert actions.count("catalog.prefecture.created") == 1
    assert actions.count("capacity.slots_generated") == 2
    assert verify_chain("93") == []


@pytest.mark.django_db
def test_the_demo_catalogue_passes_its_own_validation():
    # The catalogue and slot steps of the command, without the (slower) staff accounts.
    pref = build_demo_prefecture()
    generate_slots(pref)
    assert pref.name == "Préfecture de la Seine-Saint-Denis" and pref.timezone == "Europe/Paris"
    bobigny = Site.objects.get(city="Bobigny")
    assert (bobigny.address, bobigny.postal_code) == ("1 esplanade Jean Moulin", "93000")
    for model in (Prefecture, Site, Counter, Procedure, OpeningRule, Closure):
        for obj in model.objects.all():
            obj.full_clean()
    for rule in OpeningRule.objects.prefetch_related("procedures"):
        assert rule.procedures.exists()
        assert all(p.duration_minutes <= rule.slot_minutes for p in rule.procedures.all()), rule
    languages = {code for counter in Counter.objects.all() for code in counter.languages}
    assert {"ar", "en", "es", "ru", "zh-hans", "tr", "uk"} <= languages
    renewal = Procedure.objects.get(kind=Procedure.Kind.RENEWAL)
    assert renewal.is_renewal and (renewal.renewal_window_opens_days, renewal.renewal_window_closes_days) == (
        120,
        60,
    )
    collection = Procedure.objects.get(kind=Procedure.Kind.COLLECTION)
    assert (collection.mode, collection.duration_minutes) == (Procedure.Mode.OPEN, 10)
    assert all(p.documents for p in Procedure.objects.all())
    # Slots: none in the past, none on the closed days.
    assert not Slot.objects.filter(starts_at__lt=timezone.now() - timezone.timedelta(minutes=5)).exists()
    for closure in Closure.objects.all():
        closed = Slot.objects.filter(
            counter__in=[closure.counter] if closure.counter else closure.site.counters.all()
        )
        tz = (closure.site or closure.counter.site).tzinfo
        assert not [
            s for s in closed if closure.start_date <= s.starts_at.astimezone(tz).date() <= closure.end_date
        ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--requests", "-1"], "--requests: give a number from 0 to 1000000, not -1."),
        (["--requests", "many"], "--requests: “many” is not a whole number."),
        (["--seed", "x"], "--seed: “x” is not a whole number."),
    ],
)
def test_the_demo_refuses_bad_numbers(args, message):
    with pytest.raises(CommandError) as error:
        call_command("demo", *args, stdout=io.StringIO())
    assert str(error.value) == message
    assert not Prefecture.objects.exists()


@pytest.mark.django_db
def test_in_the_demo_nobody_waits_while_a_free_slot_suits_them():
    # Before the interpreter fallback, every request in a language no counter lists (Somali, Tigrinya,
    # Pashto, Portuguese) waited for ever, past its due date, while thousands of slots stayed free.
    from guichet.allocation.service import stranded
    from guichet.appointments.models import Offer

    out = io.StringIO()
    call_command("demo", "--requests", "600", "--seed", "3", stdout=out)
    prefecture = Prefecture.objects.get(code="93")
    assert stranded(prefecture) == []
    assert Offer.objects.filter(interpreter_language__in=["so", "ti", "ps", "pt"]).exists()
    assert "of which a free slot suits   0" in out.getvalue()
