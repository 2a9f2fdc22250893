"""The manager's view of a closure or shorter hours: the preview and the saved result list each person whose
appointment the change leaves on a slot it no longer opens, with a link to the request; the page of affected
appointments moves one or all of them (or puts them back in the queue), and the staff API does the same."""

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from guichet.accounts import services as accounts
from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.catalog.models import Closure
from tests import factories
from tests.appointments import builders
from tests.backoffice.helpers import staff, verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def day(world, now):
    return builders.generated_week_ahead(world, now)


@pytest.fixture
def manager(client, world):
    user = staff(world.prefecture, "manager")
    verified_login(client, user)
    return user


def book(world, day, now, hour=9):
    return builders.booked(world, day, now, hour=hour)


def closure_form(world, day) -> dict:
    return {
        "site": world.sites[0].pk,
        "counter": "",
        "start_date": day.isoformat(),
        "end_date": day.isoformat(),
        "reason": "Formation",
    }


def affected_url(world) -> str:
    return reverse("backoffice:affected", args=[world.prefecture.code])


def request_link(appointment) -> str:
    return f'href="{reverse("backoffice:request", args=[appointment.request.reference])}"'


def test_the_preview_and_the_saved_closure_list_the_people_affected_with_links(
    client, world, day, now, manager
):
    booked = book(world, day, now)
    new = reverse("backoffice:catalogue_new", args=[world.prefecture.code, "closure"])
    preview = client.post(new, {**closure_form(world, day), "preview": "1"})
    body = preview.content.decode()
    assert preview.status_code == 200
    assert "1 person affected" in body
    assert request_link(booked) in body and booked.request.reference in body
    assert client.get(reverse("backoffice:request", args=[booked.request.reference])).status_code == 200
    assert world.procedures["first"].name in body and "Bobigny" in body and "09:00" in body
    assert not Closure.objects.exists()
    saved = client.post(new, {**closure_form(world, day), "save": "1"}, follow=True)
    assert saved.redirect_chain[-1][0] == affected_url(world)
    body = saved.content.decode()
    assert request_link(booked) in body
    assert "the person holding it is listed below" in body
    assert f'value="appointment-{booked.pk}"' in body


def test_a_manager_moves_one_then_all_the_affected_appointments(client, world, day, now, manager):
    first = book(world, day, now, hour=9)
    second = book(world, day, now, hour=10)
    Closure.objects.create(site=world.sites[0], start_date=day, end_date=day, reason="Formation")
    page = client.get(affected_url(world))
    assert page.status_code == 200
    assert request_link(first) in page.content.decode() and request_link(second) in page.content.decode()
    one = client.post(
        affected_url(world), {"reason": "Site fermé ce jour", "settle": f"appointment-{first.pk}"}
    )
    assert one.status_code == 200
    first.refresh_from_db()
    assert first.status == AppointmentStatus.CANCELLED and first.replaced_by is not None
    assert f"{first.request.reference}: moved to" in one.content.decode()
    file = client.get(reverse("backoffice:request", args=[first.request.reference])).content.decode()
    assert "moved: its convocation is replaced" in file
    assert request_link(first) not in one.content.decode().split("</table>")[-1]
    second.refresh_from_db()
    assert second.status == AppointmentStatus.CONFIRMED
    every = client.post(affected_url(world), {"reason": "Site fermé ce jour", "settle_all": "1"})
    second.refresh_from_db()
    assert second.replaced_by is not None
    assert "No appointment or offer is on a slot the catalogue no longer opens." in every.content.decode()


def test_without_a_reason_nothing_moves_and_the_page_says_why(client, world, day, now, manager):
    booked = book(world, day, now)
    Closure.objects.create(site=world.sites[0], start_date=day, end_date=day, reason="Formation")
    refused = client.post(affected_url(world), {"reason": "", "settle_all": "1"})
    assert refused.status_code == 400
    assert "Please correct the following" in refused.content.decode()
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CONFIRMED


def test_an_appointment_not_affected_is_not_moved_from_this_page(client, world, day, now, manager):
    booked = book(world, day, now)
    response = client.post(
        affected_url(world), {"reason": "Site fermé ce jour", "settle": f"appointment-{booked.pk}"}
    )
    assert response.status_code == 400
    assert "no longer, on a slot the catalogue no longer opens" in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CONFIRMED


def test_a_button_naming_nothing_moves_nothing_and_says_so(client, world, day, now, manager):
    booked = book(world, day, now)
    Closure.objects.create(site=world.sites[0], start_date=day, end_date=day, reason="Formation")
    for value in ("", "appointment-", "slot-3", "appointment-x"):
        response = client.post(affected_url(world), {"reason": "Site fermé ce jour", "settle": value})
        assert response.status_code == 400
        assert "Choose an appointment or offer to move." in response.content.decode()
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CONFIRMED


def test_agents_and_other_prefectures_cannot_open_it(client, world, day, now):
    verified_login(client, staff(world.prefecture, "agent"))
    assert client.get(affected_url(world)).status_code == 403
    other = factories.world("75")
    verified_login(client, staff(other.prefecture, "manager"))
    assert client.get(affected_url(world)).status_code == 403


def test_the_staff_api_lists_and_moves_them_with_the_same_services(client, world, day, now):
    booked = book(world, day, now)
    Closure.objects.create(site=world.sites[0], start_date=day, end_date=day, reason="Formation")
    user = staff(world.prefecture, "manager")
    _token, raw = accounts.create_api_token(user, name="tests", prefecture=world.prefecture)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    listed = client.get("/api/v1/staff/affected", **auth)
    assert listed.status_code == 200
    [row] = listed.json()
    assert (row["reference"], row["appointment_id"], row["cause"]) == (
        booked.request.reference,
        booked.pk,
        "closure",
    )
    missing = client.post(
        "/api/v1/staff/affected/settle",
        json.dumps({"reason": "Site fermé"}),
        content_type="application/json",
        **auth,
    )
    assert missing.status_code == 422
    assert "appointment_id" in missing.json()["fields"]
    done = client.post(
        "/api/v1/staff/affected/settle-all",
        json.dumps({"reason": "Site fermé ce jour"}),
        content_type="application/json",
        **auth,
    )
    assert done.status_code == 200
    [moved] = done.json()["moved"]
    assert moved["previous_appointment_id"] == booked.pk
    new = Appointment.objects.get(pk=moved["appointment"]["id"])
    assert new.status == AppointmentStatus.CONFIRMED and new.starts_at != booked.starts_at
    assert client.get("/api/v1/staff/affected", **auth).json() == []
    agent = staff(world.prefecture, "agent")
    _token, agent_raw = accounts.create_api_token(agent, name="tests", prefecture=world.prefecture)
    forbidden = client.get("/api/v1/staff/affected", HTTP_AUTHORIZATION=f"Bearer {agent_raw}")
    assert forbidden.status_code == 403
    assert datetime.date.fromisoformat(row["starts_at"][:10]) == day
