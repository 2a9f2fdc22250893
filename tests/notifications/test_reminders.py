"""Reminders: an offer about to lapse, an appointment in two days; each queued once."""

import datetime

from guichet.appointments.models import Offer
from guichet.notifications.models import OutboxMessage
from guichet.notifications.services import queue_reminders

from .conftest import NOW, make_request, make_slot, make_story


def test_offer_about_to_lapse_is_reminded_once(world, frozen_now):
    story = make_story(world)
    story.offer.expires_at = NOW + datetime.timedelta(hours=20)
    story.offer.created_at = NOW - datetime.timedelta(hours=28)
    story.offer.save()
    assert queue_reminders(now=NOW)["offer_reminder"] == 1
    assert queue_reminders(now=NOW + datetime.timedelta(hours=1))["offer_reminder"] == 0
    reminders = OutboxMessage.objects.filter(kind="offer_reminder")
    assert {m.context["offer_id"] for m in reminders} == {story.offer.pk}
    assert reminders.count() == 2  # email and SMS


def test_offers_far_from_their_deadline_or_short_ones_are_not_reminded(world, frozen_now):
    story = make_story(world)
    assert queue_reminders(now=NOW)["offer_reminder"] == 0  # lapses in 47 hours
    short = Offer.objects.create(
        request=make_request(world, reference="93-SHRT-0001"),
        slot=make_slot(world, NOW + datetime.timedelta(days=3)),
        created_at=NOW - datetime.timedelta(hours=4),
        expires_at=NOW + datetime.timedelta(hours=20),
    )
    assert queue_reminders(now=NOW)["offer_reminder"] == 0
    assert not OutboxMessage.objects.filter(context__offer_id=short.pk).exists()
    assert not OutboxMessage.objects.filter(context__offer_id=story.offer.pk).exists()


def test_appointment_in_two_days_is_reminded_once(world, frozen_now):
    story = make_story(world)
    two_days_before = story.appointment.starts_at - datetime.timedelta(hours=40)
    story.appointment.confirmed_at = two_days_before - datetime.timedelta(days=6)
    story.appointment.save()
    assert (
        queue_reminders(now=story.appointment.starts_at - datetime.timedelta(hours=60))[
            "appointment_reminder"
        ]
        == 0
    )
    assert queue_reminders(now=two_days_before)["appointment_reminder"] == 1
    assert queue_reminders(now=two_days_before + datetime.timedelta(hours=2))["appointment_reminder"] == 0
    assert (
        OutboxMessage.objects.filter(
            kind="appointment_reminder", context__appointment_id=story.appointment.pk
        ).count()
        == 2
    )
