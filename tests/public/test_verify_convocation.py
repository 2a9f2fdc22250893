"""“Is this convocation genuine?”: by its QR code, or reference and birth date; non-sensitive facts only."""

import re

import pytest

from guichet.appointments.models import Appointment, AppointmentStatus
from guichet.appointments.services import move_appointment
from guichet.evidence.audit import Actor
from tests.public import scenario as scenarios

pytestmark = pytest.mark.django_db
STAFF = Actor("staff", "agent", None)


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


def moved(scenario):
    """The scenario's appointment moved by staff to the next free slot: (old, new)."""
    old = scenario.appointment
    new = move_appointment(
        old, scenarios.free_slot(scenario.world, "renewal"), STAFF, reason="Fermeture du site"
    )
    old.refresh_from_db()
    return old, new


def test_the_convocation_of_a_moved_appointment_says_it_was_replaced_and_shows_the_newer_one(
    client, scenario
):
    old, new = moved(scenario)
    reference = scenario.scheduled.reference
    response = client.get(f"/en/convocation/{reference}/{old.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "This convocation was replaced" in body and "This appointment exists and is valid" not in body
    assert "A newer convocation exists, for the date and place below." in body
    tz = new.counter.site.tzinfo
    assert new.starts_at.astimezone(tz).strftime("%H:%M") in body
    assert str(new.starts_at.astimezone(tz).year) in body
    newer = client.get(f"/en/convocation/{reference}/{new.pk}/").content.decode()
    assert "This appointment exists and is valid" in newer and "replaces an earlier one" in newer
    # A QR code printed before convocations named their appointment: the latest one is shown, and said moved.
    plain = client.get(f"/en/convocation/{reference}/").content.decode()
    assert "This appointment exists and is valid" in plain and "replaces an earlier one" in plain


def test_the_replaced_convocation_is_said_so_in_arabic(client, scenario):
    old, _new = moved(scenario)
    body = client.get(f"/ar/convocation/{scenario.scheduled.reference}/{old.pk}/").content.decode()
    assert 'lang="ar"' in body and "This convocation was replaced" not in body
    assert 'id="result-title"' in body


def test_an_appointment_number_of_another_request_shows_this_requests_own(client, scenario):
    other = scenarios.schedule(scenarios.file(scenario.world), scenarios.free_slot(scenario.world))
    body = client.get(f"/en/convocation/{scenario.scheduled.reference}/{other.pk}/").content.decode()
    assert "This appointment exists and is valid" in body
    assert (
        f"{scenario.appointment.starts_at.astimezone(scenario.appointment.counter.site.tzinfo):%H:%M}" in body
    )
