"""“Is this convocation genuine?”: by its QR code, or reference and birth date; non-sensitive facts only."""

import re

import pytest

from guichet.appointments.models import Appointment, AppointmentStatus
from tests.public import scenario as scenarios

pytestmark = pytest.mark.django_db


def test_the_qr_address_says_the_appointment_is_valid(client, scenario):
    request = scenario.scheduled.request
    response = client.get(f"/en/convocation/{request.reference}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "This appointment exists and is valid" in body
    assert scenario.appointment.counter.site.name in body
    # Only what the paper says, and not the full identity: initials, no birth date, no contact.
    assert request.family_names not in body and request.given_names not in body
    assert request.email not in body
    assert request.birth_date.isoformat() not in body and "04/05/1990" not in body
    initials = re.search(r"Initials of the person</dt><dd[^>]*>([^<]+)<", body).group(1)
    assert initials == f"{request.family_names[0]}. {request.given_names[0]}."


def test_a_cancelled_appointment_is_said_so(client, scenario):
    Appointment.objects.filter(pk=scenario.appointment.pk).update(status=AppointmentStatus.CANCELLED)
    body = client.get(f"/en/convocation/{scenario.scheduled.reference}/").content.decode()
    assert "This appointment was cancelled" in body


def test_a_request_without_appointment_has_no_genuine_convocation(client, scenario):
    body = client.get(f"/en/convocation/{scenario.waiting.reference}/").content.decode()
    assert "There is no appointment for this reference" in body


def test_an_unknown_reference(client, world):
    response = client.get("/en/convocation/93-AAAA-AAAA/")
    assert response.status_code == 404
    assert "Unknown reference" in response.content.decode()


def test_check_by_reference_and_birth_date(client, scenario):
    url = "/en/convocation/"
    assert client.get(url).status_code == 200
    ok = client.post(url, {"reference": scenario.scheduled.reference, "birth_date": scenarios.BIRTH_DATE})
    assert "This appointment exists and is valid" in ok.content.decode()
    wrong = client.post(url, {"reference": scenario.scheduled.reference, "birth_date": "1970-01-01"})
    body = wrong.content.decode()
    assert "This appointment exists" not in body and "data-error-summary" in body
