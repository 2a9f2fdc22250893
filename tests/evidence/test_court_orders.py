"""Court orders: validated, audited and proven; the deadline becomes the due date so the engine serves the
request first; managers are alerted at once when no compatible slot exists in time; met / at risk / missed
with the penalty accrued."""

import datetime
import decimal

import pytest
from django.core import mail
from django.utils import timezone, translation

from guichet.capacity.models import Slot
from guichet.errors import Conflict, InvalidInput
from guichet.evidence import audit, court_orders, services
from guichet.evidence.court_orders import OrderStatus, record_court_order
from guichet.evidence.models import AuditEntry, CourtOrder, CourtOrderAlert, Proof
from guichet.notifications.models import OutboxMessage
from guichet.waitlist.models import DueReason

from .helpers import free_slot, give_appointment, make_request

ACTOR = audit.Actor("staff", "manager93")


def today():
    return timezone.now().astimezone(datetime.UTC).date()


def order_fields(**overrides) -> dict:
    fields = {
        "tribunal": "Tribunal administratif de Montreuil",
        "case_number": "2601234",
        "ordered_on": today() - datetime.timedelta(days=3),
        "notified_on": today() - datetime.timedelta(days=1),
        "convoke_by": today() + datetime.timedelta(days=5),
        "appointment_by": today() + datetime.timedelta(days=15),
        "penalty_per_day": decimal.Decimal("50"),
        "actor": ACTOR,
    }
    fields.update(overrides)
    return fields


def slot_in(world, days: int, counter_index: int = 0, hour: int = 9):
    """A free slot `days` from now at 09:00 Paris time, on its counter's rule."""
    day = (timezone.now() + datetime.timedelta(days=days)).astimezone(world.prefecture.tzinfo).date()
    start = datetime.datetime.combine(day, datetime.time(hour), world.prefecture.tzinfo)
    return free_slot(world, start, counter_index)


@pytest.fixture
def waiting(world):
    world.prefecture.contact_email = "etrangers@seine-saint-denis.example"
    world.prefecture.save()
    request, token = make_request(world, received_at=timezone.now() - datetime.timedelta(days=40))
    return request


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"tribunal": "  "}, "tribunal", "tribunal"),
        ({"case_number": ""}, "case_number", "case number"),
        ({"ordered_on": None}, "ordered_on", "date of the order"),
        ({"ordered_on": "31/02/2026"}, "ordered_on", "not a date"),
        ({"ordered_on": today() + datetime.timedelta(days=2)}, "ordered_on", "future"),
        ({"notified_on": today() - datetime.timedelta(days=10)}, "notified_on", "before it was made"),
        ({"notified_on": today() + datetime.timedelta(days=1)}, "notified_on", "future"),
        ({"convoke_by": None, "appointment_by": None}, "__all__", "at least one deadline"),
        ({"convoke_by": today() - datetime.timedelta(days=30)}, "convoke_by", "before the date of the order"),
        (
            {"appointment_by": today() + datetime.timedelta(days=2)},
            "appointment_by",
            "before the deadline to convoke",
        ),
        ({"penalty_per_day": -1}, "penalty_per_day", "negative"),
        ({"penalty_per_day": "beaucoup"}, "penalty_per_day", "not an amount"),
        ({"penalty_per_day": "NaN"}, "penalty_per_day", "not an amount"),
        ({"penalty_per_day": "12.345"}, "penalty_per_day", "euros and cents"),
        ({"penalty_per_day": 10**9}, "penalty_per_day", "too large"),
    ],
)
def test_invalid_orders_are_refused_field_by_field(waiting, overrides, field, words):
    with pytest.raises(InvalidInput) as refused:
        record_court_order(waiting, **order_fields(**overrides))
    assert field in refused.value.fields
    assert any(words in str(message) for message in refused.value.fields[field]), refused.value.fields
    assert not CourtOrder.objects.exists()
    assert not Proof.objects.filter(event="court_order").exists()


def test_recording_proves_audits_and_brings_the_due_date_forward(world):
    waiting, _ = make_request(world)  # received today: due in 30 days
    assert waiting.due_date > today() + datetime.timedelta(days=20)
    order = record_court_order(waiting, **order_fields(convoke_by=today() + datetime.timedelta(days=2)))
    waiting.refresh_from_db()
    assert waiting.due_date == today() + datetime.timedelta(days=2)
    assert waiting.due_reason == DueReason.COURT_ORDER
    proof = Proof.objects.get(request=waiting, event="court_order")
    details = services.verify_token(proof.token).payload["details"]
    assert details["case_number"] == "2601234" and details["penalty_per_day"] == "50.00"
    assert details["convoke_by"] == order.convoke_by.isoformat()
    assert Proof.objects.filter(request=waiting, event="due_date_changed").exists()
    assert AuditEntry.objects.filter(
        request=waiting, action="request.court_order", actor="staff:manager93"
    ).exists()
    assert OutboxMessage.objects.filter(request=waiting, kind="court_order").exists()
    assert audit.verify_chain("93") == []


def test_an_earlier_due_date_is_kept(world):
    request, _ = make_request(world, received_at=timezone.now() - datetime.timedelta(days=29))
    before = request.due_date
    assert before <= today() + datetime.timedelta(days=1)
    record_court_order(request, **order_fields())
    request.refresh_from_db()
    assert request.due_date == before


def test_the_same_case_twice_is_a_conflict(waiting):
    record_court_order(waiting, **order_fields())
    with pytest.raises(Conflict) as refused:
        record_court_order(waiting, **order_fields(tribunal="TA Montreuil"))
    assert refused.value.code == "court_order_exists"
    assert CourtOrder.objects.count() == 1


def test_the_engine_serves_the_court_ordered_request_first(world):
    from guichet.allocation.service import allocate
    from guichet.appointments.models import Offer

    received = timezone.now() - datetime.timedelta(days=20)
    first, _ = make_request(
        world, received_at=received, family_names="Earlier", due_date=today() + datetime.timedelta(days=5)
    )
    ordered, _ = make_request(
        world, received_at=timezone.now() - datetime.timedelta(days=2), family_names="Ordered"
    )
    slot = slot_in(world, 4)
    record_court_order(
        ordered, **order_fields(convoke_by=today() + datetime.timedelta(days=3), appointment_by=None)
    )
    allocate(world.prefecture)
    offer = Offer.objects.get(slot=slot)
    assert offer.request_id == ordered.pk
    assert not Offer.objects.filter(request=first).exists()


def test_no_compatible_slot_alerts_managers_at_once(waiting, staff_user, django_capture_on_commit_callbacks):
    slot_in(world=_world_of(waiting), days=30)  # after the deadline: does not count
    with django_capture_on_commit_callbacks(execute=True):
        order = record_court_order(waiting, **order_fields())
    alert = CourtOrderAlert.objects.get(order=order)
    assert alert.kind == CourtOrderAlert.Kind.NO_SLOT and alert.resolved_at is None
    (message,) = mail.outbox
    assert set(message.to) == {"etrangers@seine-saint-denis.example", staff_user.email}
    assert order.case_number in message.subject and waiting.reference in message.body
    assert AuditEntry.objects.filter(action="court_order.alert", object_id=str(order.pk)).exists()
    # A repeated check does not raise the same alert twice.
    court_orders.check_court_orders()
    assert CourtOrderAlert.objects.filter(order=order).count() == 1


def _world_of(request):
    from tests.factories import World

    pref = request.prefecture
    sites = list(pref.sites.order_by("pk"))
    from guichet.catalog.models import Counter

    counters = list(Counter.objects.filter(site__prefecture=pref).order_by("pk"))
    procedures = {"first": request.procedure}
    return World(pref, sites, counters, procedures)


def test_a_compatible_slot_before_the_deadline_means_no_alert(
    world, waiting, django_capture_on_commit_callbacks
):
    slot_in(world, 4)
    with django_capture_on_commit_callbacks(execute=True):
        order = record_court_order(waiting, **order_fields())
    assert not CourtOrderAlert.objects.filter(order=order).exists()
    assert mail.outbox == []
    assert court_orders.order_state(order).status == OrderStatus.PENDING


def test_slots_that_do_not_fit_the_request_do_not_count(world, waiting):
    waiting.sites.set([world.sites[1]])  # only Le Raincy (counter index 2)
    waiting.needs_step_free = True  # and Le Raincy is not step-free
    waiting.save()
    slot_in(world, 4, counter_index=0)  # Bobigny: not a site the person accepts
    slot_in(world, 4, counter_index=2)  # Le Raincy: not step-free
    order = record_court_order(waiting, **order_fields())
    assert CourtOrderAlert.objects.filter(order=order, kind="no_slot").exists()


def test_a_slot_too_soon_for_the_notice_does_not_count(world, waiting):
    free_slot(world, timezone.now() + datetime.timedelta(hours=2))
    order = record_court_order(waiting, **order_fields())
    assert CourtOrderAlert.objects.filter(order=order, kind="no_slot").exists()


def test_extra_slot_lets_the_order_be_met_and_closes_the_alert(world, waiting):
    order = record_court_order(waiting, **order_fields())
    assert CourtOrderAlert.objects.filter(order=order, resolved_at__isnull=True).exists()
    starts = datetime.datetime.combine(
        today() + datetime.timedelta(days=4), datetime.time(14, 0), world.prefecture.tzinfo
    )
    slot = court_orders.open_extra_slot(order, counter=world.counters[0], starts_at=starts, actor=ACTOR)
    assert list(slot.extra_procedures.all()) == [waiting.procedure]
    assert slot.ends_at - slot.starts_at == datetime.timedelta(minutes=waiting.procedure.duration_minutes)
    assert court_orders.first_compatible_slot(waiting, order.appointment_by, timezone.now()) == slot
    assert AuditEntry.objects.filter(action="court_order.extra_slot", object_id=str(order.pk)).exists()
    give_appointment(waiting, slot)
    court_orders.check_court_orders()
    alert = CourtOrderAlert.objects.get(order=order)
    assert alert.resolved_at is not None and alert.resolved_by == "system"
    assert court_orders.order_state(order).status == OrderStatus.MET


def test_extra_slot_refuses_a_counter_of_another_prefecture(world, waiting):
    from tests import factories

    other = factories.world("75")
    order = record_court_order(waiting, **order_fields())
    with pytest.raises(InvalidInput) as refused:
        court_orders.open_extra_slot(
            order,
            counter=other.counters[0],
            starts_at=timezone.now() + datetime.timedelta(days=2),
            actor=ACTOR,
        )
    assert "counter" in refused.value.fields


def test_states_and_penalty(world, waiting):
    now = timezone.now()
    order = record_court_order(
        waiting,
        **order_fields(
            ordered_on=today() - datetime.timedelta(days=20),
            notified_on=today() - datetime.timedelta(days=19),
            convoke_by=today() - datetime.timedelta(days=4),
            appointment_by=today() + datetime.timedelta(days=10),
            penalty_per_day=decimal.Decimal("75.50"),
        ),
    )
    state = court_orders.order_state(order, now)
    assert state.status == OrderStatus.MISSED
    assert state.days_late == 4 and state.penalty_accrued == decimal.Decimal("302.00")
    assert CourtOrderAlert.objects.filter(order=order, kind="missed").exists()
    # An appointment given today, for a day before the deadline to hold it: the delay stops growing.
    give_appointment(waiting, slot_in(world, 5), confirmed_at=now)
    later = court_orders.order_state(order, now + datetime.timedelta(days=3))
    assert later.status == OrderStatus.MISSED and later.days_late == 4
    assert later.penalty_accrued == decimal.Decimal("302.00")


def test_met_at_risk_and_pending(world):
    met_request, _ = make_request(world, family_names="Met")
    met = record_court_order(met_request, **order_fields(case_number="1"))
    give_appointment(met_request, slot_in(world, 6))
    assert court_orders.order_state(met).status == OrderStatus.MET
    assert court_orders.order_state(met).penalty_accrued == 0

    near_request, _ = make_request(world, family_names="Near")
    slot_in(world, 2)
    near = record_court_order(
        near_request,
        **order_fields(case_number="2", convoke_by=today() + datetime.timedelta(days=2), appointment_by=None),
    )
    assert court_orders.order_state(near).status == OrderStatus.AT_RISK
    assert CourtOrderAlert.objects.filter(order=near, kind="deadline_near").exists()

    late_slot_request, _ = make_request(world, family_names="Late slot")
    late = record_court_order(late_slot_request, **order_fields(case_number="3"))
    give_appointment(late_slot_request, slot_in(world, 20))  # after appointment_by (15 days)
    assert court_orders.order_state(late).status == OrderStatus.AT_RISK


def test_alerts_banner_and_staff_pages(world, waiting, client, staff_client, django_user_model):
    from .conftest import verified_client

    order = record_court_order(waiting, **order_fields())
    # Anonymous: to the login page; an account that is nobody's staff: refused.
    anonymous = client.get("/fr/staff/court-orders/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    plain = django_user_model.objects.create_user("visitor")
    assert verified_client(plain).get("/fr/staff/court-orders/").status_code in {302, 403}
    page = staff_client.get("/en/staff/court-orders/")
    assert page.status_code == 200
    text = page.content.decode()
    assert waiting.reference in text and "at risk" in text
    assert "No compatible free slot before the deadline" in text  # the banner
    # A back-office page: its layout, navigation and stylesheet, kept out of search engines.
    assert 'class="bo-nav"' in text and "backoffice/backoffice.css" in text
    assert '<meta name="robots" content="noindex">' in text
    detail = staff_client.get(f"/en/staff/court-orders/{order.pk}/")
    assert detail.status_code == 200 and "Open an extra slot" in detail.content.decode()
    only_missed = staff_client.get("/en/staff/court-orders/", {"status": "missed"})
    assert "No court order here." in only_missed.content.decode()


def test_staff_of_another_prefecture_see_nothing(world, waiting, django_user_model):
    from tests import factories

    from .conftest import make_staff, verified_client

    order = record_court_order(waiting, **order_fields())
    alert = CourtOrderAlert.objects.get(order=order)
    other = factories.world("75")
    outsider = verified_client(make_staff(django_user_model, "paris", other.prefecture))
    listing = outsider.get("/en/staff/court-orders/")
    assert waiting.reference not in listing.content.decode()
    assert outsider.get(f"/en/staff/court-orders/{order.pk}/").status_code in {403, 404}
    assert outsider.post(
        f"/en/staff/court-orders/alerts/{alert.pk}/resolve/", {"resolution": "x"}
    ).status_code in {
        403,
        404,
    }
    assert outsider.get(f"/en/staff/requests/{waiting.reference}/court-orders/new/").status_code in {403, 404}
    assert outsider.get(f"/en/requests/{waiting.reference}/proofs/").status_code == 404
    assert outsider.get(f"/en/requests/{waiting.reference}/court-file.pdf").status_code == 404
    proof = Proof.objects.filter(request=waiting).first()
    assert outsider.get(f"/en/proofs/{proof.pk}/").status_code == 404


def test_agents_see_orders_but_only_managers_record_them(world, waiting, django_user_model):
    from .conftest import make_staff, verified_client

    agent = verified_client(make_staff(django_user_model, "desk", world.prefecture, role="agent"))
    assert agent.get("/en/staff/court-orders/").status_code == 200
    assert agent.get(f"/en/staff/requests/{waiting.reference}/court-orders/new/").status_code == 403


def test_staff_record_an_order_by_the_form(world, waiting, staff_client):
    url = f"/en/staff/requests/{waiting.reference}/court-orders/new/"
    assert staff_client.get(url).status_code == 200
    bad = staff_client.post(
        url, {**_form(), "notified_on": (today() - datetime.timedelta(days=30)).isoformat()}
    )
    assert bad.status_code == 200
    assert "before it was made" in bad.content.decode()
    assert not CourtOrder.objects.exists()
    good = staff_client.post(url, _form())
    order = CourtOrder.objects.get()
    assert good.status_code == 302 and good["Location"].endswith(f"/staff/court-orders/{order.pk}/")
    assert order.recorded_by == "staff:agent"


def _form() -> dict:
    return {
        "tribunal": "TA Montreuil",
        "case_number": "2609999",
        "ordered_on": (today() - datetime.timedelta(days=2)).isoformat(),
        "notified_on": (today() - datetime.timedelta(days=1)).isoformat(),
        "convoke_by": (today() + datetime.timedelta(days=3)).isoformat(),
        "appointment_by": "",
        "penalty_per_day": "100",
    }


def test_staff_open_an_extra_slot_and_resolve_an_alert_by_the_pages(world, waiting, staff_client):
    order = record_court_order(waiting, **order_fields())
    day = today() + datetime.timedelta(days=3)
    response = staff_client.post(
        f"/en/staff/court-orders/{order.pk}/extra-slot/",
        {
            "counter": world.counters[0].pk,
            "day": day.isoformat(),
            "start": "15:00",
            "minutes": 20,
            "reason": "",
        },
    )
    assert response.status_code == 302
    assert order.request.procedure.extra_slots.count() == 1
    bad = staff_client.post(
        f"/en/staff/court-orders/{order.pk}/extra-slot/",
        {"counter": world.counters[0].pk, "day": "2000-01-01", "start": "15:00", "minutes": 20},
    )
    assert bad.status_code == 422 and "future" in bad.content.decode()
    alert = CourtOrderAlert.objects.get(order=order)
    staff_client.post(f"/en/staff/court-orders/alerts/{alert.pk}/resolve/", {"resolution": ""})
    alert.refresh_from_db()
    assert alert.resolved_at is None
    staff_client.post(
        f"/en/staff/court-orders/alerts/{alert.pk}/resolve/", {"resolution": "Extra slot opened"}
    )
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolution == "Extra slot opened"


def test_alert_snippet_renders_for_other_templates(world, waiting, staff_user):
    from django.template.loader import render_to_string

    record_court_order(waiting, **order_fields())
    html = render_to_string(
        "backoffice/_court_alerts.html", {"court_alerts": court_orders.court_order_alerts(staff_user)}
    )
    assert waiting.reference in html and 'role="alert"' in html
    assert court_orders.court_order_alerts(None) == []


def test_extra_slot_refuses_a_site_the_ordered_person_cannot_use(world, waiting):
    # Opened at Le Raincy (no step-free access) for a wheelchair user, it would have gone to someone else.
    waiting.needs_step_free = True
    waiting.save()
    order = record_court_order(waiting, **order_fields())
    starts = datetime.datetime.combine(
        today() + datetime.timedelta(days=4), datetime.time(14, 0), world.prefecture.tzinfo
    )
    with pytest.raises(InvalidInput) as refused, translation.override("en"):
        court_orders.open_extra_slot(order, counter=world.counters[2], starts_at=starts, actor=ACTOR)
    assert "step-free" in str(refused.value.fields["starts_at"][0])
    assert not Slot.objects.filter(extra_procedures=waiting.procedure, rule__isnull=True).exists()


def test_an_extra_slot_serves_a_language_no_counter_speaks(world, waiting):
    waiting.interpreter_language = "so"
    waiting.save()
    order = record_court_order(waiting, **order_fields())
    starts = datetime.datetime.combine(
        today() + datetime.timedelta(days=4), datetime.time(14, 0), world.prefecture.tzinfo
    )
    slot = court_orders.open_extra_slot(order, counter=world.counters[0], starts_at=starts, actor=ACTOR)
    assert court_orders.first_compatible_slot(waiting, order.appointment_by, timezone.now()) == slot
