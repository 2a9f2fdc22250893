"""Every channel, one queue: the same situation filed through the web, the counter, the phone, the post and a
partner organisation gets the same due date and the same place in the queue."""

import datetime

import pytest
from django.utils import timezone

from guichet.backoffice import services as backoffice
from guichet.evidence.audit import APPLICANT
from guichet.partners import services as partners
from guichet.waitlist import services as waitlist
from guichet.waitlist.models import Channel
from guichet.waitlist.position import exact_queue_position
from guichet.waitlist.validation import validate_intake
from tests.backoffice.helpers import file, intake_raw, partner, staff

pytestmark = pytest.mark.django_db


def test_every_channel_gives_the_same_due_date_and_place(world):
    agent = staff(world.prefecture)
    organisation, member = partner(world.prefecture)
    received = timezone.now().replace(microsecond=0) - datetime.timedelta(days=2)
    # Others in the same queue, one received just before and one just after, with the same rule.
    renewal = world.procedures["renewal"].code
    expiry = (timezone.localdate() + datetime.timedelta(days=50)).isoformat()
    before = file(
        world,
        family="Avant",
        procedure=renewal,
        permit_expires_on=expiry,
        received_at=received - datetime.timedelta(minutes=5),
    )
    after = file(
        world,
        family="Apres",
        procedure=renewal,
        permit_expires_on=expiry,
        received_at=received + datetime.timedelta(minutes=5),
    )
    # The situation: a renewal whose permit expires in 50 days, reachable by email.
    raw = intake_raw(
        world,
        family="Haddad",
        given="Yasmine",
        birth="1988-11-03",
        procedure=renewal,
        permit_expires_on=expiry,
    )

    def by_web():
        data = validate_intake(raw, world.prefecture, channel=Channel.WEB)
        return waitlist.file_request(
            data, prefecture=world.prefecture, channel=Channel.WEB, actor=APPLICANT, received_at=received
        ).request

    def by_staff(channel):
        def run():
            data = validate_intake(raw, world.prefecture, channel=channel)
            return backoffice.register_for_person(
                world.prefecture,
                data,
                channel=channel,
                user=agent,
                received_at=received,
                backdate_reason="typed in later",
            ).request

        return run

    def by_partner():
        data = validate_intake(raw, world.prefecture, channel=Channel.PARTNER)
        result, _mandate = partners.file_for_client(
            organisation,
            data,
            by=member,
            consent_given_on=timezone.localdate(),
            consent_method="in_person",
            received_at=received,
        )
        return result.request

    outcomes = {}
    for channel, run in (
        (Channel.WEB, by_web),
        (Channel.COUNTER, by_staff(Channel.COUNTER)),
        (Channel.PHONE, by_staff(Channel.PHONE)),
        (Channel.POST, by_staff(Channel.POST)),
        (Channel.PARTNER, by_partner),
    ):
        request = run()
        assert request.channel == channel
        rows = [
            row.request.pk
            for row in backoffice.queue(world.prefecture, procedure=world.procedures["renewal"])
        ]
        outcomes[channel] = {
            "due_date": request.due_date,
            "due_reason": request.due_reason,
            "received_at": request.received_at,
            "place": rows.index(request.pk),
            "neighbours": (rows[rows.index(request.pk) - 1], rows[rows.index(request.pk) + 1]),
            "queue_position": exact_queue_position(request),
        }
        # Make room for the same person through the next channel.
        waitlist.close_request(request, APPLICANT, "test: the next channel files the same situation")

    first = outcomes[Channel.WEB]
    assert first["neighbours"] == (before.pk, after.pk)
    assert first["due_date"] <= timezone.localdate() + datetime.timedelta(days=50)  # the renewal rule applied
    for channel, outcome in outcomes.items():
        assert outcome == first, channel
