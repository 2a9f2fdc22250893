"""The late-renewal attestation: a renewal filed before the permit's expiry and still without an appointment
on the expiry date gets, once, a signed attestation that it was made before expiry (where enabled)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from guichet.evidence import audit, services
from guichet.evidence.models import Proof
from guichet.waitlist.models import RequestStatus

from .helpers import free_slot, give_appointment, make_request

PARIS = datetime.timezone(datetime.timedelta(hours=1))
RECEIVED = datetime.datetime(2026, 1, 10, 10, 0, tzinfo=datetime.UTC)
EXPIRY = datetime.date(2026, 2, 20)


@pytest.fixture
def enabled(world):
    world.prefecture.late_renewal_attestation = True
    world.prefecture.save()
    return world


def renewal(world, **extra):
    extra.setdefault("received_at", RECEIVED)
    extra.setdefault("permit_expires_on", EXPIRY)
    return make_request(world, procedure="renewal", **extra)[0]


def at_local(day: datetime.date, hour: int) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), PARIS)


def attestations(request) -> list[Proof]:
    return list(Proof.objects.filter(request=request, event="late_renewal"))


def test_issued_on_the_expiry_date_once(enabled):
    request = renewal(enabled)
    assert services.issue_late_renewal_attestations(at_local(EXPIRY - datetime.timedelta(days=1), 23)) == 0
    assert services.issue_late_renewal_attestations(at_local(EXPIRY, 0) + datetime.timedelta(minutes=5)) == 1
    assert services.issue_late_renewal_attestations(at_local(EXPIRY, 12)) == 0
    assert services.issue_late_renewal_attestations(at_local(EXPIRY + datetime.timedelta(days=3), 12)) == 0
    (proof,) = attestations(request)
    payload = services.verify_token(proof.token).payload
    assert payload["event"] == "late_renewal"
    assert payload["details"] == {"permit_expires_on": "2026-02-20", "received_on": "2026-01-10"}
    assert payload["received_at"] == "2026-01-10T10:00:00Z"
    assert payload["name"]["family"] == request.family_names
    assert audit.verify_chain("93") == []


def test_a_missed_day_is_caught_up(enabled):
    request = renewal(enabled)
    assert services.issue_late_renewal_attestations(at_local(EXPIRY + datetime.timedelta(days=4), 9)) == 1
    assert len(attestations(request)) == 1


def test_not_where_the_prefecture_has_not_enabled_it(world):
    request = renewal(world)
    assert services.issue_late_renewal_attestations(at_local(EXPIRY, 12)) == 0
    assert attestations(request) == []


def test_not_for_a_request_made_on_or_after_expiry(enabled):
    late = renewal(enabled, received_at=at_local(EXPIRY, 9))
    assert services.issue_late_renewal_attestations(at_local(EXPIRY + datetime.timedelta(days=1), 9)) == 0
    assert attestations(late) == []


def test_not_with_an_appointment_nor_for_other_procedures_or_statuses(enabled):
    booked = renewal(enabled, family_names="Booked")
    give_appointment(booked, free_slot(enabled, timezone.now() + datetime.timedelta(days=2)))
    withdrawn = renewal(enabled, family_names="Withdrawn", status=RequestStatus.WITHDRAWN)
    first_permit = make_request(
        enabled, received_at=RECEIVED, permit_expires_on=EXPIRY, family_names="First"
    )[0]
    paused = renewal(enabled, family_names="Paused", status=RequestStatus.PAUSED)
    assert services.issue_late_renewal_attestations(at_local(EXPIRY, 12)) == 1
    assert [attestations(r) != [] for r in (booked, withdrawn, first_permit, paused)] == [
        False,
        False,
        False,
        True,
    ]


def test_shown_and_downloadable_like_other_proofs(enabled, client):
    request, token = make_request(
        enabled, procedure="renewal", received_at=RECEIVED, permit_expires_on=EXPIRY
    )
    services.issue_late_renewal_attestations(at_local(EXPIRY, 12))
    history = client.get(f"/en/requests/{request.reference}/proofs/", {"token": token}).content.decode()
    assert "Request made before the permit expired" in history
    (proof,) = attestations(request)
    page = client.get(f"/en/proofs/{proof.pk}/", {"token": token}).content.decode()
    assert "before the current permit expired" in page
    assert client.get(f"/en/proofs/{proof.pk}.pdf", {"token": token}).status_code == 200


def test_command(enabled):
    renewal(
        enabled,
        received_at=timezone.now() - datetime.timedelta(days=60),
        permit_expires_on=timezone.now().date(),
    )
    out = io.StringIO()
    call_command("issue_late_renewal_attestations", stdout=out)
    assert "1 late-renewal attestation(s) issued" in out.getvalue()
