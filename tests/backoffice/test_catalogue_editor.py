"""The catalogue editor of the back office: a manager edits their prefecture's catalogue, sees the slots a
change makes and removes (and the held slots it leaves in conflict) before saving, and saves it with the
same service as the Django admin: audited, slots in step. Nothing is kept from a preview."""

import datetime
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from guichet.capacity.models import Slot
from guichet.capacity.services import generate_slots
from guichet.catalog.models import Closure, OpeningRule
from guichet.evidence.audit import verify_chain
from guichet.evidence.models import AuditEntry
from tests import factories
from tests.backoffice.helpers import file, staff, verified_login
from tests.capacity.helpers import hold

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    made = factories.world()
    generate_slots(made.prefecture)
    return made


@pytest.fixture
def manager(client, world):
    user = staff(world.prefecture, "manager")
    verified_login(client, user)
    return user


def new_url(world, kind):
    return reverse("backoffice:catalogue_new", args=[world.prefecture.code, kind])


def edit_url(world, kind, pk):
    return reverse("backoffice:catalogue_edit", args=[world.prefecture.code, kind, pk])


def next_weekday(weekday: int) -> datetime.date:
    today = timezone.localdate()
    return today + datetime.timedelta(days=(weekday - today.weekday()) % 7 or 7)


def saturday_rule(world, **changes) -> dict:
    data = {
        "counter": world.counters[0].pk,
        "weekday": 5,
        "start_time": "09:00",
        "end_time": "11:00",
        "slot_minutes": 30,
        "procedures": [world.procedures["first"].pk],
        "valid_from": timezone.localdate().isoformat(),
        "valid_until": "",
    }
    data.update(changes)
    return data


def test_only_managers_and_administrators_of_the_prefecture_edit_it(client, world):
    url = reverse("backoffice:catalogue", args=[world.prefecture.code])
    verified_login(client, staff(world.prefecture, "agent"))
    assert client.get(url).status_code == 403
    for role in ("manager", "prefecture_admin"):
        verified_login(client, staff(world.prefecture, role))
        page = client.get(url)
        assert page.status_code == 200
        assert "Guichet 1" in page.content.decode()
    other = factories.world("75")
    verified_login(client, staff(other.prefecture, "prefecture_admin"))
    assert client.get(url).status_code == 403
    # Their own prefecture's address with an object of the other one: not found.
    rule = OpeningRule.objects.filter(counter=world.counters[0]).first()
    assert client.get(edit_url(other, "rule", rule.pk)).status_code == 404
    assert (
        client.post(reverse("backoffice:catalogue_delete", args=["75", "rule", rule.pk])).status_code == 404
    )


def test_a_login_without_the_second_factor_is_sent_to_the_login(client, world):
    client.force_login(staff(world.prefecture, "manager"))
    response = client.get(reverse("backoffice:catalogue", args=[world.prefecture.code]))
    assert response.status_code == 302 and "/staff/login/" in response["Location"]


def test_a_new_rule_is_previewed_without_saving_then_saved(client, world, manager):
    rules, slots, entries = OpeningRule.objects.count(), Slot.objects.count(), AuditEntry.objects.count()
    preview = client.post(new_url(world, "rule"), {**saturday_rule(world), "preview": "1"})
    assert preview.status_code == 200
    body = preview.content.decode()
    made = int(re.search(r"(\d+) slots made", body).group(1))
    # 9:00–11:00 in 30-minute slots: four each Saturday of the slot horizon.
    assert made % 4 == 0 and made >= 4 * (settings.SLOT_HORIZON_WEEKS - 1)
    assert f"Sat {next_weekday(5):%-d %b %Y} 09:30–10:00" in body
    assert 'name="save"' in body
    # Nothing of the preview is kept.
    assert (OpeningRule.objects.count(), Slot.objects.count(), AuditEntry.objects.count()) == (
        rules,
        slots,
        entries,
    )
    saved = client.post(new_url(world, "rule"), {**saturday_rule(world), "save": "1"})
    assert saved.status_code == 302
    rule = OpeningRule.objects.get(weekday=5)
    assert Slot.objects.filter(rule=rule).count() >= 4
    assert AuditEntry.objects.filter(action="catalog.openingrule.created", object_id=str(rule.pk)).exists()
    assert verify_chain(world.prefecture.code) == []


def test_a_closure_preview_lists_the_removed_slots_and_the_held_slot_in_conflict(client, world, manager):
    counter = world.counters[0]
    monday = next_weekday(0)
    held = Slot.objects.filter(counter=counter, starts_at__date=monday).order_by("starts_at").first()
    hold(held, world.procedures["first"])
    data = {
        "site": "",
        "counter": counter.pk,
        "start_date": monday.isoformat(),
        "end_date": monday.isoformat(),
        "reason": "Formation",
    }
    preview = client.post(new_url(world, "closure"), {**data, "preview": "1"})
    body = preview.content.decode()
    assert "5 free slots removed" in body  # six 30-minute slots from 9:00 to 12:00, one of them held
    assert "1 held slot" in body
    assert not Closure.objects.exists()
    saved = client.post(new_url(world, "closure"), {**data, "save": "1"})
    assert saved.status_code == 302
    assert Closure.objects.filter(counter=counter).exists()
    assert Slot.objects.filter(counter=counter, starts_at__date=monday).count() == 1  # the held one stays


# Field labels spelled the same in French and in English.
SAME_IN_FRENCH = {"Code", "Description", "Mode", "Site"}
# A field's label or a group's legend (not the choices of a group, whose ids end in a number).
LABEL = re.compile(r'<(?:label[^>]*for="id_[a-z_]+"|legend[^>]*)>([^<]*)')


@pytest.mark.parametrize("kind", ["site", "counter", "procedure", "rule", "closure"])
def test_every_field_of_the_catalogue_forms_is_labelled_in_the_page_language(client, world, manager, kind):
    labels = {}
    for language in ("fr", "en"):
        with translation.override(language):
            page = client.get(new_url(world, kind)).content.decode()
            labels[language] = [label.strip() for label in LABEL.findall(page)]
    assert len(labels["fr"]) == len(labels["en"]) > 1
    for french, english in zip(labels["fr"], labels["en"], strict=True):
        assert french != english or english in SAME_IN_FRENCH, (french, english)
        assert french[0].isupper() and english[0].isupper(), (french, english)


def test_a_previewed_rule_is_named_as_it_stands_and_its_times_read_as_typed(client, world, manager):
    rule = OpeningRule.objects.filter(counter=world.counters[0], weekday=0).get()
    page = client.get(edit_url(world, "rule", rule.pk)).content.decode()
    assert 'value="09:00"' in page and 'value="12:00"' in page
    data = {
        "counter": rule.counter_id,
        "weekday": 0,
        "start_time": "09:00",
        "end_time": "13:00",
        "slot_minutes": 30,
        "procedures": [p.pk for p in rule.procedures.all()],
        "valid_from": rule.valid_from.isoformat(),
        "valid_until": "",
        "preview": "1",
    }
    body = client.post(edit_url(world, "rule", rule.pk), data).content.decode()
    title = re.search(r"<h1>(.*?)</h1>", body, re.S).group(1)
    assert "09:00–12:00" in title and "13:00" not in title  # not saved: the rule is still 9:00–12:00
    assert 'value="13:00"' in body  # the form keeps what was typed


def test_the_existing_validation_refuses_with_its_messages_and_writes_nothing(client, world, manager):
    other = factories.world("75")
    slots = Slot.objects.count()
    foreign = client.post(
        new_url(world, "rule"), {**saturday_rule(world, counter=other.counters[0].pk), "save": "1"}
    )
    assert foreign.status_code == 400
    assert "Select a valid choice" in foreign.content.decode()
    overlap = client.post(new_url(world, "rule"), {**saturday_rule(world, weekday=0), "save": "1"})
    assert overlap.status_code == 400
    assert "overlaps another rule of the same counter" in overlap.content.decode()
    too_short = client.post(new_url(world, "rule"), {**saturday_rule(world, slot_minutes=10), "preview": "1"})
    assert too_short.status_code == 400 and "too short" in too_short.content.decode()
    assert not OpeningRule.objects.filter(weekday=5).exists() and Slot.objects.count() == slots


def test_changing_a_rule_shows_the_slots_made_and_removed(client, world, manager):
    rule = OpeningRule.objects.filter(counter=world.counters[0], weekday=0).get()
    data = {
        "counter": rule.counter_id,
        "weekday": 0,
        "start_time": "09:00",
        "end_time": "13:00",
        "slot_minutes": 30,
        "procedures": [p.pk for p in rule.procedures.all()],
        "valid_from": rule.valid_from.isoformat(),
        "valid_until": "",
    }
    body = client.post(edit_url(world, "rule", rule.pk), {**data, "preview": "1"}).content.decode()
    assert "slots made" in body and "12:30" in body
    assert client.post(edit_url(world, "rule", rule.pk), {**data, "save": "1"}).status_code == 302
    rule.refresh_from_db()
    assert rule.end_time == datetime.time(13, 0)


def test_deleting_is_previewed_then_confirmed_and_a_used_object_is_refused(client, world, manager):
    rule = OpeningRule.objects.filter(counter=world.counters[0], weekday=0).get()
    delete_url = reverse("backoffice:catalogue_delete", args=[world.prefecture.code, "rule", rule.pk])
    preview = client.post(delete_url)
    assert "free slots removed" in preview.content.decode()
    assert OpeningRule.objects.filter(pk=rule.pk).exists()
    assert client.post(delete_url, {"confirm": "1"}).status_code == 302
    assert not OpeningRule.objects.filter(pk=rule.pk).exists()
    file(world)  # a request refers to the procedure
    procedure = world.procedures["first"]
    refused = client.post(
        reverse("backoffice:catalogue_delete", args=[world.prefecture.code, "procedure", procedure.pk]),
        {"confirm": "1"},
        follow=True,
    )
    assert refused.status_code == 200 and "cannot be deleted" in refused.content.decode()
    assert type(procedure).objects.filter(pk=procedure.pk).exists()


def test_a_manager_adds_a_site_counter_and_procedure_of_their_prefecture(client, world, manager):
    site = client.post(
        new_url(world, "site"),
        {
            "name": "Saint-Denis",
            "address": "1 place",
            "postal_code": "93200",
            "city": "Saint-Denis",
            "timezone": "",
            "access_notes": "",
            "is_active": "on",
            "save": "1",
        },
    )
    assert site.status_code == 302
    created = world.prefecture.sites.get(name="Saint-Denis")
    counter = client.post(
        new_url(world, "counter"),
        {"site": created.pk, "name": "Guichet SD", "languages": "ar, ru", "is_active": "on", "save": "1"},
    )
    assert counter.status_code == 302
    assert created.counters.get().languages == ["ar", "ru"]
    duplicate = client.post(
        new_url(world, "procedure"),
        {
            "code": "first-permit",
            "name": "Encore",
            "kind": "first",
            "duration_minutes": 30,
            "mode": "queue",
            "target_wait_days": 60,
            "minimum_notice_hours": 48,
            "postal_notice_hours": 240,
            "offer_validity_hours": 48,
            "save": "1",
        },
    )
    assert duplicate.status_code == 400  # the code is taken in this prefecture: refused, not a 500
