"""Decisions on a registered file; granted → "card ready" and a collection request in the queue."""

import pytest

from guichet.errors import Conflict, InvalidInput
from guichet.evidence import signing
from guichet.evidence.models import Proof
from guichet.evidence.services import published_keys
from guichet.notifications.models import OutboxMessage
from guichet.reception import decisions, outcomes, services
from guichet.reception.models import Decision
from guichet.waitlist.models import RequestStatus
from tests.reception.conftest import AGENT, book

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(world, day):
    appointment = book(world, day)
    services.check_in(appointment, AGENT, now=appointment.starts_at)
    outcomes.register_file(appointment, AGENT, now=appointment.starts_at)
    return appointment.request


def test_granted_notifies_and_files_the_collection_request(world, registered):
    decision = decisions.record_decision(registered, "granted", AGENT)
    collection = decision.collection_request
    assert collection.procedure == world.procedures["collection"]
    assert collection.status == RequestStatus.WAITING
    assert (collection.family_names, collection.birth_date) == (
        registered.family_names,
        registered.birth_date,
    )
    assert OutboxMessage.objects.filter(request=registered, kind="card_ready").exists()
    proof = Proof.objects.get(request=registered, event="decision")
    details = signing.parse_and_verify(proof.token, published_keys()).payload["details"]
    assert details == {"outcome": "granted", "collection_reference": collection.reference}
    with pytest.raises(Conflict) as error:
        decisions.record_decision(registered, "refused", AGENT, note="too late")
    assert error.value.code == "already_decided"


def test_refusal_and_more_information_need_a_note(registered):
    with pytest.raises(InvalidInput):
        decisions.record_decision(registered, "refused", AGENT)
    with pytest.raises(InvalidInput):
        decisions.record_decision(registered, "maybe", AGENT, note="x")
    decisions.record_decision(registered, "more_information", AGENT, note="Send a proof of income")
    decisions.record_decision(registered, "more_information", AGENT, note="And a payslip")
    decisions.record_decision(registered, "refused", AGENT, note="Conditions not met")
    assert list(Decision.objects.filter(request=registered).values_list("outcome", flat=True)) == [
        "more_information",
        "more_information",
        "refused",
    ]
    assert OutboxMessage.objects.filter(request=registered, kind="decision").count() == 3


def test_no_decision_before_a_complete_file(world, day):
    appointment = book(world, day)
    with pytest.raises(Conflict) as error:
        decisions.record_decision(appointment.request, "granted", AGENT)
    assert error.value.code == "file_not_complete"
