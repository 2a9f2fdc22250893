"""The appointment: place, map, what to bring, the convocation PDF (with a QR code), cancelling."""

import pytest

from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.catalog.services import current_checklist
from guichet.public.views import appointment as views
from guichet.waitlist.models import RequestStatus
from tests import pdf

pytestmark = pytest.mark.django_db


def test_the_appointment_page(client, scenario):
    scheduled = scenario.scheduled
    procedure = scheduled.request.procedure
    procedure.documents = ["Titre de séjour actuel", "Trois photos d'identité"]
    procedure.save()
    # The person filed under this list (R17)...
    filed_under = current_checklist(procedure)
    scheduled.request.checklist_version = filed_under
    scheduled.request.save(update_fields=["checklist_version"])
    # ...and the prefecture publishes a longer one afterwards: not what this person is asked for.
    procedure.documents = ["Titre de séjour actuel", "Trois photos d'identité", "Justificatif nouveau"]
    procedure.save()
    assert current_checklist(procedure).number == filed_under.number + 1
    site = scenario.appointment.counter.site
    body = client.get(scheduled.url("appointment", "en")).content.decode()
    assert site.name in body and site.address in body and site.timezone in body
    assert "https://www.openstreetmap.org/" in body
    assert "Titre de séjour actuel" in body and "Justificatif nouveau" not in body
    assert f"version {filed_under.number}," in body
    assert scheduled.url("convocation_pdf", "en") in body and scheduled.url("appointment_ics", "en") in body
    assert scheduled.url("appointment_cancel", "en") in body


def test_map_link_uses_coordinates_or_the_address(world):
    site = world.sites[0]
    assert "search?query=" in views.map_url(site)
    site.latitude, site.longitude = 48.9064, 2.4449
    assert "mlat=48.9064" in views.map_url(site) and "#map=17/" in views.map_url(site)


def test_convocation_pdf_with_a_qr_code_to_the_check_page(client, scenario):
    response = client.get(scenario.scheduled.url("convocation_pdf", "ar"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    check = views.verify_url(scenario.appointment)
    assert check.endswith(f"/fr/convocation/{scenario.scheduled.reference}/{scenario.appointment.pk}/")
    # Tagged PDF/UA (guichet/documents.py): the headings and the QR code's text alternative are there.
    assert pdf.info(response.content)["Tagged"] == "yes"
    assert {"H1", "Figure"} <= set(pdf.structure(response.content))
    assert pdf.figures(response.content) and all(figure["alt"] for figure in pdf.figures(response.content))
    # The QR code, read from the printed page as a phone would, opens the check page.
    assert pdf.qr_codes(response.content) == [check]


def test_no_convocation_without_an_appointment(client, scenario):
    response = client.get(scenario.waiting.url("convocation_pdf", "en"))
    assert response.status_code == 302
    assert client.get(scenario.waiting.url("appointment", "en")).status_code == 302


def test_cancel_and_go_back_in_the_queue(client, scenario):
    scheduled = scenario.scheduled
    due = scheduled.request.due_date
    url = scheduled.url("appointment_cancel", "en")
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and 'href="#id_rebook_0"' in response.content.decode()
    assert Appointment.objects.get(pk=scenario.appointment.pk).status == AppointmentStatus.CONFIRMED
    response = client.post(url, {"rebook": "1", "reason": "I am ill"})
    assert response.status_code == 302
    appointment = Appointment.objects.get(pk=scenario.appointment.pk)
    assert appointment.status == AppointmentStatus.CANCELLED and appointment.cancel_reason == "I am ill"
    request = scheduled.refresh()
    assert request.status == RequestStatus.WAITING and request.due_date == due
    # The page of a cancelled appointment says so and offers nothing to download.
    body = client.get(scheduled.url("appointment", "en")).content.decode()
    assert "no longer valid" in body and scheduled.url("convocation_pdf", "en") not in body


def test_cancel_and_withdraw(client, scenario):
    client.post(scenario.scheduled.url("appointment_cancel", "en"), {"rebook": "0"})
    assert scenario.scheduled.refresh().status == RequestStatus.WITHDRAWN
