"""Withdraw, close, reactivate, contact, vulnerability, due-date recomputation: each proven and audited."""

import datetime

import pytest

from guichet.errors import Conflict, InvalidInput
from guichet.evidence.audit import APPLICANT, Actor, verify_chain
from guichet.evidence.models import AuditEntry, CourtOrder, Proof
from guichet.waitlist import services as waitlist_services
from guichet.waitlist.models import AppointmentRequest, DueReason, RequestStatus
from guichet.waitlist.services import (
    close_request,
    reactivate_request,
    recompute_due_date,
    set_vulnerability,
    update_contact,
    withdraw_request,
)
from tests.waitlist.intake_helpers import file, today_in

pytestmark = pytest.mark.django_db

AGENT = Actor("staff", "agent", None)


@pytest.fixture
def releases(monkeypatch):
    """Stands in for guichet.appointments.services.release_for_request and records its calls."""
    calls = []

    def release_for_request(request, actor, reason):
        calls.append((request.pk, request.status, actor, reason))

    monkeypatch.setattr(waitlist_services, "release_for_request", release_for_request)
    return calls


def events(request):
    return list(Proof.objects.filter(request=request).order_by("id").values_list("event", flat=True))


def test_withdrawal_releases_and_proves(world, releases):
    request = file(world).request
    returned = withdraw_request(request, APPLICANT, reason="Moved to Lyon")
    assert request.status == returned.status == RequestStatus.WITHDRAWN
    assert request.closing_reason == "Moved to Lyon"
    assert releases == [(request.pk, RequestStatus.WAITING, APPLICANT, "Moved to Lyon")]
    assert events(request) == ["received", "withdrawn"]
    assert verify_chain("93") == []


def test_withdrawing_twice_is_refused_without_change(world, releases):
    request = file(world).request
    withdraw_request(request, APPLICANT)
    with pytest.raises(Conflict) as caught:
        withdraw_request(request, APPLICANT)
    assert caught.value.code == "not_active"
    assert events(request) == ["received", "withdrawn"] and len(releases) == 1


def test_withdrawal_reason_is_checked(world):
    request = file(world).request
    with pytest.raises(InvalidInput):
        withdraw_request(request, APPLICANT, reason="x" * 10_000)
    request.refresh_from_db()
    assert request.status == RequestStatus.WAITING


def test_closing_needs_a_reason(world, releases):
    request = file(world).request
    for reason in ("", "   ", None):
        with pytest.raises(InvalidInput) as caught:
            close_request(request, AGENT, reason)
        assert "reason" in caught.value.fields
    request.refresh_from_db()
    assert request.status == RequestStatus.WAITING and releases == []
    close_request(request, AGENT, "Permit already issued by another prefecture")
    assert request.status == RequestStatus.CLOSED
    assert request.closing_reason == "Permit already issued by another prefecture"
    assert events(request) == ["received", "closed"] and len(releases) == 1
    assert AuditEntry.objects.filter(request=request, action="request.closed", actor="staff:agent").exists()


def test_reactivation_keeps_the_due_date_and_resets_lapses(world):
    request = file(world).request
    due = request.due_date
    AppointmentRequest.objects.filter(pk=request.pk).update(status=RequestStatus.PAUSED, consecutive_lapses=2)
    reactivate_request(request, APPLICANT)
    assert request.status == RequestStatus.WAITING and request.consecutive_lapses == 0
    assert request.due_date == due
    assert events(request) == ["received", "reactivated"]
    with pytest.raises(Conflict) as caught:
        reactivate_request(request, APPLICANT)
    assert caught.value.code == "not_paused"


def test_contact_change_is_validated_like_intake(world):
    request = file(world).request
    with pytest.raises(InvalidInput) as caught:
        update_contact(request, phone="123", actor=APPLICANT)
    assert "phone" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        update_contact(request, email="", phone="", postal_address="", actor=APPLICANT)
    assert "contact" in caught.value.fields
    request.refresh_from_db()
    assert request.phone == "+33612345678" and events(request) == ["received"]

    update_contact(request, email="new@example.org", phone="07 81 23 45 67", language="ar", actor=APPLICANT)
    assert (request.email, request.phone, request.language) == ("new@example.org", "+33781234567", "ar")
    assert events(request) == ["received", "details_changed"]
    update_contact(request, email="new@example.org", actor=APPLICANT)  # nothing changed, nothing proven
    assert events(request) == ["received", "details_changed"]


def test_contact_of_a_closed_request_cannot_change(world):
    request = file(world).request
    withdraw_request(request, APPLICANT)
    with pytest.raises(Conflict):
        update_contact(request, email="new@example.org", actor=APPLICANT)


def test_vulnerability_shortens_the_due_date_and_is_audited(world):
    request = file(world).request
    today = today_in(world.prefecture)
    set_vulnerability(request, "Serious illness", AGENT)
    assert request.vulnerability_reason == "Serious illness"
    assert (request.due_date, request.due_reason) == (
        today + datetime.timedelta(days=15),
        DueReason.VULNERABILITY,
    )
    assert events(request) == ["received", "due_date_changed"]
    entry = AuditEntry.objects.get(request=request, action="request.due_date_changed")
    assert entry.data["vulnerability"] is True and "Serious illness" not in str(entry.data)

    set_vulnerability(request, None, AGENT)
    assert request.vulnerability_reason == ""
    assert (request.due_date, request.due_reason) == (
        today + datetime.timedelta(days=30),
        DueReason.TARGET_WAIT,
    )
    assert verify_chain("93") == []


def test_vulnerability_that_does_not_move_the_date_is_still_audited(world):
    request = file(world).request
    CourtOrder.objects.create(
        request=request,
        tribunal="TA Montreuil",
        case_number="2501234",
        ordered_on=today_in(world.prefecture),
        notified_on=today_in(world.prefecture),
        appointment_by=today_in(world.prefecture) + datetime.timedelta(days=3),
        recorded_by="manager",
    )
    assert recompute_due_date(request, AGENT, note="Order of the TA Montreuil") is True
    assert request.due_reason == DueReason.COURT_ORDER
    assert request.due_date == today_in(world.prefecture) + datetime.timedelta(days=3)
    set_vulnerability(request, "Pregnancy", AGENT)
    assert request.due_reason == DueReason.COURT_ORDER
    assert AuditEntry.objects.filter(request=request, action="request.vulnerability_changed").count() == 1
    assert events(request) == ["received", "due_date_changed"]


def test_recomputing_without_change_writes_nothing(world):
    request = file(world).request
    assert recompute_due_date(request, AGENT) is False
    assert events(request) == ["received"]


def test_vulnerability_on_a_withdrawn_request_is_refused(world):
    request = file(world).request
    withdraw_request(request, APPLICANT)
    with pytest.raises(Conflict):
        set_vulnerability(request, "Pregnancy", AGENT)


def test_withdrawal_releases_a_pending_offer_through_the_appointments_service(world):
    """With the real guichet.appointments.services: the offer is withdrawn and the slot freed."""
    from django.utils import timezone

    from guichet.appointments.models import Offer, OfferStatus
    from guichet.capacity.models import Hold, Slot
    from tests import factories

    request = file(world).request
    counter = factories.counter(world.sites[0])
    start = timezone.now() + datetime.timedelta(days=4)
    slot = Slot.objects.create(
        counter=counter, starts_at=start, ends_at=start + datetime.timedelta(minutes=20)
    )
    now = timezone.now()
    offer = Offer.objects.create(
        request=request, slot=slot, created_at=now, expires_at=now + datetime.timedelta(days=2)
    )
    Hold.objects.create(slot=slot, request=request, kind=Hold.Kind.OFFER)
    AppointmentRequest.objects.filter(pk=request.pk).update(status=RequestStatus.OFFERED)

    withdraw_request(request, APPLICANT, reason="Found another solution")
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert not Hold.objects.filter(slot=slot).exists()
    assert request.status == RequestStatus.WITHDRAWN
    assert events(request) == ["received", "offer_withdrawn", "withdrawn"]
    assert verify_chain("93") == []
