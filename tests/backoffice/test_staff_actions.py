"""Staff actions on a request: contact, vulnerability, close, cancel and move an appointment.

Each one that harms the applicant needs a reason; each one is audited as staff:<username> with the reason.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.appointments.services import accept_offer
from guichet.evidence.audit import APPLICANT
from guichet.evidence.models import AuditEntry
from guichet.waitlist.models import RequestStatus
from tests.appointments import builders
from tests.backoffice.helpers import file, staff, verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(world):
    return staff(world.prefecture, username="agent-x")


@pytest.fixture
def logged(client, agent):
    verified_login(client, agent)
    return client


def appointment_for(world, request):
    counter = world.counters[0]
    day = builders.weekday_after(timezone.localdate(), 10)
    slot = builders.slot(counter, builders.at_local(counter, day, 9))
    offer = builders.offer(request, slot)
    accept_offer(offer, APPLICANT)
    return Appointment.objects.get(request=request, status=AppointmentStatus.CONFIRMED)


def reasons(request, action):
    return [
        e.readable_data
        for e in AuditEntry.objects.filter(request=request, action="request.staff_reason")
        if e.data["action"] == action
    ]


def test_edit_contact_with_a_reason(logged, world, agent):
    request = file(world, family="Contact")
    url = reverse("backoffice:contact", args=[request.reference])
    assert logged.get(url).status_code == 200
    data = {"email": "new@example.org", "phone": "", "postal_address": "", "language": "ar", "reason": ""}
    refused = logged.post(url, data)
    assert refused.status_code == 200 and "reason" in refused.content.decode().lower()
    request.refresh_from_db()
    assert request.email != "new@example.org"
    response = logged.post(url, {**data, "reason": "called to give a new address"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.email == "new@example.org" and request.language == "ar"
    assert reasons(request, "details_changed")[0]["reason"] == "called to give a new address"
    changed = AuditEntry.objects.get(request=request, action="request.details_changed")
    assert changed.actor == f"staff:{agent.username}"


def test_an_invalid_email_is_refused_with_its_message(logged, world):
    request = file(world, family="Bademail")
    url = reverse("backoffice:contact", args=[request.reference])
    response = logged.post(
        url,
        {"email": "not-an-email", "phone": "", "postal_address": "", "language": "fr", "reason": "typo fix"},
    )
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.email == "bademail@example.org"


def test_vulnerability_shortens_the_due_date_and_is_audited(logged, world):
    procedure = world.procedures["first"]
    procedure.vulnerable_target_wait_days = 7
    procedure.save()
    request = file(world, family="Fragile")
    before = request.due_date
    url = reverse("backoffice:vulnerability", args=[request.reference])
    refused = logged.post(url, {"action": "record", "vulnerability": "", "reason": "seen at the counter"})
    assert refused.status_code == 200
    response = logged.post(
        url, {"action": "record", "vulnerability": "pregnancy", "reason": "seen at the counter"}
    )
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.vulnerability_reason == "pregnancy" and request.due_date < before
    assert reasons(request, "vulnerability_recorded")[0]["reason"] == "seen at the counter"
    removed = logged.post(url, {"action": "remove", "vulnerability": "", "reason": "recorded by mistake"})
    assert removed.status_code == 302
    request.refresh_from_db()
    assert request.vulnerability_reason == "" and request.due_date == before


def test_closing_needs_a_reason_and_a_confirmation(logged, world, agent):
    request = file(world, family="Closing")
    url = reverse("backoffice:close", args=[request.reference])
    assert logged.post(url, {"reason": "", "confirm": "on"}).status_code == 200
    assert logged.post(url, {"reason": "duplicate of another file"}).status_code == 200
    request.refresh_from_db()
    assert request.status == RequestStatus.WAITING
    assert logged.post(url, {"reason": "duplicate of another file", "confirm": "on"}).status_code == 302
    request.refresh_from_db()
    assert request.status == RequestStatus.CLOSED and request.closing_reason == "duplicate of another file"
    closed = AuditEntry.objects.get(request=request, action="request.closed")
    assert (
        closed.actor == f"staff:{agent.username}"
        and closed.readable_data["reason"] == "duplicate of another file"
    )


def test_cancel_an_appointment_with_a_reason(logged, world, agent):
    request = file(world, family="Cancel")
    appointment = appointment_for(world, request)
    url = reverse("backoffice:cancel_appointment", args=[request.reference, appointment.pk])
    assert "Cancel" in logged.get(reverse("backoffice:request", args=[request.reference])).content.decode()
    assert logged.post(url, {"reason": ""}).status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert logged.post(url, {"reason": "counter closed for works"}).status_code == 302
    appointment.refresh_from_db()
    request.refresh_from_db()
    assert (
        appointment.status == AppointmentStatus.CANCELLED
        and appointment.cancel_reason == "counter closed for works"
    )
    assert request.status == RequestStatus.WAITING
    entry = AuditEntry.objects.get(request=request, action="request.appointment_cancelled")
    assert entry.actor == f"staff:{agent.username}"


def test_move_an_appointment_to_a_free_slot(logged, world):
    request = file(world, family="Move")
    appointment = appointment_for(world, request)
    counter = world.counters[0]
    day = builders.weekday_after(timezone.localdate(), 12)
    free = builders.slot(counter, builders.at_local(counter, day, 10))
    url = reverse("backoffice:move_appointment", args=[request.reference, appointment.pk])
    page = logged.get(url)
    assert page.status_code == 200 and f'value="{free.pk}"' in page.content.decode()
    assert logged.post(url, {"slot": free.pk, "reason": ""}).status_code == 200
    assert logged.post(url, {"slot": free.pk, "reason": "agent ill that day"}).status_code == 302
    moved = Appointment.objects.get(request=request, status=AppointmentStatus.CONFIRMED)
    assert moved.slot_id == free.pk and moved.pk != appointment.pk


def test_request_page_shows_history_and_proofs(logged, world, agent):
    request = file(world, family="History")
    page = logged.get(reverse("backoffice:request", args=[request.reference]))
    html = page.content.decode()
    assert page.status_code == 200
    assert request.reference in html and "request.received" in html
    assert "Request received" in html  # the proof of receipt


def test_queue_is_in_the_engines_order_with_late_requests_highlighted(logged, world):
    now = timezone.now()
    late = file(world, family="Late", received_at=now - datetime.timedelta(days=29))
    early = file(world, family="Early", received_at=now - datetime.timedelta(days=3))
    recent = file(world, family="Recent", received_at=now - datetime.timedelta(hours=1))
    from guichet.waitlist.models import AppointmentRequest

    AppointmentRequest.objects.filter(pk=late.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=2)
    )
    html = logged.get(
        reverse("backoffice:queue", args=[world.prefecture.code]) + "?procedure=first-permit"
    ).content.decode()
    positions = [html.index(r.reference) for r in (late, early, recent)]
    assert positions == sorted(positions)
    assert 'class="bo-late"' in html and "late by 2 days" in html
    site = world.sites[1]
    filtered = logged.get(reverse("backoffice:queue", args=[world.prefecture.code]) + f"?site={site.pk}")
    assert filtered.status_code == 200
    assert (
        logged.get(reverse("backoffice:queue", args=[world.prefecture.code]) + "?procedure=nope").status_code
        == 404
    )


def test_search_by_reference_name_birth_date_and_foreign_number(logged, world):
    target = file(
        world, family="Dupont", given="Céline", birth="1990-05-17", foreign_national_number="1234567890"
    )
    other = file(world, family="Durand", given="Paul", birth="1985-01-02")
    search = reverse("backoffice:search")
    by_reference = logged.get(search, {"q": target.reference.lower().replace("-", " ")})
    assert by_reference.status_code == 302 and target.reference in by_reference["Location"]
    for query in (
        "celine dupont",
        "DUPONT",
        "dupont 17/05/1990",
        "17/05/1990",
        "1990-05-17",
        "12 34 56 78 90",
    ):
        html = logged.get(search, {"q": query}).content.decode()
        assert target.reference in html, query
        assert other.reference not in html, query
    assert "No request found" in logged.get(search, {"q": "nobody"}).content.decode()


def test_search_never_shows_another_prefectures_requests(client, world):
    from tests.factories import world as make_world

    other_world = make_world("75")
    elsewhere = file(other_world, family="Dupont", given="Céline")
    verified_login(client, staff(world.prefecture))
    html = client.get(reverse("backoffice:search"), {"q": "dupont"}).content.decode()
    assert elsewhere.reference not in html
    assert client.get(reverse("backoffice:search"), {"q": elsewhere.reference}).status_code == 200
    assert client.get(reverse("backoffice:request", args=[elsewhere.reference])).status_code == 404


def test_pages_are_keyboard_friendly(logged, world):
    html = logged.get(reverse("backoffice:search")).content.decode()
    assert 'accesskey="s"' in html and "autofocus" in html
    assert "Keyboard shortcuts" in html
    intake = logged.get(reverse("backoffice:intake", args=[world.prefecture.code])).content.decode()
    assert 'accesskey="n"' in intake and "autofocus" in intake


def test_the_queue_and_the_file_show_the_interpreter_to_book(logged, world):
    from guichet.allocation.service import allocate
    from guichet.waitlist.models import AppointmentRequest

    somali = file(world, family="Warsame")
    AppointmentRequest.objects.filter(pk=somali.pk).update(interpreter_language="so", needs_step_free=True)
    html = logged.get(reverse("backoffice:queue", args=[world.prefecture.code])).content.decode()
    assert "interpreter: so" in html and "step-free access" in html
    counter = world.counters[0]  # Bobigny, step-free, speaks ar and en
    builders.slot(counter, builders.at_local(counter, builders.weekday_after(timezone.localdate(), 10), 9))
    allocate(world.prefecture)
    html = logged.get(reverse("backoffice:request", args=[somali.reference])).content.decode()
    assert "interpreter to book: so" in html
