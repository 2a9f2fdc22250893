"""API v1: accept or decline an offer, cancel an appointment, with the request's access token."""

import datetime

import pytest
from django.utils import timezone

from guichet.appointments.models import Appointment, AppointmentStatus, Offer, OfferStatus
from guichet.capacity.models import Hold
from guichet.waitlist.models import RequestStatus
from tests.appointments import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered(world):
    now = timezone.now()
    day = builders.weekday_after(now.astimezone(world.prefecture.tzinfo).date(), 4)
    c1 = world.counters[0]
    req = builders.request(world, due_in_days=3)
    offer = builders.offer(req, builders.slot(c1, builders.at_local(c1, day, 9)), now=now)
    offer.token = req.token
    return offer


def post(client, url, token=None, body=None):
    headers = {"HTTP_X_ACCESS_TOKEN": token} if token is not None else {}
    return client.post(url, data=body or {}, content_type="application/json", **headers)


def test_accept(client, offered):
    response = post(client, f"/api/v1/offers/{offered.pk}/accept", offered.token)
    assert response.status_code == 200, response.content
    body = response.json()
    appointment = Appointment.objects.get(offer=offered)
    assert body["already_accepted"] is False
    assert body["appointment"]["id"] == appointment.pk
    assert body["appointment"]["reference"] == offered.request.reference
    assert body["appointment"]["status"] == AppointmentStatus.CONFIRMED
    assert body["appointment"]["site"] == "Bobigny"

    again = post(client, f"/api/v1/offers/{offered.pk}/accept", offered.token)
    assert again.status_code == 200
    assert again.json()["already_accepted"] is True and again.json()["appointment"]["id"] == appointment.pk
    assert Appointment.objects.count() == 1


def test_no_token_wrong_token_and_unknown_offer(client, world, offered):
    missing = post(client, f"/api/v1/offers/{offered.pk}/accept")
    assert missing.status_code == 401 and missing.json()["code"] == "unauthorised"
    wrong = post(client, f"/api/v1/offers/{offered.pk}/accept", "not-the-token")
    unknown = post(client, f"/api/v1/offers/{offered.pk + 1000}/accept", offered.token)
    # Same answer: an offer id cannot be probed without its token.
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json() and wrong.json()["code"] == "not_found"
    # Another person's token does not open this offer.
    someone = builders.request(world)
    assert post(client, f"/api/v1/offers/{offered.pk}/accept", someone.token).status_code == 404
    assert not Appointment.objects.exists()
    offered.refresh_from_db()
    assert offered.status == OfferStatus.PENDING


def test_decline_with_a_reason(client, offered):
    due = offered.request.due_date
    response = post(client, f"/api/v1/offers/{offered.pk}/decline", offered.token, {"reason": "on holiday"})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": offered.pk,
        "reference": offered.request.reference,
        "status": OfferStatus.DECLINED,
        "request_status": RequestStatus.WAITING,
    }
    offered.refresh_from_db()
    assert offered.decline_reason == "on holiday" and offered.request.due_date == due
    # Declined: it can no longer be accepted.
    late = post(client, f"/api/v1/offers/{offered.pk}/accept", offered.token)
    assert late.status_code == 409 and late.json()["code"] == "offer_not_pending"


def test_decline_without_a_body(client, offered):
    response = client.generic(
        "POST", f"/api/v1/offers/{offered.pk}/decline", b"", HTTP_X_ACCESS_TOKEN=offered.token
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == OfferStatus.DECLINED


def test_bad_input_is_refused_field_by_field(client, offered):
    too_long = post(client, f"/api/v1/offers/{offered.pk}/decline", offered.token, {"reason": "x" * 10_000})
    assert too_long.status_code == 422 and "reason" in too_long.json()["fields"]
    not_text = post(client, f"/api/v1/offers/{offered.pk}/decline", offered.token, {"reason": ["a"]})
    assert not_text.status_code == 422
    bad_id = post(client, "/api/v1/offers/abc/accept", offered.token)
    assert bad_id.status_code == 422 and bad_id.json()["code"] == "invalid"
    offered.refresh_from_db()
    assert offered.status == OfferStatus.PENDING


def test_an_expired_offer_answers_a_clear_conflict(client, offered):
    Offer.objects.filter(pk=offered.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=3),
        expires_at=timezone.now() - datetime.timedelta(hours=1),
    )
    response = post(client, f"/api/v1/offers/{offered.pk}/accept", offered.token)
    assert response.status_code == 409
    assert response.json()["code"] == "offer_expired" and response.json()["message"]


def test_cancel_an_appointment(client, offered):
    appointment_id = post(client, f"/api/v1/offers/{offered.pk}/accept", offered.token).json()["appointment"][
        "id"
    ]
    url = f"/api/v1/appointments/{appointment_id}/cancel"
    assert post(client, url, "wrong").status_code == 404
    response = post(client, url, offered.token, {"reason": "moved away", "rebook": True})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == AppointmentStatus.CANCELLED
    assert not Hold.objects.exists()
    offered.request.refresh_from_db()
    assert offered.request.status == RequestStatus.WAITING
    # Again: the same answer, nothing more happens.
    assert post(client, url, offered.token).json()["status"] == AppointmentStatus.CANCELLED


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/offers/{offer_id}/accept" in paths
    assert "/api/v1/offers/{offer_id}/decline" in paths
    assert "/api/v1/appointments/{appointment_id}/cancel" in paths
