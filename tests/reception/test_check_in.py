"""Check-in at reception: by the convocation's QR code, by reference, by name and birth date; refusals."""

import datetime

import pytest
from django.conf import settings

from guichet.appointments.models import AppointmentStatus
from guichet.appointments.services import cancel_appointment
from guichet.errors import Conflict, InvalidInput, NotFound
from guichet.evidence import signing
from guichet.evidence.models import AuditEntry, Proof
from guichet.evidence.services import published_keys
from guichet.notifications.links import convocation_verify_url
from guichet.reception import services
from guichet.reception.models import Visit
from guichet.waitlist.models import RequestStatus
from guichet.waitlist.references import new_reference
from tests import factories
from tests.reception.conftest import AGENT, book

pytestmark = pytest.mark.django_db


def _with_reference(appointment, department="93"):
    reference = new_reference(department)
    appointment.request.reference = reference
    appointment.request.save(update_fields=["reference"])
    return reference


def test_the_convocations_qr_code_finds_the_appointment(world, booked):
    _with_reference(booked)
    site = booked.counter.site
    scanned = convocation_verify_url(booked)
    assert scanned.startswith(settings.SITE_URL + "/fr/convocation/")
    found = services.find_by_scan(site, scanned, now=booked.starts_at)
    assert found == booked
    # Typed by hand, in lower case, without hyphens: the same appointment.
    typed = booked.request.reference.replace("-", "").lower()
    assert services.find_by_scan(site, f"  {typed} ", now=booked.starts_at) == booked


@pytest.mark.parametrize(
    ("scanned", "code"),
    [
        ("https://prefecture-rdv.example.com/fr/convocation/{ref}/", "scan_foreign"),
        ("{site}/fr/proofs/12/", "scan_not_convocation"),
        ("", "scan_empty"),
        ("93-AAAA-AAAA", "scan_bad_reference"),
        ("x" * 600, "scan_unreadable"),
    ],
)
def test_forged_or_unreadable_codes_are_refused(world, booked, scanned, code):
    reference = _with_reference(booked)
    text = scanned.format(ref=reference, site=settings.SITE_URL)
    with pytest.raises(InvalidInput) as error:
        services.find_by_scan(booked.counter.site, text, now=booked.starts_at)
    assert error.value.code == code
    assert "scan" in error.value.fields


def test_a_valid_reference_nobody_has_is_refused(world, booked):
    with pytest.raises(NotFound) as error:
        services.find_by_scan(booked.counter.site, new_reference("93"), now=booked.starts_at)
    assert error.value.code == "unknown_reference"


def test_another_prefectures_convocation_is_refused(world, booked, day):
    other = factories.world("75")
    theirs = book(other, day)
    _with_reference(theirs, "75")
    with pytest.raises(Conflict) as error:
        services.find_by_scan(booked.counter.site, convocation_verify_url(theirs), now=theirs.starts_at)
    assert error.value.code == "other_prefecture" and "75" in error.value.message


def test_cancelled_other_day_and_other_site_are_said(world, booked, day):
    _with_reference(booked)
    site = booked.counter.site
    with pytest.raises(Conflict) as error:
        services.find_by_scan(
            site, booked.request.reference, now=booked.starts_at - datetime.timedelta(days=1)
        )
    assert error.value.code == "appointment_not_today"
    with pytest.raises(Conflict) as error:
        services.find_by_scan(world.sites[1], booked.request.reference, now=booked.starts_at)
    assert error.value.code == "other_site" and site.name in error.value.message
    cancel_appointment(booked, AGENT, by="prefecture", reason="counter closed")
    with pytest.raises(Conflict) as error:
        services.find_by_scan(site, booked.request.reference, now=booked.starts_at)
    assert error.value.code == "appointment_cancelled"
    with pytest.raises(Conflict) as error:
        services.check_in(booked, AGENT, now=booked.starts_at)
    assert error.value.code == "appointment_cancelled"
    assert not Visit.objects.exists()


def test_find_by_name_and_birth_date(world, booked, day):
    other = book(world, day, hour=10)
    site = booked.counter.site
    request = booked.request
    found = services.find_by_identity(
        site,
        f"{request.given_names.lower()} {request.family_names}",
        request.birth_date,
        now=booked.starts_at,
    )
    assert found == [booked]
    assert other not in found
    assert services.find_by_identity(site, "Nobody", request.birth_date, now=booked.starts_at) == []
    with pytest.raises(InvalidInput):
        services.find_by_identity(site, "", None, now=booked.starts_at)


def test_check_in_gives_a_ticket_and_a_signed_proof(world, booked, day):
    second = book(world, day, hour=9, minute=30)
    arrived = booked.starts_at - datetime.timedelta(minutes=20)
    visit = services.check_in(booked, AGENT, now=arrived)
    assert (visit.ticket, visit.ticket_label, visit.day) == (1, "001", day)
    assert services.check_in(second, AGENT, now=arrived).ticket == 2
    booked.refresh_from_db()
    assert booked.status == AppointmentStatus.CHECKED_IN
    proof = Proof.objects.get(request=booked.request, event="checked_in")
    payload = signing.parse_and_verify(proof.token, published_keys()).payload
    assert payload["details"]["ticket"] == "001" and payload["details"]["identity_checked"] is True


def test_a_second_check_in_says_the_ticket_given(world, booked):
    arrived = booked.starts_at - datetime.timedelta(minutes=5)
    visit = services.check_in(booked, AGENT, now=arrived)
    with pytest.raises(services.AlreadyCheckedIn) as error:
        services.check_in(booked, AGENT, now=arrived + datetime.timedelta(minutes=1))
    assert error.value.visit == visit and "001" in error.value.message
    assert Visit.objects.count() == 1
    assert Proof.objects.filter(request=booked.request, event="checked_in").count() == 1


def test_late_arrival_limit_is_a_setting(world, booked, settings):
    settings.LATE_ARRIVAL_MINUTES = 10
    with pytest.raises(Conflict) as error:
        services.check_in(booked, AGENT, now=booked.starts_at + datetime.timedelta(minutes=11))
    assert error.value.code == "too_late" and "10 minutes" in error.value.message
    assert services.check_in(booked, AGENT, now=booked.starts_at + datetime.timedelta(minutes=10))


def test_identity_does_not_match(world, booked):
    with pytest.raises(InvalidInput):
        services.refuse_identity(booked, AGENT, reason=" ", now=booked.starts_at)
    services.refuse_identity(booked, AGENT, reason="The passport shows another name", now=booked.starts_at)
    booked.refresh_from_db()
    booked.request.refresh_from_db()
    assert booked.status == AppointmentStatus.REFUSED
    assert booked.request.status == RequestStatus.PAUSED
    proof = Proof.objects.get(request=booked.request, event="refused_at_counter")
    payload = signing.parse_and_verify(proof.token, published_keys()).payload
    assert payload["details"]["reason"] == "The passport shows another name"
    entry = AuditEntry.objects.get(request=booked.request, action="request.refused_at_counter")
    assert entry.data["identity_mismatch"] is True
    with pytest.raises(Conflict):
        services.check_in(booked, AGENT, now=booked.starts_at)


def test_todays_list(world, booked, day, settings):
    settings.LATE_ARRIVAL_MINUTES = 15
    later = book(world, day, hour=11)
    elsewhere = book(world, day, hour=9, counter=2)
    services.check_in(booked, AGENT, now=booked.starts_at)
    rows = services.todays_appointments(
        booked.counter.site, now=later.starts_at + datetime.timedelta(minutes=16)
    )
    assert [row.appointment for row in rows] == [booked, later]
    assert rows[0].visit is not None and not rows[0].late
    assert rows[1].visit is None and rows[1].late
    assert elsewhere not in [row.appointment for row in rows]
