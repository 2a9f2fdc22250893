"""Intake: one service for every channel; one active request per person and procedure."""

import datetime
import types

import pytest
from django.utils import timezone, translation

from guichet.allocation import tasks
from guichet.errors import InvalidInput
from guichet.evidence.audit import APPLICANT, Actor, verify_chain
from guichet.evidence.models import AuditEntry, Proof
from guichet.evidence.services import published_keys
from guichet.evidence.signing import parse_and_verify
from guichet.notifications.models import OutboxMessage
from guichet.waitlist import references
from guichet.waitlist.models import AppointmentRequest, DueReason, RequestStatus
from guichet.waitlist.services import file_request, withdraw_request
from guichet.waitlist.validation import validate_intake
from tests import factories
from tests.waitlist.intake_helpers import catalogue, file, raw_request, renewal_raw, today_in

pytestmark = pytest.mark.django_db


def test_a_request_enters_the_queue_with_its_proof_and_message(world):
    result = file(world, sites=[world.sites[0].pk])
    request = result.request
    assert result.created is True and result.matched_on is None
    assert request.status == RequestStatus.WAITING
    assert references.parse_reference(request.reference) == request.reference
    assert request.reference.startswith("93-")
    assert references.token_matches(result.access_token, request.access_token_hash)
    assert result.access_token not in request.access_token_hash
    assert request.due_date == today_in(world.prefecture) + datetime.timedelta(days=30)
    assert request.due_reason == DueReason.TARGET_WAIT
    assert list(request.sites.all()) == [world.sites[0]]
    assert request.identity_key and request.foreign_number_key == ""
    with translation.override("en"):
        assert "registered" in result.message and request.reference in result.message

    proof = Proof.objects.get(request=request)
    assert proof.event == "received"
    payload = parse_and_verify(proof.token, published_keys()).payload
    assert payload["ref"] == request.reference and payload["due_date"] == request.due_date.isoformat()
    assert AuditEntry.objects.filter(request=request, action="request.received").count() == 1
    assert verify_chain("93") == []
    messages = OutboxMessage.objects.filter(request=request, kind="received")
    assert {message.channel for message in messages} == {"email", "sms"}


@pytest.mark.parametrize(
    ("family", "given_", "birth"),
    [
        ("NGUYEN", "Van An", "1990-05-17"),
        ("nguyen", "van an", "17/05/1990"),
        ("An Van", "Nguyễn", "1990-05-17"),
        ("  Văn-An  ", "NGUYỄN", "1990-05-17"),
        ("An Van Nguyen", "", "1990-05-17"),
    ],
)
def test_the_same_person_written_differently_gets_the_existing_request(world, family, given_, birth):
    first = file(world)
    again = file(world, family_names=family, given_names=given_, birth_date=birth, email="other@example.org")
    assert again.created is False and again.matched_on == "identity"
    assert again.request.pk == first.request.pk and again.access_token is None
    assert first.request.reference in again.message
    assert AppointmentRequest.objects.count() == 1
    assert Proof.objects.count() == 1 and OutboxMessage.objects.filter(kind="received").count() == 2


def test_a_repeated_submission_from_another_channel_is_the_same_request(world):
    first = file(world)
    again = file(world, channel="counter", actor=Actor("staff", "agent"))
    assert not again.created and again.request.pk == first.request.pk


def test_another_procedure_is_another_request(world):
    first = file(world)
    renewal = validate_intake(renewal_raw(world), world.prefecture, channel="web")
    second = file_request(renewal, prefecture=world.prefecture, channel="web", actor=APPLICANT)
    assert second.created and second.request.pk != first.request.pk
    assert AppointmentRequest.objects.count() == 2


def test_another_birth_date_is_another_person(world):
    file(world)
    assert file(world, birth_date="1991-05-17").created


def test_another_prefecture_is_another_queue(world):
    file(world)
    paris = catalogue("75")
    data = validate_intake(raw_request(paris), paris.prefecture, channel="web")
    result = file_request(data, prefecture=paris.prefecture, channel="web", actor=APPLICANT)
    assert result.created and result.request.reference.startswith("75-")


def test_after_withdrawal_a_new_request_is_allowed(world):
    first = file(world)
    withdraw_request(first.request, APPLICANT)
    second = file(world)
    assert second.created and second.request.pk != first.request.pk
    assert AppointmentRequest.objects.filter(status__in=["waiting"]).count() == 1


def test_the_same_foreign_national_number_is_the_same_person(world):
    first = file(world, foreign_national_number="7501234567")
    again = file(world, family_names="Nguyen Van", given_names="Anh", foreign_national_number="75 0123 4567")
    assert not again.created and again.matched_on == "foreign_number"
    assert again.request.pk == first.request.pk
    assert AppointmentRequest.objects.count() == 1


def test_backdated_request_counts_from_its_received_date(world):
    received_at = timezone.now() - datetime.timedelta(days=20)
    result = file(world, received_at=received_at)
    received_on = received_at.astimezone(world.prefecture.tzinfo).date()
    assert result.request.received_at == received_at
    assert result.request.due_date == received_on + datetime.timedelta(days=30)


def test_a_vulnerability_recorded_at_the_counter_shortens_the_wait(world):
    result = file(world, channel="counter", vulnerability_reason="Pregnancy", actor=Actor("staff", "agent"))
    assert result.request.due_reason == DueReason.VULNERABILITY
    assert result.request.due_date == today_in(world.prefecture) + datetime.timedelta(days=15)


def test_renewal_close_to_expiry_is_due_before_the_permit_expires(world):
    data = validate_intake(renewal_raw(world, expires_in_days=40), world.prefecture, channel="web")
    result = file_request(data, prefecture=world.prefecture, channel="web", actor=APPLICANT)
    assert result.request.due_reason == DueReason.PERMIT_EXPIRY
    assert result.request.due_date == today_in(world.prefecture) + datetime.timedelta(days=40 - 15)
    assert result.filing_window.state == "late"


def test_renewal_filed_early_is_accepted_and_told_when_the_window_opens(world):
    data = validate_intake(renewal_raw(world, expires_in_days=200), world.prefecture, channel="web")
    result = file_request(data, prefecture=world.prefecture, channel="web", actor=APPLICANT)
    assert result.created and result.filing_window.state == "early"
    assert result.filing_window.opens_on == today_in(world.prefecture) + datetime.timedelta(days=80)
    payload = parse_and_verify(Proof.objects.get(request=result.request).token, published_keys()).payload
    assert payload["details"]["filing_window"]["state"] == "early"


def test_a_postal_only_request_gets_a_letter(world):
    result = file(world, channel="post", email="", phone="", postal_address="1 rue X\n93000 Bobigny")
    assert result.request.reachable_only_by_post
    assert list(OutboxMessage.objects.filter(request=result.request).values_list("channel", flat=True)) == [
        "letter"
    ]


def test_staff_intake_records_who_typed_it(world, django_user_model):
    agent = django_user_model.objects.create_user("agent", password="x" * 12)
    result = file(world, channel="phone", actor=Actor("staff", "agent", agent.pk))
    data = validate_intake(raw_request(world, birth_date="1980-01-01"), world.prefecture, channel="phone")
    typed = file_request(
        data,
        prefecture=world.prefecture,
        channel="phone",
        actor=Actor("staff", "agent", agent.pk),
        created_by=agent,
    )
    assert result.request.created_by is None and typed.request.created_by == agent
    assert AuditEntry.objects.get(request=typed.request).actor == "staff:agent"


def test_data_of_another_prefecture_is_refused_and_nothing_is_stored(world):
    paris = catalogue("75")
    data = validate_intake(raw_request(paris), paris.prefecture, channel="web")
    with pytest.raises(InvalidInput):
        file_request(data, prefecture=world.prefecture, channel="web", actor=APPLICANT)
    with pytest.raises(InvalidInput):
        file_request(data, prefecture=paris.prefecture, channel="fax", actor=APPLICANT)
    assert AppointmentRequest.objects.count() == 0 and Proof.objects.count() == 0


def test_allocation_is_queued_after_commit(world, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(tasks, "allocate_prefecture", types.SimpleNamespace(enqueue=queued.append))
    with django_capture_on_commit_callbacks(execute=True):
        file(world)
    assert queued == [world.prefecture.pk]
    tasks.coalesce.started(tasks.PENDING_KEY.format(world.prefecture.pk))  # the run starts
    with django_capture_on_commit_callbacks(execute=True):
        file(world)  # a repeat changes nothing, so it queues nothing
    assert queued == [world.prefecture.pk]


def test_a_failing_allocation_queue_does_not_undo_the_intake(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(prefecture_id):
        raise ConnectionError("task queue down")

    monkeypatch.setattr(tasks, "allocate_prefecture", types.SimpleNamespace(enqueue=broken))
    with django_capture_on_commit_callbacks(execute=True):
        result = file(world)
    assert AppointmentRequest.objects.filter(pk=result.request.pk).exists()


def test_a_reference_collision_draws_another(world, monkeypatch):
    taken = file(world).request.reference
    drawn = iter([taken, taken, references.new_reference("93")])
    monkeypatch.setattr(references, "new_reference", lambda department: next(drawn))
    result = file(world, birth_date="1970-01-01")
    assert result.created and result.request.reference != taken


def test_a_second_world_fixture_is_not_needed_for_factories(db):
    # factories.world() (with counters and rules) works with intake too.
    full = factories.world("94")
    data = validate_intake(raw_request(full), full.prefecture, channel="web")
    assert file_request(data, prefecture=full.prefecture, channel="web", actor=APPLICANT).created
