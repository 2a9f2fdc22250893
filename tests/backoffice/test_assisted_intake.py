"""Registering a request for someone at the counter, on the phone or by post: channel, time, audit."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from guichet.errors import Forbidden, InvalidInput
from guichet.evidence.models import AuditEntry, Proof
from guichet.waitlist.models import AppointmentRequest, Channel
from guichet.waitlist.validation import validate_intake
from tests.backoffice.helpers import intake_raw, staff, verified_login
from tests.factories import world as make_world

pytestmark = pytest.mark.django_db


def post_intake(client, world, channel, received_at="", reason="", **raw):
    data = {
        f"meta-{k}": v
        for k, v in {"channel": channel, "received_at": received_at, "backdate_reason": reason}.items()
    }
    data.update(intake_raw(world, **raw))
    return client.post(
        reverse("backoffice:intake", args=[world.prefecture.code]) + f"?channel={channel}", data
    )


def local_input(moment: datetime.datetime, world) -> str:
    return timezone.localtime(moment, world.prefecture.tzinfo).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("channel", [Channel.COUNTER, Channel.PHONE, Channel.POST])
def test_each_channel_is_recorded_with_who_registered_it(client, world, channel):
    agent = staff(world.prefecture, username=f"agent-{channel}")
    verified_login(client, agent)
    response = post_intake(client, world, channel, family=f"Nguyen{channel}")
    assert response.status_code == 302, response.content.decode()[:2000]
    request = AppointmentRequest.objects.get(family_names=f"Nguyen{channel}")
    assert response["Location"] == reverse("backoffice:request", args=[request.reference])
    assert request.channel == channel
    assert request.created_by == agent
    entries = AuditEntry.objects.filter(request=request)
    received = entries.get(action="request.received")
    assert received.actor == f"staff:{agent.username}"
    assisted = entries.get(action="request.assisted_intake")
    assert assisted.data["channel"] == channel and assisted.data["backdated_seconds"] < 60
    assert Proof.objects.filter(request=request, event="received").exists()


def test_a_letter_received_days_ago_is_dated_then_and_the_delay_audited(client, world):
    agent = staff(world.prefecture)
    verified_login(client, agent)
    received = timezone.now() - datetime.timedelta(days=12)
    response = post_intake(
        client, world, Channel.POST, local_input(received, world), "letter opened late", family="Diallo"
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    request = AppointmentRequest.objects.get(family_names="Diallo")
    assert abs((request.received_at - received).total_seconds()) < 60
    # The due date counts from the day of the contact, not the day it was typed in.
    local_day = timezone.localtime(request.received_at, world.prefecture.tzinfo).date()
    assert request.due_date == local_day + datetime.timedelta(days=world.procedures["first"].target_wait_days)
    audit = AuditEntry.objects.get(request=request, action="request.assisted_intake")
    assert audit.data["backdated_seconds"] >= 12 * 86400 - 120
    assert audit.data["backdate_reason"] == "letter opened late"
    assert audit.actor == f"staff:{agent.username}"


def test_backdating_beyond_thirty_days_is_refused_and_nothing_is_stored(client, world):
    verified_login(client, staff(world.prefecture))
    too_old = timezone.now() - datetime.timedelta(days=31)
    response = post_intake(
        client, world, Channel.POST, local_input(too_old, world), "old letter", family="Kone"
    )
    assert response.status_code == 200
    assert "30 days" in response.content.decode()
    assert not AppointmentRequest.objects.filter(family_names="Kone").exists()


def test_thirty_days_back_is_still_accepted(client, world):
    verified_login(client, staff(world.prefecture))
    edge = timezone.now() - datetime.timedelta(days=29, hours=23)
    response = post_intake(client, world, Channel.POST, local_input(edge, world), "letter", family="Traore")
    assert response.status_code == 302


def test_a_future_contact_time_is_refused(client, world):
    verified_login(client, staff(world.prefecture))
    future = timezone.now() + datetime.timedelta(days=1)
    response = post_intake(client, world, Channel.PHONE, local_input(future, world), family="Sow")
    assert response.status_code == 200 and "future" in response.content.decode()
    assert not AppointmentRequest.objects.filter(family_names="Sow").exists()


def test_backdating_needs_a_reason(client, world):
    verified_login(client, staff(world.prefecture))
    earlier = timezone.now() - datetime.timedelta(days=2)
    response = post_intake(client, world, Channel.COUNTER, local_input(earlier, world), "", family="Ba")
    assert response.status_code == 200 and "Say why" in response.content.decode()
    assert not AppointmentRequest.objects.filter(family_names="Ba").exists()


def test_the_web_channel_cannot_be_chosen_by_staff(client, world):
    verified_login(client, staff(world.prefecture))
    response = post_intake(client, world, Channel.WEB, family="Web")
    assert response.status_code == 200
    assert not AppointmentRequest.objects.filter(family_names="Web").exists()


def test_invalid_intake_shows_precise_messages(client, world):
    verified_login(client, staff(world.prefecture))
    response = post_intake(client, world, Channel.COUNTER, family="", birth="31/02/1990")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Please correct the following" in html
    assert AppointmentRequest.objects.count() == 0


def test_a_repeated_registration_returns_the_existing_request(client, world):
    verified_login(client, staff(world.prefecture))
    post_intake(client, world, Channel.COUNTER, family="Martin")
    response = post_intake(client, world, Channel.PHONE, family="MARTIN")
    assert response.status_code == 302
    assert AppointmentRequest.objects.filter(family_names__iexact="martin").count() == 1


def test_the_service_refuses_another_prefecture_and_bad_dates(world):
    from guichet.backoffice.services import register_for_person

    other = make_world("75")
    outsider = staff(other.prefecture)
    data = validate_intake(intake_raw(world), world.prefecture, channel=Channel.COUNTER)
    with pytest.raises(Forbidden):
        register_for_person(world.prefecture, data, channel=Channel.COUNTER, user=outsider)
    agent = staff(world.prefecture)
    with pytest.raises(InvalidInput) as error:
        register_for_person(
            world.prefecture,
            data,
            channel=Channel.POST,
            user=agent,
            received_at=timezone.now() - datetime.timedelta(days=45),
            backdate_reason="x" * 10,
        )
    assert "received_at" in error.value.fields
    assert AppointmentRequest.objects.count() == 0
