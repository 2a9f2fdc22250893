"""The catalogue in the Django admin: precise refusals that write nothing, audited saves, slots in step."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from guichet.accounts.models import StaffProfile
from guichet.capacity.models import Slot
from guichet.catalog.models import Closure, Counter, OpeningRule, Prefecture, Procedure
from guichet.evidence.audit import verify_chain
from guichet.evidence.models import AuditEntry
from tests import factories
from tests.backoffice.helpers import verified_login
from tests.capacity.helpers import hold

ADMIN = "/django-admin/catalog"


@pytest.fixture
def admin_client(client, db):
    # No password: hashing one costs a second per test, and force_login needs none.
    # The admin is the platform administrators', past the back office's second factor.
    user = get_user_model().objects.create(username="root")
    StaffProfile.objects.create(user=user, is_platform_admin=True)
    verified_login(client, user)
    # The messages checked below are the English source texts; French is the default language.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def catalog(db):
    pref = factories.prefecture()
    site = factories.site(pref, "Bobigny")
    counter = factories.counter(site, "Guichet 1")
    long_one = factories.procedure(pref, "first-permit", name="Première demande", duration_minutes=30)
    short_one = factories.procedure(pref, "collection", name="Remise", kind="collection", duration_minutes=10)
    return pref, site, counter, long_one, short_one


def errors_of(response) -> str:
    """The text of the error list items of an admin form page, tags stripped."""
    assert response.status_code == 200, response.status_code
    items = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    return " ".join(re.sub(r"<[^>]+>", "", item) for item in items)


def rule_data(counter, chosen, **changes) -> dict:
    data = {
        "counter": counter.pk,
        "weekday": 0,
        "start_time": "09:00",
        "end_time": "12:00",
        "slot_minutes": 30,
        "procedures": [p.pk for p in chosen],
        "valid_from": "2026-01-01",
        "valid_until": "",
        "_save": "Save",
    }
    data.update(changes)
    return data


def collection_form(pref, **changes) -> dict:
    """The admin form of the "collection" procedure, as a manager submits it."""
    data = {
        "prefecture": pref.pk,
        "code": "collection",
        "name": "Remise",
        "kind": "collection",
        "duration_minutes": 10,
        "mode": "queue",
        "target_wait_days": 30,
        "minimum_notice_hours": 24,
        "postal_notice_hours": 240,
        "offer_validity_hours": 48,
        "renewal_window_opens_days": 120,
        "renewal_window_closes_days": 60,
        "renewal_safety_margin_days": 15,
        "documents": "",
        "is_active": "on",
        "_save": "Save",
    }
    data.update(changes)
    return data


def audit_count() -> int:
    return AuditEntry.objects.count()


def test_a_valid_rule_is_saved_audited_and_makes_its_slots(admin_client, catalog):
    pref, site, counter, long_one, short_one = catalog
    response = admin_client.post(f"{ADMIN}/openingrule/add/", rule_data(counter, [long_one, short_one]))
    assert response.status_code == 302, errors_of(response)
    rule = OpeningRule.objects.get()
    assert set(rule.procedures.all()) == {long_one, short_one}
    assert Slot.objects.filter(rule=rule).count() >= 6 * 7  # eight weeks of Mondays, holidays aside
    actions = list(AuditEntry.objects.filter(chain="93").order_by("seq").values_list("action", flat=True))
    assert actions == ["capacity.slots_generated", "catalog.openingrule.created"]
    created = AuditEntry.objects.get(action="catalog.openingrule.created")
    assert created.data["values"]["procedures"] == sorted([long_one.pk, short_one.pk])
    assert created.actor == "staff:root"
    assert verify_chain("93") == []
    page = admin_client.get(response["Location"])
    assert "Slots brought in line with the catalogue" in page.content.decode()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"slot_minutes": 20},
            "Slots of 20 minutes are too short for “Première demande”, which takes 30 minutes",
        ),
        ({"end_time": "08:00"}, "The closing time must be after the opening time."),
        ({"end_time": "09:20"}, "The opening is shorter than one slot."),
        ({"valid_until": "2025-12-31"}, "The end of validity must not be before its start."),
        ({"start_time": "25:00"}, "Enter a valid time."),
        ({"procedures": []}, "This field is required."),
        ({"slot_minutes": 2}, "Ensure this value is greater than or equal to 5."),
    ],
)
def test_a_wrong_rule_is_refused_with_a_precise_message_and_writes_nothing(
    admin_client, catalog, changes, message
):
    pref, site, counter, long_one, short_one = catalog
    response = admin_client.post(
        f"{ADMIN}/openingrule/add/", rule_data(counter, [long_one, short_one], **changes)
    )
    assert message in errors_of(response)
    assert not OpeningRule.objects.exists()
    assert not Slot.objects.exists()
    assert audit_count() == 0


def test_an_overlapping_rule_is_refused_naming_the_other(admin_client, catalog):
    pref, site, counter, long_one, short_one = catalog
    factories.rule(
        counter, [long_one], weekday=0, start="11:00", end="13:00", valid_from=datetime.date(2025, 6, 1)
    )
    response = admin_client.post(f"{ADMIN}/openingrule/add/", rule_data(counter, [long_one]))
    errors = errors_of(response)
    assert "This opening overlaps another rule of the same counter: Bobigny — Guichet 1" in errors
    assert "11:00–13:00, valid from 2025-06-01" in errors
    assert OpeningRule.objects.count() == 1
    # Another weekday, or a period that ends before the other starts, is fine.
    later = rule_data(counter, [long_one], valid_from="2024-01-01", valid_until="2025-05-31")
    assert admin_client.post(f"{ADMIN}/openingrule/add/", later).status_code == 302


def test_a_rule_cannot_serve_the_procedures_of_another_prefecture(admin_client, catalog):
    pref, site, counter, long_one, short_one = catalog
    other = factories.procedure(
        factories.prefecture("57", "Préfecture de la Moselle"), "renewal", name="Renouvellement"
    )
    response = admin_client.post(f"{ADMIN}/openingrule/add/", rule_data(counter, [long_one, other]))
    assert "“Renouvellement” belong to another prefecture than the counter" in errors_of(response)
    assert not OpeningRule.objects.exists()


def test_changing_a_rule_updates_free_slots_and_warns_about_held_ones(admin_client, catalog):
    pref, site, counter, long_one, short_one = catalog
    rule = factories.rule(counter, [long_one], weekday=0, start="09:00", end="12:00", slot_minutes=30)
    from guichet.capacity.services import generate_slots

    generate_slots(pref)
    last = Slot.objects.filter(rule=rule).order_by("starts_at").last()
    hold(last, long_one)
    response = admin_client.post(
        f"{ADMIN}/openingrule/{rule.pk}/change/",
        rule_data(counter, [long_one], end_time="11:00", valid_from="2020-01-01"),
        follow=True,
    )
    page = response.content.decode()
    assert "1 held slot no longer matches the catalogue and was left as it is" in page
    assert "no opening rule opens this slot any more" in page
    assert Slot.objects.filter(pk=last.pk).exists()
    local_ends = {s.ends_at.astimezone(site.tzinfo).time() for s in Slot.objects.exclude(pk=last.pk)}
    assert max(local_ends) == datetime.time(11, 0)
    changed = AuditEntry.objects.get(action="catalog.openingrule.changed")
    assert changed.data["values"] == {"end_time": "11:00:00"}


def test_a_procedure_cannot_become_longer_than_the_slots_of_its_rules(admin_client, catalog):
    pref, site, counter, long_one, short_one = catalog
    factories.rule(counter, [short_one], slot_minutes=10)
    data = collection_form(pref, duration_minutes=15, documents="Passeport\n\n  Récépissé  \n")
    response = admin_client.post(f"{ADMIN}/procedure/{short_one.pk}/change/", data)
    assert "has slots of 10 minutes, shorter than 15 minutes" in errors_of(response)
    short_one.refresh_from_db()
    assert short_one.duration_minutes == 10
    data["duration_minutes"] = 10
    response = admin_client.post(f"{ADMIN}/procedure/{short_one.pk}/change/", data)
    assert response.status_code == 302
    short_one.refresh_from_db()
    assert short_one.documents == ["Passeport", "Récépissé"]
    assert AuditEntry.objects.get(action="catalog.procedure.changed").data["values"] == {
        "documents": ["Passeport", "Récépissé"]
    }


def test_a_procedure_renewal_window_must_open_before_it_closes(admin_client, catalog):
    pref, *_ = catalog
    data = {
        "prefecture": pref.pk,
        "code": "renewal",
        "name": "Renouvellement",
        "kind": "renewal",
        "is_renewal": "on",
        "duration_minutes": 20,
        "mode": "queue",
        "target_wait_days": 45,
        "minimum_notice_hours": 48,
        "postal_notice_hours": 240,
        "offer_validity_hours": 72,
        "renewal_window_opens_days": 30,
        "renewal_window_closes_days": 60,
        "renewal_safety_margin_days": 15,
        "_save": "Save",
    }
    response = admin_client.post(f"{ADMIN}/procedure/add/", data)
    assert "The filing window must open before it closes." in response.content.decode()
    assert not Procedure.objects.filter(code="renewal").exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"counter": "__counter__"},
            "counter",
            "A closure concerns either a whole site or one counter, not both",
        ),
        ({"site": ""}, "site", "Choose the site that is closed, or else the counter."),
        ({"end_date": "2026-12-01"}, "end_date", "The last day closed must not be before the first."),
        ({"reason": ""}, "reason", "This field is required."),
    ],
)
def test_a_wrong_closure_is_refused(admin_client, catalog, changes, field, message):
    pref, site, counter, *_ = catalog
    data = {
        "site": site.pk,
        "counter": "",
        "start_date": "2026-12-02",
        "end_date": "2026-12-04",
        "reason": "Grève",
    }
    data.update({k: (counter.pk if v == "__counter__" else v) for k, v in changes.items()})
    response = admin_client.post(f"{ADMIN}/closure/add/", {**data, "_save": "Save"})
    assert message in errors_of(response)
    assert not Closure.objects.exists() and audit_count() == 0


def test_a_closure_removes_free_slots_and_its_deletion_brings_them_back(admin_client, catalog):
    pref, site, counter, long_one, _ = catalog
    factories.rule(counter, [long_one], weekday=0)
    from guichet.capacity.services import generate_slots

    generate_slots(pref)
    before = Slot.objects.count()
    monday = Slot.objects.last().starts_at.astimezone(site.tzinfo).date()
    data = {
        "site": site.pk,
        "counter": "",
        "start_date": monday,
        "end_date": monday,
        "reason": "Grève",
        "_save": "Save",
    }
    assert admin_client.post(f"{ADMIN}/closure/add/", data).status_code == 302
    assert Slot.objects.count() == before - 6
    closure = Closure.objects.get()
    response = admin_client.post(f"{ADMIN}/closure/{closure.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert Slot.objects.count() == before
    deleted = AuditEntry.objects.get(action="catalog.closure.deleted")
    assert deleted.data["values"]["reason"] == "Grève" and deleted.object_id == str(closure.pk)
    assert verify_chain("93") == []


def test_prefecture_code_is_checked_normalised_and_then_fixed(admin_client, db):
    base = {
        "name": "Préfecture",
        "timezone": "",
        "holiday_subdivision": "",
        "contact_email": "",
        "_save": "Save",
    }
    response = admin_client.post(f"{ADMIN}/prefecture/add/", {**base, "code": "99"})
    assert "“99” is not a département code" in errors_of(response)
    response = admin_client.post(
        f"{ADMIN}/prefecture/add/", {**base, "code": "57", "holiday_subdivision": "XX"}
    )
    assert "“XX” is not a holiday subdivision" in errors_of(response)
    response = admin_client.post(
        f"{ADMIN}/prefecture/add/", {**base, "code": "57", "timezone": "Europe/Metz"}
    )
    assert "“Europe/Metz” is not a known time zone." in errors_of(response)
    assert not Prefecture.objects.exists()

    assert admin_client.post(f"{ADMIN}/prefecture/add/", {**base, "code": " 2a"}).status_code == 302
    corsica = Prefecture.objects.get()
    assert (corsica.code, corsica.timezone) == ("2A", "Europe/Paris")
    assert AuditEntry.objects.get(chain="2A").action == "catalog.prefecture.created"
    # The code names the audit chain: once made, the form does not offer to change it.
    response = admin_client.post(
        f"{ADMIN}/prefecture/{corsica.pk}/change/", {**base, "code": "2B", "name": "Corse"}
    )
    assert response.status_code == 302
    corsica.refresh_from_db()
    assert (corsica.code, corsica.name) == ("2A", "Corse")


def test_counter_languages_are_typed_as_a_list(admin_client, catalog):
    pref, site, *_ = catalog
    data = {"site": site.pk, "name": "Guichet 9", "is_active": "on", "_save": "Save"}
    response = admin_client.post(f"{ADMIN}/counter/add/", {**data, "languages": "ar, arabic"})
    assert "“arabic” is not a language code" in errors_of(response)
    response = admin_client.post(f"{ADMIN}/counter/add/", {**data, "languages": "ar fr"})
    assert "French is spoken at every counter" in errors_of(response)
    response = admin_client.post(f"{ADMIN}/counter/add/", {**data, "languages": "AR, en;zh-Hans en"})
    assert response.status_code == 302
    assert Counter.objects.get(name="Guichet 9").languages == ["ar", "en", "zh-hans"]
    page = admin_client.get(f"{ADMIN}/counter/{Counter.objects.get(name='Guichet 9').pk}/change/")
    assert 'value="ar, en, zh-hans"' in page.content.decode()


def test_the_admin_pages_answer(admin_client, catalog):
    pref, site, counter, long_one, _ = catalog
    factories.rule(counter, [long_one])
    for model in ("prefecture", "site", "counter", "procedure", "openingrule", "closure"):
        assert admin_client.get(f"{ADMIN}/{model}/").status_code == 200
        assert admin_client.get(f"{ADMIN}/{model}/add/").status_code == 200
    assert admin_client.get("/django-admin/capacity/slot/").status_code == 200


def test_generate_slots_now_action(admin_client, catalog):
    pref, site, counter, long_one, _ = catalog
    factories.rule(counter, [long_one])
    response = admin_client.post(
        f"{ADMIN}/prefecture/", {"action": "generate_slots_now", "_selected_action": [pref.pk]}, follow=True
    )
    assert "93 from " in response.content.decode()
    assert Slot.objects.filter(starts_at__gte=timezone.now()).exists()
