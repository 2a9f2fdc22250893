"""Answering an offer: accept, decline with a reason, ask for another; open mode: pick a slot, confirm."""

import datetime

import pytest
from django.utils import timezone

from guichet.appointments.models import Appointment, Offer, OfferSource, OfferStatus
from guichet.waitlist.models import RequestStatus
from tests.public import scenario as scenarios

pytestmark = pytest.mark.django_db


def test_the_offer_shows_where_when_and_until_when(client, scenario):
    body = client.get(scenario.offered.url(language="en")).content.decode()
    site = scenario.offer.slot.counter.site
    assert site.name in body and site.address in body
    assert "Answer before" in body
    for name in ("offer_accept", "offer_another"):
        assert f'action="{scenario.offered.url(name, "en", offer_id=scenario.offer.pk)}"' in body
    assert scenario.offered.url("offer_decline", "en", offer_id=scenario.offer.pk) in body


def test_accept(client, scenario):
    url = scenario.offered.url("offer_accept", "en", offer_id=scenario.offer.pk)
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response["Location"] == scenario.offered.url("appointment", "en")
    assert scenario.offered.refresh().status == RequestStatus.SCHEDULED
    appointment = Appointment.objects.get(request=scenario.offered.request)
    assert appointment.slot == scenario.offer.slot
    # A second click shows the same appointment, nothing new.
    assert client.post(url)["Location"] == scenario.offered.url("appointment", "en")
    assert Appointment.objects.filter(request=scenario.offered.request).count() == 1


def test_decline_with_a_reason_keeps_the_place(client, scenario):
    due = scenario.offered.request.due_date
    url = scenario.offered.url("offer_decline", "en", offer_id=scenario.offer.pk)
    assert "Why do you decline this slot?" in client.get(url).content.decode()
    response = client.post(url, {"reason": "date", "details": "I work that morning"})
    assert response.status_code == 302
    offer = Offer.objects.get(pk=scenario.offer.pk)
    assert offer.status == OfferStatus.DECLINED
    assert "I work that morning" in offer.decline_reason
    request = scenario.offered.refresh()
    assert request.status == RequestStatus.WAITING and request.due_date == due
    # Answered already: the page goes back to the request.
    assert client.get(url).status_code == 302


def test_decline_refuses_a_reason_too_long(client, scenario):
    url = scenario.offered.url("offer_decline", "en", offer_id=scenario.offer.pk)
    response = client.post(url, {"reason": "other", "details": "x" * 5000})
    assert response.status_code == 200 and 'href="#id_details"' in response.content.decode()
    assert Offer.objects.get(pk=scenario.offer.pk).status == OfferStatus.PENDING


def test_ask_for_another(client, scenario):
    response = client.post(scenario.offered.url("offer_another", "en", offer_id=scenario.offer.pk))
    assert response.status_code == 302
    assert Offer.objects.get(pk=scenario.offer.pk).status == OfferStatus.DECLINED
    assert scenario.offered.refresh().status == RequestStatus.WAITING


def test_someone_elses_offer_is_404(client, scenario):
    other_offer = scenario.appointment.offer
    for name in ("offer_accept", "offer_another"):
        assert client.post(scenario.offered.url(name, "en", offer_id=other_offer.pk)).status_code == 404
    assert client.get(scenario.offered.url("offer_decline", "en", offer_id=other_offer.pk)).status_code == 404


def test_an_expired_offer_cannot_be_accepted(client, scenario):
    Offer.objects.filter(pk=scenario.offer.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=3),
        expires_at=timezone.now() - datetime.timedelta(hours=1),
    )
    response = client.post(scenario.offered.url("offer_accept", "en", offer_id=scenario.offer.pk))
    assert response.status_code == 302 and response["Location"] == scenario.offered.url(language="en")
    page = client.get(response["Location"]).content.decode()
    assert "expired" in page
    assert not Appointment.objects.filter(request=scenario.offered.request).exists()


def test_open_mode_pick_hold_and_confirm(client, scenario):
    choosing = scenario.choosing
    url = choosing.url("open_slots", "en")
    body = client.get(url).content.decode()
    assert 'name="slot"' in body and "10 minutes" in body
    slot_id = int(body.split('name="slot" value="', 1)[1].split('"', 1)[0])
    response = client.post(url, {"slot": slot_id})
    assert response["Location"] == choosing.url(language="en")
    offer = Offer.objects.get(request=choosing.request, status=OfferStatus.PENDING)
    assert offer.source == OfferSource.CHOSEN and offer.slot_id == slot_id
    assert offer.expires_at - offer.created_at == datetime.timedelta(minutes=10)
    page = client.get(choosing.url(language="en")).content.decode()
    assert "Confirm this slot" in page and "data-hold-expires" in page
    client.post(choosing.url("offer_accept", "en", offer_id=offer.pk))
    assert choosing.refresh().status == RequestStatus.SCHEDULED


def test_open_mode_refuses_a_bad_slot(client, scenario):
    url = scenario.choosing.url("open_slots", "en")
    for value in ("", "abc", "999999", str(scenario.offer.slot_id)):
        response = client.post(url, {"slot": value})
        assert response.status_code == 302 and response["Location"] == url
    assert scenario.choosing.refresh().status == RequestStatus.WAITING


def test_open_mode_is_closed_while_someone_waits(client, scenario):
    # Someone has been waiting for a collection slot for more than the choosing window.
    older = scenarios.file(scenario.world, "collection")
    from guichet.waitlist.models import AppointmentRequest

    AppointmentRequest.objects.filter(pk=older.request.pk).update(
        received_at=timezone.now() - datetime.timedelta(hours=1)
    )
    body = client.get(scenario.choosing.url("open_slots", "en")).content.decode()
    assert 'name="slot"' not in body
    assert "in the order of due dates" in body


def test_a_queue_procedure_has_no_slot_picking(client, scenario):
    response = client.get(scenario.waiting.url("open_slots", "en"))
    assert response.status_code == 302
